"""The one place that adapts trdg 1.8.0 to this environment, and picks its fonts.

trdg 1.8.0 (TextRecognitionDataGenerator, the paper's Part A generator [26]) predates Pillow 10,
which removed `FreeTypeFont.getsize`; its `get_text_height` then raises `AttributeError`.
It also imports `wikipedia` at module level although offline generators never call it.
`install()` fixes both and must run before any trdg generation; every module of ours that uses
trdg calls it first (it is idempotent and cheap).

Fonts: trdg's Latin fonts minus those whose lowercase letters are drawn as capitals (the label
would say "abc" where the pixels say "ABC"), split deterministically into *seen* fonts (train
and test splits) and *held-out* fonts (the `test_heldout_fonts` split). The `system` font set
takes the installed fonts instead (fontconfig's list; scripts/install_system_deps.sh installs
Debian's Latin font packages), split by family so that held-out faces are of families never
seen.
"""

import functools
import os
import re
import subprocess
import sys
import types

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from tfic_jax import errors

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
FONT_SETS = ('trdg', 'system')
# System families that are not text faces for our charset: symbols, maths, music, keyboard
# caps, initials and small caps, STIX's size variants, and Noto's non-Latin script families
# (their Latin letters are Noto Sans / Serif again).
_SKIP_FAMILIES = re.compile(
    r'Symbol|Math|Music|Dingbat|Keyboard|Initials|Smallcaps|STIX(Size|Integrals|NonUnicode|'
    r'Variants)|D050000L|^Noto (?!(Sans|Serif|Mono)( Mono| Display)?$)')
_LATIN_CHARSET = ':charset=30-39 41-5a 61-7a'  # Digits and both cases of a–z.
MAX_CASE_SIMILARITY = 0.7  # `lowercase_capital_similarity` above this: caseless, skipped.
# Weight and style words some fonts put in their family name ("Open Sans Condensed Light",
# "Go Medium"): stripped, so that a family's faces are held out (or seen) together.
_STYLE_WORDS = re.compile(r'(\s+(Thin|ExtraLight|Light|Book|Regular|Medium|SemiBold|DemiBold|'
                          r'Bold|ExtraBold|Black|Heavy|Italic|Oblique))+$')


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


@functools.lru_cache(maxsize=None)
def system_fonts() -> tuple[tuple[str, str], ...]:
  """(path, family) of the installed TrueType/OpenType faces that cover digits and Latin
  letters in both cases (fontconfig), minus symbol / script / caseless families; sorted by
  path; the family without weight / style words. Empty if fontconfig's `fc-list` is missing."""
  try:
    listing = subprocess.run(['fc-list', _LATIN_CHARSET, '--format', '%{file}\t%{family[0]}\n'],
                             check=True, capture_output=True, text=True).stdout
  except (OSError, subprocess.CalledProcessError):
    return ()
  faces = {}
  for line in listing.splitlines():
    path, _, family = line.partition('\t')
    if path.lower().endswith(('.ttf', '.otf')) and family and not _SKIP_FAMILIES.search(family):
      faces[path] = _STYLE_WORDS.sub('', family.strip())
  usable = []
  for path in sorted(faces):
    try:
      caseless = lowercase_capital_similarity(path) > MAX_CASE_SIMILARITY
    except (OSError, ValueError):
      continue  # A face Pillow cannot open or draw.
    if not caseless:
      usable.append((path, faces[path]))
  return tuple(usable)


@functools.lru_cache(maxsize=None)
def system_font_split(split: str) -> tuple[str, ...]:
  """Paths of the `seen` or `heldout` system faces; a seeded tenth of the families (sorted by
  name) is held out whole, so a held-out face's family is never seen."""
  if split not in FONT_SPLITS:
    raise ValueError(f'font split must be one of {FONT_SPLITS}, got {split!r}')
  faces = system_fonts()
  if not faces:
    raise errors.DatasetError('no usable system fonts (fc-list lists none that draws Latin text):'
                              ' install them with scripts/install_system_deps.sh')
  families = sorted({family for _, family in faces})
  order = np.random.default_rng(FONT_SPLIT_SEED).permutation(len(families))
  heldout = {families[i] for i in order[:max(1, round(HELDOUT_FRACTION * len(families)))]}
  return tuple(p for p, family in faces if (family in heldout) == (split == 'heldout'))


def fonts_of(font_set: str, split: str) -> tuple[str, ...]:
  """The font paths of a font set's split (`FONT_SETS` × `FONT_SPLITS`)."""
  if font_set not in FONT_SETS:
    raise ValueError(f'font set must be one of {FONT_SETS}, got {font_set!r}')
  return font_split(split) if font_set == 'trdg' else system_font_split(split)


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
