"""Part B data: book-like pages, their extreme-JPEG degradation, and 64×256 patches (paper §4.6).

The paper's 2285 pages of printed books are not available, so pages are rendered: English prose
found on this machine (docstrings of Python's standard library and prose documentation shipped
with installed packages; no downloads, and never /usr/share/common-licenses, which is kept for
independent evaluation, nor any licence text) set black on white in one of several serif and
sans fonts, with every character's box recorded. Pages are degraded as in the paper (downsample,
JPEG at the lowest quality, upsample back), and 10 random non-overlapping 64×256 patches are cut
from each page, aligned between clean and degraded, with ground truth derived from the boxes.

Ground truth of a patch: the characters whose boxes lie fully inside it, line by line; within a
line, the visible characters of one word are joined and words are separated by one space. Word
boxes are kept only for words fully inside the patch (cut words contribute their visible
characters to the text but no word box). All boxes are (left, top, right, bottom) in pixels,
right/bottom exclusive, in patch coordinates.
"""

import ast
import dataclasses
import functools
import glob
import io
import os
import re
import string
import sysconfig
import zlib

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tfic_jax.data import trdg_compat

PATCH_HEIGHT = 64
PATCH_WIDTH = 256
PATCHES_PER_PAGE = 10
DEFAULT_DEGRADE_FACTOR = 3  # chosen with Tesseract, see docs/data.md
_PRINTABLE = set(string.ascii_letters + string.digits + string.punctuation + ' ')
_EXCLUDED_PREFIXES = ('/usr/share/common-licenses',)
_LICENCE_NAME = re.compile(r'(licen[cs]e|copying|copyright|notice|authors)', re.IGNORECASE)
_CODE_MARKS = re.compile(r'(>>>|\.\.\.|::|==|!=|->|=>|[{}<>\[\]|\\`=#@$^~*_]|\w\(|\w\.\w)')
_SENTENCE_END = re.compile(r'(?<=[.!?])\s+(?=[A-Z])')

DEJAVU_DIR = '/usr/share/fonts/truetype/dejavu'
PAGE_FONT_FILES = (
    # (directory, file): serif and sans book faces, regular weight.
    (DEJAVU_DIR, 'DejaVuSerif.ttf'),
    (DEJAVU_DIR, 'DejaVuSerifCondensed.ttf'),
    (DEJAVU_DIR, 'DejaVuSans.ttf'),
    (DEJAVU_DIR, 'DejaVuSansCondensed.ttf'),
    ('trdg', 'Lato-Regular.ttf'),
    ('trdg', 'OpenSans-Regular.ttf'),
    ('trdg', 'Roboto-Regular.ttf'),
    ('trdg', 'RobotoCondensed-Regular.ttf'),
    ('trdg', 'DroidSans.ttf'),
    ('trdg', 'Aller_Rg.ttf'),
    ('trdg', 'Raleway-Regular.ttf'),
    ('trdg', 'Sansation-Regular.ttf'),
)


# ----------------------------------------------------------------------------- corpus


def _stdlib_docstrings() -> list[str]:
  """Docstrings of the standard library's modules, classes and functions (tests excluded)."""
  stdlib = sysconfig.get_paths()['stdlib']
  paths = sorted(p for p in glob.glob(os.path.join(stdlib, '**', '*.py'), recursive=True)
                 if not re.search(r'/(test|tests|idlelib|site-packages|dist-packages)/', p))
  docstrings = []
  for path in paths:
    try:
      with open(path, encoding='utf-8', errors='ignore') as f:
        tree = ast.parse(f.read())
    except (SyntaxError, ValueError):
      continue
    for node in ast.walk(tree):
      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        docstring = ast.get_docstring(node)
        if docstring:
          docstrings.append(docstring)
  return docstrings


def _package_docs(max_bytes: int = 1_000_000) -> list[str]:
  """Prose docs (.rst/.md/.txt) shipped with installed packages, minus licences and word lists."""
  roots = sorted({sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib']})
  texts = []
  for root in roots:
    for path in sorted(glob.glob(os.path.join(root, '**', '*'), recursive=True)):
      if (not path.endswith(('.rst', '.md', '.txt')) or _LICENCE_NAME.search(os.path.basename(path))
          or '/trdg/' in path or path.startswith(_EXCLUDED_PREFIXES)
          or not os.path.isfile(path) or os.path.getsize(path) > max_bytes):
        continue
      with open(path, encoding='utf-8', errors='ignore') as f:
        texts.append(f.read())
  return texts


def _is_prose(sentence: str) -> bool:
  """Plain printable ASCII, mostly dictionary-like words, nothing that looks like code."""
  if not 30 <= len(sentence) <= 300 or not sentence[0].isupper() or sentence[-1] not in '.!?':
    return False
  if not set(sentence) <= _PRINTABLE or _CODE_MARKS.search(sentence):
    return False
  words = sentence.split()
  if len(words) < 5 or _LICENCE_NAME.search(sentence):
    return False
  wordlike = sum(1 for w in words if w.strip('.,;:!?"\'()').isalpha())
  return wordlike >= 0.85 * len(words)


def sentences_from_text(text: str) -> list[str]:
  """Paragraphs → whitespace-normalised sentences that pass `_is_prose`."""
  sentences = []
  for paragraph in re.split(r'\n\s*\n', text):
    lines = [line.strip() for line in paragraph.splitlines()]
    # Indented blocks, tables and headings underlined with ==== are not prose.
    if not lines or any(re.fullmatch(r'[-=~^*#+]{3,}', line) for line in lines):
      continue
    joined = ' '.join(line for line in lines if line)
    sentences.extend(s for s in _SENTENCE_END.split(joined) if _is_prose(s))
  return sentences


@functools.lru_cache(maxsize=1)
def gather_sentences() -> tuple[str, ...]:
  """Every distinct prose sentence found on the machine, in a fixed order (first occurrence)."""
  seen = {}
  for text in _stdlib_docstrings() + _package_docs():
    for sentence in sentences_from_text(text):
      seen.setdefault(sentence, None)
  return tuple(seen)


def sentence_pool(sentences, split: str, test_fraction: float = 0.2) -> tuple[str, ...]:
  """The sentences that `split` ('train' | 'test') pages are set from; disjoint between splits.

  Assigned by a hash of the sentence, so test pages show text never seen in training even
  though the corpus is small enough that pages of one split reuse sentences.
  """
  is_test = [zlib.crc32(s.encode()) % 1000 < 1000 * test_fraction for s in sentences]
  return tuple(s for s, t in zip(sentences, is_test) if t == (split == 'test'))


# ----------------------------------------------------------------------------- pages


@dataclasses.dataclass(frozen=True)
class PageSpec:
  """Page geometry and typography; font sizes are chosen so lines are ~10–14 px tall."""
  height: int = 1024
  width: int = 768
  margin: int = 48
  font_size_range: tuple[int, int] = (11, 13)  # inclusive, in pixels (em size)
  line_spacing_range: tuple[float, float] = (1.25, 1.45)  # line pitch / font size
  paragraph_sentences: tuple[int, int] = (2, 7)  # inclusive


@dataclasses.dataclass
class Page:
  """A rendered page and where each character is; the arrays are parallel over characters."""
  image: np.ndarray  # uint8 [H, W, 1], black text on white
  chars: str  # the non-space characters, in reading order
  char_boxes: np.ndarray  # int32 [N, 4] (left, top, right, bottom), right/bottom exclusive
  char_line: np.ndarray  # int32 [N] index of the page line holding each character
  char_word: np.ndarray  # int32 [N] index of the page word holding each character
  font: str


@functools.lru_cache(maxsize=None)
def page_fonts() -> tuple[str, ...]:
  """Absolute paths of the page fonts that exist here."""
  trdg_dir = os.path.dirname(trdg_compat.usable_fonts()[0])
  paths = [os.path.join(trdg_dir if d == 'trdg' else d, name) for d, name in PAGE_FONT_FILES]
  return tuple(p for p in paths if os.path.exists(p))


def _wrap_words(words, font, line_width):
  lines, current = [], []
  for word in words:
    candidate = ' '.join(current + [word])
    if current and font.getlength(candidate) > line_width:
      lines.append(current)
      current = [word]
    else:
      current.append(word)
  if current:
    lines.append(current)
  return lines


def render_page(paragraphs: list[str], spec: PageSpec, font_path: str,
                rng: np.random.Generator) -> Page:
  """Typesets paragraphs (ragged right) until the page is full; records every glyph's box.

  Characters are drawn one at a time at integer positions advanced by `font.getlength`, so
  each recorded box (`font.getbbox` of that character at that position) is exactly its ink.
  """
  font_size = int(rng.integers(spec.font_size_range[0], spec.font_size_range[1] + 1))
  pitch = int(round(font_size * rng.uniform(*spec.line_spacing_range)))
  font = ImageFont.truetype(font_path, font_size)
  canvas = Image.new('L', (spec.width, spec.height), 255)
  draw = ImageDraw.Draw(canvas)
  line_width = spec.width - 2 * spec.margin
  chars, boxes, line_ids, word_ids = [], [], [], []
  y = spec.margin
  line_index = word_index = 0
  page_full = False
  for paragraph in paragraphs:
    for words in _wrap_words(paragraph.split(), font, line_width):
      if y + pitch > spec.height - spec.margin:
        page_full = True
        break
      x = float(spec.margin)
      for word in words:
        for char in word:
          origin = (int(round(x)), y)
          draw.text(origin, char, font=font, fill=0)
          left, top, right, bottom = font.getbbox(char)
          if right > left and bottom > top:  # a glyph with ink
            chars.append(char)
            boxes.append((origin[0] + left, y + top, origin[0] + right, y + bottom))
            line_ids.append(line_index)
            word_ids.append(word_index)
          x += font.getlength(char)
        x += font.getlength(' ')
        word_index += 1
      line_index += 1
      y += pitch
    if page_full:
      break
    y += pitch // 2  # paragraph gap
  return Page(
      image=np.asarray(canvas, dtype=np.uint8)[:, :, None],
      chars=''.join(chars),
      char_boxes=np.asarray(boxes, dtype=np.int32).reshape(-1, 4),
      char_line=np.asarray(line_ids, dtype=np.int32),
      char_word=np.asarray(word_ids, dtype=np.int32),
      font=os.path.basename(font_path))


def page_paragraphs(sentences, page_index: int, rng: np.random.Generator,
                    spec: PageSpec, sentences_per_page: int = 120) -> list[str]:
  """Consecutive sentences from a page-specific offset, grouped into paragraphs.

  Pages take disjoint runs of `sentences_per_page` sentences until the corpus wraps around.
  """
  start = (page_index * sentences_per_page) % len(sentences)
  run = [sentences[(start + i) % len(sentences)] for i in range(sentences_per_page)]
  paragraphs = []
  while run:
    count = int(rng.integers(spec.paragraph_sentences[0], spec.paragraph_sentences[1] + 1))
    paragraphs.append(' '.join(run[:count]))
    run = run[count:]
  return paragraphs


def make_page(sentences, page_index: int, seed: int, spec: PageSpec = PageSpec()) -> Page:
  """Page `page_index` of the stream `seed`: deterministic given the sentence list."""
  rng = np.random.default_rng((seed, page_index))
  fonts = page_fonts()
  font_path = fonts[int(rng.integers(len(fonts)))]
  return render_page(page_paragraphs(sentences, page_index, rng, spec), spec, font_path, rng)


# ----------------------------------------------------------------------------- degradation


def degrade(page: np.ndarray, factor: float = DEFAULT_DEGRADE_FACTOR,
            quality: int = 1) -> np.ndarray:
  """The paper's degradation: downsample by `factor`, JPEG at `quality`, upsample back.

  Accepts uint8 [H, W] or [H, W, 1]; returns the same shape and dtype.
  """
  return degrade_with_stream(page, factor, quality)[0]


def degrade_with_stream(page: np.ndarray, factor: float = DEFAULT_DEGRADE_FACTOR,
                        quality: int = 1) -> tuple[np.ndarray, bytes]:
  """`degrade`, and the bytes of the JPEG file it decoded (coded at the low resolution)."""
  squeeze = page.ndim == 2
  gray = page if squeeze else page[:, :, 0]
  height, width = gray.shape
  small_size = (max(1, int(round(width / factor))), max(1, int(round(height / factor))))
  small = Image.fromarray(gray, mode='L').resize(small_size, Image.Resampling.BOX)
  buffer = io.BytesIO()
  small.save(buffer, format='JPEG', quality=quality)
  stream = buffer.getvalue()
  decoded = Image.open(io.BytesIO(stream)).convert('L')
  restored = np.asarray(decoded.resize((width, height), Image.Resampling.BICUBIC), np.uint8)
  return (restored if squeeze else restored[:, :, None]), stream


# ----------------------------------------------------------------------------- patches


def _inside(boxes: np.ndarray, left: int, top: int) -> np.ndarray:
  return ((boxes[:, 0] >= left) & (boxes[:, 1] >= top)
          & (boxes[:, 2] <= left + PATCH_WIDTH) & (boxes[:, 3] <= top + PATCH_HEIGHT))


def patch_ground_truth(page: Page, left: int, top: int) -> dict:
  """Text and boxes of the patch whose top-left corner is (left, top) on `page`.

  Returns {"lines": list[str], "text": "\\n".join(lines), "char_boxes": float32 [N, 4] in the
  order of the characters of `text` (spaces and newlines excluded), "word_boxes": float32
  [M, 4] of words fully inside, "word_texts": list[str], "line_boxes": float32 [L, 4]}.
  """
  inside = _inside(page.char_boxes, left, top)
  offset = np.array([left, top, left, top], dtype=np.float32)
  lines, line_boxes, word_boxes, word_texts = [], [], [], []
  for line_id in np.unique(page.char_line[inside]):
    words = []
    for word_id in np.unique(page.char_word[inside & (page.char_line == line_id)]):
      in_word = page.char_word == word_id
      visible = inside & in_word
      words.append(''.join(page.chars[i] for i in np.flatnonzero(visible)))
      if visible.sum() == in_word.sum():
        boxes = page.char_boxes[in_word]
        word_boxes.append([*boxes[:, :2].min(0), *boxes[:, 2:].max(0)])
        word_texts.append(words[-1])
    boxes = page.char_boxes[inside & (page.char_line == line_id)]
    line_boxes.append([*boxes[:, :2].min(0), *boxes[:, 2:].max(0)])
    lines.append(' '.join(words))

  def patch_coords(boxes):
    return np.asarray(boxes, dtype=np.float32).reshape(-1, 4) - offset

  # np.unique sorts line then word ids, which is reading order, so char_boxes follow `text`.
  return {
      'lines': lines,
      'text': '\n'.join(lines),
      'char_boxes': patch_coords(page.char_boxes[inside]),
      'word_boxes': patch_coords(word_boxes),
      'word_texts': word_texts,
      'line_boxes': patch_coords(line_boxes),
  }


def choose_patch_corners(page: Page, rng: np.random.Generator,
                         num_patches: int = PATCHES_PER_PAGE, min_chars: int = 40,
                         max_tries: int = 2000) -> list[tuple[int, int]]:
  """Random non-overlapping patch corners (left, top), preferring ones that cover text.

  A candidate is accepted if it overlaps no earlier patch and holds at least `min_chars` whole
  characters; after `max_tries // 2` tries the text requirement is dropped so that a sparse page
  still yields its patches. Fewer than `num_patches` only if the page cannot hold them.
  """
  height, width = page.image.shape[:2]
  corners = []
  for attempt in range(max_tries):
    if len(corners) == num_patches:
      break
    left = int(rng.integers(0, width - PATCH_WIDTH + 1))
    top = int(rng.integers(0, height - PATCH_HEIGHT + 1))
    if any(abs(left - l) < PATCH_WIDTH and abs(top - t) < PATCH_HEIGHT for l, t in corners):
      continue
    if attempt < max_tries // 2 and _inside(page.char_boxes, left, top).sum() < min_chars:
      continue
    corners.append((left, top))
  return corners


def extract_patches(page: Page, degraded: np.ndarray, rng: np.random.Generator,
                    num_patches: int = PATCHES_PER_PAGE) -> list[dict]:
  """Aligned clean/degraded 64×256 patches with ground truth (see `patch_ground_truth`)."""
  patches = []
  for left, top in choose_patch_corners(page, rng, num_patches):
    window = (slice(top, top + PATCH_HEIGHT), slice(left, left + PATCH_WIDTH))
    patches.append({
        'clean': page.image[window],
        'degraded': degraded[window],
        'corner': (left, top),
        **patch_ground_truth(page, left, top),
    })
  return patches


def page_patches(sentences, page_index: int, seed: int, spec: PageSpec = PageSpec(),
                 degrade_factor: float = DEFAULT_DEGRADE_FACTOR,
                 quality: int = 1) -> list[dict]:
  """Renders page `page_index`, degrades it and cuts its patches; deterministic."""
  page = make_page(sentences, page_index, seed, spec)
  degraded = degrade(page.image, degrade_factor, quality)
  rng = np.random.default_rng((seed, page_index, 1))
  patches = extract_patches(page, degraded, rng)
  for patch in patches:
    patch['page'] = page_index
    patch['font'] = page.font
  return patches


def split_pages(num_pages: int, seed: int, test_fraction: float = 0.2) -> dict[str, np.ndarray]:
  """Deterministic 80/20 train/test split of page indices (patches follow their page)."""
  order = np.random.default_rng((seed, 0xB00C)).permutation(num_pages)
  num_test = int(round(test_fraction * num_pages))
  if num_pages >= 2:
    num_test = min(max(num_test, 1), num_pages - 1)
  return {'train': np.sort(order[num_test:]), 'test': np.sort(order[:num_test])}
