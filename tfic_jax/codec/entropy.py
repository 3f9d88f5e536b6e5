"""Entropy models of the hyperprior codec: rounding, the factorized prior of z, the Gaussian of y.

- `FactorizedDensity`: Ballé et al. 2018 (appendix 6.1), a per-channel learned CDF built from
  a small monotone network (filters 3-3-3, init scale 10), as CompressAI's EntropyBottleneck.
  The likelihood of an integer bin is the CDF difference over [v - 1/2, v + 1/2], computed on
  the side of the distribution where the sigmoid does not saturate.
- `gaussian_likelihood`: the Gaussian conditional, p(v) = Φ((v + ½ − μ)/σ) − Φ((v − ½ − μ)/σ),
  on the lower tail for accuracy, with a scale lower bound and a likelihood lower bound.
- Training practice (TinyLIC / CompressAI): the rate uses additive uniform noise, the decoder
  input the straight-through rounding of `y − μ` (and of z), so the decoder trains on what it
  will see at test time.
- The scale table: coding quantizes σ to one of `SCALE_TABLE`'s levels (CompressAI's 64 levels,
  0.11 … 256, geometric), by an index the decoder recomputes (`bitstream.scale_levels`).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

SCALE_BOUND = 0.11
LIKELIHOOD_BOUND = 1e-9
# 64 geometric levels from 0.11 to 256, rounded to 6 decimals so that every platform's exp/log
# gives the identical table (the decoder must pick the same level as the encoder).
SCALE_TABLE = np.round(np.exp(np.linspace(np.log(SCALE_BOUND), np.log(256.0), 64)), 6)


def ste_round(x: jnp.ndarray) -> jnp.ndarray:
  """Rounding with the identity gradient (straight-through estimator)."""
  return x + jax.lax.stop_gradient(jnp.round(x) - x)


def add_uniform_noise(x: jnp.ndarray, rng) -> jnp.ndarray:
  return x + jax.random.uniform(rng, x.shape, x.dtype, -0.5, 0.5)


def bound_likelihood(p: jnp.ndarray) -> jnp.ndarray:
  """max(p, 1e-9) with the gradient kept where p is above the bound."""
  return jnp.maximum(p, LIKELIHOOD_BOUND)


def _standard_cumulative(x):
  return 0.5 * jax.scipy.special.erfc(-x * (2 ** -0.5))


def gaussian_likelihood(values, means, scales) -> jnp.ndarray:
  """Probability of the integer-spaced bin around `values` under N(means, scales²)."""
  scales = jnp.maximum(scales, SCALE_BOUND)
  centered = jnp.abs(values - means)
  upper = _standard_cumulative((0.5 - centered) / scales)
  lower = _standard_cumulative((-0.5 - centered) / scales)
  return bound_likelihood(upper - lower)


class FactorizedDensity(nn.Module):
  """Per-channel learned density of z (Ballé et al. 2018's "fully factorized" prior).

  Acts on the last axis: `channels` independent univariate densities.
  """
  channels: int
  filters: tuple[int, ...] = (3, 3, 3)
  init_scale: float = 10.0

  def setup(self):
    dims = (1,) + tuple(self.filters) + (1,)
    scale = self.init_scale ** (1.0 / (len(self.filters) + 1))
    matrices, biases, factors = [], [], []
    for i in range(len(dims) - 1):
      init = float(np.log(np.expm1(1.0 / scale / dims[i + 1])))
      matrices.append(self.param(
          f"matrix_{i}", nn.initializers.constant(init), (self.channels, dims[i + 1], dims[i])))
      biases.append(self.param(
          f"bias_{i}", lambda rng, shape: jax.random.uniform(rng, shape, jnp.float32, -0.5, 0.5),
          (self.channels, dims[i + 1], 1)))
      if i < len(dims) - 2:
        factors.append(self.param(
            f"factor_{i}", nn.initializers.zeros, (self.channels, dims[i + 1], 1)))
    self.matrices, self.biases, self.factors = matrices, biases, factors

  def logits_cumulative(self, values: jnp.ndarray) -> jnp.ndarray:
    """Logit of the CDF at `values` (..., channels), same shape."""
    shape = values.shape
    x = jnp.moveaxis(values.reshape(-1, self.channels), -1, 0)[:, None, :]  # (C, 1, N)
    for i, (matrix, bias) in enumerate(zip(self.matrices, self.biases)):
      x = jnp.matmul(jax.nn.softplus(matrix).astype(x.dtype), x) + bias.astype(x.dtype)
      if i < len(self.factors):
        x = x + jnp.tanh(self.factors[i]).astype(x.dtype) * jnp.tanh(x)
    return jnp.moveaxis(x[:, 0, :], 0, -1).reshape(shape)

  def __call__(self, values: jnp.ndarray) -> jnp.ndarray:
    """Likelihood of the integer-spaced bins centred on `values` (..., channels)."""
    lower = self.logits_cumulative(values - 0.5)
    upper = self.logits_cumulative(values + 0.5)
    sign = -jnp.sign(lower + upper)  # Work on the tail where the sigmoid is not saturated.
    sign = jax.lax.stop_gradient(jnp.where(sign == 0, 1.0, sign))
    return bound_likelihood(jnp.abs(jax.nn.sigmoid(sign * upper) - jax.nn.sigmoid(sign * lower)))
