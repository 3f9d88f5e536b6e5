"""The input adapter (tfic_jax/ocr/adapter.py): any size adapted, wrong modes refused."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tfic_jax import errors
from tfic_jax.ocr import adapter


def test_rgb_uint8_canvas_is_resized_to_gray_in_minus_one_one():
  image = np.full((256, 512, 3), 255, np.uint8)
  x = adapter.adapt(image, (32, 128))
  assert x.shape == (1, 32, 128, 1) and x.dtype == jnp.float32
  np.testing.assert_allclose(x, 1.0, atol=1e-5)


def test_float_batches_and_2d_images_are_accepted():
  assert adapter.adapt(np.zeros((3, 40, 90, 1), np.float32), (32, 100)).shape == (3, 32, 100, 1)
  x = adapter.adapt(np.zeros((12, 30), np.uint8), (32, 100))
  assert x.shape == (1, 32, 100, 1) and float(x.min()) == -1.0


@pytest.mark.parametrize("shape,dtype,match", [
    ((1, 32, 100, 2), np.uint8, "channels"),
    ((32, 100, 4), np.uint8, "alpha"),
    ((1, 1, 32, 100, 1), np.float32, "expected images"),
    ((32, 100, 1), np.int32, "dtype"),
    ((0, 32, 100, 1), np.uint8, "empty"),
])
def test_wrong_mode_is_refused_with_image_input_error(shape, dtype, match):
  with pytest.raises(errors.ImageInputError, match=match):
    adapter.adapt(np.zeros(shape, dtype), (32, 100))


def test_pad_mode_keeps_aspect_and_repeats_the_last_column():
  line = np.zeros((12, 30, 1), np.float32)
  line[:, -1] = 1.0  # white last column
  x = np.asarray(adapter.adapt(line, (32, 128), resize_mode="pad"))
  assert x.shape == (1, 32, 128, 1)
  assert np.all(x[0, :, 90:] > 0.5)  # 30 * 32 / 12 = 80 columns of text, then padding
  assert np.all(x[0, :, :60] < -0.9)


def test_gradients_reach_the_input_pixels():
  image = jnp.asarray(np.random.default_rng(0).uniform(size=(1, 64, 256, 3)), jnp.float32)
  grad = jax.grad(lambda x: jnp.sum(adapter.adapt(x, (32, 128)) ** 2))(image)
  assert grad.shape == image.shape and np.all(np.isfinite(grad)) and np.abs(grad).min() > 0
