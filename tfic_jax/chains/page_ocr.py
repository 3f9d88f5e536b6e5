"""Page OCR: CRAFT word boxes → reading order → the recognizer on each word crop.

    reading = page_ocr.read_page(detector, det_vars, ocr_model, ocr_vars, image)
    reading.text      # lines joined by "\\n", words by " "

Words are read one crop at a time by the recognizer (`tfic_jax.ocr.api.crop_words`, with the
recognizer's own word crop mode unless `resize_mode` names one, as `api.read_words`); lines are
formed by `postprocess.reading_order` (by vertical centre, then left to right). Word crops are
batched in powers of two so that a page compiles the reader only a few times.
"""

import dataclasses
import functools

import jax
import numpy as np

from tfic_jax.detect import api as detect_api
from tfic_jax.detect import postprocess
from tfic_jax.ocr import api as ocr_api

_MIN_BUCKET = 8


@dataclasses.dataclass
class PageReading:
  lines: list  # list[str], top to bottom
  line_boxes: list  # list of float32 [N_i, 4] word boxes of each line, left to right

  @property
  def text(self) -> str:
    return "\n".join(self.lines)


def _bucket(count: int) -> int:
  return max(_MIN_BUCKET, 1 << (count - 1).bit_length())


@functools.lru_cache(maxsize=8)
def _box_reader(ocr_model, resize_mode):
  mode = {} if resize_mode is None else {"resize_mode": resize_mode}

  def read(variables, image, boxes):
    crops = ocr_api.crop_words(ocr_model, image, boxes, **mode)  # [N, h, w, 1]
    frozen = {k: v for k, v in variables.items() if k in ("params", "batch_stats")}
    return ocr_api.ids_from_logits(ocr_model, ocr_model.module.apply(frozen, crops, None,
                                                                     train=False))
  return jax.jit(read)


def read_boxes(ocr_model, ocr_variables, image: np.ndarray, boxes: np.ndarray,
               resize_mode=None) -> list[str]:
  """The recognizer's reading of each box [N, 4] (x0, y0, x1, y1) of one image [H, W, C]."""
  boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
  if not len(boxes):
    return []
  padded = np.concatenate([boxes, np.repeat(boxes[:1], _bucket(len(boxes)) - len(boxes), 0)])
  ids = _box_reader(ocr_model, resize_mode)(ocr_variables, image, padded)
  return ocr_model.decode(np.asarray(ids))[:len(boxes)]


def read_lines(ocr_model, ocr_variables, image: np.ndarray, line_boxes: list,
               resize_mode=None) -> PageReading:
  """Reads word boxes already grouped into lines (a list of [N_i, 4], in reading order)."""
  line_boxes = [np.asarray(b, np.float32).reshape(-1, 4) for b in line_boxes]
  flat = np.concatenate(line_boxes) if line_boxes else np.zeros((0, 4), np.float32)
  words = iter(read_boxes(ocr_model, ocr_variables, image, flat, resize_mode))
  lines = [" ".join(w for w in (next(words) for _ in range(len(b))) if w) for b in line_boxes]
  return PageReading(lines=lines, line_boxes=line_boxes)


def read_page(detector, detector_variables, ocr_model, ocr_variables, image,
              resize_mode=None) -> PageReading:
  """Detects the words of a page or patch and reads them in reading order."""
  found = detect_api.detect(detector, detector_variables, image)
  order = postprocess.reading_order(found.boxes)
  return read_lines(ocr_model, ocr_variables, np.asarray(image),
                    [found.boxes[line] for line in order], resize_mode)
