"""Region + affinity maps → word boxes, as CRAFT's reference does (`craft_utils.getDetBoxes_core`).

Threshold the region map at `low_text` and the affinity map at `link_threshold`, take the
4-connected components of their union, keep components of at least `min_size` pixels whose
region score peaks at `text_threshold` or more, remove the pure-link pixels, dilate each
component by a square whose size grows with the component's thickness
(`niter = int(sqrt(area · min(w, h) / (w · h)) · 2)`), and fit a minimum-area rectangle.

Boxes come back in map coordinates with pixel (i, j) covering [j, j + 1) × [i, i + 1): the
rectangle is fitted to pixel centres and grown by one pixel, so a component filling exactly the
pixels of a box gives that box. `DetectionBoxes` carries the rotated quads (clockwise from the
top-left-most corner, as the reference) and their axis-aligned hulls [x0, y0, x1, y1].
"""

import dataclasses
import math

import cv2
import numpy as np

from tfic_jax import errors


@dataclasses.dataclass(frozen=True)
class Thresholds:
  """The reference's defaults (`test.py`: --text_threshold, --link_threshold, --low_text)."""
  text: float = 0.7
  link: float = 0.4
  low_text: float = 0.4
  min_size: int = 10  # pixels of a component, in map resolution


@dataclasses.dataclass
class DetectionBoxes:
  quads: np.ndarray  # float32 [N, 4, 2] rotated rectangles (x, y), clockwise
  boxes: np.ndarray  # float32 [N, 4] axis-aligned (x0, y0, x1, y1), right/bottom exclusive
  scores: np.ndarray  # float32 [N] peak region score of each word

  def scaled(self, factor: float) -> "DetectionBoxes":
    return DetectionBoxes(self.quads * factor, self.boxes * factor, self.scores)

  def __len__(self) -> int:
    return len(self.boxes)


def _check_maps(region: np.ndarray, affinity: np.ndarray) -> None:
  if np.ndim(region) != 2 or np.shape(region) != np.shape(affinity):
    raise errors.TficError(
        f"CRAFT maps: expected two 2-D maps of one shape, got {np.shape(region)} and "
        f"{np.shape(affinity)}")


def _min_area_quad(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
  """Minimum-area rectangle [4, 2] of a set of pixels, covering them whole."""
  centres = np.stack([xs + 0.5, ys + 0.5], -1).astype(np.float32)
  (cx, cy), (w, h), angle = cv2.minAreaRect(centres)
  quad = cv2.boxPoints(((cx, cy), (w + 1.0, h + 1.0), angle))
  side_a = np.linalg.norm(quad[0] - quad[1])
  side_b = np.linalg.norm(quad[1] - quad[2])
  # Nearly square: the reference replaces the (possibly diamond-shaped) rectangle by the
  # axis-aligned one.
  if abs(1 - max(side_a, side_b) / (min(side_a, side_b) + 1e-5)) <= 0.1:
    left, right = xs.min(), xs.max() + 1.0
    top, bottom = ys.min(), ys.max() + 1.0
    quad = np.float32([[left, top], [right, top], [right, bottom], [left, bottom]])
  start = int(quad.sum(axis=1).argmin())
  return np.roll(quad, 4 - start, axis=0).astype(np.float32)


def word_boxes(region: np.ndarray, affinity: np.ndarray,
               thresholds: Thresholds = Thresholds()) -> DetectionBoxes:
  """Word boxes of one image's maps [h, w] (map coordinates); see the module docstring."""
  _check_maps(region, affinity)
  region = np.asarray(region, np.float32)
  affinity = np.asarray(affinity, np.float32)
  height, width = region.shape
  text_mask = region > thresholds.low_text
  link_mask = affinity > thresholds.link
  combined = (text_mask | link_mask).astype(np.uint8)
  count, labels, stats, _ = cv2.connectedComponentsWithStats(combined, connectivity=4)
  quads, scores = [], []
  for k in range(1, count):
    size = int(stats[k, cv2.CC_STAT_AREA])
    if size < thresholds.min_size:
      continue
    component = labels == k
    peak = float(region[component].max())
    if peak < thresholds.text:
      continue
    x, y = int(stats[k, cv2.CC_STAT_LEFT]), int(stats[k, cv2.CC_STAT_TOP])
    w, h = int(stats[k, cv2.CC_STAT_WIDTH]), int(stats[k, cv2.CC_STAT_HEIGHT])
    niter = int(math.sqrt(size * min(w, h) / (w * h)) * 2)
    x0, x1 = max(x - niter, 0), min(x + w + niter + 1, width)
    y0, y1 = max(y - niter, 0), min(y + h + niter + 1, height)
    segmap = np.zeros((y1 - y0, x1 - x0), np.uint8)
    window = component[y0:y1, x0:x1] & ~(link_mask[y0:y1, x0:x1] & ~text_mask[y0:y1, x0:x1])
    segmap[window] = 255
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (1 + niter, 1 + niter))
    segmap = cv2.dilate(segmap, kernel)
    ys, xs = np.nonzero(segmap)
    if not len(ys):
      continue
    quads.append(_min_area_quad(ys + y0, xs + x0))
    scores.append(peak)
  quads = np.asarray(quads, np.float32).reshape(-1, 4, 2)
  boxes = np.concatenate([quads.min(axis=1), quads.max(axis=1)], axis=1).reshape(-1, 4)
  return DetectionBoxes(quads, boxes.astype(np.float32), np.asarray(scores, np.float32))


def reading_order(boxes: np.ndarray, line_overlap: float = 0.5) -> list[np.ndarray]:
  """Groups word boxes [N, 4] into lines (top to bottom) of indices sorted left to right.

  Boxes are taken by their vertical centre; a box joins the current line when its centre lies
  within the line's vertical extent shrunk to `line_overlap` of the median box height around
  the line's running centre, otherwise it starts a new line.
  """
  boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
  if not len(boxes):
    return []
  centres_y = (boxes[:, 1] + boxes[:, 3]) / 2
  tolerance = line_overlap * float(np.median(boxes[:, 3] - boxes[:, 1]))
  lines, line_centres = [], []
  for index in np.argsort(centres_y, kind="stable"):
    if lines and abs(centres_y[index] - line_centres[-1]) <= tolerance:
      lines[-1].append(index)
      line_centres[-1] = float(np.mean(centres_y[lines[-1]]))
    else:
      lines.append([index])
      line_centres.append(float(centres_y[index]))
  return [np.asarray(sorted(line, key=lambda i: boxes[i, 0]), np.int64) for line in lines]
