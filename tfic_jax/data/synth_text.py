"""Part A data: one synthetic text line per image, rendered with trdg (paper §4.1, ref. [26]).

The paper resizes trdg outputs to 256×512, so the text fills the image. Rendering trdg directly
at `size=256, width=512` clips long lines (the label then no longer matches the pixels), so we
render the line at its natural size with trdg's `computer_text_generator`, apply skew and
trdg's sine/cosine distortion, scale it to span a random 60–95 % of the canvas width (height
capped) and compose it onto a full-canvas background. The OCR reads the whole image resized to
about 32×128, which is why the text must stay large.

Backgrounds follow trdg's three generated kinds (Gaussian "paper" noise, plain white,
quasicrystal) but are computed with numpy from our own rng: trdg's Gaussian noise draws from
OpenCV's global RNG (not seedable per example from here) and its quasicrystal is a per-pixel
Python loop (seconds per 256×512 image). Picture backgrounds are not used.
"""

import dataclasses
import functools
import math
import os
import random
import string

import numpy as np
from PIL import Image
from PIL import ImageFilter

from tfic_jax.data import trdg_compat

TEXT_SOURCES = ('dict', 'random')
BACKGROUNDS = ('gaussian_noise', 'plain_white', 'quasicrystal')
RANDOM_TEXT_ALPHABET = string.ascii_letters + string.digits
# Padding of spaces on both sides of the string handed to trdg: trdg draws the first glyph at
# x=0 and sizes the canvas by advance widths, so italic overhangs and negative left bearings
# would be cut off without it. We crop to the ink afterwards.
_TRDG_PADDING = '  '


@dataclasses.dataclass(frozen=True)
class SynthTextSpec:
  """Everything that decides what a synthetic text image looks like (except seed and index)."""
  height: int = 256
  width: int = 512
  text_source: str = 'dict'  # 'dict': trdg's English words; 'random': letters and digits.
  words_per_line: tuple[int, int] = (1, 3)  # inclusive range
  random_word_length: tuple[int, int] = (3, 10)  # inclusive range, text_source='random'
  max_chars: int = 24  # the OCR decoder reads up to 25 symbols
  font_split: str = 'seen'  # 'seen' | 'heldout' (see trdg_compat.font_split)
  font_set: str = 'trdg'  # 'trdg': trdg's fonts; 'system': the installed ones (trdg_compat)
  width_fraction: tuple[float, float] = (0.6, 0.95)  # line width / canvas width
  max_height_fraction: float = 0.8  # line height / canvas height
  backgrounds: tuple[str, ...] = BACKGROUNDS
  background_weights: tuple[float, ...] = (0.4, 0.4, 0.2)
  # trdg colour ranges "lo,hi" (trdg draws the fill uniformly between them); mostly black.
  text_colors: tuple[str, ...] = (
      '#000000,#404040', '#000000,#404040', '#000000,#404040',
      '#101060,#3040a0', '#601010,#a03030', '#105010,#307030')
  max_skew_degrees: float = 4.0
  distortion_probability: float = 0.1  # trdg's sine/cosine vertical wave
  max_blur_radius: float = 1.0  # Gaussian blur radius at 256 px canvas height (scaled)

  def __post_init__(self):
    if self.text_source not in TEXT_SOURCES:
      raise ValueError(f'text_source must be one of {TEXT_SOURCES}, got {self.text_source!r}')
    if self.font_set not in trdg_compat.FONT_SETS:
      raise ValueError(f'font_set must be one of {trdg_compat.FONT_SETS}, got {self.font_set!r}')
    if self.font_split not in trdg_compat.FONT_SPLITS:
      raise ValueError(
          f'font_split must be one of {trdg_compat.FONT_SPLITS}, got {self.font_split!r}')
    unknown = set(self.backgrounds) - set(BACKGROUNDS)
    if unknown or len(self.backgrounds) != len(self.background_weights):
      raise ValueError(f'backgrounds must be drawn from {BACKGROUNDS} with one weight each')
    if self.height < 16 or self.width < 32:
      raise ValueError(f'canvas {self.height}x{self.width} is too small (min 16x32)')


@functools.lru_cache(maxsize=None)
def dictionary_words() -> tuple[str, ...]:
  """trdg's English dictionary, letters-only entries (no '.', '-', '&' the OCR could not spell)."""
  trdg_compat.install()
  import trdg  # pylint: disable=g-import-not-at-top  (deferred: after the shim)
  path = os.path.join(os.path.dirname(trdg.__file__), 'dicts', 'en.txt')
  with open(path, encoding='utf-8', errors='ignore') as f:
    words = [w.strip() for w in f]
  return tuple(w for w in words if w.isascii() and w.isalpha())


def sample_text(spec: SynthTextSpec, rng: np.random.Generator) -> str:
  """A line of 1..n words, at most `spec.max_chars` characters including spaces."""
  num_words = int(rng.integers(spec.words_per_line[0], spec.words_per_line[1] + 1))
  words = []
  while len(words) < num_words:
    if spec.text_source == 'dict':
      vocabulary = dictionary_words()
      word = vocabulary[int(rng.integers(len(vocabulary)))]
    else:
      length = int(rng.integers(spec.random_word_length[0], spec.random_word_length[1] + 1))
      word = ''.join(rng.choice(list(RANDOM_TEXT_ALPHABET), size=length))
    if len(word) > spec.max_chars:
      continue
    if words and len(' '.join(words + [word])) > spec.max_chars:
      break
    words.append(word)
  return ' '.join(words)


def _gaussian_noise_background(height, width, rng):
  # trdg.background_generator.gaussian_noise: white paper with N(235, 10) grain.
  return np.clip(rng.normal(235.0, 10.0, size=(height, width)), 0, 255)


def _quasicrystal_background(height, width, rng):
  """trdg's quasicrystal (same formula, vectorized), lightened so dark text stays readable."""
  frequency = rng.random() * 30 + 20
  phase = rng.random() * 2 * math.pi
  rotation_count = int(rng.integers(10, 21))
  y = np.linspace(-2 * math.pi, 2 * math.pi, width)[None, :]  # trdg's y runs along the width
  x = np.linspace(-2 * math.pi, 2 * math.pi, height)[:, None]
  radius = np.hypot(x, y)
  angle = np.arctan2(y, x)
  z = np.zeros((height, width))
  for i in range(rotation_count):
    z += np.cos(radius * np.sin(angle + i * 2 * math.pi / rotation_count) * frequency + phase)
  pattern = np.clip(255 - 255 * z / rotation_count, 0, 255)
  return 150 + pattern * (105 / 255)


def draw_background_kind(spec: SynthTextSpec, rng: np.random.Generator) -> str:
  """One of `spec.backgrounds`, drawn with `spec.background_weights`."""
  weights = np.asarray(spec.background_weights, dtype=np.float64)
  return spec.backgrounds[int(rng.choice(len(weights), p=weights / weights.sum()))]


def render_background(spec: SynthTextSpec, rng: np.random.Generator,
                      kind: str | None = None) -> Image.Image:
  """A full-canvas RGB background of `kind` (drawn from `spec.backgrounds` when None)."""
  if kind is None:
    kind = draw_background_kind(spec, rng)
  if kind == 'gaussian_noise':
    gray = _gaussian_noise_background(spec.height, spec.width, rng)
  elif kind == 'plain_white':
    gray = np.full((spec.height, spec.width), 255.0)
  else:
    gray = _quasicrystal_background(spec.height, spec.width, rng)
  return Image.fromarray(gray.astype(np.uint8), mode='L').convert('RGB')


def _crop_to_ink(line: Image.Image) -> Image.Image:
  box = line.getchannel('A').getbbox()
  if box is None:
    raise RuntimeError('trdg rendered no ink')
  return line.crop(box)


def render_line(text: str, font_path: str, text_color: str, font_size: int,
                distortion: str | None) -> Image.Image:
  """The text at natural size as an RGBA image cropped to its ink, drawn by trdg.

  Uses Python's global `random` (trdg does): seed it before calling.
  """
  trdg_compat.install()
  # Deferred: trdg is imported only after trdg_compat.install() has patched it.
  from trdg import computer_text_generator  # pylint: disable=g-import-not-at-top
  from trdg import distorsion_generator  # pylint: disable=g-import-not-at-top  (deferred: ditto)
  line, mask = computer_text_generator.generate(
      _TRDG_PADDING + text + _TRDG_PADDING, font_path, text_color, font_size,
      orientation=0, space_width=1.0, character_spacing=0, fit=False, word_split=False)
  ink_box = line.getchannel('A').getbbox()
  if ink_box is None:
    raise RuntimeError(f'trdg rendered no ink for {text!r} in {font_path}')
  # Ink touching the left/right edge would mean a glyph was cut despite the padding.
  if ink_box[0] == 0 or ink_box[2] == line.width:
    raise RuntimeError(f'trdg clipped {text!r} in {os.path.basename(font_path)}')
  line = line.crop(ink_box)
  if distortion is not None:
    wave = {'sin': distorsion_generator.sin, 'cos': distorsion_generator.cos}[distortion]
    line, _ = wave(line, mask.crop(ink_box), vertical=True, horizontal=False)
    line = _crop_to_ink(line)
  return line


def _python_random_seed(rng: np.random.Generator) -> int:
  return int(rng.integers(2**63 - 1))


def render_example(spec: SynthTextSpec, seed: int, index: int) -> dict:
  """Renders example `index` of the stream `seed`; the same (spec, seed, index) gives the same bytes.

  Returns {"image": uint8[H, W, 3], "text": str, "font": str (file name), "text_box": (left,
  top, right, bottom) of the scaled line in pixels, inside the canvas by construction,
  "background": one of `BACKGROUNDS`}.
  """
  rng = np.random.default_rng((seed, index))
  random.seed(_python_random_seed(rng))  # trdg draws the text colour from Python's `random`
  fonts = trdg_compat.fonts_of(spec.font_set, spec.font_split)
  font_path = fonts[int(rng.integers(len(fonts)))]
  text = sample_text(spec, rng)
  text_color = spec.text_colors[int(rng.integers(len(spec.text_colors)))]
  font_size = int(np.clip(round(0.4 * spec.height), 24, 96))
  distortion = None
  if rng.random() < spec.distortion_probability:
    distortion = ('sin', 'cos')[int(rng.integers(2))]
  line = render_line(text, font_path, text_color, font_size, distortion)

  angle = float(rng.uniform(-spec.max_skew_degrees, spec.max_skew_degrees))
  if angle:
    line = _crop_to_ink(line.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True))

  # Fill a random share of the width, capped by height; never larger than the canvas.
  target_width = rng.uniform(*spec.width_fraction) * spec.width
  scale = min(target_width / line.width,
              spec.max_height_fraction * spec.height / line.height,
              (spec.width - 2) / line.width)
  line_width = max(1, int(line.width * scale))
  line_height = max(1, int(line.height * scale))
  line = line.resize((line_width, line_height), Image.Resampling.LANCZOS)

  left = int(rng.integers(0, spec.width - line_width + 1))
  top = int(rng.integers(0, spec.height - line_height + 1))
  assert 0 <= left and left + line_width <= spec.width, (left, line_width, spec.width)
  assert 0 <= top and top + line_height <= spec.height, (top, line_height, spec.height)

  background = draw_background_kind(spec, rng)
  canvas = render_background(spec, rng, background)
  canvas.paste(line, (left, top), line)
  blur_radius = rng.uniform(0, spec.max_blur_radius) * spec.height / 256
  if blur_radius > 0.1:
    canvas = canvas.filter(ImageFilter.GaussianBlur(radius=blur_radius))
  return {
      'image': np.asarray(canvas, dtype=np.uint8),
      'text': text,
      'font': os.path.basename(font_path),
      'text_box': (left, top, left + line_width, top + line_height),
      'background': background,
  }
