"""Book words in the OCR judge's training mix: words of rendered book pages, cropped as it reads.

The judge reads book patches word by word (`api.read_words`, `crop_words` in "canvas" mode).
Trained on synthetic lines only, it had never seen book typography (10–14 px lines, tight
spacing). `BookWordSource` is a random-access source of such examples, deterministic in
(seed, index): 1 to `max_words` consecutive words of one line of a `book_patches/default` page
of the chosen split (TRAIN pages for training: test pages and their sentences never enter
training), some of them degraded as Part B degrades pages (downsample, JPEG, upsample), cropped
with the model's own `crop_words` (so training sees exactly what reading sees) and enlarged by
pixel replication to the synthetic canvas size, so that both kinds of example share a batch and
the stage's augmentation and adapter. `pipeline.MixedSource` puts the two sources into one.
"""

import dataclasses
import functools
import threading

import jax
import numpy as np

from tfic_jax import errors
from tfic_jax.data import book
from tfic_jax.ocr import api

_REGION = (64, 384)  # Page pixels around a box handed to the cropper (fixed: one compilation).


@dataclasses.dataclass(frozen=True)
class BookWordsSpec:
  """Which pages and words, and how many are degraded."""
  split: str = "train"  # Pages of book_patches/default's split (with that split's sentences).
  num_pages: int = 100  # Pages rendered (~0.6 s each), spread evenly over the split.
  word_counts: tuple[float, ...] = (0.6, 0.25, 0.15)  # P(1 word), P(2 words), ...
  max_chars: int = 20  # Longer runs lose words (CTC has 31 steps at 32×128).
  p_degrade: float = 0.2
  degrade_factor_range: tuple[float, float] = (1.2, 2.2)  # Lighter than the test set's 3, q 1:
  degrade_quality_range: tuple[int, int] = (10, 50)  # that is barely legible at all.
  # Em size range (px) of the pages; None: the book_patches/default config's (11–13). A single
  # size with p_degrade 1 and one factor and quality gives one cell of the severity grid
  # (issue 28, `spec_from_data_config`).
  font_size_range: tuple[int, int] | None = None


def spec_from_data_config(data, split: str = "train") -> BookWordsSpec:
  """The `BookWordsSpec` of an OCR config's `data` fields: `book_pages`, `book_p_degrade` and,
  where present, `book_font_size_range`, `book_degrade_factor_range`,
  `book_degrade_quality_range` (configs/ocr_crnn_degraded_small.py: one severity-grid cell)."""
  defaults = BookWordsSpec()

  def pair(name, default, kind):
    value = data.get(name) or default
    return None if value is None else tuple(kind(v) for v in value)

  spec = BookWordsSpec(
      split=split, num_pages=int(data.get("book_pages", defaults.num_pages)),
      p_degrade=float(data.get("book_p_degrade", defaults.p_degrade)),
      degrade_factor_range=pair("book_degrade_factor_range", defaults.degrade_factor_range,
                                float),
      degrade_quality_range=pair("book_degrade_quality_range", defaults.degrade_quality_range,
                                 int),
      font_size_range=pair("book_font_size_range", None, int))
  for name, value in (("book_degrade_factor_range", spec.degrade_factor_range),
                      ("book_degrade_quality_range", spec.degrade_quality_range),
                      ("book_font_size_range", spec.font_size_range)):
    if value is not None and (len(value) != 2 or value[0] > value[1]):
      raise errors.TficError(f"config.data.{name} must be (low, high), got {value}")
  return spec


@dataclasses.dataclass
class _Line:
  words: list[str]
  word_boxes: np.ndarray  # float32 [N, 4]: each word's x extent, the line's y extent


def page_lines(page: book.Page) -> list[_Line]:
  """The page's lines as words with boxes (horizontal: the word, vertical: the line)."""
  lines = []
  for line_id in np.unique(page.char_line):
    in_line = np.flatnonzero(page.char_line == line_id)
    top = page.char_boxes[in_line, 1].min()
    bottom = page.char_boxes[in_line, 3].max()
    words, boxes = [], []
    for word_id in np.unique(page.char_word[in_line]):
      chars = in_line[page.char_word[in_line] == word_id]
      words.append("".join(page.chars[i] for i in chars))
      boxes.append([page.char_boxes[chars, 0].min(), top, page.char_boxes[chars, 2].max(),
                    bottom])
    lines.append(_Line(words, np.asarray(boxes, np.float32).reshape(-1, 4)))
  return lines


@functools.lru_cache(maxsize=4)
def _split_sentences(split: str) -> tuple[str, ...]:
  return book.sentence_pool(book.gather_sentences(), split)


@functools.lru_cache(maxsize=8)
def _cropper(model: api.OCRModel):
  return jax.jit(lambda region, boxes: api.crop_words(model, region, boxes, "canvas"))


def _alnum_count(text: str) -> int:
  return sum(c.isalnum() for c in text)


class BookWordSource:
  """Random-access source of {"image": uint8 [H, W, C], "text": str} word crops (see module)."""

  def __init__(self, model: api.OCRModel, canvas_shape, length: int, seed: int,
               spec: BookWordsSpec = BookWordsSpec()):
    from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top  (deferred: tfds)
    canvas_shape = tuple(int(s) for s in canvas_shape)
    in_h, in_w = (int(s) for s in model.input_size)
    if (len(canvas_shape) != 3 or canvas_shape[0] % in_h or canvas_shape[1] % in_w
        or canvas_shape[2] not in (1, 3)):
      raise errors.TficError(
          f"book words: canvas {canvas_shape} must be [H, W, 1|3] with H, W multiples of the "
          f"input size {in_h}×{in_w}")
    if length < 1 or spec.num_pages < 1:
      raise errors.TficError("book words: length and num_pages must be >= 1")
    self.model = model
    self.canvas_shape = canvas_shape
    self.length = int(length)
    self.seed = int(seed)
    self.spec = spec
    config = next(c for c in builders.BookPatches.BUILDER_CONFIGS if c.name == "default")
    split_pages = book.split_pages(config.num_pages, builders.BOOK_SEED)[spec.split]
    picks = np.linspace(0, len(split_pages) - 1, min(spec.num_pages, len(split_pages)))
    self.page_indices = tuple(int(split_pages[int(round(p))]) for p in picks)
    self._page_spec = builders.page_spec(config)
    if spec.font_size_range is not None:
      self._page_spec = dataclasses.replace(self._page_spec,
                                            font_size_range=tuple(spec.font_size_range))
    self._book_seed = builders.BOOK_SEED
    self._pages = {}
    self._lock = threading.Lock()

  def __len__(self) -> int:
    return self.length

  def _page(self, position: int):
    """(page image uint8 [H, W, 1], lines) of the `position`-th page, rendered once."""
    with self._lock:
      cached = self._pages.get(position)
    if cached is None:
      page = book.make_page(_split_sentences(self.spec.split), self.page_indices[position],
                            self._book_seed, self._page_spec)
      cached = (page.image, [line for line in page_lines(page) if line.words])
      with self._lock:
        self._pages[position] = cached
    return cached

  def render_all(self) -> None:
    """Renders every page now (~0.6 s each) instead of on first use."""
    for position in range(len(self.page_indices)):
      self._page(position)

  def layout(self, index: int) -> dict:
    """What example `index` shows: {"page": position in `page_indices`, "words": [str],
    "box": float32 [4] on the page (the words' x extent, the line's y extent), "degrade":
    None or (factor, quality)}."""
    if not 0 <= index < self.length:
      raise IndexError(index)
    spec = self.spec
    rng = np.random.default_rng((self.seed, int(index), 0xB00C))
    position = int(rng.integers(len(self.page_indices)))
    _, lines = self._page(position)
    line = lines[int(rng.integers(len(lines)))]
    count = 1 + int(rng.choice(len(spec.word_counts), p=np.asarray(spec.word_counts) /
                               np.sum(spec.word_counts)))
    start = int(rng.integers(len(line.words)))
    words = line.words[start:start + count]
    while len(words) > 1 and _alnum_count("".join(words)) > spec.max_chars:
      words = words[:-1]
    boxes = line.word_boxes[start:start + len(words)]
    box = np.array([boxes[:, 0].min(), boxes[0, 1], boxes[:, 2].max(), boxes[0, 3]],
                   np.float32)
    degrade = rng.uniform() < spec.p_degrade
    factor = rng.uniform(*spec.degrade_factor_range)
    quality = int(rng.integers(spec.degrade_quality_range[0],
                               spec.degrade_quality_range[1] + 1))
    return {"page": position, "words": words, "box": box,
            "degrade": (factor, quality) if degrade else None}

  def __getitem__(self, index: int) -> dict:
    layout = self.layout(index)
    image, _ = self._page(layout["page"])
    box = layout["box"].copy()

    # A fixed-size window of the page around the box (white beyond the page's edges).
    region_h, region_w = _REGION
    top = int(round((box[1] + box[3]) / 2)) - region_h // 2
    left = int(round((box[0] + box[2]) / 2)) - region_w // 2
    region = np.full((region_h, region_w, 1), 255, np.uint8)
    src_top, src_left = max(top, 0), max(left, 0)
    src_bottom = min(top + region_h, image.shape[0])
    src_right = min(left + region_w, image.shape[1])
    region[src_top - top:src_bottom - top, src_left - left:src_right - left] = (
        image[src_top:src_bottom, src_left:src_right])
    if layout["degrade"] is not None:
      region = book.degrade(region, *layout["degrade"])
    box -= np.array([left, top, left, top], np.float32)

    crop = np.asarray(_cropper(self.model)(region, box[None]))[0]  # [h, w, 1] in [-1, 1]
    crop = np.clip(np.round((crop + 1.0) * 127.5), 0, 255).astype(np.uint8)
    height, width, channels = self.canvas_shape
    canvas = np.repeat(np.repeat(crop, height // crop.shape[0], axis=0),
                       width // crop.shape[1], axis=1)
    return {"image": np.repeat(canvas, channels, axis=2), "text": " ".join(layout["words"])}
