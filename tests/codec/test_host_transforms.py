"""The host path's float64 h_s: the transposed convolution as slices and one matmul computes
what flax's ConvTranspose computes, with the same parameters."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tfic_jax.codec import model as model_lib


@pytest.mark.parametrize("height,width,channels,features", [(1, 1, 3, 5), (2, 3, 4, 6),
                                                            (4, 8, 16, 32)])
def test_matmul_conv_transpose_equals_flax_conv_transpose(height, width, channels, features):
  with jax.enable_x64(True):
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, height, width, channels)))
    reference = nn.ConvTranspose(features, (3, 3), strides=(2, 2), dtype=jnp.float64,
                                 param_dtype=jnp.float64)
    variables = reference.init(jax.random.key(0), x)
    variables = jax.tree.map(lambda a: a + 0.1, variables)  # a non-zero bias too
    want = reference.apply(variables, x)
    got = model_lib.MatmulConvTranspose(features, jnp.float64).apply(variables, x)
    assert got.shape == want.shape == (2, 2 * height, 2 * width, features)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=0, atol=1e-12)


def test_the_host_module_uses_it_and_keeps_the_parameter_tree(codec):
  host = codec.model.host_module
  device = codec.model.module
  z = jnp.zeros((1,) + codec.model.shapes(64, 64).z)
  with jax.enable_x64(True):
    host_out = host.apply(jax.tree.map(lambda a: np.asarray(a, np.float64), codec.variables),
                          z.astype(jnp.float64), method=host.hyper_synthesis)
  device_out = device.apply(codec.variables, z, method=device.hyper_synthesis)
  np.testing.assert_allclose(np.asarray(host_out), np.asarray(device_out), atol=1e-4)
