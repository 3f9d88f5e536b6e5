"""BD-rate on curves with a known answer."""

import numpy as np
import pytest

from tfic_jax.eval import bjontegaard


def test_identical_curves_have_zero_bd_rate():
  rates, psnr = [0.05, 0.1, 0.2, 0.4], [25.0, 28.0, 31.0, 34.0]
  assert bjontegaard.bd_rate(rates, psnr, rates, psnr) == pytest.approx(0.0, abs=1e-12)


def test_half_the_rate_everywhere_is_minus_fifty_percent():
  rates, psnr = np.array([0.05, 0.1, 0.2, 0.4]), [25.0, 28.0, 31.0, 34.0]
  assert bjontegaard.bd_rate(rates, psnr, rates / 2, psnr) == pytest.approx(-0.5, abs=1e-9)
  assert bjontegaard.bd_rate(rates / 2, psnr, rates, psnr) == pytest.approx(1.0, abs=1e-9)


def test_envelope_drops_dominated_points_and_no_overlap_is_none():
  r, q = bjontegaard.envelope([0.3, 0.1, 0.2, 0.4], [30.0, 25.0, 24.0, 33.0])
  np.testing.assert_array_equal(r, [0.1, 0.3, 0.4])
  assert bjontegaard.bd_rate([0.1, 0.2], [20.0, 21.0], [0.1, 0.2], [30.0, 31.0]) is None


def test_rate_at_quality_interpolates_on_the_envelope():
  rates, acc = [0.02, 0.04, 0.08], [0.5, 0.8, 0.95]
  assert bjontegaard.rate_at_quality(rates, acc, 0.99) is None
  assert bjontegaard.rate_at_quality(rates, acc, 0.4) == pytest.approx(0.02)
  value = bjontegaard.rate_at_quality(rates, acc, 0.65)
  assert 0.02 < value < 0.04


def test_quality_at_rate_interpolates_the_envelope_in_log_rate():
  rates, psnrs = [0.1, 0.4, 0.2, 0.3], [20.0, 30.0, 25.0, 24.0]  # (0.3, 24) is dominated
  assert bjontegaard.quality_at_rate(rates, psnrs, 0.05) is None
  assert bjontegaard.quality_at_rate(rates, psnrs, 0.5) is None
  assert bjontegaard.quality_at_rate(rates, psnrs, 0.2) == pytest.approx(25.0)
  # Halfway between 0.2 and 0.4 in log-rate is 0.2·√2, not 0.3.
  assert bjontegaard.quality_at_rate(rates, psnrs, 0.2 * 2 ** 0.5) == pytest.approx(27.5)
