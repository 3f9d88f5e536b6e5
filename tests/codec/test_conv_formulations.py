"""The CPU formulation of g_s / h_s (`conv_transpose="subpixel"`) computes what the default
(`nn.ConvTranspose`) computes, with the same parameters: outputs and gradients."""

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax._src.lax import convolution as lax_convolution
import numpy as np
import pytest

from configs import codec_mse_tiny
from tfic_jax.codec import model as model_lib


@pytest.mark.parametrize("kernel_size", [1, 2, 3, 4, 5, 6, 7])
def test_padding_table_is_lax_conv_transpose_padding(kernel_size):
  want = lax_convolution._conv_transpose_padding(kernel_size, 2, "SAME")[0]
  assert model_lib.conv_transpose_pad_before(kernel_size) == want


@pytest.mark.parametrize("kernel_size", [3, 5])
@pytest.mark.parametrize("height,width,channels,features", [(1, 1, 3, 5), (3, 5, 4, 6),
                                                            (4, 8, 16, 8)])
def test_subpixel_equals_flax_conv_transpose(kernel_size, height, width, channels, features):
  rng = np.random.default_rng(kernel_size * 100 + height)
  x = jnp.asarray(rng.normal(size=(2, height, width, channels)), jnp.float32)
  reference = nn.ConvTranspose(features, (kernel_size, kernel_size), strides=(2, 2))
  subpixel = model_lib.SubpixelConvTranspose(features, kernel_size)
  variables = reference.init(jax.random.key(0), x)
  variables = jax.tree.map(lambda a: a + 0.1, variables)  # a non-zero bias too
  assert (jax.tree.map(jnp.shape, subpixel.init(jax.random.key(0), x))
          == jax.tree.map(jnp.shape, variables))
  want = reference.apply(variables, x)
  got = subpixel.apply(variables, x)
  assert got.shape == want.shape == (2, 2 * height, 2 * width, features)
  np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)

  weights = jnp.asarray(rng.normal(size=want.shape), jnp.float32)
  def loss(module):
    return lambda v, x: jnp.sum(jnp.sin(module.apply(v, x)) * weights)
  want_grads = jax.grad(loss(reference), argnums=(0, 1))(variables, x)
  got_grads = jax.grad(loss(subpixel), argnums=(0, 1))(variables, x)
  for got_leaf, want_leaf in zip(jax.tree.leaves(got_grads), jax.tree.leaves(want_grads)):
    scale = float(jnp.max(jnp.abs(want_leaf)))
    np.testing.assert_allclose(np.asarray(got_leaf), np.asarray(want_leaf),
                               rtol=0, atol=1e-5 * max(scale, 1.0))


def _codec(conv_transpose):
  config = codec_mse_tiny.get_config()
  config.model.conv_transpose = conv_transpose
  return model_lib.Codec(model_lib.model_fields(config.model))


def test_the_codec_trains_the_same_with_either_formulation():
  x = jax.random.uniform(jax.random.key(1), (2, 64, 128, 3))
  lax_codec, subpixel_codec = _codec("lax"), _codec("subpixel")
  variables = lax_codec.init(jax.random.key(0), x)
  assert (jax.tree.map(jnp.shape, subpixel_codec.init(jax.random.key(0), x))
          == jax.tree.map(jnp.shape, variables))

  def loss(codec):
    def fn(params):
      out = codec.apply({**variables, "params": params}, x, jax.random.key(2), train=True)
      rate = jnp.mean(model_lib.bits_per_pixel(out, 64 * 128))
      return rate + 100.0 * jnp.mean((out["x_hat"] - x) ** 2), out["x_hat"]
    return jax.value_and_grad(fn, has_aux=True)(variables["params"])

  (want_loss, want_x_hat), want_grads = loss(lax_codec)
  (got_loss, got_x_hat), got_grads = loss(subpixel_codec)
  np.testing.assert_allclose(float(got_loss), float(want_loss), rtol=1e-5)
  np.testing.assert_allclose(np.asarray(got_x_hat), np.asarray(want_x_hat), atol=1e-5)
  flat_want = jax.tree_util.tree_leaves_with_path(want_grads)
  flat_got = dict(jax.tree_util.tree_leaves_with_path(got_grads))
  for path, want_leaf in flat_want:
    scale = float(jnp.max(jnp.abs(want_leaf)))
    np.testing.assert_allclose(np.asarray(flat_got[path]), np.asarray(want_leaf), rtol=0,
                               atol=1e-4 * max(scale, 1e-3), err_msg=jax.tree_util.keystr(path))


def test_auto_is_subpixel_on_the_cpu_only(monkeypatch):
  assert model_lib.conv_transpose_impl("lax") == "lax"
  assert model_lib.conv_transpose_impl("subpixel") == "subpixel"
  monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
  assert model_lib.conv_transpose_impl("auto") == "subpixel"
  monkeypatch.setattr(jax, "default_backend", lambda: "tpu")
  assert model_lib.conv_transpose_impl("auto") == "lax"


def test_an_unknown_formulation_is_refused():
  with pytest.raises(ValueError, match="conv_transpose"):
    model_lib.model_fields({"conv_transpose": "fft"})
