"""Grid sampling, TPS grids and box crops (tfic_jax/ocr/sampling.py) against naive loops."""

import jax
import jax.numpy as jnp
import numpy as np

from tfic_jax.ocr import sampling


def naive_grid_sample(image, grid):
  """Per-pixel bilinear sampling, align_corners=False, padding_mode='border' (PyTorch)."""
  height, width, channels = image.shape
  out = np.zeros(grid.shape[:2] + (channels,))
  for i in range(grid.shape[0]):
    for j in range(grid.shape[1]):
      gx, gy = grid[i, j]
      x = min(max(((gx + 1) * width - 1) / 2, 0), width - 1)
      y = min(max(((gy + 1) * height - 1) / 2, 0), height - 1)
      x0, y0 = int(np.floor(x)), int(np.floor(y))
      x1, y1 = min(x0 + 1, width - 1), min(y0 + 1, height - 1)
      ax, ay = x - x0, y - y0
      out[i, j] = ((1 - ay) * ((1 - ax) * image[y0, x0] + ax * image[y0, x1])
                   + ay * ((1 - ax) * image[y1, x0] + ax * image[y1, x1]))
  return out


def test_grid_sample_matches_naive_reference_including_border():
  rng = np.random.default_rng(0)
  images = rng.uniform(size=(2, 7, 9, 3)).astype(np.float32)
  grid = rng.uniform(-1.4, 1.4, size=(2, 5, 6, 2)).astype(np.float32)  # some outside [-1, 1]
  got = np.asarray(sampling.grid_sample(jnp.asarray(images), jnp.asarray(grid)))
  for b in range(2):
    np.testing.assert_allclose(got[b], naive_grid_sample(images[b], grid[b]), atol=1e-5)


def test_grid_sample_is_differentiable_wrt_image_and_grid():
  images = jnp.asarray(np.random.default_rng(1).uniform(size=(1, 6, 8, 1)), jnp.float32)
  grid = jnp.full((1, 3, 4, 2), 0.1, jnp.float32)
  g_img, g_grid = jax.grad(lambda x, g: jnp.sum(sampling.grid_sample(x, g) ** 2),
                           argnums=(0, 1))(images, grid)
  assert np.all(np.isfinite(g_img)) and np.abs(g_img).sum() > 0
  assert np.abs(g_grid).sum() > 0


def test_tps_with_fiducial_points_at_rest_is_the_identity():
  size = (8, 20)
  inv_delta_c, p_hat = sampling.tps_matrices(20, size)
  c = sampling.fiducial_points(20)[None].astype(np.float32)
  grid = sampling.tps_grid(jnp.asarray(c), inv_delta_c, p_hat, size)
  image = jnp.asarray(np.random.default_rng(2).uniform(size=(1,) + size + (1,)), jnp.float32)
  np.testing.assert_allclose(sampling.grid_sample(image, grid), image, atol=1e-4)


def test_crop_boxes_stretch_and_keep_aspect():
  image = np.arange(20 * 40, dtype=np.float32).reshape(20, 40, 1)
  boxes = np.array([[4, 2, 12, 10], [0, 0, 40, 20]], np.float32)
  crops = np.asarray(sampling.crop_boxes(jnp.asarray(image), boxes, (8, 8), keep_aspect=False))
  assert crops.shape == (2, 8, 8, 1)
  np.testing.assert_allclose(crops[0], image[2:10, 4:12], atol=1e-4)  # 1:1 crop is exact
  padded = np.asarray(sampling.crop_boxes(jnp.asarray(image), boxes[:1], (8, 16)))
  np.testing.assert_allclose(padded[0, :, :8], image[2:10, 4:12], atol=1e-4)
  np.testing.assert_allclose(padded[0, :, 8:], np.repeat(image[2:10, 11:12], 8, axis=1),
                             atol=1e-4)  # right side repeats the last column


def _page_with_words():
  """White page [40, 120, 1] with a dark 'word' at x 40..60 and neighbours left and right."""
  image = np.ones((40, 120, 1), np.float32)
  image[15:25, 40:60] = 0.0  # the word (box [40, 15, 60, 25])
  image[15:25, 30:37] = 0.2  # the previous word, 3 px away
  image[15:25, 63:70] = 0.2  # the next word
  image[2:8, 40:60] = 0.3  # the line above
  return image


def test_crop_canvas_centres_the_box_and_blanks_its_neighbours():
  image = _page_with_words()
  box = np.array([[40, 15, 60, 25]], np.float32)
  crop = np.asarray(sampling.crop_canvas(jnp.asarray(image), box, (32, 128), text_height=0.5,
                                         stretch=2.0, max_fill=0.9, margin=0.05))[0, :, :, 0]
  # Height 10 → 16 rows (scale 1.6), width 20 → 64 columns (2 × 1.6), centred.
  dark_rows = np.flatnonzero((crop < 0.5).any(axis=1))
  dark_cols = np.flatnonzero((crop < 0.5).any(axis=0))
  assert abs(dark_rows[0] - 8) <= 1 and abs(dark_rows[-1] - 23) <= 1
  assert abs(dark_cols[0] - 32) <= 1 and abs(dark_cols[-1] - 95) <= 1
  # Neighbouring words and lines are replaced by one background value: the mean of a ring
  # around the word, near white (bilinear samples by the word's edge make it slightly grey).
  outside = np.ones_like(crop, bool)
  outside[6:26, 29:99] = False  # the word and its 0.05 × height margin
  assert np.ptp(crop[outside]) == 0.0 and crop[outside][0] > 0.95


def test_crop_canvas_caps_width_and_is_differentiable():
  image = _page_with_words()
  wide = np.array([[0, 15, 120, 25]], np.float32)  # would be 384 columns at stretch 2
  crop = np.asarray(sampling.crop_canvas(jnp.asarray(image), wide, (32, 128), max_fill=0.9))
  assert crop.shape == (1, 32, 128, 1)
  grad = jax.grad(lambda x: jnp.sum(sampling.crop_canvas(
      x, np.array([[40, 15, 60, 25]], np.float32), (32, 128))))(jnp.asarray(image))
  assert np.all(np.isfinite(grad)) and np.abs(grad[15:25, 40:60]).sum() > 0
  # Beyond the margin and the background ring (0.2 × height = 2 px) nothing reaches the crop:
  # neither the neighbouring words nor the line above.
  far = np.ones(grad.shape[:2], bool)
  far[12:29, 37:64] = False
  assert np.abs(grad[..., 0][far]).max() == 0.0
