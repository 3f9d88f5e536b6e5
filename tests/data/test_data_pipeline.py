"""Batching contracts: determinism in (seed, step), resumption, process sharding, eval mask."""

import itertools

import numpy as np
import pytest

from tfic_jax import errors
from tfic_jax.data import pipeline


class ListSource:
  """An in-memory stand-in for a tfds source: example i holds its index and a string."""

  def __init__(self, num_examples):
    self._num_examples = num_examples

  def __len__(self):
    return self._num_examples

  def __getitem__(self, index):
    return {'index': np.int64(index), 'text': f'example {index}'}


def augment(example, rng):
  return {'index': example['index'], 'noise': rng.normal(size=3).astype(np.float32),
          'text': example['text']}


def take(iterator, count):
  return list(itertools.islice(iterator, count))


def assert_batches_equal(first, second):
  assert len(first) == len(second)
  for a, b in zip(first, second):
    assert a.keys() == b.keys()
    for key in a:
      np.testing.assert_array_equal(a[key], b[key])


def test_train_batches_are_deterministic_and_cover_each_epoch_once():
  source = ListSource(24)
  first = take(pipeline.train_batches(source, 8, 5, 0, augment, 0, 1), 6)
  again = take(pipeline.train_batches(source, 8, 5, 0, augment, 0, 1), 6)
  assert_batches_equal(first, again)
  epoch_zero = np.concatenate([b['index'] for b in first[:3]])
  assert sorted(epoch_zero) == list(range(24))
  epoch_one = np.concatenate([b['index'] for b in first[3:]])
  assert not np.array_equal(epoch_zero, epoch_one)  # reshuffled
  assert first[0]['text'].dtype == object and first[0]['noise'].shape == (8, 3)


def test_resuming_at_a_step_gives_the_uninterrupted_batches():
  source = ListSource(10)  # batches straddle epoch boundaries
  uninterrupted = take(pipeline.train_batches(source, 4, 1, 0, augment, 0, 1), 9)
  resumed = take(pipeline.train_batches(source, 4, 1, 5, augment, 0, 1), 4)
  assert_batches_equal(uninterrupted[5:], resumed)


def test_two_processes_partition_the_global_batch():
  source = ListSource(30)
  whole = take(pipeline.train_batches(source, 8, 2, 3, augment, 0, 1), 4)
  shard0 = take(pipeline.train_batches(source, 8, 2, 3, augment, 0, 2), 4)
  shard1 = take(pipeline.train_batches(source, 8, 2, 3, augment, 1, 2), 4)
  for full, a, b in zip(whole, shard0, shard1):
    assert a['index'].shape == (4,)
    for key in full:
      np.testing.assert_array_equal(full[key], np.concatenate([a[key], b[key]]))


def test_eval_batches_pad_the_last_batch_and_mask_it():
  batches = list(pipeline.eval_batches(ListSource(10), 4, lambda ex: ex))
  assert [b['mask'].sum() for b in batches] == [4, 4, 2]
  assert all(b['index'].shape == (4,) for b in batches)
  seen = np.concatenate([b['index'][b['mask']] for b in batches])
  np.testing.assert_array_equal(seen, np.arange(10))
  limited = list(pipeline.eval_batches(ListSource(10), 4, lambda ex: ex, num_examples=5))
  assert [b['mask'].sum() for b in limited] == [4, 1]


@pytest.mark.parametrize('name, split, config, expected', [
    ('mnist', 'train', 'tiny',
     'valid datasets: book_patches, document_crops, document_words, documents, synth_text'),
    ('synth_text', 'validation', 'tiny', 'valid splits: train, test, test_heldout_fonts'),
    ('book_patches', 'test_heldout_fonts', 'tiny', 'valid splits: train, test'),
    ('synth_text', 'train', 'huge', 'valid configs: default, small, medium, fonts, fonts_tiny, tiny'),
])
def test_unknown_names_raise_dataset_error_listing_valid_ones(tmp_path, name, split, config,
                                                              expected):
  with pytest.raises(errors.DatasetError, match=expected):
    pipeline.load_split(name, split, str(tmp_path), config)


def test_missing_data_raises_with_the_make_data_command(tmp_path):
  with pytest.raises(errors.DatasetError, match='python -m launch.make_data --dataset=synth_text'):
    pipeline.load_split('synth_text', 'train', str(tmp_path), 'tiny', build_if_missing=False)


def test_worker_processes_give_the_same_batches_as_threads():
  source = ListSource(10)
  threaded = take(pipeline.train_batches(source, 4, 3, 2, augment, 0, 1), 4)
  in_processes = take(
      pipeline.train_batches(source, 4, 3, 2, augment, 0, 1, num_workers=2), 4)
  assert_batches_equal(threaded, in_processes)


class TaggedSource(ListSource):
  """ListSource whose examples also carry a source tag and a field of their own."""

  def __init__(self, num_examples, tag):
    super().__init__(num_examples)
    self.tag = tag

  def __getitem__(self, index):
    return {**super().__getitem__(index), 'tag': self.tag, f'only_{self.tag}': np.int64(1)}


def test_mixed_source_gives_each_source_its_share_and_the_common_fields():
  big, small = TaggedSource(30, 'big'), TaggedSource(4, 'small')
  mixed = pipeline.MixedSource([big, small], weights=[0.75, 0.25])
  tags = [mixed[i]['tag'] for i in range(len(mixed))]
  assert len(mixed) == 40 and tags.count('big') == 30 and tags.count('small') == 10
  small_indices = [int(mixed[i]['index']) for i in range(len(mixed)) if mixed[i]['tag'] == 'small']
  assert small_indices == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]  # the small source repeats
  assert set(mixed[0]) == {'index', 'text', 'tag'}  # fields of one source only are dropped
  batches = take(pipeline.train_batches(mixed, 8, 3, 0, augment, 0, 1), 5)
  assert sorted(np.concatenate([b['index'] for b in batches]).tolist()) == sorted(
      [int(mixed[i]['index']) for i in range(40)])  # one epoch of the mixture
  concatenated = pipeline.MixedSource([big, small])
  assert len(concatenated) == 34 and concatenated[30]['tag'] == 'small'
  with pytest.raises(IndexError):
    mixed[40]


@pytest.mark.parametrize('entry', ['document_crops/small', 'document_crops:1.5', ':0.5', 'a:-0.1',
                                   'a:0.6,b:0.5', 'a:zero'])
def test_malformed_mix_entries_raise_dataset_error(entry):
  with pytest.raises(errors.DatasetError, match='mix'):
    pipeline.parse_mix(entry)


def test_config_train_source_mixes_the_named_datasets(monkeypatch):
  import ml_collections  # pylint: disable=g-import-not-at-top
  loaded = []

  def fake_load(name, split, data_dir, builder_config='default', **kwargs):
    del kwargs
    loaded.append((name, split, data_dir, builder_config))
    return TaggedSource(10 if name == 'synth_text' else 5, name)

  monkeypatch.setattr(pipeline, 'load_split', fake_load)
  data = ml_collections.ConfigDict({'name': 'synth_text', 'builder_config': 'medium',
                                    'data_dir': 'data', 'mix': ''})
  assert isinstance(pipeline.config_train_source(data), TaggedSource)
  data.mix = 'document_crops/small:0.5'
  mixed = pipeline.config_train_source(data, data_dir='elsewhere')
  assert loaded[-1] == ('document_crops', 'train', 'elsewhere', 'small')
  assert [s.tag for s in mixed.sources] == ['synth_text', 'document_crops']
  assert mixed.counts == [10, 10]
  evals = pipeline.config_eval_sources(data)
  assert list(evals) == ['test', 'document_crops_small_test']
  assert loaded[-1] == ('document_crops', 'test', 'data', 'small')
  data.mix = 'document_crops/small:0'  # Evaluated, not trained on: the control's view.
  assert isinstance(pipeline.config_train_source(data), TaggedSource)
  assert list(pipeline.config_eval_sources(data)) == ['test', 'document_crops_small_test']
