"""The DnCNN objective (tfic_jax/dequant/losses.py): λ·MSE + (1 − λ)·L_DCT, both DCT targets."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tfic_jax import errors
from tfic_jax import metrics
from tfic_jax.dequant import losses


def _images(seed, shape=(2, 16, 24, 1)):
  return jnp.asarray(np.random.default_rng(seed).random(shape), jnp.float32)


@pytest.mark.parametrize("target", losses.DCT_TARGETS)
def test_loss_is_zero_for_identical_images(target):
  x = _images(0)
  total, terms = losses.dequant_loss(x, x, x, dct_target=target)
  assert float(total) == 0.0 and float(terms["mse"]) == 0.0 and float(terms["dct"]) == 0.0


def test_terms_are_weighted_by_lambda_and_use_the_shared_dct_loss():
  restored, clean, degraded = _images(0), _images(1), _images(2)
  for target, reference in (("clean", clean), ("degraded", degraded)):
    total, terms = losses.dequant_loss(restored, clean, degraded, dct_target=target)
    expected_dct = metrics.dct_loss(reference, restored, tau=0.5, scale=255.0)
    np.testing.assert_allclose(terms["dct"], expected_dct, rtol=1e-6)
    np.testing.assert_allclose(terms["mse"], jnp.mean((restored - clean) ** 2), rtol=1e-6)
    np.testing.assert_allclose(total, 0.8 * terms["mse"] + 0.2 * terms["dct"], rtol=1e-6)


def test_dct_target_selects_the_reference_spectrum():
  clean, degraded = _images(1), _images(2)
  # x̂ equal to the degraded input: no DCT penalty against the degraded target only.
  _, to_degraded = losses.dequant_loss(degraded, clean, degraded, dct_target="degraded")
  _, to_clean = losses.dequant_loss(degraded, clean, degraded, dct_target="clean")
  assert float(to_degraded["dct"]) == 0.0 and float(to_clean["dct"]) > 1.0


def test_dct_term_ignores_coefficient_differences_below_tau():
  clean = _images(3)
  # A constant offset of 0.05/255 per pixel moves only DC, by 8 × 0.05 = 0.4 < τ = 0.5 units.
  shifted = clean + 0.05 / 255.0
  _, terms = losses.dequant_loss(shifted, clean, clean, dct_target="clean")
  assert float(terms["dct"]) == 0.0
  _, terms = losses.dequant_loss(clean + 0.1 / 255.0, clean, clean, dct_target="clean")
  np.testing.assert_allclose(terms["dct"], (0.8 - 0.5) / 64, rtol=1e-4)  # DC only, 1 of 64.


def test_gradient_is_finite_and_points_towards_the_clean_image():
  clean, degraded = _images(4), _images(5)
  for target in losses.DCT_TARGETS:
    grad = jax.grad(lambda r, t=target: losses.dequant_loss(r, clean, degraded,
                                                              dct_target=t)[0])(degraded)
    assert np.all(np.isfinite(grad)) and float(jnp.abs(grad).max()) > 0
  # Against the clean target, a small step down the gradient lowers the loss.
  loss_fn = lambda r: losses.dequant_loss(r, clean, degraded, dct_target="clean")[0]
  grad = jax.grad(loss_fn)(degraded)
  step = 1e-3 / float(jnp.abs(grad).max())
  assert float(loss_fn(degraded - step * grad)) < float(loss_fn(degraded))
  # Inside the dead zone the DCT term contributes no gradient.
  dct_only = lambda r: losses.dequant_loss(r, clean, degraded, mse_weight=0.0,
                                           dct_target="clean")[0]
  np.testing.assert_array_equal(jax.grad(dct_only)(clean + 0.01 / 255.0), 0.0)


def test_unknown_target_is_a_clear_error():
  x = _images(0)
  with pytest.raises(errors.TficError, match="dct_target"):
    losses.dequant_loss(x, x, x, dct_target="input")
