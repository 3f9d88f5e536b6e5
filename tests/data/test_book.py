"""Part B: page rendering, degradation and patch ground truth."""

import numpy as np
import pytest

from tfic_jax.data import book

KNOWN_TEXT = [
    'The quick brown fox jumps over the lazy dog while five boxing wizards jump quickly. '
    'Pack my box with five dozen liquor jugs and then sphinx of black quartz judge my vow. '
    'How vexingly quick daft zebras jump when the wizard quickly jinxed the gnomes.'
] * 6
SMALL_PAGE = book.PageSpec(height=256, width=512, margin=16)


@pytest.fixture(scope='module')
def known_page():
  rng = np.random.default_rng(0)
  return book.render_page(KNOWN_TEXT, SMALL_PAGE, book.page_fonts()[0], rng)


def test_page_characters_are_exactly_the_known_text(known_page):
  expected = ''.join(' '.join(KNOWN_TEXT).split())
  assert expected.startswith(known_page.chars) and len(known_page.chars) > 300


def test_patch_ground_truth_is_the_characters_fully_inside(known_page):
  left, top = 40, 30
  truth = book.patch_ground_truth(known_page, left, top)
  boxes = known_page.char_boxes
  inside = ((boxes[:, 0] >= left) & (boxes[:, 1] >= top)
            & (boxes[:, 2] <= left + 256) & (boxes[:, 3] <= top + 64))
  visible = ''.join(c for c, keep in zip(known_page.chars, inside) if keep)
  assert ''.join(''.join(truth['lines']).split()) == visible
  assert truth['text'] == '\n'.join(truth['lines']) and 3 <= len(truth['lines']) <= 5
  assert truth['char_boxes'].shape == (len(visible), 4)
  assert (truth['char_boxes'][:, :2] >= 0).all()
  assert (truth['char_boxes'][:, 2] <= 256).all() and (truth['char_boxes'][:, 3] <= 64).all()
  assert len(truth['word_boxes']) == len(truth['word_texts']) > 0
  assert len(truth['line_boxes']) == len(truth['lines'])
  for word in truth['word_texts']:
    assert word in ' '.join(KNOWN_TEXT).split()  # only whole words get a word box


def test_char_boxes_cover_all_ink_of_a_patch(known_page):
  left, top = 40, 30
  patch = known_page.image[top:top + 64, left:left + 256, 0]
  covered = np.zeros_like(patch, dtype=bool)
  for l, t, r, b in known_page.char_boxes - np.array([left, top, left, top]):
    covered[max(t, 0):max(b, 0), max(l, 0):max(r, 0)] = True
  assert (patch[~covered] == 255).all()
  assert (patch[covered] < 128).any()


def test_degrade_keeps_shape_and_alignment(known_page):
  degraded = book.degrade(known_page.image, factor=3, quality=1)
  assert degraded.shape == known_page.image.shape and degraded.dtype == np.uint8
  assert not np.array_equal(degraded, known_page.image)
  # Aligned: the degraded page is dark where the clean text is (blurred, not shifted).
  clean = known_page.image[:, :, 0].astype(np.float32)
  blurred = degraded[:, :, 0].astype(np.float32)
  correlation = np.corrcoef(clean.ravel(), blurred.ravel())[0, 1]
  shifted = np.corrcoef(clean[:, 8:].ravel(), blurred[:, :-8].ravel())[0, 1]
  assert correlation > shifted and correlation > 0.3


def test_extract_patches_gives_ten_aligned_non_overlapping_text_patches():
  page = book.render_page(KNOWN_TEXT * 3, book.PageSpec(), book.page_fonts()[1],
                          np.random.default_rng(1))
  degraded = book.degrade(page.image)
  patches = book.extract_patches(page, degraded, np.random.default_rng(2))
  assert len(patches) == book.PATCHES_PER_PAGE
  corners = [p['corner'] for p in patches]
  for i, (l1, t1) in enumerate(corners):
    for l2, t2 in corners[i + 1:]:
      assert abs(l1 - l2) >= 256 or abs(t1 - t2) >= 64
  for patch in patches:
    left, top = patch['corner']
    np.testing.assert_array_equal(patch['clean'], page.image[top:top + 64, left:left + 256])
    np.testing.assert_array_equal(patch['degraded'], degraded[top:top + 64, left:left + 256])
    assert patch['clean'].shape == patch['degraded'].shape == (64, 256, 1)
    assert patch['text']


def test_prose_filter_drops_code_and_keeps_sentences():
  text = ('Return the number of items in the container.\n\n'
          '>>> x = foo(1)\n\nSee the documentation for details on this method.\n\n'
          'def f(x): return {x: 1}')
  assert book.sentences_from_text(text) == [
      'Return the number of items in the container.',
      'See the documentation for details on this method.']


def test_page_and_sentence_splits_are_disjoint():
  splits = book.split_pages(100, seed=0)
  assert len(splits['test']) == 20 and not set(splits['train']) & set(splits['test'])
  sentences = [f'Sentence number {i} is here.' for i in range(500)]
  train, test = book.sentence_pool(sentences, 'train'), book.sentence_pool(sentences, 'test')
  assert not set(train) & set(test) and len(train) + len(test) == 500
  assert 50 < len(test) < 150


def test_milder_factor_configs_degrade_the_same_pages_less():
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top
  configs = {c.name: c for c in builders.BookPatches.BUILDER_CONFIGS}
  for name in ('default', 'small'):
    base = configs[name]
    assert base.degrade_factor == book.DEFAULT_DEGRADE_FACTOR
    for tag, factor in (('x2p5', 2.5), ('x2', 2.0)):
      milder = configs[f'{name}_{tag}']
      assert milder.degrade_factor == factor
      assert (milder.num_pages, milder.page_height, milder.page_width, milder.jpeg_quality) == (
          base.num_pages, base.page_height, base.page_width, base.jpeg_quality)


def test_milder_factor_keeps_more_of_the_clean_page(known_page):
  clean = known_page.image.astype(np.float32)
  errors = [np.mean((book.degrade(known_page.image, factor, 1) - clean) ** 2)
            for factor in (2, 2.5, 3)]
  assert errors[0] < errors[1] < errors[2]


def test_large_type_configs_set_twice_the_type_and_render_it():
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top
  configs = {c.name: c for c in builders.BookPatches.BUILDER_CONFIGS}
  assert builders.page_spec(configs['default']).font_size_range == book.PageSpec().font_size_range
  for name in ('default', 'small'):
    for suffix, factor in (('', 3.0), ('_x4', 4.0)):
      large = configs[f'{name}_t24{suffix}']
      assert (large.degrade_factor, tuple(large.font_size_range)) == (factor, (22, 26))
      assert large.num_pages == configs[name].num_pages
  spec = builders.page_spec(configs['small_t24'])
  sentences = [f'Sentence number {i} is set in large type here.' for i in range(400)]
  small_type = book.make_page(sentences, 0, 0, book.PageSpec())
  large_type = book.make_page(sentences, 0, 0, spec)
  heights = lambda page: np.median(page.char_boxes[:, 3] - page.char_boxes[:, 1])
  assert 1.6 < heights(large_type) / heights(small_type) < 2.4
  assert np.max(large_type.char_line) < np.max(small_type.char_line)
