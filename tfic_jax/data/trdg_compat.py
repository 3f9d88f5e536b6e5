"""The one place that adapts trdg 1.8.0 to this environment, and picks its fonts.

trdg 1.8.0 (TextRecognitionDataGenerator, the paper's Part A generator [26]) predates Pillow 10,
which removed `FreeTypeFont.getsize`; its `get_text_height` then raises `AttributeError`.
It also imports `wikipedia` at module level although offline generators never call it.
`install()` fixes both and must run before any trdg generation; every module of ours that uses
trdg calls it first (it is idempotent and cheap).

Fonts: trdg's Latin fonts minus those whose lowercase letters are drawn as capitals (the label
would say "abc" where the pixels say "ABC"), split deterministically into *seen* fonts (train
and test splits) and *held-out* fonts (the `test_heldout_fonts` split).
"""

import functools
import os
import sys
import types

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

# Fonts whose lowercase glyphs are capitals or small capitals. Found by rendering
# "abdeghnqrt" against "ABDEGHNQRT" (see `lowercase_capital_similarity`) and by eye:
# AmaticSC-Regular is small caps, AllerDisplay and Amatic-Bold are unicase.
CASELESS_FONTS = (
    'AllerDisplay.ttf',
    'Amatic-Bold.ttf',
    'AmaticSC-Regular.ttf',
    'BEBAS___.ttf',
    'Capture_it.ttf',
    'Capture_it_2.ttf',
    'SEASRN__.ttf',
)
HELDOUT_FRACTION = 0.1
FONT_SPLIT_SEED = 20240601
FONT_SPLITS = ('seen', 'heldout')


def _text_height(image_font, text: str) -> int:
  """Pillow >= 10 replacement for trdg's `getsize(text)[1]`: the ink bottom from the origin."""
  return image_font.getbbox(text)[3]


def install() -> None:
  """Makes `import trdg...` and trdg's text rendering work with Pillow >= 10; idempotent."""
  try:
    import wikipedia  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import  (deferred: probe)
  except ImportError:
    # trdg.string_generator imports it at module level; only GeneratorFromWikipedia uses it.
    sys.modules['wikipedia'] = types.ModuleType('wikipedia')
  # Deferred: trdg can be imported only once `wikipedia` exists (above).
  from trdg import computer_text_generator  # pylint: disable=g-import-not-at-top
  from trdg import utils as trdg_utils  # pylint: disable=g-import-not-at-top  (deferred: ditto)
  # computer_text_generator did `from trdg.utils import get_text_height`: patch both names.
  trdg_utils.get_text_height = _text_height
  computer_text_generator.get_text_height = _text_height


@functools.lru_cache(maxsize=None)
def all_latin_fonts() -> tuple[str, ...]:
  """Absolute paths of every font trdg ships for English, sorted by file name."""
  install()
  from trdg import utils as trdg_utils  # pylint: disable=g-import-not-at-top  (deferred: after install())
  return tuple(sorted(trdg_utils.load_fonts('en'), key=os.path.basename))


@functools.lru_cache(maxsize=None)
def usable_fonts() -> tuple[str, ...]:
  """trdg's Latin fonts whose lowercase and capitals differ, sorted by file name."""
  return tuple(p for p in all_latin_fonts() if os.path.basename(p) not in CASELESS_FONTS)


@functools.lru_cache(maxsize=None)
def font_split(split: str) -> tuple[str, ...]:
  """The `seen` (~90 %) or `heldout` (~10 %) fonts, fixed by sorted names and a fixed seed."""
  if split not in FONT_SPLITS:
    raise ValueError(f'font split must be one of {FONT_SPLITS}, got {split!r}')
  fonts = usable_fonts()
  order = np.random.default_rng(FONT_SPLIT_SEED).permutation(len(fonts))
  num_heldout = max(1, round(HELDOUT_FRACTION * len(fonts)))
  heldout = {fonts[i] for i in order[:num_heldout]}
  return tuple(p for p in fonts if (p in heldout) == (split == 'heldout'))


def lowercase_capital_similarity(font_path: str, size: int = 48) -> float:
  """Median IoU of lowercase vs capital ink for letters whose cases differ in shape.

  Near 1 for capitals-only fonts, ~0.3–0.6 for ordinary ones; used to screen new fonts.
  """
  font = ImageFont.truetype(font_path, size)

  def ink_mask(char):
    left, top, right, bottom = font.getbbox(char)
    canvas = Image.new('L', (right - left + 2, bottom - top + 2), 0)
    ImageDraw.Draw(canvas).text((1 - left, 1 - top), char, font=font, fill=255)
    canvas = canvas.crop(canvas.getbbox()).resize((24, 24))
    return np.asarray(canvas) > 127

  ious = []
  for char in 'abdeghnqrt':
    lower, upper = ink_mask(char), ink_mask(char.upper())
    ious.append((lower & upper).sum() / max((lower | upper).sum(), 1))
  return float(np.median(ious))
