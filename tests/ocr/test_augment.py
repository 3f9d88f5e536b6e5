"""Host augmentation (tfic_jax/ocr/augment.py): deterministic, shape-preserving."""

import numpy as np

from tfic_jax.ocr import augment

_ALL_ON = dict(p_geometry=1.0, p_contrast=1.0, p_blur=1.0, p_noise=1.0, p_jpeg=1.0)


def _canvas(channels):
  image = np.full((64, 128, channels), 230, np.uint8)
  image[24:40, 20:108] = 20
  return image


def test_augmentation_is_deterministic_in_the_rng_and_keeps_shape():
  for channels in (1, 3):
    image = _canvas(channels)
    a = augment.augment_image(image, np.random.default_rng(5), _ALL_ON)
    b = augment.augment_image(image, np.random.default_rng(5), _ALL_ON)
    c = augment.augment_image(image, np.random.default_rng(6), _ALL_ON)
    assert a.shape == image.shape and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, image)


def test_all_probabilities_zero_is_the_identity():
  off = {k: 0.0 for k in _ALL_ON}
  image = _canvas(3)
  np.testing.assert_array_equal(augment.augment_image(image, np.random.default_rng(0), off),
                                image)
