"""The Pillow >= 10 shim for trdg and the font lists."""

import os

import numpy as np
import PIL

from tfic_jax.data import trdg_compat


def test_shim_lets_trdg_render_a_line_with_current_pillow():
  assert int(PIL.__version__.split('.')[0]) >= 10  # the case the shim exists for
  trdg_compat.install()
  from trdg import computer_text_generator
  image, _ = computer_text_generator.generate(
      'Hello 42', trdg_compat.usable_fonts()[0], '#000000', 32, orientation=0,
      space_width=1.0, character_spacing=0, fit=True, word_split=False)
  assert image.height > 10 and image.width > 40
  assert np.asarray(image.getchannel('A')).max() > 0


def test_caseless_fonts_are_excluded_and_screening_finds_no_others():
  names = {os.path.basename(p) for p in trdg_compat.usable_fonts()}
  for caps_only in ('BEBAS___.ttf', 'Capture_it_2.ttf', 'SEASRN__.ttf'):
    assert caps_only not in names
  flagged = [os.path.basename(p) for p in trdg_compat.usable_fonts()
             if trdg_compat.lowercase_capital_similarity(p) > 0.7]
  assert not flagged


def test_font_split_is_disjoint_deterministic_and_about_ten_percent_heldout():
  seen, heldout = trdg_compat.font_split('seen'), trdg_compat.font_split('heldout')
  assert not set(seen) & set(heldout)
  assert set(seen) | set(heldout) == set(trdg_compat.usable_fonts())
  assert 0.05 < len(heldout) / len(trdg_compat.usable_fonts()) < 0.15
  trdg_compat.font_split.cache_clear()
  assert trdg_compat.font_split('heldout') == heldout
