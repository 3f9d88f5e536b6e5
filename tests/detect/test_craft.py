"""The CRAFT model (tfic_jax/detect/craft.py) and the detector API (api.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import craft as craft_config
from configs import craft_tiny
from tfic_jax import errors
from tfic_jax.detect import api


def _tiny():
  return api.build(craft_tiny.get_config())


def test_tiny_model_outputs_two_maps_at_half_resolution():
  detector = _tiny()
  variables = detector.init(jax.random.key(0))
  maps = api.predict_maps(detector, variables, jnp.zeros((2, 64, 96, 1)))
  assert maps.shape == (2, 32, 48, 2) and maps.dtype == jnp.float32


def test_bfloat16_computes_in_bf16_with_float32_params():
  config = craft_tiny.get_config()
  config.compute_dtype = "bfloat16"
  detector = api.build(config)
  variables = detector.init(jax.random.key(0))
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(variables["params"]))
  maps = api.predict_maps(detector, variables, jnp.ones((1, 32, 32, 1)))
  assert maps.shape == (1, 16, 16, 2) and maps.dtype == jnp.float32
  ref = api.predict_maps(_tiny(), variables, jnp.ones((1, 32, 32, 1)))
  np.testing.assert_allclose(maps, ref, atol=0.1)


def test_reference_widths_have_the_reference_parameter_count():
  # clovaai/CRAFT-pytorch: VGG16-BN to conv5_2, fc6/fc7, 4 upconvs, classifier: 20,770,466
  # trainable parameters (BatchNorm running statistics are not parameters) for RGB input; ours
  # reads grayscale, so conv1_1 has 2 × 9 × 64 weights fewer.
  assert api.build(craft_config.get_config()).num_params() == 20_770_466 - 2 * 9 * 64


def test_detect_returns_boxes_in_image_coordinates():
  detector = _tiny()
  variables = detector.init(jax.random.key(0))
  image = np.full((40, 70, 1), 255, np.uint8)  # not a multiple of 16: padded, then cropped
  maps = api.image_maps(detector, variables, image)
  assert maps.shape == (40, 70, 2)  # mag_ratio 2 → maps at the image's own resolution
  found = api.detect(detector, variables, image)
  assert found.boxes.shape[1:] == (4,)
  assert np.all(found.boxes[:, 2] <= 70) and np.all(found.boxes[:, 3] <= 40)


@pytest.mark.parametrize("image, message", [
    (np.zeros((40, 70, 4), np.uint8), "4 channels"),
    (np.zeros((4, 70, 1), np.uint8), "smaller than the minimum"),
    (np.full((40, 70), 2.0, np.float32), "must lie in"),
    (np.zeros((40, 70), np.int64), "dtype int64"),
])
def test_bad_images_are_clear_errors(image, message):
  detector = _tiny()
  with pytest.raises(errors.ImageInputError, match=message):
    api.detect(detector, {}, image)


def test_bad_configs_are_clear_errors():
  config = craft_tiny.get_config()
  config.model.decoder_widths = (8, 8)
  with pytest.raises(errors.TficError, match="decoder_widths"):
    api.build(config)
  config = craft_tiny.get_config()
  config.detect.mag_ratio = 0.0
  with pytest.raises(errors.TficError, match="mag_ratio"):
    api.build(config)


def test_missing_model_is_a_checkpoint_error(tmp_path):
  with pytest.raises(errors.CheckpointError):
    api.load(tmp_path / "nothing_here")
