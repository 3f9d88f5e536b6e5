"""Book pages for CRAFT: rendered with exact character boxes, clean or degraded, and crops
(restored by a DnCNN: `tfic_jax.dequant.pages`).

Pages are those of a `book_patches` config (`book_config`, default "default";
`tfic_jax.data.book`, seed `builders.BOOK_SEED`, the config's 80/20 page split, type size and
degradation, disjoint sentence pools), rendered here whole because a detector needs every
character's box, which the 64×256 patches keep only for whole words. Rendering takes ~1.5 s a
page, so rendered pages are cached per process.

A crop is taken at a magnification `scale` (crop pixels per page pixel) by one affine warp,
so its character boxes are exact at any scale: `crop(image, char_boxes, corner, scale, size)`
returns the crop and the boxes in crop coordinates.
"""

import dataclasses
import functools
import threading

import cv2
import numpy as np

from tfic_jax import errors
from tfic_jax.data import book

DEFAULT_BOOK_CONFIG = "default"
# "restored": the degraded page after a DnCNN (D1), which is what CRAFT sees in the OCR-guided
# chain (`tfic_jax.dequant.pages`: a model's output, so not made here).
KINDS = ("clean", "degraded", "restored")
# The data pipeline's threads share the page cache; gathering the corpus (`ast.parse`) is not
# thread-safe, and one render per page is enough.
_RENDER_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class BookPage:
  clean: np.ndarray  # uint8 [H, W, 1]
  degraded: np.ndarray  # uint8 [H, W, 1]: book.degrade (the config's factor down, JPEG, up)
  char_boxes: np.ndarray  # float32 [N, 4] (x0, y0, x1, y1), reading order
  char_word: np.ndarray  # int32 [N] page word id of each character
  word_boxes: np.ndarray  # float32 [M, 4] union of each word's character boxes, word order
  page_index: int

  def image(self, kind: str) -> np.ndarray:
    """The clean or degraded page (a restored one: `dequant.pages.page_image`)."""
    if kind not in KINDS:
      raise errors.TficError(f"page kind {kind!r}: use one of {KINDS}")
    if kind == "restored":
      raise errors.TficError("page kind 'restored' needs a restorer (a DnCNN model): "
                             "tfic_jax.dequant.pages.page_image(page, 'restored', restorer)")
    return self.clean if kind == "clean" else self.degraded


def word_boxes_of(char_boxes: np.ndarray, char_word: np.ndarray) -> np.ndarray:
  """Union box per distinct word id (sorted by id) of character boxes [N, 4]."""
  char_boxes = np.asarray(char_boxes, np.float32).reshape(-1, 4)
  boxes = [np.concatenate([char_boxes[char_word == w, :2].min(0),
                           char_boxes[char_word == w, 2:].max(0)])
           for w in np.unique(char_word)]
  return np.asarray(boxes, np.float32).reshape(-1, 4)


WORD_BOX_HEIGHTS = ("line", "word")


def word_boxes_by_line(text: str, char_boxes: np.ndarray,
                       box_height: str = "line") -> list[np.ndarray]:
  """Per line of a book patch, the boxes [N, 4] of its visible words, in reading order.

  A word's horizontal extent is that of its characters' boxes (`char_boxes` follow the
  non-whitespace characters of `text`), so whole words get exactly their ground-truth word box
  and words cut at the patch border the box of their visible letters. `box_height`: "line"
  (default) gives every word the vertical extent of its line's visible characters (the line
  box, so that the words of a line share one scale and keep their x-height), "word" the tight
  vertical extent of the word's own characters (the ground-truth word box).
  """
  if box_height not in WORD_BOX_HEIGHTS:
    raise errors.TficError(f"box_height must be one of {WORD_BOX_HEIGHTS}, got {box_height!r}")
  char_boxes = np.asarray(char_boxes, np.float32).reshape(-1, 4)
  lines, cursor = [], 0
  for line in text.split("\n") if text else []:
    boxes = []
    line_start = cursor
    for word in line.split():
      chars = char_boxes[cursor:cursor + len(word)]
      boxes.append([*chars[:, :2].min(0), *chars[:, 2:].max(0)])
      cursor += len(word)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    if box_height == "line" and len(boxes):
      line_chars = char_boxes[line_start:cursor]
      boxes[:, 1], boxes[:, 3] = line_chars[:, 1].min(), line_chars[:, 3].max()
    lines.append(boxes)
  if cursor != len(char_boxes):
    raise errors.DatasetError(
        f"book patch: {len(char_boxes)} character boxes for {cursor} characters of its text")
  return lines


@dataclasses.dataclass(frozen=True)
class BookSetup:
  """What a `book_patches` config fixes about its pages."""
  name: str
  spec: book.PageSpec  # page geometry and type size
  num_pages: int  # pages of the split (its page indices are drawn from these)
  degrade_factor: float
  jpeg_quality: int
  seed: int


@functools.lru_cache(maxsize=None)
def book_setup(book_config: str = DEFAULT_BOOK_CONFIG) -> BookSetup:
  """The pages of `book_patches/<book_config>`; TficError naming the valid configs otherwise."""
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top  (deferred: tfds)
  config = builders.book_config(book_config or DEFAULT_BOOK_CONFIG)
  return BookSetup(name=config.name, spec=builders.page_spec(config),
                   num_pages=int(config.num_pages), degrade_factor=float(config.degrade_factor),
                   jpeg_quality=int(config.jpeg_quality), seed=builders.BOOK_SEED)


def page_indices(split: str, book_config: str = DEFAULT_BOOK_CONFIG) -> np.ndarray:
  """Page indices of `split` ('train' | 'test') in `book_patches/<book_config>`."""
  if split not in ("train", "test"):
    raise errors.DatasetError(f"book pages: split {split!r}, expected 'train' or 'test'")
  setup = book_setup(book_config)
  return book.split_pages(setup.num_pages, setup.seed)[split]


@functools.lru_cache(maxsize=2)
def _sentences(split: str) -> tuple[str, ...]:
  return book.sentence_pool(book.gather_sentences(), split)


def render(split: str, position: int, book_config: str = DEFAULT_BOOK_CONFIG) -> BookPage:
  """The `position`-th page of `split` of `book_patches/<book_config>`, at the config's type
  size and degradation (deterministic; cached, thread-safe)."""
  setup = book_setup(book_config)  # Outside the lock: a bad name raises before any work.
  with _RENDER_LOCK:
    return _render(split, position, setup)


@functools.lru_cache(maxsize=None)
def _render(split: str, position: int, setup: BookSetup) -> BookPage:
  indices = page_indices(split, setup.name)
  page_index = int(indices[position % len(indices)])
  page = book.make_page(_sentences(split), page_index, setup.seed, setup.spec)
  return BookPage(clean=page.image,
                  degraded=book.degrade(page.image, setup.degrade_factor, setup.jpeg_quality),
                  char_boxes=page.char_boxes.astype(np.float32), char_word=page.char_word,
                  word_boxes=word_boxes_of(page.char_boxes, page.char_word),
                  page_index=page_index)


class PageSource:
  """Random access to the first `num_pages` pages of a split of `book_patches/<book_config>`:
  `source[i]` → {"page"}."""

  def __init__(self, split: str, num_pages: int, book_config: str = DEFAULT_BOOK_CONFIG):
    if num_pages <= 0:
      raise errors.DatasetError(f"book pages: num_pages must be > 0, got {num_pages}")
    book_setup(book_config)  # A bad config name fails here, not in a data thread.
    self.split, self.num_pages, self.book_config = split, int(num_pages), book_config

  def __len__(self) -> int:
    return self.num_pages

  def __getitem__(self, index: int) -> dict:
    return {"page": render(self.split, int(index) % self.num_pages, self.book_config)}

  def __repr__(self):
    return f"PageSource({self.book_config}/{self.split}, n={self.num_pages})"


class CropSource:
  """Fixed crops for evaluation: `crops_per_page` per page, corners drawn from (seed, page)."""

  def __init__(self, split: str, num_pages: int, crops_per_page: int, region: int, seed: int,
               kind: str, book_config: str = DEFAULT_BOOK_CONFIG):
    self.pages = PageSource(split, num_pages, book_config)
    self.crops_per_page, self.region, self.seed, self.kind = crops_per_page, region, seed, kind

  def __len__(self) -> int:
    return len(self.pages) * self.crops_per_page

  def __getitem__(self, index: int) -> dict:
    page_position, crop_index = divmod(int(index) % len(self), self.crops_per_page)
    page = self.pages[page_position]["page"]
    rng = np.random.default_rng((self.seed, page_position, crop_index))
    left, top = text_corner(page, self.region, rng, text_probability=1.0)
    return {"page": page, "corner": (left, top), "kind": self.kind}


def text_corner(page: BookPage, region: float, rng: np.random.Generator,
                text_probability: float = 0.9) -> tuple[float, float]:
  """Top-left corner (page pixels) of a `region`-sized window: centred near a random character
  with probability `text_probability`, else anywhere; always inside the page."""
  height, width = page.clean.shape[:2]
  if len(page.char_boxes) and rng.uniform() < text_probability:
    box = page.char_boxes[int(rng.integers(len(page.char_boxes)))]
    centre = (box[:2] + box[2:]) / 2 + rng.uniform(-region / 4, region / 4, 2)
    left, top = centre - region / 2
  else:
    left, top = rng.uniform(0, [max(width - region, 0), max(height - region, 0)])
  return (float(np.clip(left, 0, max(width - region, 0))),
          float(np.clip(top, 0, max(height - region, 0))))


def crop(image: np.ndarray, char_boxes: np.ndarray, corner, scale: float, size: int
         ) -> tuple[np.ndarray, np.ndarray]:
  """The `size`×`size` window of `image` whose top-left is `corner` (page pixels), magnified by
  `scale`: (uint8 [size, size, 1], char boxes in crop pixels [N, 4]). Outside is white."""
  left, top = corner
  matrix = np.float32([[scale, 0, -scale * left], [0, scale, -scale * top]])
  # warpAffine maps pixel centres (i + 0.5 in our box convention) with the same matrix once
  # the half-pixel offsets are folded in: x' + 0.5 = scale · (x + 0.5 - left).
  matrix[:, 2] += 0.5 * scale - 0.5
  warped = cv2.warpAffine(image[:, :, 0], matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=255)
  return warped[:, :, None], to_crop(char_boxes, corner, scale)


def to_crop(boxes: np.ndarray, corner, scale: float) -> np.ndarray:
  """Page boxes [N, 4] → boxes in the pixels of the crop at `corner` magnified by `scale`."""
  left, top = corner
  return (np.asarray(boxes, np.float32).reshape(-1, 4)
          - np.float32([left, top, left, top])) * scale


def boxes_inside(boxes: np.ndarray, width: float, height: float | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
  """(fully inside [0, width] × [0, height], partly inside) masks of boxes [N, 4]; the
  window is square when `height` is None."""
  height = width if height is None else height
  boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
  touches = (boxes[:, 2] > 0) & (boxes[:, 3] > 0) & (boxes[:, 0] < width) & (
      boxes[:, 1] < height)
  inside = (boxes[:, 0] >= 0) & (boxes[:, 1] >= 0) & (boxes[:, 2] <= width) & (
      boxes[:, 3] <= height)
  return inside, touches & ~inside
