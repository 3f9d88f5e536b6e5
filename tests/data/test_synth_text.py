"""Part A generator: labels match the pixels structurally, and it is deterministic."""

import string

import numpy as np
import pytest

from tfic_jax.data import synth_text
from tfic_jax.data import trdg_compat

TINY = synth_text.SynthTextSpec(height=64, width=128)


@pytest.mark.parametrize('text_source', ['dict', 'random'])
def test_label_is_short_alphanumeric_text_drawn_inside_the_canvas(text_source):
  spec = synth_text.SynthTextSpec(height=64, width=128, text_source=text_source)
  allowed = set(string.ascii_letters + string.digits + ' ')
  for index in range(6):
    example = synth_text.render_example(spec, seed=3, index=index)
    text, image = example['text'], example['image']
    assert image.shape == (64, 128, 3) and image.dtype == np.uint8
    assert text and text == text.strip() and set(text) <= allowed
    assert len(text) <= spec.max_chars
    left, top, right, bottom = example['text_box']
    assert 0 <= left < right <= 128 and 0 <= top < bottom <= 64
    # The text dominates: at least 60 % of the width or 80 % of the height (capped).
    assert (right - left) >= 0.59 * 128 or (bottom - top) >= 0.79 * 64 - 1
    # Dark ink inside the text box, and none of it outside (backgrounds are light).
    gray = image.mean(axis=-1)
    assert gray[top:bottom, left:right].min() < 110
    outside = np.ones_like(gray, dtype=bool)
    outside[top:bottom, left:right] = False
    assert gray[outside].min() > 110


def test_same_seed_and_index_give_identical_examples():
  first = synth_text.render_example(TINY, seed=7, index=11)
  again = synth_text.render_example(TINY, seed=7, index=11)
  other = synth_text.render_example(TINY, seed=7, index=12)
  assert first['text'] == again['text'] and first['font'] == again['font']
  np.testing.assert_array_equal(first['image'], again['image'])
  assert not np.array_equal(first['image'], other['image'])


def test_heldout_spec_uses_only_heldout_fonts():
  spec = synth_text.SynthTextSpec(height=64, width=128, font_split='heldout')
  heldout = {p.rsplit('/', 1)[-1] for p in trdg_compat.font_split('heldout')}
  fonts = {synth_text.render_example(spec, 0, i)['font'] for i in range(8)}
  assert fonts <= heldout


def test_full_size_canvas_renders():
  example = synth_text.render_example(synth_text.SynthTextSpec(), seed=0, index=0)
  assert example['image'].shape == (256, 512, 3)


def test_example_reports_its_background_and_the_pixels_agree():
  kinds = set()
  for index in range(24):
    example = synth_text.render_example(TINY, seed=5, index=index)
    kind = example['background']
    assert kind in synth_text.BACKGROUNDS
    kinds.add(kind)
    gray = example['image'].astype(np.float64).mean(axis=-1)
    border = np.concatenate([gray[:3].ravel(), gray[-3:].ravel()])  # rows the text rarely reaches
    left, top, right, bottom = example['text_box']
    if top >= 3 and bottom <= 61 and kind == 'plain_white':
      assert border.min() >= 250
    if kind == 'gaussian_noise':
      assert border.std() > 3  # N(235, 10) grain, blurred by at most 1/4 px here
  assert kinds == set(synth_text.BACKGROUNDS)



def test_system_font_set_holds_out_whole_families():
  faces = trdg_compat.system_fonts()
  if not faces:
    pytest.skip('no system fonts (scripts/install_system_deps.sh installs them)')
  family = dict(faces)
  seen, heldout = (trdg_compat.fonts_of('system', s) for s in trdg_compat.FONT_SPLITS)
  assert seen and heldout and not {family[p] for p in seen} & {family[p] for p in heldout}
  assert not any(trdg_compat._SKIP_FAMILIES.search(f) for f in family.values())
  assert all(trdg_compat.lowercase_capital_similarity(p) <= trdg_compat.MAX_CASE_SIMILARITY
             for p in heldout)
  spec = synth_text.SynthTextSpec(height=64, width=128, font_set='system', font_split='heldout')
  example = synth_text.render_example(spec, 3, 0)
  assert example['font'] in {p.rsplit('/', 1)[-1] for p in heldout}
  with pytest.raises(ValueError, match='font_set'):
    synth_text.SynthTextSpec(font_set='web')


def test_family_names_lose_their_weight_words():
  strip = trdg_compat._STYLE_WORDS.sub
  assert strip('', 'Open Sans Condensed Light') == 'Open Sans Condensed'
  assert strip('', 'Go Medium') == 'Go' and strip('', 'Roboto Black Italic') == 'Roboto'
  assert strip('', 'TeX Gyre Heros Cn') == 'TeX Gyre Heros Cn'


def test_no_system_fonts_is_one_clear_error(monkeypatch):
  from tfic_jax import errors  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(trdg_compat, 'system_fonts', lambda: ())
  with pytest.raises(errors.DatasetError, match='install_system_deps'):
    trdg_compat.system_font_split.__wrapped__('seen')
