"""Neighbourhood attention (tiled with halos) against the naive per-pixel definition."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tfic_jax.codec import attention


def _inputs(shape, kernel, seed=0):
  rng = np.random.default_rng(seed)
  q, k, v = (rng.normal(size=shape).astype(np.float32) for _ in range(3))
  rpb = rng.normal(size=(shape[3], 2 * kernel - 1, 2 * kernel - 1)).astype(np.float32)
  return q, k, v, rpb


@pytest.mark.parametrize("height,width,kernel", [
    (8, 12, 3),    # tiles of 4 on both axes
    (16, 16, 7),   # interior tiles + clamped borders
    (6, 10, 5),    # axes too short for a tile and its halo: one tile per axis
    (13, 18, 3),   # axes not divisible by the tile: a padded last tile
    (22, 9, 5),    # ... with clamped borders inside the last tile
    (2, 3, 3),     # axes shorter than the window: the window is the whole axis
    (1, 1, 3),
])
def test_matches_naive_reference(height, width, kernel):
  q, k, v, rpb = _inputs((2, height, width, 3, 4), kernel)
  got = attention.neighborhood_attention(*(jnp.asarray(a) for a in (q, k, v, rpb)), kernel)
  want = attention.naive_reference(q, k, v, rpb, kernel)
  np.testing.assert_allclose(np.asarray(got), want, atol=2e-6)


def test_windows_are_border_clamped():
  starts = attention.window_starts(10, 5)
  np.testing.assert_array_equal(starts, [0, 0, 0, 1, 2, 3, 4, 5, 5, 5])


def test_each_query_sees_exactly_its_window():
  # With a huge bias on one relative offset, a query puts all its weight on that key, so the
  # output equals the value at that key: checks indexing of the bias table and the mask.
  height, width, kernel = 8, 8, 3
  q = np.zeros((1, height, width, 1, 1), np.float32)
  v = np.arange(height * width, dtype=np.float32).reshape(1, height, width, 1, 1)
  rpb = np.full((1, 5, 5), -50.0, np.float32)
  rpb[0, 2 + 1, 2 + 1] = 50.0  # key = query + (1, 1)
  out = np.asarray(attention.neighborhood_attention(jnp.asarray(q), jnp.asarray(q),
                                                    jnp.asarray(v), jnp.asarray(rpb), kernel))
  assert out[0, 2, 3, 0, 0] == pytest.approx(v[0, 3, 4, 0, 0], abs=1e-3)
  # The bottom-right corner's window is clamped: (+1, +1) is outside the image, so it cannot
  # be chosen; the output must be a value from inside its window.
  window = v[0, 5:8, 5:8, 0, 0]
  assert window.min() - 1e-3 <= out[0, 7, 7, 0, 0] <= window.max() + 1e-3


def test_gradients_are_finite():
  q, k, v, rpb = (jnp.asarray(a) for a in _inputs((1, 8, 8, 2, 4), 5))
  grads = jax.grad(lambda *a: jnp.sum(attention.neighborhood_attention(*a, 5) ** 2),
                   argnums=(0, 1, 2, 3))(q, k, v, rpb)
  for g in grads:
    assert np.all(np.isfinite(np.asarray(g))) and np.any(np.asarray(g) != 0)


def test_even_kernel_refused():
  q, k, v, rpb = (jnp.asarray(a) for a in _inputs((1, 4, 4, 1, 2), 3))
  with pytest.raises(ValueError, match="odd"):
    attention.neighborhood_attention(q, k, v, rpb, 4)


def test_float64_inputs_are_computed_in_float64():
  # The codec's entropy path runs in float64 (bitstream.py); NA must not drop to float32 there.
  with jax.enable_x64(True):
    q, k, v, rpb = (np.asarray(a, np.float64) for a in _inputs((1, 6, 7, 2, 3), 3, seed=4))
    got = attention.neighborhood_attention(*(jnp.asarray(a) for a in (q, k, v, rpb)), 3)
    assert got.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(got), attention.naive_reference(q, k, v, rpb, 3),
                               rtol=0, atol=1e-12)


def test_memory_stays_linear_when_an_axis_is_not_a_tile_multiple():
  # 78 = 2 mod 4 (a 2496-pixel side at the 1/32 level): each query tile still attends to a
  # (tile + k - 1)-long halo, not the whole axis.
  tile, starts, relative, _ = attention._axis_plan(78, 7, 4)  # pylint: disable=protected-access
  assert tile == 4 and len(starts) == 20 and relative.shape == (20, 4, 10)
