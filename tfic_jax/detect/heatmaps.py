"""CRAFT training targets from exact character boxes (CRAFT §3.1, Fig. 3).

Region score: a canonical 2D isotropic Gaussian warped into every character box by the
perspective transform from the unit square to the box's quadrilateral. Affinity score: the same
Gaussian warped into an *affinity box* between each pair of adjacent characters of one word,
whose corners are the centres of the upper and lower triangles of the two character boxes
(each box is split by its diagonals; the upper triangle is (top-left, top-right, centre)).
Overlapping Gaussians combine by maximum.

Maps are float32 [h, w] with pixel (i, j) covering [j, j + 1) × [i, i + 1) in map coordinates,
so a box (x0, y0, x1, y1) with right/bottom exclusive maps to the continuous square it covers.
The Gaussian is evaluated analytically at each pixel centre pulled back through the inverse
homography (what `cv2.warpPerspective` of a finely sampled Gaussian approximates).
"""

import cv2
import numpy as np

# σ of the canonical Gaussian on the unit square. 0.3 puts the 0.4 level ("low text") at 81 %
# of the half-width, so the thresholded region of each character stays inside its box and the
# reference's dilation in post-processing grows a word's region back to about its box.
DEFAULT_SIGMA = 0.3
_UNIT_SQUARE = np.float32([[0, 0], [1, 0], [1, 1], [0, 1]])


def boxes_to_quads(boxes: np.ndarray) -> np.ndarray:
  """Axis-aligned boxes [N, 4] (x0, y0, x1, y1) → quads [N, 4, 2] (tl, tr, br, bl)."""
  boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
  x0, y0, x1, y1 = boxes.T
  return np.stack([np.stack([x0, y0], -1), np.stack([x1, y0], -1),
                   np.stack([x1, y1], -1), np.stack([x0, y1], -1)], axis=1)


def draw_gaussian(heatmap: np.ndarray, quad: np.ndarray, sigma: float = DEFAULT_SIGMA) -> None:
  """Max-composites the canonical Gaussian warped into `quad` [4, 2] onto `heatmap` in place."""
  quad = np.asarray(quad, np.float32)
  height, width = heatmap.shape
  x_lo = max(int(np.floor(quad[:, 0].min())), 0)
  x_hi = min(int(np.ceil(quad[:, 0].max())), width)
  y_lo = max(int(np.floor(quad[:, 1].min())), 0)
  y_hi = min(int(np.ceil(quad[:, 1].max())), height)
  if x_hi <= x_lo or y_hi <= y_lo:
    return
  # Degenerate (collinear) quads have no homography: nothing to draw.
  if abs(cv2.contourArea(quad)) < 1e-6:
    return
  to_unit = cv2.getPerspectiveTransform(quad, _UNIT_SQUARE).astype(np.float64)
  ys, xs = np.mgrid[y_lo:y_hi, x_lo:x_hi]
  points = np.stack([xs + 0.5, ys + 0.5, np.ones_like(xs, np.float64)], -1)  # pixel centres
  mapped = points @ to_unit.T
  u = mapped[..., 0] / mapped[..., 2]
  v = mapped[..., 1] / mapped[..., 2]
  inside = (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)
  values = np.exp(-((u - 0.5) ** 2 + (v - 0.5) ** 2) / (2 * sigma ** 2)) * inside
  window = heatmap[y_lo:y_hi, x_lo:x_hi]
  np.maximum(window, values.astype(np.float32), out=window)


def affinity_quads(char_quads: np.ndarray, char_word: np.ndarray) -> np.ndarray:
  """Affinity boxes [M, 4, 2] between consecutive characters of the same word.

  Args:
    char_quads: [N, 4, 2] character quads (tl, tr, br, bl) in reading order.
    char_word: [N] word id of each character; consecutive characters with the same id are
      adjacent in a word.
  """
  char_quads = np.asarray(char_quads, np.float32).reshape(-1, 4, 2)
  char_word = np.asarray(char_word).reshape(-1)
  pairs = np.flatnonzero(char_word[1:] == char_word[:-1]) if len(char_word) > 1 else []
  if not len(pairs):
    return np.zeros((0, 4, 2), np.float32)
  centres = char_quads.mean(axis=1)  # [N, 2]
  upper = (char_quads[:, 0] + char_quads[:, 1] + centres) / 3  # triangle (tl, tr, centre)
  lower = (char_quads[:, 3] + char_quads[:, 2] + centres) / 3  # triangle (bl, br, centre)
  first, second = pairs, pairs + 1
  return np.stack([upper[first], upper[second], lower[second], lower[first]], axis=1)


def craft_targets(char_boxes: np.ndarray, char_word: np.ndarray, shape: tuple[int, int],
                  scale: float = 1.0, offset=(0.0, 0.0),
                  sigma: float = DEFAULT_SIGMA) -> np.ndarray:
  """Region and affinity maps [h, w, 2] float32 in [0, 1] of one image.

  Args:
    char_boxes: [N, 4] character boxes (x0, y0, x1, y1) in image coordinates, reading order.
    char_word: [N] word id per character (only equality between neighbours matters).
    shape: (h, w) of the maps.
    scale, offset: map coordinates = (image coordinates - offset) · scale, e.g. scale 0.5 for
      maps at half the resolution of the image the boxes refer to.
  """
  offset = np.asarray(offset, np.float32)
  quads = (boxes_to_quads(char_boxes) - offset) * scale
  region = np.zeros(shape, np.float32)
  affinity = np.zeros(shape, np.float32)
  for quad in quads:
    draw_gaussian(region, quad, sigma)
  for quad in affinity_quads(quads, char_word):
    draw_gaussian(affinity, quad, sigma)
  return np.stack([region, affinity], axis=-1)
