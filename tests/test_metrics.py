"""Tests for tfic_jax.metrics: OCR accuracy (§3.3), PSNR, bpp, JPEG DCT and DCT loss (§4.4)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tfic_jax import errors
from tfic_jax import metrics

# ------------------------------------------------------------------------------ OCR accuracy.


def test_accuracy_is_one_for_identical_text():
  assert metrics.ocr_accuracy("Hello World 42", "Hello World 42") == 1.0


def test_accuracy_both_empty_is_one():
  assert metrics.ocr_accuracy("", "") == 1.0


def test_accuracy_one_side_empty_is_zero():
  assert metrics.ocr_accuracy("abc", "") == 0.0
  assert metrics.ocr_accuracy("", "abc") == 0.0


def test_accuracy_punctuation_only_counts_as_empty():
  assert metrics.ocr_accuracy("...", " !? ") == 1.0
  assert metrics.ocr_accuracy("abc", "-- --") == 0.0


def test_accuracy_ignores_spaces_and_punctuation():
  assert metrics.ocr_accuracy("hello, world!", "helloworld") == 1.0
  assert metrics.ocr_accuracy("e-mail: a.b", "email ab") == 1.0


def test_accuracy_case_insensitive_by_default_and_sensitive_on_request():
  assert metrics.ocr_accuracy("Hello", "hELLO") == 1.0
  assert metrics.ocr_accuracy("Hello", "hELLO", case_sensitive=True) == pytest.approx(1 - 5 / 5)
  assert metrics.ocr_accuracy("Hello", "hello", case_sensitive=True) == pytest.approx(1 - 1 / 5)


def test_accuracy_known_edit_distance_example():
  # lev("kitten", "sitting") = 3, max length 7.
  assert metrics.ocr_accuracy("kitten", "sitting") == pytest.approx(1 - 3 / 7)


def test_accuracy_uses_alphanumeric_lengths_in_the_denominator():
  # Alphanumerics: "ab1" vs "ab": one deletion over max(3, 2) = 3.
  assert metrics.ocr_accuracy("a b 1", "a.b") == pytest.approx(1 - 1 / 3)


def test_accuracy_folds_accents_and_ligatures_and_drops_other_non_ascii():
  assert metrics.ocr_accuracy("cafe", "café") == 1.0
  assert metrics.ocr_accuracy("find", "ﬁnd") == 1.0
  assert metrics.ocr_accuracy("abc", "abc\u4e2d") == 1.0


@pytest.mark.parametrize("bad", [None, 3, b"abc", ["a"]])
def test_accuracy_rejects_non_str(bad):
  with pytest.raises(TypeError, match="str"):
    metrics.ocr_accuracy(bad, "abc")
  with pytest.raises(TypeError, match="str"):
    metrics.ocr_accuracy("abc", bad)


def test_mean_accuracy_averages_pairs():
  assert metrics.mean_ocr_accuracy(["abc", "kitten"], ["abc", "sitting"]) == pytest.approx(
      (1 + (1 - 3 / 7)) / 2
  )


def test_word_accuracy_counts_exact_normalized_matches():
  assert metrics.word_accuracy(["Hello, world", "abc", "x"], ["hello world", "abd", "x"]) == (
      pytest.approx(2 / 3)
  )


def test_list_metrics_reject_length_mismatch_empty_and_bare_str():
  with pytest.raises(ValueError, match="length"):
    metrics.mean_ocr_accuracy(["a"], ["a", "b"])
  with pytest.raises(ValueError, match="empty"):
    metrics.word_accuracy([], [])
  with pytest.raises(TypeError, match="sequence"):
    metrics.mean_ocr_accuracy("abc", "abc")


# ------------------------------------------------------------------------------ PSNR, bpp.


def test_psnr_identical_is_inf():
  image = np.full((8, 8, 3), 7, np.uint8)
  assert metrics.psnr(image, image) == math.inf


def test_psnr_known_value_uint8_and_float():
  reference = np.zeros((4, 4), np.uint8)
  test = np.full((4, 4), 5, np.uint8)  # MSE 25.
  assert metrics.psnr(reference, test) == pytest.approx(10 * np.log10(255**2 / 25))
  assert metrics.psnr(reference / 255.0, test / 255.0, max_value=1.0) == pytest.approx(
      10 * np.log10(255**2 / 25)
  )


def test_psnr_does_not_wrap_uint8_differences():
  reference = np.zeros((2, 2), np.uint8)
  test = np.full((2, 2), 255, np.uint8)
  assert metrics.psnr(reference, test) == pytest.approx(0.0)


def test_psnr_rejects_shape_mismatch():
  with pytest.raises(errors.ImageInputError, match="shape"):
    metrics.psnr(np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8))


def test_bpp_known_value_and_bad_sizes():
  assert metrics.bpp(1024, 256, 512) == pytest.approx(8 * 1024 / (256 * 512))
  assert metrics.bpp(np.int64(10), 2, 5) == pytest.approx(8.0)
  with pytest.raises(ValueError):
    metrics.bpp(10, 0, 5)
  with pytest.raises(ValueError):
    metrics.bpp(-1, 4, 4)
  with pytest.raises(TypeError):
    metrics.bpp(1.5, 4, 4)


# ------------------------------------------------------------------------------ DCT.


def _jpeg_fdct_reference(block: np.ndarray) -> np.ndarray:
  """T.81 A.3.3 written out: F(u,v) = 1/4 C(u)C(v) ΣxΣy f(x,y) cos(..u..) cos(..v..)."""
  c = lambda k: 1 / np.sqrt(2) if k == 0 else 1.0
  coefficients = np.zeros((8, 8))
  for u in range(8):
    for v in range(8):
      total = 0.0
      for x in range(8):
        for y in range(8):
          total += (
              block[x, y]
              * np.cos((2 * x + 1) * u * np.pi / 16)
              * np.cos((2 * y + 1) * v * np.pi / 16)
          )
      coefficients[u, v] = 0.25 * c(u) * c(v) * total
  return coefficients


def test_dct_matches_jpeg_formula_on_one_block():
  block = np.random.default_rng(0).integers(0, 256, (8, 8)).astype(np.float32)
  coefficients = metrics.dct_8x8(block)
  assert coefficients.shape == (1, 1, 8, 8)
  np.testing.assert_allclose(coefficients[0, 0], _jpeg_fdct_reference(block), atol=1e-3)


def test_dct_level_shift_subtracts_128_from_dc_only():
  block = np.full((8, 8), 128.0, np.float32)
  np.testing.assert_allclose(metrics.dct_8x8(block, level_shift=True), 0.0, atol=1e-4)
  # A flat block of value v has DC 8v (and no AC).
  np.testing.assert_allclose(metrics.dct_8x8(block)[0, 0, 0, 0], 8 * 128.0, rtol=1e-6)


def test_dct_blocks_laid_out_per_block_with_leading_axes():
  images = np.random.default_rng(1).random((2, 3, 16, 24)).astype(np.float32)
  coefficients = metrics.dct_8x8(images)
  assert coefficients.shape == (2, 3, 2, 3, 8, 8)
  block = images[1, 2, 8:16, 16:24]
  np.testing.assert_allclose(coefficients[1, 2, 1, 2], _jpeg_fdct_reference(block), atol=1e-4)


def test_idct_inverts_dct():
  images = np.random.default_rng(2).random((2, 16, 32)).astype(np.float32) * 255
  for level_shift in (False, True):
    round_trip = metrics.idct_8x8(metrics.dct_8x8(images, level_shift), level_shift)
    np.testing.assert_allclose(round_trip, images, atol=1e-3)


def test_dct_is_orthonormal_and_preserves_energy():
  images = np.random.default_rng(3).normal(size=(16, 16)).astype(np.float32)
  coefficients = np.asarray(metrics.dct_8x8(images))
  np.testing.assert_allclose(np.sum(coefficients**2), np.sum(images**2), rtol=1e-5)
  basis = metrics._dct_matrix()
  np.testing.assert_allclose(basis @ basis.T, np.eye(8), atol=1e-6)


@pytest.mark.parametrize("shape", [(8, 12), (10, 8), (0, 8), (8,)])
def test_dct_rejects_sizes_that_are_not_multiples_of_8(shape):
  with pytest.raises(errors.ImageInputError, match="8"):
    metrics.dct_8x8(np.zeros(shape, np.float32))


def test_dct_error_raised_at_trace_time_under_jit():
  with pytest.raises(errors.ImageInputError, match="multiples of 8"):
    jax.jit(metrics.dct_8x8)(jnp.zeros((8, 9)))


def test_idct_rejects_bad_coefficient_layout():
  with pytest.raises(errors.ImageInputError, match="8, 8"):
    metrics.idct_8x8(np.zeros((2, 2, 8, 4), np.float32))


# ------------------------------------------------------------------------------ DCT loss.


def test_dct_loss_zero_for_identical_images():
  images = np.random.default_rng(4).random((2, 16, 16, 1)).astype(np.float32)
  assert float(metrics.dct_loss(images, images)) == 0.0


def test_dct_loss_positive_for_different_images():
  rng = np.random.default_rng(5)
  a = rng.random((2, 16, 16, 3)).astype(np.float32)
  b = rng.random((2, 16, 16, 3)).astype(np.float32)
  assert float(metrics.dct_loss(a, b)) > 0.0


def test_dct_loss_ignores_differences_below_tau_in_coefficient_units():
  a = np.zeros((8, 8, 1), np.float32)
  # A flat offset of 0.05/255 per pixel changes only DC, by 8 × 0.05 = 0.4 < τ = 0.5.
  assert float(metrics.dct_loss(a, a + 0.05 / 255)) == 0.0
  # 0.1/255 -> DC differs by 0.8: loss (0.8 - 0.5) / 64 coefficients.
  assert float(metrics.dct_loss(a, a + 0.1 / 255)) == pytest.approx(0.3 / 64, rel=1e-3)


def test_dct_loss_channels_first_layout():
  rng = np.random.default_rng(6)
  a = rng.random((2, 8, 16, 3)).astype(np.float32)
  b = rng.random((2, 8, 16, 3)).astype(np.float32)
  nhwc = metrics.dct_loss(a, b)
  nchw = metrics.dct_loss(np.moveaxis(a, -1, 1), np.moveaxis(b, -1, 1), channels_last=False)
  np.testing.assert_allclose(nhwc, nchw, rtol=1e-6)


def test_dct_loss_gradient_finite_and_nonzero_where_difference_exceeds_tau():
  rng = np.random.default_rng(7)
  a = jnp.asarray(rng.random((1, 16, 16, 1)), jnp.float32)
  b = jnp.asarray(rng.random((1, 16, 16, 1)), jnp.float32)
  gradient = jax.jit(jax.grad(metrics.dct_loss))(a, b)
  assert np.all(np.isfinite(gradient))
  assert np.any(np.abs(gradient) > 0)


def test_dct_loss_gradient_zero_when_all_differences_below_tau():
  a = jnp.zeros((8, 8, 1))
  gradient = jax.grad(metrics.dct_loss)(a, a + 0.01 / 255)
  np.testing.assert_array_equal(gradient, 0.0)


def test_dct_loss_rejects_shape_mismatch_and_missing_channel_axis():
  with pytest.raises(errors.ImageInputError, match="shape"):
    metrics.dct_loss(np.zeros((8, 8, 1)), np.zeros((8, 16, 1)))
  with pytest.raises(errors.ImageInputError, match="channels_last"):
    metrics.dct_loss(np.zeros((8, 8)), np.zeros((8, 8)))
