"""The CPU formulation of the convolutions' kernel gradient (`tfic_jax.layers`) computes what
XLA's does: same outputs, same input and kernel gradients, for every convolution our models use."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tfic_jax import layers


@pytest.fixture
def rows(monkeypatch):
  monkeypatch.setenv(layers.ENV_VAR, "on")
  monkeypatch.setattr(layers, "CHUNK_PIXELS", 64)  # Several chunks even at test sizes.


CASES = [  # (input shape, features, kernel, strides, padding, dilation)
    ((2, 13, 11, 3), 5, (3, 3), 1, "SAME", 1),  # a prime height: one-row chunks
    ((2, 16, 24, 4), 6, (3, 3), 1, 1, 1),  # the OCR models' explicit padding
    ((2, 9, 20, 4), 6, (2, 2), 1, 0, 1),  # VGG's last 2×2, padding 0
    ((2, 12, 10, 3), 4, (5, 5), 1, "SAME", 1),
    ((2, 12, 10, 3), 4, (1, 1), 1, "SAME", 1),
    ((2, 12, 10, 3), 4, (3, 3), 1, ((2, 0), (1, 3)), 1),  # asymmetric
    ((2, 16, 16, 3), 4, (3, 3), 2, "SAME", 1),  # stride 2: XLA's, unchanged
    ((2, 16, 16, 3), 4, (3, 3), 1, ((2, 2), (2, 2)), 2),  # dilated: XLA's, unchanged
]


@pytest.mark.parametrize("shape,features,kernel,strides,padding,dilation", CASES)
def test_same_outputs_and_gradients_as_xla(rows, shape, features, kernel, strides, padding,
                                           dilation):
  del rows
  x = jnp.asarray(np.random.default_rng(0).normal(size=shape), jnp.float32)
  common = dict(features=features, kernel_size=kernel, strides=strides, padding=padding,
                kernel_dilation=dilation)
  reference = nn.Conv(**common)
  ours = nn.Conv(**common, conv_general_dilated=layers.conv_general_dilated)
  variables = reference.init(jax.random.key(0), x)
  variables = jax.tree.map(lambda a: a + 0.1, variables)
  want = reference.apply(variables, x)
  np.testing.assert_allclose(np.asarray(ours.apply(variables, x)), np.asarray(want), atol=1e-5)
  weights = jnp.asarray(np.random.default_rng(1).normal(size=want.shape), jnp.float32)

  def grads(module):
    loss = lambda v, x: jnp.sum(jnp.tanh(module.apply(v, x)) * weights)
    return jax.jit(jax.grad(loss, argnums=(0, 1)))(variables, x)

  for got_leaf, want_leaf in zip(jax.tree.leaves(grads(ours)), jax.tree.leaves(grads(reference))):
    scale = max(float(jnp.max(jnp.abs(want_leaf))), 1.0)
    np.testing.assert_allclose(np.asarray(got_leaf), np.asarray(want_leaf), rtol=0,
                               atol=2e-5 * scale)


def test_the_chunked_gradient_is_what_runs(rows):
  del rows
  x = jnp.ones((2, 13, 11, 3))
  kernel = jnp.ones((3, 3, 3, 5))
  conv = lambda k: jnp.sum(layers.conv_general_dilated(
      x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))
  assert "scan" in str(jax.make_jaxpr(jax.grad(conv))(kernel))


def test_kernel_grad_rows_equals_xla_on_a_single_chunk():
  rng = np.random.default_rng(2)
  x = jnp.asarray(rng.normal(size=(1, 4, 5, 2)), jnp.float32)
  dy = jnp.asarray(rng.normal(size=(1, 4, 5, 3)), jnp.float32)
  native = jax.vjp(lambda k: jax.lax.conv_general_dilated(
      x, k, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC")),
      jnp.zeros((3, 3, 2, 3)))[1](dy)[0]
  got = layers.kernel_grad_rows(x, dy, (3, 3, 2, 3), ((1, 1), (1, 1)))
  np.testing.assert_allclose(np.asarray(got), np.asarray(native), atol=1e-5)


@pytest.mark.parametrize("shape,window,strides,padding", [
    ((2, 8, 12, 3), (2, 2), (2, 2), "VALID"),
    ((2, 8, 12, 3), (2, 2), None, "VALID"),  # flax's default stride 1: unchanged
    ((2, 9, 13, 3), (2, 2), (2, 2), "VALID"),  # VALID drops the last row and column
    ((2, 8, 12, 3), (2, 1), (2, 1), "VALID"),
    ((2, 8, 12, 3), (2, 2), (2, 1), ((0, 0), (1, 1))),  # overlapping: flax's, unchanged
    ((2, 8, 12, 3), (3, 3), (1, 1), ((1, 1), (1, 1))),
])
def test_max_pool_same_outputs_and_gradients_as_flax(rows, shape, window, strides, padding):
  del rows
  rng = np.random.default_rng(3)
  # Rounded values make ties within windows common: the gradient goes to the first maximum.
  x = jnp.asarray(np.round(rng.normal(size=shape), 1), jnp.float32)
  want = nn.max_pool(x, window, strides=strides, padding=padding)
  got = layers.max_pool(x, window, strides=strides, padding=padding)
  np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
  weights = jnp.asarray(rng.normal(size=want.shape), jnp.float32)
  grad = lambda f: jax.jit(jax.grad(lambda x: jnp.sum(f(x) * weights)))(x)
  np.testing.assert_array_equal(
      np.asarray(grad(lambda x: layers.max_pool(x, window, strides=strides, padding=padding))),
      np.asarray(grad(lambda x: nn.max_pool(x, window, strides=strides, padding=padding))))


def test_auto_is_on_for_a_single_cpu_device_only(monkeypatch):
  monkeypatch.delenv(layers.ENV_VAR, raising=False)
  monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
  monkeypatch.setattr(jax, "device_count", lambda: 1)
  assert layers.cpu_layers()
  monkeypatch.setattr(jax, "device_count", lambda: 4)
  assert not layers.cpu_layers()
  monkeypatch.setattr(jax, "default_backend", lambda: "tpu")
  monkeypatch.setattr(jax, "device_count", lambda: 1)
  assert not layers.cpu_layers()
  monkeypatch.setenv(layers.ENV_VAR, "on")
  assert layers.cpu_layers()
  monkeypatch.setenv(layers.ENV_VAR, "off")
  assert not layers.cpu_layers()
  monkeypatch.setenv(layers.ENV_VAR, "fft")
  with pytest.raises(ValueError, match=layers.ENV_VAR):
    layers.cpu_layers()
