r"""OCR-guided refinement (paper §4.5, Fig. 8): frozen D1 → frozen CRAFT → word windows →
trainable D2 → frozen OCR; the refined words are pasted back into D1's page.

    d1, detector, d2 = ocr_guided.load_chain()          # shipped D1, CRAFT and D2
    result = ocr_guided.refine_page(d1, detector, d2, degraded)   # uint8 [H, W, 1]
    result.restored, result.d1_output, result.boxes

`d1`, `detector`, `d2` are (model, variables) pairs (`dequant.api.load`, `detect.api.load`).

Word patches are *windows of D1's output at its own resolution*: a fixed `window` (default
32×128 pixels, the recognizer's input size) centred on each word box. D2 (a DnCNN initialised
from D1, so trained at the page's scale) refines the window; the frozen recognizer reads the
box inside the refined window through its own word crop (`ocr.api.crop_words`: resized to its
input there); the refined pixels inside the box replace D1's. Windows keep every shape static
(a fixed number of words per example, a fixed window) for `jit`; docs/dequant.md ("OCR-guided
refinement") says why windows rather than resized crops.
"""

import dataclasses
import functools
import math
import time
from typing import Optional
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax import metrics
from tfic_jax import zoo
from tfic_jax.data import pages
from tfic_jax.dequant import api
from tfic_jax.detect import api as detect_api
from tfic_jax.ocr import api as ocr_api

STAGE = "dequant_ocr"
DEFAULT_MODEL = "dequant_ocr_default"
WINDOW = (32, 128)  # (height, width) of a word window, image pixels; multiples of 8.
IOU_THRESHOLD = 0.5
WORD_BOX_SOURCES = ("detected", "ground_truth")
TRAIN_COMMAND = ("python -m launch.train --config=configs/dequant_ocr_small.py "
                 "--workdir=workdirs/dequant_ocr_small")
_MIN_BUCKET = 8


def check_window(window) -> tuple[int, int]:
  """(height, width): positive multiples of 8 (the DnCNN's block grid)."""
  height, width = (int(w) for w in window)
  if height <= 0 or width <= 0 or height % 8 or width % 8:
    raise errors.TficError(
        f"data.window must be two positive multiples of 8, got {height}×{width}.")
  return height, width


# --- Word boxes and their ground truth (host). --------------------------------------------------


def ground_truth_words(text: str, char_boxes: np.ndarray
                       ) -> tuple[list[str], np.ndarray, np.ndarray]:
  """The visible words of a book patch in reading order: (texts, tight boxes [N, 4], boxes of
  their line's height [N, 4]) (`pages.word_boxes_by_line`)."""
  words = [word for line in (text.split("\n") if text else []) for word in line.split()]
  tight = pages.word_boxes_by_line(text, char_boxes, "word")
  line = pages.word_boxes_by_line(text, char_boxes, "line")
  concat = lambda lines: (np.concatenate(lines) if lines else np.zeros((0, 4), np.float32))
  return words, concat(tight), concat(line)


def match_words(detected: np.ndarray, ground_truth: np.ndarray,
                iou_threshold: float = IOU_THRESHOLD) -> np.ndarray:
  """For each detected box [N, 4], the index of its ground-truth box [M, 4], or −1.

  One to one, greedily by decreasing IoU, pairs of IoU ≥ `iou_threshold` only (the matching
  of the detection evaluation, `tfic_jax.eval.detect.match`).
  """
  detected = np.asarray(detected, np.float32).reshape(-1, 4)
  ground_truth = np.asarray(ground_truth, np.float32).reshape(-1, 4)
  matched = np.full(len(detected), -1, np.int64)
  if not len(detected) or not len(ground_truth):
    return matched
  iou = metrics.box_iou(detected, ground_truth)
  pairs = np.argwhere(iou >= iou_threshold)
  order = np.argsort(-iou[pairs[:, 0], pairs[:, 1]], kind="stable")
  used = set()
  for d, g in pairs[order]:
    if matched[d] < 0 and g not in used:
      matched[d] = g
      used.add(g)
  return matched


def window_corners(boxes: np.ndarray, window: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
  """(top, left) int32 [N, 2] of the window centred on each box, and whether the box fits in
  it [N] (bool). Corners may lie outside the image (windows are cut from an edge-padded one)."""
  boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
  height, width = window
  centre_y = (boxes[:, 1] + boxes[:, 3]) / 2
  centre_x = (boxes[:, 0] + boxes[:, 2]) / 2
  corners = np.stack([np.floor(centre_y - height / 2), np.floor(centre_x - width / 2)], -1)
  fits = ((boxes[:, 3] - boxes[:, 1]) <= height) & ((boxes[:, 2] - boxes[:, 0]) <= width)
  return corners.astype(np.int32), fits


# --- Pure functions (jit-able). -----------------------------------------------------------------


def extract_windows(images, corners, window: Sequence[int]) -> jax.Array:
  """Windows of images [B, H, W, C] at corners int [B, K, 2] (top, left; may be off the image
  by up to a window): [B, K, h, w, C], the image's border repeated outside it."""
  height, width = window
  padded = jnp.pad(images, ((0, 0), (height, height), (width, width), (0, 0)), mode="edge")
  channels = images.shape[-1]

  def one(image, corner):  # [H+2h, W+2w, C], [2]
    return jax.lax.dynamic_slice(image, (corner[0] + height, corner[1] + width, 0),
                                 (height, width, channels))

  return jax.vmap(jax.vmap(one, in_axes=(None, 0)))(padded, jnp.asarray(corners, jnp.int32))


def refine_windows(d2: api.Dequantizer, d2_variables: dict, windows) -> jax.Array:
  """D2 on word windows [N, h, w, C] in [0, 1] → [N, h, w, C], unclipped (inference mode:
  D2 keeps D1's BatchNorm statistics, docs/dequant.md)."""
  return api.apply(d2, d2_variables, windows)


def window_crops(ocr_model, windows, boxes) -> jax.Array:
  """The recognizer's input [N, h', w', 1] in [0, 1] of one box per window (boxes [N, 4] in
  window pixels), cut by its own word crop (`ocr.api.crop_words`)."""

  def one(window, box):
    return ocr_api.crop_words(ocr_model, window, box[None])[0]

  return (jax.vmap(one)(windows, jnp.asarray(boxes, jnp.float32)) + 1.0) / 2.0


# --- Loading the chain. -------------------------------------------------------------------------


def load_d2(path=None) -> tuple[api.Dequantizer, dict]:
  """A trained D2: a "dequant_ocr" workdir, model directory or shipped name (default:
  models/dequant_ocr_default). Raises CheckpointError (naming the training command) if none."""
  if path is None:
    if not (zoo.MODELS_DIR / DEFAULT_MODEL).is_dir():
      raise errors.CheckpointError(
          f"No OCR-guided D2 is shipped ({zoo.MODELS_DIR / DEFAULT_MODEL} does not "
          f"exist). Train one with `{TRAIN_COMMAND}` and pass --d2_workdir=workdirs/"
          "dequant_ocr_small.")
    path = DEFAULT_MODEL
  config = zoo.load_config(path)
  if config.get("stage") != STAGE:
    raise errors.CheckpointError(
        f"{path}: a {config.get('stage')!r} model, not an OCR-guided D2 (stage {STAGE!r}).")
  model = api.build(config)
  variables = zoo.load_variables(path)
  variables = {k: variables[k] for k in ("params", "batch_stats") if k in variables}
  zoo.check_same_structure(variables, model.abstract_variables(), str(path))
  return model, variables


def trained_window(d2_path=None) -> tuple[int, int]:
  """The word window (height, width) a D2 was trained on (its `config.data.window`), which
  is the one to refine with."""
  data = zoo.load_config(d2_path or DEFAULT_MODEL).get("data", {})
  return check_window(data.get("window", WINDOW))


def load_chain(d2_path=None, d1_path=None, craft_path=None):
  """(d1, detector, d2) pairs of (model, variables). D1 and CRAFT default to those D2 was
  trained with (its `config.frozen`), else the shipped ones."""
  d2 = load_d2(d2_path)
  frozen = zoo.load_config(d2_path or DEFAULT_MODEL).get("frozen", {})
  d1 = api.load(d1_path or frozen.get("d1") or None)
  detector = detect_api.load(craft_path or frozen.get("craft") or None)
  return d1, detector, d2


# --- Restoring a page (host). -------------------------------------------------------------------


@dataclasses.dataclass
class RefinedImage:
  restored: np.ndarray  # uint8 [H, W, 1]: D1's output with D2's words pasted in
  d1_output: np.ndarray  # uint8 [H, W, 1]
  boxes: np.ndarray  # float32 [N, 4] the refined word boxes (x0, y0, x1, y1)


def _bucket(count: int) -> int:
  return max(_MIN_BUCKET, 1 << (count - 1).bit_length())


@functools.lru_cache(maxsize=8)
def _refine_fn(d2: api.Dequantizer, window: tuple[int, int]):
  def refine(variables, image, corners):  # [H, W, 1] uint8, [N, 2] → uint8 [N, h, w, 1]
    windows = extract_windows(image[None].astype(jnp.float32) / 255.0, corners[None], window)[0]
    refined = refine_windows(d2, variables, windows)
    return jnp.round(jnp.clip(refined, 0.0, 1.0) * 255.0).astype(jnp.uint8)
  return jax.jit(refine)


def box_pixels(box: np.ndarray, height: int, width: int) -> tuple[int, int, int, int]:
  """Integer pixel rectangle (top, bottom, left, right; exclusive) covering a box, clipped."""
  x0, y0, x1, y1 = (float(v) for v in box)
  top, left = max(int(math.floor(y0)), 0), max(int(math.floor(x0)), 0)
  bottom, right = min(int(math.ceil(y1)), height), min(int(math.ceil(x1)), width)
  return top, bottom, left, right


def paste_words(base: np.ndarray, refined_windows: np.ndarray, corners: np.ndarray,
                boxes: np.ndarray, margin: float = 0.0) -> np.ndarray:
  """`base` [H, W, C] with each box's pixels, the box grown by `margin` pixels on every side,
  replaced by its refined window's [N, h, w, C] (window n placed at corners[n] = (top, left));
  pixels outside every (grown) box are `base`'s."""
  if margin < 0:
    raise errors.TficError(f"paste margin must be >= 0 pixels, got {margin}")
  result = np.array(base, copy=True)
  height, width = base.shape[:2]
  window_height, window_width = np.shape(refined_windows)[1:3]
  grow = np.float32([-margin, -margin, margin, margin])
  for window, (top_w, left_w), box in zip(refined_windows, corners, boxes):
    top, bottom, left, right = box_pixels(np.asarray(box, np.float32) + grow, height, width)
    top, left = max(top, top_w), max(left, left_w)  # Only what the window covers.
    bottom, right = min(bottom, top_w + window_height), min(right, left_w + window_width)
    if bottom <= top or right <= left:
      continue
    result[top:bottom, left:right] = window[top - top_w:bottom - top_w,
                                            left - left_w:right - left_w]
  return result


def refine_words(d2, image: np.ndarray, boxes: np.ndarray,
                 window: Sequence[int] = WINDOW, paste_margin: float = 0.0) -> np.ndarray:
  """Refines the word boxes [N, 4] of a (D1-restored) uint8 image [H, W, 1] with D2 and pastes
  them back, each box grown by `paste_margin` pixels (the recognizer's crop reads a margin
  around the box too; `paste_words`). A box larger than `window` gets a window grown to cover
  it (multiples of 8)."""
  d2_model, d2_variables = d2
  window = check_window(window)
  boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
  image = np.asarray(image)
  result = image
  sizes = np.stack([np.maximum(window[0], 8 * np.ceil((boxes[:, 3] - boxes[:, 1]) / 8)),
                    np.maximum(window[1], 8 * np.ceil((boxes[:, 2] - boxes[:, 0]) / 8))],
                   -1).astype(np.int64) if len(boxes) else np.zeros((0, 2), np.int64)
  for size in sorted({tuple(s) for s in sizes}):
    chosen = np.flatnonzero(np.all(sizes == size, axis=1))
    corners, _ = window_corners(boxes[chosen], size)
    padded = np.concatenate([corners, np.repeat(corners[:1], _bucket(len(corners))
                                                - len(corners), 0)])
    refined = np.asarray(_refine_fn(d2_model, tuple(int(s) for s in size))(
        d2_variables, image, padded))[:len(chosen)]
    result = paste_words(result, refined, corners, boxes[chosen], paste_margin)
  return result


def refine_page(d1, detector, d2, image, boxes: Optional[np.ndarray] = None,
                window: Sequence[int] = WINDOW, paste_margin: float = 0.0) -> RefinedImage:
  """The whole chain on one degraded image (a patch or a page): D1 restores it, CRAFT finds
  the words on D1's output (or `boxes` [N, 4] are given), D2 refines each word's window and
  the refined words are pasted into D1's output.

  Args:
    d1, detector, d2: (model, variables) pairs; `detector` may be None when `boxes` is given.
    image: uint8 or [0, 1] float [H, W(, 1)] (grayscale; see `dequant.api.check_input`).
    window: D2's word window (`trained_window`); paste_margin: see `refine_words`.
  """
  d1_model, d1_variables = d1
  d1_output = api.restore_image(d1_model, d1_variables, image)
  if boxes is None:
    if detector is None:
      raise errors.TficError("refine_page: give a detector or the word boxes.")
    boxes = detect_api.detect(detector[0], detector[1], d1_output).boxes
  boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
  restored = refine_words(d2, d1_output, boxes, window, paste_margin)
  return RefinedImage(restored=restored, d1_output=d1_output, boxes=boxes)


def dequantize_file(input_path, output_path, d2_path=None, d1_path=None,
                    craft_path=None) -> dict:
  """`launch.dequantize --ocr-guided`: reads a degraded image (grayscale), runs the chain and
  writes the result. Returns {"shape", "seconds", "num_words", "d2"}."""
  image = imageio.load_image(input_path, "L")
  api._check_output_path(output_path)  # pylint: disable=protected-access
  d1, detector, d2 = load_chain(d2_path, d1_path, craft_path)
  window = trained_window(d2_path)
  start = time.perf_counter()
  result = refine_page(d1, detector, d2, image, window=window)
  seconds = time.perf_counter() - start
  imageio.save_image(output_path, result.restored)
  return {"shape": result.restored.shape, "seconds": seconds, "num_words": len(result.boxes),
          "d2": str(d2_path or DEFAULT_MODEL)}
