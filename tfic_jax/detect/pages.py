"""Book pages for CRAFT: rendered with exact character boxes, clean, degraded or restored by a
DnCNN (D1), and crops.

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
import zlib

import cv2
import numpy as np

from tfic_jax import errors
from tfic_jax.data import book

DEFAULT_BOOK_CONFIG = "default"
# "restored": the degraded page after a DnCNN (D1), which is what CRAFT sees in the OCR-guided
# chain (`restored_image`).
KINDS = ("clean", "degraded", "restored")
# The data pipeline's threads share the page cache; gathering the corpus (`ast.parse`) is not
# thread-safe, and one render per page is enough.
_RENDER_LOCK = threading.Lock()
_RESTORE_LOCK = threading.Lock()
_RESTORED: dict = {}  # (page_index, crc32 of the degraded page, restorer) → uint8 [H, W, 1]


@dataclasses.dataclass(frozen=True)
class BookPage:
  clean: np.ndarray  # uint8 [H, W, 1]
  degraded: np.ndarray  # uint8 [H, W, 1]: book.degrade (the config's factor down, JPEG, up)
  # (restored: `image("restored", restorer)`, computed on demand and cached.)
  char_boxes: np.ndarray  # float32 [N, 4] (x0, y0, x1, y1), reading order
  char_word: np.ndarray  # int32 [N] page word id of each character
  word_boxes: np.ndarray  # float32 [M, 4] union of each word's character boxes, word order
  page_index: int

  def image(self, kind: str, restorer: str | None = None) -> np.ndarray:
    """The clean, degraded or restored page; "restored" needs `restorer` (a DnCNN)."""
    if kind not in KINDS:
      raise errors.TficError(f"page kind {kind!r}: use one of {KINDS}")
    if kind == "restored":
      if not restorer:
        raise errors.TficError("page kind 'restored' needs a restorer (a DnCNN model, e.g. "
                               "config.data.restorer = 'dncnn_default')")
      return restored_image(self.page_index, self.degraded, restorer)
    return self.clean if kind == "clean" else self.degraded


@functools.lru_cache(maxsize=4)
def load_restorer(restorer: str):
  """(Dequantizer, variables) of a DnCNN: a workdir, model directory or shipped model name."""
  from tfic_jax.dequant import api as dequant_api  # pylint: disable=g-import-not-at-top
  return dequant_api.load(restorer)


def restored_image(page_index: int, degraded: np.ndarray, restorer: str) -> np.ndarray:
  """`degraded` (a whole page or a patch) restored by the DnCNN `restorer`; cached per page
  and restorer (one restoration per page, shared by the pipeline's threads)."""
  from tfic_jax.dequant import api as dequant_api  # pylint: disable=g-import-not-at-top
  key = (int(page_index), zlib.crc32(np.ascontiguousarray(degraded).tobytes()), restorer)
  with _RESTORE_LOCK:
    if key not in _RESTORED:
      _RESTORED[key] = dequant_api.restore_image(*load_restorer(restorer), degraded)
    return _RESTORED[key]


def word_boxes_of(char_boxes: np.ndarray, char_word: np.ndarray) -> np.ndarray:
  """Union box per distinct word id (sorted by id) of character boxes [N, 4]."""
  char_boxes = np.asarray(char_boxes, np.float32).reshape(-1, 4)
  boxes = [np.concatenate([char_boxes[char_word == w, :2].min(0),
                           char_boxes[char_word == w, 2:].max(0)])
           for w in np.unique(char_word)]
  return np.asarray(boxes, np.float32).reshape(-1, 4)


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
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top
  from tfic_jax.eval import ocr_judge  # pylint: disable=g-import-not-at-top
  config = ocr_judge.book_config(book_config or DEFAULT_BOOK_CONFIG)
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
