"""DnCNN (tfic_jax/dequant/models.py): the paper's architecture, residual form, any size."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import dncnn
from configs import dncnn_large_type_small
from configs import dncnn_small
from configs import dncnn_tiny
from tfic_jax import errors
from tfic_jax.dequant import api
from tfic_jax.train import train


def _tiny():
  return api.build(dncnn_tiny.get_config())


def test_paper_size_has_17_layers_of_64_channels_and_556k_params():
  model = api.build(dncnn.get_config())
  params = model.abstract_variables()["params"]
  convs = sorted(name for name in params if name.startswith("conv"))
  assert len(convs) == 17 and len([n for n in params if n.startswith("bn_")]) == 15
  assert params["conv_in"]["kernel"].shape == (3, 3, 1, 64)
  assert params["conv_8"]["kernel"].shape == (3, 3, 64, 64)
  assert params["conv_out"]["kernel"].shape == (3, 3, 64, 1)
  # conv_in 3·3·64+64, 15 × (3·3·64·64 + BN scale/bias 128), conv_out 3·3·64+1.
  assert model.num_params() == 640 + 15 * (36_864 + 128) + 577 == 556_097


def test_depth_and_width_are_config_fields():
  model = api.build(dncnn_small.get_config())
  assert (model.depth, model.features) == (10, 32)
  assert model.num_params() < api.build(dncnn.get_config()).num_params() / 5


def test_large_type_config_is_the_papers_network_on_the_space_to_depth():
  config = dncnn_large_type_small.get_config()
  train.check_config(config)
  model = api.build(config)
  assert (model.depth, model.features, config.model.unshuffle) == (17, 64, 4)
  assert config.data.builder_config == "default_t24" and config.loss.mse_scale == 255.0
  # Only conv_in and conv_out see the 16 channels of the 4×4 space-to-depth.
  assert model.num_params() == 9 * 16 * 64 + 64 + 15 * (36_864 + 128) + 9 * 64 * 16 + 16


def test_output_has_the_input_shape_on_patches_and_other_sizes():
  model = _tiny()
  variables = model.init(jax.random.key(0))
  for shape in [(2, 64, 256, 1), (1, 40, 72, 1), (1, 1024, 768, 1)]:
    out = api.apply(model, variables, jnp.full(shape, 0.5))
    assert out.shape == shape and out.dtype == jnp.float32


def test_output_is_the_input_minus_the_predicted_residual():
  model = _tiny()
  variables = jax.tree.map(np.asarray, model.init(jax.random.key(0)))
  images = np.random.default_rng(0).random((2, 32, 64, 1)).astype(np.float32)
  # With a zero last convolution r̂ = bias: x̂ must be exactly x − bias.
  variables["params"]["conv_out"]["kernel"] = np.zeros_like(
      variables["params"]["conv_out"]["kernel"])
  variables["params"]["conv_out"]["bias"] = np.array([0.25], np.float32)
  np.testing.assert_allclose(api.apply(model, variables, images), images - 0.25, atol=1e-6)
  # A trained-like last layer changes x̂ by exactly what it adds to r̂ (x̂ = x − r̂, not + r̂).
  variables["params"]["conv_out"]["bias"] = np.array([-0.5], np.float32)
  np.testing.assert_allclose(api.apply(model, variables, images), images + 0.5, atol=1e-6)


def test_bfloat16_compute_keeps_float32_params_and_output():
  config = dncnn_tiny.get_config()
  config.compute_dtype = "bfloat16"
  model = api.build(config)
  variables = model.init(jax.random.key(0))
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(variables))
  images = jnp.asarray(np.random.default_rng(1).random((1, 32, 64, 1)), jnp.float32)
  out_bf16 = api.apply(model, variables, images)
  out_f32 = api.apply(api.build(config, dtype="float32"), variables, images)
  assert out_bf16.dtype == jnp.float32
  np.testing.assert_allclose(out_bf16, out_f32, atol=0.05)


def test_bad_architecture_fields_are_clear_errors():
  config = dncnn_tiny.get_config()
  config.model.depth = 1
  with pytest.raises(errors.TficError, match="depth >= 2"):
    api.build(config)
  with pytest.raises(errors.TficError, match="compute dtype"):
    api.build(dncnn_tiny.get_config(), dtype="int8")


def test_space_to_depth_round_trips_and_groups_each_block_of_pixels():
  from tfic_jax.dequant import models  # pylint: disable=g-import-not-at-top
  x = jnp.arange(2 * 8 * 12 * 1, dtype=jnp.float32).reshape(2, 8, 12, 1)
  packed = models.space_to_depth(x, 2)
  assert packed.shape == (2, 4, 6, 4)
  # Channels of packed pixel (i, j) are the 2×2 block at (2i, 2j) in row-major order.
  np.testing.assert_array_equal(packed[1, 2, 3], np.asarray(x[1, 4:6, 6:8, 0]).reshape(-1))
  np.testing.assert_array_equal(models.depth_to_space(packed, 2), x)


@pytest.mark.parametrize("scale", [2, 4])
def test_unshuffled_dncnn_keeps_the_residual_form_and_widens_the_receptive_field(scale):
  config = dncnn_tiny.get_config()
  config.model.unshuffle = scale
  model = api.build(config)
  variables = jax.tree.map(np.asarray, model.init(jax.random.key(0)))
  assert variables["params"]["conv_in"]["kernel"].shape[2] == scale * scale
  assert variables["params"]["conv_out"]["kernel"].shape[3] == scale * scale
  images = np.random.default_rng(0).random((1, 64, 64, 1)).astype(np.float32)
  out = api.apply(model, variables, images)
  assert out.shape == images.shape
  # x̂ − x depends on pixels up to scale·D away from the output pixel, D at scale 1.
  grad = jax.grad(lambda im: api.apply(model, variables, im)[0, 32, 32, 0])(images)
  rows = np.nonzero(np.abs(grad[0, :, 32, 0]) > 0)[0]
  reach = max(32 - rows.min(), rows.max() - 32)
  assert model.depth < reach <= scale * (model.depth + 1)
  variables["params"]["conv_out"]["kernel"] = np.zeros_like(
      variables["params"]["conv_out"]["kernel"])
  variables["params"]["conv_out"]["bias"] = np.full((scale * scale,), 0.25, np.float32)
  np.testing.assert_allclose(api.apply(model, variables, images), images - 0.25, atol=1e-6)


def test_unshuffle_factor_outside_the_pad_grid_is_a_clear_error():
  config = dncnn_tiny.get_config()
  config.model.unshuffle = 3
  with pytest.raises(errors.TficError, match="unshuffle must be one of"):
    api.build(config)
