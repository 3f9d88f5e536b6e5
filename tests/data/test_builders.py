"""Both builders build their tiny config and read back through load_split."""

import numpy as np
import pytest

from tfic_jax.data import pipeline


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp('tfds'))


def test_synth_text_tiny_builds_and_reads_back(data_dir):
  train = pipeline.load_split('synth_text', 'train', data_dir, 'tiny', num_workers=2)
  heldout = pipeline.load_split('synth_text', 'test_heldout_fonts', data_dir, 'tiny')
  assert len(train) == 64 and len(heldout) == 16
  example = train[3]
  assert example['image'].shape == (64, 128, 3) and example['image'].dtype == np.uint8
  assert isinstance(example['text'], str) and example['text']
  from tfic_jax.data import synth_text
  rendered = synth_text.render_example(synth_text.SynthTextSpec(height=64, width=128), 0, 3)
  assert rendered['text'] == example['text']  # key order = generation order
  np.testing.assert_array_equal(rendered['image'], example['image'])  # PNG is lossless


def test_book_patches_tiny_builds_and_reads_back(data_dir):
  train = pipeline.load_split('book_patches', 'train', data_dir, 'tiny', num_workers=2)
  test = pipeline.load_split('book_patches', 'test', data_dir, 'tiny')
  assert len(train) == 20 and len(test) == 10
  assert not {int(train[i]['page']) for i in range(len(train))} & {
      int(test[i]['page']) for i in range(len(test))}
  example = train[0]
  assert example['clean'].shape == example['degraded'].shape == (64, 256, 1)
  assert example['lines'] == example['text'].split('\n') and example['text']
  num_chars = len(''.join(example['text'].split()))
  assert example['char_boxes'].shape == (num_chars, 4)
  assert example['line_boxes'].shape == (len(example['lines']), 4)
  assert example['word_boxes'].shape == (len(example['word_texts'].split('\n')), 4)
