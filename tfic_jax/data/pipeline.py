"""The only place that knows where data lives: sources, training batches, evaluation batches.

Training order is a pure function of (seed, step): the stream of examples is the concatenation
of per-epoch permutations drawn from (seed, epoch), and the global batch of step s holds stream
positions [s·B, (s+1)·B). Each process takes its contiguous share of those positions, and each
example's augmentation rng is seeded from (seed, stream position). A run resumed at
`start_step` therefore sees exactly the batches an uninterrupted run would, on any number of
processes. Batches are assembled by a small thread pool a few steps ahead (PNG decoding and
Pillow/numpy augmentation release the GIL for most of their time); grain's MapDataset offers
the same index-based design, but this keeps resumption and sharding explicit and testable.
"""

import collections
import concurrent.futures
import functools
import multiprocessing
import os
from typing import Any
from typing import Callable
from typing import Iterator

import jax
from jax.experimental import multihost_utils
import numpy as np

from tfic_jax import errors

Example = dict[str, Any]
Batch = dict[str, np.ndarray]

SPLITS = {
    'synth_text': ('train', 'test', 'test_heldout_fonts'),
    'book_patches': ('train', 'test'),
    'documents': ('train', 'test'),
    'document_crops': ('train', 'test'),
    'document_words': ('train', 'test'),
}
_IMAGE_FIELDS = ('image', 'clean', 'degraded')
_TEXT_FIELDS = ('text', 'font', 'word_texts', 'doc_id', 'condition')
_BOX_FIELDS = ('char_boxes', 'word_boxes', 'line_boxes')


def make_data_command(name: str, data_dir: str, builder_config: str) -> str:
  return (f'python -m launch.make_data --dataset={name} --config={builder_config} '
          f'--data_dir={data_dir}')


def _check_names(name: str, split: str, builder_config: str):
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top  (deferred: tfds)
  if name not in builders.BUILDERS:
    raise errors.DatasetError(
        f'unknown dataset {name!r}; valid datasets: {", ".join(sorted(builders.BUILDERS))}')
  builder_class = builders.BUILDERS[name]
  configs = [c.name for c in builder_class.BUILDER_CONFIGS]
  if builder_config not in configs:
    raise errors.DatasetError(
        f'unknown config {builder_config!r} of {name}; valid configs: {", ".join(configs)}')
  if split not in SPLITS[name]:
    raise errors.DatasetError(
        f'unknown split {split!r} of {name}; valid splits: {", ".join(SPLITS[name])}')
  return builder_class


def make_builder(name: str, data_dir: str, builder_config: str = 'default',
                 num_workers: int = 1):
  """The tfds builder of `name`/`builder_config` under `data_dir` (raises DatasetError)."""
  builder_class = _check_names(name, SPLITS.get(name, ('',))[0], builder_config)
  return builder_class(config=builder_config, data_dir=data_dir, num_workers=num_workers,
                       file_format='array_record')


def build(name: str, data_dir: str, builder_config: str = 'default',
          num_workers: int | None = None):
  """Generates and writes the dataset (a no-op if it is already there); returns the builder."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top  (deferred: tfds)
  builder = make_builder(name, data_dir, builder_config, num_workers or os.cpu_count() or 1)
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      download_mode=tfds.download.GenerateMode.REUSE_DATASET_IF_EXISTS))
  return builder


def _is_prepared(builder) -> bool:
  return os.path.exists(os.path.join(os.fspath(builder.data_path), 'dataset_info.json'))


class Source:
  """Random access to one split: `len`, and `source[i]` → dict of numpy arrays and str.

  Images come back as uint8 [H, W, C]; text fields as str; box fields as float32 [N, 4].
  """

  def __init__(self, data_source, name: str, split: str, builder_config: str):
    self._data_source = data_source
    self.name, self.split, self.builder_config = name, split, builder_config

  def __len__(self) -> int:
    return len(self._data_source)

  def __getitem__(self, index: int) -> Example:
    if not -len(self) <= index < len(self):
      raise IndexError(f'index {index} out of range for {self.name}/{self.split} '
                       f'({len(self)} examples)')
    raw = self._data_source[int(index) % len(self)]
    example = {}
    for key, value in raw.items():
      if key in _TEXT_FIELDS:
        example[key] = value.decode('utf-8') if isinstance(value, bytes) else str(value)
      elif key in _BOX_FIELDS:
        example[key] = np.asarray(value, dtype=np.float32).reshape(-1, 4)
      elif key in _IMAGE_FIELDS:
        example[key] = np.asarray(value, dtype=np.uint8)
      else:
        example[key] = np.asarray(value)
    if 'text' in example and self.name == 'book_patches':
      example['lines'] = example['text'].split('\n') if example['text'] else []
    return example

  def __repr__(self):
    return f'Source({self.name}/{self.builder_config}, split={self.split}, n={len(self)})'


def as_text(value) -> str:
  """A text field as str: tfds gives bytes, batches hold numpy scalars or objects."""
  if isinstance(value, bytes):
    return value.decode('utf-8')
  if isinstance(value, np.ndarray) and value.ndim == 0:
    return as_text(value.item())
  return str(value)


def config_split(data_config, split: str, data_dir: str | None = None) -> 'Source':
  """`load_split` for a stage config's `data` section (`name`, `builder_config`, `data_dir`).

  `data_dir` (the launcher's --data_dir) overrides the config's.
  """
  return load_split(data_config.name, split, data_dir or data_config.get('data_dir'),
                    builder_config=data_config.get('builder_config'))


def parse_mix(entries) -> list[tuple[str, str, float]]:
  """`data.mix` entries, each "name[/builder_config]:weight" (e.g. "document_crops/small:0.5"),
  as (name, builder_config, weight); weight 0 evaluates that dataset without training on it
  (a control run's view of the experiment's data). Raises DatasetError on a malformed entry."""
  if isinstance(entries, str):
    entries = [e for e in entries.split(',') if e.strip()]
  parsed = []
  for entry in entries or ():
    spec, _, weight = str(entry).strip().rpartition(':')
    name, _, builder_config = spec.partition('/')
    try:
      value = float(weight)
    except ValueError:
      value = -1.0
    if not name or not 0.0 <= value < 1.0:
      raise errors.DatasetError(
          f'data.mix entry {entry!r}: expected "name[/builder_config]:weight" with 0 <= weight '
          '< 1, e.g. "document_crops/small:0.5"')
    parsed.append((name, builder_config or 'default', value))
  if sum(w for _, _, w in parsed) >= 1.0:
    raise errors.DatasetError(f'data.mix weights sum to {sum(w for _, _, w in parsed):g}; they '
                              'must leave a share (1 − their sum) to the config\'s own dataset')
  return parsed


class MixedSource:
  """Several sources as one random-access source in which each holds a fixed share.

  Source i takes `weights[i]` (normalised) of the positions: the mixed length is the smallest
  that shows every source whole at least once, and a source with a larger share than its size
  repeats (index modulo its length). Without weights the sources are concatenated (each in
  proportion to its size). Examples keep the fields every source has, so they collate.
  """

  def __init__(self, sources, weights=None):
    sources = list(sources)
    if not sources or any(len(s) == 0 for s in sources):
      raise errors.DatasetError(f'cannot mix an empty source: {sources!r}')
    if weights is None:
      counts = [len(s) for s in sources]
    else:
      weights = np.asarray(weights, np.float64) / np.sum(weights)
      total = max(int(np.ceil(len(s) / w)) for s, w in zip(sources, weights))
      counts = [max(1, int(round(w * total))) for w in weights]
    self.sources, self.counts = sources, counts
    self._ends = np.cumsum(counts)
    fields = [set(s[0]) for s in sources]
    self._keys = None if len(sources) == 1 else set.intersection(*fields)

  def __len__(self) -> int:
    return int(self._ends[-1])

  def __getitem__(self, index: int) -> Example:
    if not 0 <= index < len(self):
      raise IndexError(f'index {index} out of range for a mixture of {len(self)} positions')
    which = int(np.searchsorted(self._ends, index, side='right'))
    offset = index - (int(self._ends[which - 1]) if which else 0)
    source = self.sources[which]
    example = source[offset % len(source)]
    if self._keys is None:
      return example
    return {key: value for key, value in example.items() if key in self._keys}

  def __repr__(self):
    parts = ', '.join(f'{s!r}×{c}' for s, c in zip(self.sources, self.counts))
    return f'MixedSource({parts})'


def config_train_source(data_config, data_dir: str | None = None):
  """The training split of a stage config's `data`, mixed with `data.mix`'s datasets of
  weight > 0 (their `train` splits, in the same data_dir) when it names any."""
  primary = config_split(data_config, data_config.get('train_split', 'train'), data_dir)
  mix = [entry for entry in parse_mix(data_config.get('mix', ())) if entry[2] > 0]
  if not mix:
    return primary
  root = data_dir or data_config.get('data_dir')
  sources = [primary] + [load_split(name, 'train', root, builder_config=builder_config)
                         for name, builder_config, _ in mix]
  weights = [1.0 - sum(w for _, _, w in mix)] + [w for _, _, w in mix]
  return MixedSource(sources, weights)


def config_eval_sources(data_config, data_dir: str | None = None) -> dict:
  """{split: source} of `data.eval_splits` (or `eval_split`), plus every split but `train` of
  each `data.mix` dataset, as "<name>_<builder_config>_<split>"."""
  splits = data_config.get('eval_splits') or (data_config.get('eval_split', 'test'),)
  sources = {split: config_split(data_config, split, data_dir) for split in splits}
  root = data_dir or data_config.get('data_dir')
  for name, builder_config, _ in parse_mix(data_config.get('mix', ())):
    for split in SPLITS.get(name, ('test',)):
      if split != 'train':
        sources[f'{name}_{builder_config}_{split}'] = load_split(
            name, split, root, builder_config=builder_config)
  return sources


def load_split(name: str, split: str, data_dir: str, builder_config: str = 'default',
               build_if_missing: bool = True, num_workers: int | None = None) -> Source:
  """Random-access source of one split; builds the dataset first if it is missing.

  In a job of several processes, a dataset missing on any of them is not built: every process
  stops with the `launch.make_data` command to run first.

  Raises:
    DatasetError: unknown dataset, config or split; or the data is missing and
      `build_if_missing` is False or several processes run (the message gives the
      `launch.make_data` command).
  """
  _check_names(name, split, builder_config)
  builder = make_builder(name, data_dir, builder_config)
  missing = not _is_prepared(builder)
  multi_process = jax.process_count() > 1
  if multi_process:  # Every process calls this at the same point of a training run.
    missing = bool(multihost_utils.process_allgather(np.int32(missing)).any())
  if missing:
    if not build_if_missing or multi_process:
      # Several processes do not build: one build into a shared data_dir while the others wait
      # inside a collective would outlast gloo's 30-s context timeout, and concurrent builds
      # into one data_dir would corrupt it.
      where = ('; several processes do not build datasets: build it first (on every host, or '
               'once on storage they share) with: ' if multi_process and build_if_missing
               else '; build it with: ')
      raise errors.DatasetError(
          f'{name}/{builder_config} is not built under {data_dir}{where}'
          + make_data_command(name, data_dir, builder_config))
    builder = build(name, data_dir, builder_config, num_workers)
  return Source(builder.as_data_source(split=split), name, split, builder_config)


# ----------------------------------------------------------------------------- batching


def collate(examples: list[Example]) -> Batch:
  """Stacks fixed-shape arrays; strings become numpy object arrays."""
  batch = {}
  for key in examples[0]:
    values = [example[key] for example in examples]
    if isinstance(values[0], (str, bytes)):
      batch[key] = np.array(values, dtype=object)
    else:
      batch[key] = np.stack([np.asarray(v) for v in values])
  return batch


def epoch_permutation(seed: int, epoch: int, num_examples: int) -> np.ndarray:
  return np.random.default_rng((seed, epoch, 0x5EED)).permutation(num_examples)


def stream_indices(seed: int, positions: np.ndarray, num_examples: int) -> np.ndarray:
  """Example index at each stream position (epoch after epoch of fresh permutations)."""
  epochs, offsets = np.divmod(positions, num_examples)
  indices = np.empty_like(positions)
  for epoch in np.unique(epochs):
    where = epochs == epoch
    indices[where] = epoch_permutation(seed, int(epoch), num_examples)[offsets[where]]
  return indices


def local_positions(step: int, global_batch_size: int, process_index: int,
                    process_count: int) -> np.ndarray:
  """Stream positions of this process's share of step `step`'s global batch."""
  if global_batch_size % process_count:
    raise errors.DatasetError(
        f'global_batch_size {global_batch_size} is not divisible by the {process_count} '
        'processes')
  local_size = global_batch_size // process_count
  first = step * global_batch_size + process_index * local_size
  return np.arange(first, first + local_size, dtype=np.int64)


def _train_batch(source, seed, step, *, global_batch_size, process_index, process_count,
                 preprocess) -> Batch:
  positions = local_positions(step, global_batch_size, process_index, process_count)
  indices = stream_indices(seed, positions, len(source))
  examples = [preprocess(source[int(i)], np.random.default_rng((seed, int(p), 0xA06)))
              for i, p in zip(indices, positions)]
  return collate(examples)


_WORKER_MAKE_BATCH = None  # Set once in each worker process by _init_worker.


def _init_worker(make_batch: Callable[[int], Batch]) -> None:
  global _WORKER_MAKE_BATCH
  _WORKER_MAKE_BATCH = make_batch


def _worker_batch(step: int) -> Batch:
  return _WORKER_MAKE_BATCH(step)


def _executor(make_batch, num_threads: int, num_workers: int):
  """Threads by default; `num_workers` > 0 uses processes (image decoding and augmentation
  hold the GIL, so threads stop scaling at a few hundred 256×512 images/s). Workers are
  spawned, not forked: forking a process that runs JAX's threads can deadlock."""
  if num_workers > 0:
    return concurrent.futures.ProcessPoolExecutor(
        num_workers, mp_context=multiprocessing.get_context('spawn'),
        initializer=_init_worker, initargs=(make_batch,)), _worker_batch
  return concurrent.futures.ThreadPoolExecutor(num_threads), make_batch


def _prefetched(make_batch: Callable[[int], Batch], steps: Iterator[int], num_threads: int,
                prefetch: int, num_workers: int = 0) -> Iterator[Batch]:
  """Yields make_batch(step) for each step in order, computing up to `prefetch` ahead.

  With `num_workers` processes, `make_batch` must be picklable (a `functools.partial` of a
  module-level function over a picklable source and preprocess).
  """
  executor, task = _executor(make_batch, num_threads, num_workers)
  prefetch = max(prefetch, 2 * num_workers)
  with executor:
    pending = collections.deque()
    for step in steps:
      pending.append(executor.submit(task, step))
      if len(pending) > prefetch:
        yield pending.popleft().result()
    while pending:
      yield pending.popleft().result()


def train_batches(source, global_batch_size: int, seed: int, start_step: int,
                  preprocess: Callable[[Example, np.random.Generator], Example],
                  process_index: int | None = None, process_count: int | None = None,
                  num_threads: int = 4, prefetch: int = 4,
                  num_workers: int = 0) -> Iterator[Batch]:
  """Infinite iterator of this process's share of each global batch, from `start_step` on.

  Deterministic in (seed, step): see the module docstring. `process_index`/`process_count`
  default to JAX's. `num_workers` > 0 builds batches in that many spawned processes (same
  batches, in the same order).
  """
  if len(source) == 0:
    raise errors.DatasetError(f'cannot draw training batches from an empty source {source!r}')
  if process_index is None or process_count is None:
    process_index, process_count = jax.process_index(), jax.process_count()

  make_batch = functools.partial(_train_batch, source, seed,
                                 global_batch_size=global_batch_size,
                                 process_index=process_index, process_count=process_count,
                                 preprocess=preprocess)

  def steps():
    step = start_step
    while True:
      yield step
      step += 1

  return _prefetched(make_batch, steps(), num_threads, prefetch, num_workers)


def eval_batches(source, batch_size: int, preprocess: Callable[[Example], Example],
                 num_examples: int | None = None, num_threads: int = 4,
                 prefetch: int = 4) -> Iterator[Batch]:
  """The first `num_examples` examples in order, in batches of `batch_size`.

  The last batch is padded with copies of its first example; `batch["mask"]` is False there.
  """
  total = len(source) if num_examples is None else min(num_examples, len(source))
  num_batches = -(-total // batch_size)

  def make_batch(batch_index):
    indices = list(range(batch_index * batch_size, min(total, (batch_index + 1) * batch_size)))
    examples = [preprocess(source[i]) for i in indices]
    mask = np.zeros(batch_size, dtype=bool)
    mask[:len(examples)] = True
    examples += [examples[0]] * (batch_size - len(examples))
    batch = collate(examples)
    batch['mask'] = mask
    return batch

  return _prefetched(make_batch, iter(range(num_batches)), num_threads, prefetch)
