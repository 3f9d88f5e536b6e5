"""Entropy models: likelihoods are distributions, rounding estimators, the scale table."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tfic_jax.codec import bitstream
from tfic_jax.codec import entropy


@pytest.mark.parametrize("mean,scale", [(0.0, 0.11), (0.3, 1.0), (-2.7, 5.0), (10.2, 40.0)])
def test_gaussian_likelihoods_sum_to_one_on_the_integer_grid(mean, scale):
  grid = jnp.arange(-400, 401, dtype=jnp.float32)
  # The bins the coder uses: integers around the mean.
  p = entropy.gaussian_likelihood(grid + (mean - jnp.round(mean)), mean, scale)
  assert float(jnp.sum(p)) == pytest.approx(1.0, abs=1e-3)


def test_factorized_density_sums_to_one_per_channel():
  density = entropy.FactorizedDensity(channels=3)
  grid = jnp.repeat(jnp.arange(-300, 301, dtype=jnp.float32)[:, None], 3, axis=1)
  variables = density.init(jax.random.PRNGKey(0), grid)
  # Perturb the parameters away from their initialisation: any parameters give a density.
  variables = jax.tree.map(lambda a: a + 0.3 * jax.random.normal(jax.random.PRNGKey(1),
                                                                  a.shape), variables)
  p = density.apply(variables, grid)
  np.testing.assert_allclose(np.asarray(jnp.sum(p, axis=0)), 1.0, atol=1e-3)


def test_ste_round_rounds_forward_and_passes_gradients():
  x = jnp.array([0.4, 1.6, -2.5])
  np.testing.assert_array_equal(np.asarray(entropy.ste_round(x)), np.round(np.asarray(x)))
  np.testing.assert_array_equal(np.asarray(jax.grad(lambda a: jnp.sum(entropy.ste_round(a)))(x)),
                                1.0)


def test_uniform_noise_is_in_half_open_bin():
  x = jnp.zeros(10_000)
  noisy = entropy.add_uniform_noise(x, jax.random.PRNGKey(0))
  assert float(jnp.min(noisy)) >= -0.5 and float(jnp.max(noisy)) <= 0.5
  assert abs(float(jnp.mean(noisy))) < 0.02


def test_scale_levels_pick_the_nearest_table_level_in_log_scale():
  table = entropy.SCALE_TABLE
  assert len(table) == 64 and table[0] == pytest.approx(0.11) and table[-1] == pytest.approx(256)
  np.testing.assert_array_equal(bitstream.scale_levels(table), np.arange(64))
  below = table[:-1] * (table[1:] / table[:-1]) ** 0.49
  above = table[:-1] * (table[1:] / table[:-1]) ** 0.51
  np.testing.assert_array_equal(bitstream.scale_levels(below), np.arange(63))
  np.testing.assert_array_equal(bitstream.scale_levels(above), np.arange(1, 64))
  assert bitstream.scale_levels(np.array([0.0, 1e6])).tolist() == [0, 63]
