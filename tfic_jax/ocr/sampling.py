"""Differentiable image sampling for the OCR models: TPS grids, bilinear sampling, box crops.

Pure `jnp` functions (no Linen), jit-able and differentiable w.r.t. both the image and the
sampling coordinates. Coordinates follow PyTorch's `F.grid_sample(..., align_corners=False,
padding_mode="border")`, which the TPS of Baek et al. 2019 (RARE's rectification network) uses:
x = -1 is the left edge of the first pixel, x = +1 the right edge of the last one.
"""

from typing import Sequence

import jax.numpy as jnp
import numpy as np


def grid_sample(images: jnp.ndarray, grid: jnp.ndarray) -> jnp.ndarray:
  """Bilinear sampling with border padding.

  Args:
    images: [B, H, W, C] float.
    grid: [B, Ho, Wo, 2] normalized (x, y) coordinates in [-1, 1] (values outside are clamped to
      the border, as `padding_mode="border"`).

  Returns:
    [B, Ho, Wo, C] in the dtype of `images`.
  """
  batch, height, width, channels = images.shape
  out_h, out_w = grid.shape[1:3]
  grid = grid.astype(jnp.float32)
  # Unnormalize (align_corners=False) and clamp to pixel centres of the border.
  x = jnp.clip(((grid[..., 0] + 1.0) * width - 1.0) / 2.0, 0.0, width - 1.0)  # [B, Ho, Wo]
  y = jnp.clip(((grid[..., 1] + 1.0) * height - 1.0) / 2.0, 0.0, height - 1.0)
  x0 = jnp.floor(x)
  y0 = jnp.floor(y)
  wx = (x - x0)[..., None]  # [B, Ho, Wo, 1]
  wy = (y - y0)[..., None]
  x0 = x0.astype(jnp.int32)
  y0 = y0.astype(jnp.int32)
  x1 = jnp.minimum(x0 + 1, width - 1)
  y1 = jnp.minimum(y0 + 1, height - 1)

  flat = images.reshape(batch, height * width, channels)

  def gather(yi, xi):
    index = (yi * width + xi).reshape(batch, out_h * out_w, 1)
    values = jnp.take_along_axis(flat, index, axis=1)
    return values.reshape(batch, out_h, out_w, channels).astype(jnp.float32)

  top = gather(y0, x0) * (1.0 - wx) + gather(y0, x1) * wx
  bottom = gather(y1, x0) * (1.0 - wx) + gather(y1, x1) * wx
  return (top * (1.0 - wy) + bottom * wy).astype(images.dtype)


# ---------------------------------------------------------------------------------------------
# Thin-plate spline constants (RARE, Shi et al. 2016; as in Baek et al. 2019's TPS-STN).


def fiducial_points(num_fiducial: int) -> np.ndarray:
  """C: [F, 2] fiducial points of the rectified image, F/2 on the top and bottom edges."""
  if num_fiducial < 4 or num_fiducial % 2:
    raise ValueError(f"num_fiducial must be even and >= 4, got {num_fiducial}")
  xs = np.linspace(-1.0, 1.0, num_fiducial // 2)
  top = np.stack([xs, -np.ones_like(xs)], axis=1)
  bottom = np.stack([xs, np.ones_like(xs)], axis=1)
  return np.concatenate([top, bottom], axis=0)


def initial_fiducial_points(num_fiducial: int) -> np.ndarray:
  """Initial C' of the localization net (RARE Fig. 6a): a slightly converging pattern, [F, 2]."""
  xs = np.linspace(-1.0, 1.0, num_fiducial // 2)
  top = np.stack([xs, np.linspace(0.0, -1.0, num_fiducial // 2)], axis=1)
  bottom = np.stack([xs, np.linspace(1.0, 0.0, num_fiducial // 2)], axis=1)
  return np.concatenate([top, bottom], axis=0)


def _tps_kernel(sq_dist: np.ndarray, eps: float) -> np.ndarray:
  return sq_dist * np.log(np.sqrt(sq_dist) + eps)


def tps_matrices(num_fiducial: int, output_size: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
  """The two constant matrices of the TPS grid generator.

  Returns:
    inv_delta_c: [F + 3, F + 3], the inverse of the TPS system matrix of C.
    p_hat: [Ho * Wo, F + 3], the TPS basis evaluated at the rectified image's pixel centres.
  With them, the sampling grid for predicted points C' is `p_hat @ inv_delta_c @ [C'; 0]`.
  """
  c = fiducial_points(num_fiducial)
  f = num_fiducial
  dist = np.linalg.norm(c[:, None] - c[None], axis=-1)
  np.fill_diagonal(dist, 1.0)
  hat_c = dist**2 * np.log(dist)  # [F, F], zero diagonal
  delta_c = np.concatenate([
      np.concatenate([np.ones((f, 1)), c, hat_c], axis=1),
      np.concatenate([np.zeros((2, 3)), c.T], axis=1),
      np.concatenate([np.zeros((1, 3)), np.ones((1, f))], axis=1),
  ], axis=0)  # [F + 3, F + 3]
  inv_delta_c = np.linalg.inv(delta_c)

  out_h, out_w = output_size
  grid_x = (np.arange(-out_w, out_w, 2) + 1.0) / out_w
  grid_y = (np.arange(-out_h, out_h, 2) + 1.0) / out_h
  p = np.stack(np.meshgrid(grid_x, grid_y), axis=2).reshape(-1, 2)  # [n, 2], row-major (y, x)
  sq_dist = np.sum((p[:, None] - c[None]) ** 2, axis=-1)  # [n, F]
  p_hat = np.concatenate([np.ones((p.shape[0], 1)), p, _tps_kernel(sq_dist, 1e-6)], axis=1)
  return inv_delta_c.astype(np.float32), p_hat.astype(np.float32)


def tps_grid(c_prime: jnp.ndarray, inv_delta_c: np.ndarray, p_hat: np.ndarray,
             output_size: Sequence[int]) -> jnp.ndarray:
  """Sampling grid [B, Ho, Wo, 2] for predicted fiducial points c_prime [B, F, 2]."""
  batch = c_prime.shape[0]
  c_prime = c_prime.astype(jnp.float32)
  padded = jnp.concatenate([c_prime, jnp.zeros((batch, 3, 2), jnp.float32)], axis=1)
  transform = jnp.einsum("ij,bjk->bik", jnp.asarray(inv_delta_c), padded)  # [B, F + 3, 2]
  points = jnp.einsum("nj,bjk->bnk", jnp.asarray(p_hat), transform)  # [B, Ho * Wo, 2]
  return points.reshape(batch, output_size[0], output_size[1], 2)


# ---------------------------------------------------------------------------------------------
# Box crops (word boxes of a patch → fixed-size recognizer inputs).


def crop_boxes(image: jnp.ndarray, boxes: jnp.ndarray, output_size: Sequence[int],
               keep_aspect: bool = True) -> jnp.ndarray:
  """Crops axis-aligned boxes from one image and resamples them to a fixed size.

  Differentiable w.r.t. the image (bilinear sampling), with static output shapes so that it can
  run inside a jitted loss even though the boxes differ in size. No antialiasing: meant for word
  boxes that are upscaled or mildly downscaled (book words are ~12 px high, the input 32 px).

  Args:
    image: [H, W, C] float.
    boxes: [N, 4] pixel boxes (x0, y0, x1, y1), x1/y1 exclusive.
    output_size: (h, w) of each crop.
    keep_aspect: if True the box is scaled to height h keeping its aspect ratio, left-aligned,
      and the columns to its right repeat the box's last column (the reference's "PAD" resize);
      a box wider than w at that scale is squeezed to w. If False the box is stretched to (h, w).

  Returns:
    [N, h, w, C].
  """
  height, width = image.shape[:2]
  out_h, out_w = output_size
  boxes = jnp.asarray(boxes, jnp.float32)
  x0, y0, x1, y1 = (boxes[:, i] for i in range(4))
  box_w = jnp.maximum(x1 - x0, 1.0)
  box_h = jnp.maximum(y1 - y0, 1.0)
  # Output column j covers box coordinates [j, j + 1) * step_x (pixel-centre sampling).
  if keep_aspect:
    used_w = jnp.clip(box_w * out_h / box_h, 1.0, out_w)  # [N] output columns the box fills
  else:
    used_w = jnp.full_like(box_w, float(out_w))
  cols = jnp.arange(out_w, dtype=jnp.float32)[None] + 0.5  # [1, w]
  # Columns past the box repeat its last pixel column (the centre of that column is x1 - 0.5).
  xs = jnp.minimum(x0[:, None] + cols / used_w[:, None] * box_w[:, None],
                   (x0 + box_w)[:, None] - 0.5)  # [N, w] continuous pixel coordinates
  rows = jnp.arange(out_h, dtype=jnp.float32)[None] + 0.5
  ys = y0[:, None] + rows / out_h * box_h[:, None]  # [N, h]
  grid_x = 2.0 * xs / width - 1.0
  grid_y = 2.0 * ys / height - 1.0
  grid = jnp.stack(jnp.broadcast_arrays(grid_x[:, None, :], grid_y[:, :, None]), axis=-1)
  images = jnp.broadcast_to(image[None], (boxes.shape[0],) + image.shape)
  return grid_sample(images, grid)  # [N, h, w, C]


def crop_canvas(image: jnp.ndarray, boxes: jnp.ndarray, output_size: Sequence[int],
                text_height: float = 0.45, stretch: float = 2.0, max_fill: float = 0.9,
                margin: float = 0.05) -> jnp.ndarray:
  """Puts each box's text on a plain canvas laid out like a synthetic training line.

  The judge learned to read one line of text on an even background with wide empty margins,
  stretched horizontally by the adapter (256×512 canvases → 32×128 input: 2× wider than high).
  A tight word crop padded with its last column looks nothing like that. Here the box is
  scaled so that its height is `text_height` of the output height and its width `stretch`
  times that scale (capped so that it spans at most `max_fill` of the output width), centred;
  everything farther than `margin` × box height from the box (neighbouring words and lines) is
  replaced by the background, the mean of a ring of that width around the kept region.
  Differentiable w.r.t. the image (bilinear sampling; the layout depends on the boxes only).

  Args:
    image: [H, W, C] float.
    boxes: [N, 4] pixel boxes (x0, y0, x1, y1), x1/y1 exclusive; for words, the horizontal
      extent of the word and the vertical extent of its line (so a line's words share a scale).
    output_size: (h, w) of each crop.

  Returns:
    [N, h, w, C].
  """
  height, width = image.shape[:2]
  out_h, out_w = output_size
  boxes = jnp.asarray(boxes, jnp.float32)
  x0, y0, x1, y1 = (boxes[:, i] for i in range(4))
  box_w = jnp.maximum(x1 - x0, 1.0)
  box_h = jnp.maximum(y1 - y0, 1.0)
  scale_y = text_height * out_h / box_h  # [N] output pixels per image pixel
  scale_x = jnp.minimum(stretch * scale_y, max_fill * out_w / box_w)
  cols = jnp.arange(out_w, dtype=jnp.float32)[None] + 0.5 - out_w / 2.0  # [1, w]
  rows = jnp.arange(out_h, dtype=jnp.float32)[None] + 0.5 - out_h / 2.0  # [1, h]
  xs = (x0 + x1)[:, None] / 2.0 + cols / scale_x[:, None]  # [N, w] image coordinates
  ys = (y0 + y1)[:, None] / 2.0 + rows / scale_y[:, None]  # [N, h]
  grid = jnp.stack(jnp.broadcast_arrays((2.0 * xs / width - 1.0)[:, None, :],
                                        (2.0 * ys / height - 1.0)[:, :, None]), axis=-1)
  images = jnp.broadcast_to(image[None], (boxes.shape[0],) + image.shape)
  values = grid_sample(images, grid).astype(jnp.float32)  # [N, h, w, C]

  def within(pad):  # [N, h, w, 1]: sample points within `pad` × box height of the box.
    pad = (pad * box_h)[:, None]
    in_x = (xs >= x0[:, None] - pad) & (xs <= x1[:, None] + pad)  # [N, w]
    in_y = (ys >= y0[:, None] - pad) & (ys <= y1[:, None] + pad)  # [N, h]
    return (in_y[:, :, None] & in_x[:, None, :])[..., None]

  kept = within(margin)
  ring = (within(2.0 * margin + 0.1) & ~kept).astype(jnp.float32)
  ring_count = jnp.sum(ring, axis=(1, 2), keepdims=True)  # [N, 1, 1, 1]
  background = jnp.where(  # [N, 1, 1, C]
      ring_count > 0, jnp.sum(values * ring, axis=(1, 2), keepdims=True) /
      jnp.maximum(ring_count, 1.0), jnp.mean(values, axis=(1, 2), keepdims=True))
  return jnp.where(kept, values, background).astype(image.dtype)
