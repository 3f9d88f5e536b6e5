"""tensorflow-datasets builders: Part A (`synth_text`), Part B (`book_patches`), and pages of real
typeset PDFs (`documents`, `document_crops`, `document_words`; docs/data.md).

Written as array_record files and read back with random access (`tfds.data_source`), without
TensorFlow: images are yielded as encoded PNG bytes, text as str, and variable-length boxes as
flattened float32 vectors (4 numbers per box) whose lengths give the counts.

Generation is spread over `num_workers` processes with an ordered `imap`, so the files are the
same whatever the number of workers. Examples are deterministic in (config, split, index).
"""

import collections
import dataclasses
import io
import multiprocessing

from absl import logging
import cv2
import numpy as np
from PIL import Image
import tensorflow_datasets as tfds
from tensorflow_datasets.core import shuffle as tfds_shuffle
from tensorflow_datasets.core import utils as tfds_utils
import tqdm

from tfic_jax import errors
from tfic_jax.data import book
from tfic_jax.data import conditions
from tfic_jax.data import documents
from tfic_jax.data import synth_text

# Past MAX_MEM_BUFFER_SIZE (1 GB) of encoded examples, tfds spills its ordering buffer to
# temporary files through tf.io.gfile, which needs TensorFlow (the full synth_text train split
# is ~1 GB of PNGs). Keep the buffer in memory instead: a split holds at most a few GB.
tfds_shuffle.MAX_MEM_BUFFER_SIZE = max(tfds_shuffle.MAX_MEM_BUFFER_SIZE, 32 << 30)

SYNTH_SPLIT_SEEDS = {'train': 0, 'test': 1, 'test_heldout_fonts': 2}
BOOK_SEED = 2285
_BOX_FIELDS = ('char_boxes', 'word_boxes', 'line_boxes')


def encode_png(image: np.ndarray) -> bytes:
  """uint8 [H, W, 1|3] → PNG bytes (grayscale stored as mode L)."""
  pil = Image.fromarray(image[:, :, 0] if image.shape[-1] == 1 else image)
  buffer = io.BytesIO()
  pil.save(buffer, format='PNG')
  return buffer.getvalue()


def _ordered_map(function, items, num_workers, description, initializer=None, initargs=()):
  """`map(function, items)` over `num_workers` processes, in order, with a progress bar."""
  items = list(items)
  progress = dict(total=len(items), desc=description, unit='ex', smoothing=0.05)
  if num_workers <= 1:
    if initializer is not None:
      initializer(*initargs)
    yield from tqdm.tqdm(map(function, items), **progress)
    return
  # Spawned, not forked: the builder may run inside a process that already runs JAX's threads
  # (e.g. `launch.train` building a missing dataset), and forking such a process can deadlock.
  # The corpus reaches the workers through `initargs`.
  context = multiprocessing.get_context('spawn')
  with context.Pool(num_workers, initializer=initializer, initargs=initargs) as pool:
    chunksize = max(1, min(32, len(items) // (4 * num_workers)))
    yield from tqdm.tqdm(pool.imap(function, items, chunksize=chunksize), **progress)


class _LocalBuilder(tfds.core.GeneratorBasedBuilder):
  """A builder that downloads nothing and so needs no checksums file next to its code.

  tfds looks for `checksums.tsv` beside the module via `code_path`, which for a module of an
  ordinary package touches `importlib_resources` (not installed here, and not needed).
  """

  @tfds_utils.classproperty
  @classmethod
  def code_path(cls):
    return None

  def __init__(self, *, num_workers: int = 1, **kwargs):
    super().__init__(**kwargs)
    self._num_workers = num_workers


# ----------------------------------------------------------------------------- synth_text


@dataclasses.dataclass
class SynthTextConfig(tfds.core.BuilderConfig):
  height: int = 256
  width: int = 512
  num_train: int = 20000
  num_test: int = 600
  num_test_heldout_fonts: int = 600
  text_source: str = 'dict'


def _render_synth_example(args):
  spec, seed, index = args
  example = synth_text.render_example(spec, seed, index)
  return index, {'image': encode_png(example['image']), 'text': example['text'],
                 'font': example['font']}


class SynthText(_LocalBuilder):
  """Part A: one trdg text line per RGB image (paper §4.1: ~20k train / 600 test, 256×512)."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'trdg lines scaled to fill 60–95 % of the width; held-out fonts.'}
  BUILDER_CONFIGS = [
      SynthTextConfig(name='default', description='Paper size: 20000/600/600 at 256×512.'),
      SynthTextConfig(name='small', height=128, width=256, num_train=4000, num_test=300,
                      num_test_heldout_fonts=300, description='CPU-sized training, 128×256.'),
      SynthTextConfig(name='medium', height=128, width=256, num_train=20000, num_test=600,
                      num_test_heldout_fonts=600,
                      description='The paper-size set at 128×256, for CPU training.'),
      SynthTextConfig(name='tiny', height=64, width=128, num_train=64, num_test=16,
                      num_test_heldout_fonts=16, description='For tests, 64×128.'),
  ]
  DEFAULT_CONFIG_NAME = 'default'

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=(config.height, config.width, 3),
                                         encoding_format='png'),
            'text': tfds.features.Text(),
            'font': tfds.features.Text(),
        }),
        supervised_keys=('image', 'text'),
        disable_shuffling=True,  # index i is example i; training shuffles by (seed, epoch)
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # nothing to download
    config = self.builder_config
    sizes = {'train': config.num_train, 'test': config.num_test,
             'test_heldout_fonts': config.num_test_heldout_fonts}
    return {split: self._generate_examples(split, size) for split, size in sizes.items()}

  def _generate_examples(self, split, num_examples):
    config = self.builder_config
    spec = synth_text.SynthTextSpec(
        height=config.height, width=config.width, text_source=config.text_source,
        font_split='heldout' if split == 'test_heldout_fonts' else 'seen')
    tasks = [(spec, SYNTH_SPLIT_SEEDS[split], i) for i in range(num_examples)]
    yield from _ordered_map(_render_synth_example, tasks, self._num_workers,
                            f'synth_text/{config.name} {split}')


# ----------------------------------------------------------------------------- book_patches


@dataclasses.dataclass
class BookPatchesConfig(tfds.core.BuilderConfig):
  num_pages: int = 2285
  page_height: int = 1024
  page_width: int = 768
  degrade_factor: float = book.DEFAULT_DEGRADE_FACTOR
  jpeg_quality: int = 1
  font_size_range: tuple[int, int] = book.PageSpec.font_size_range  # em size in page pixels


def page_spec(config: BookPatchesConfig) -> book.PageSpec:
  """The page geometry and type size of a `book_patches` config."""
  return book.PageSpec(height=config.page_height, width=config.page_width,
                       font_size_range=tuple(config.font_size_range))


_WORKER_SENTENCES = {}


def _set_worker_sentences(pools):
  _WORKER_SENTENCES.clear()
  _WORKER_SENTENCES.update(pools)


def flatten_boxes(boxes: np.ndarray) -> np.ndarray:
  """float32 [N, 4] → [4N]; `unflatten_boxes` inverts it."""
  return np.asarray(boxes, dtype=np.float32).reshape(-1)


def unflatten_boxes(flat: np.ndarray) -> np.ndarray:
  return np.asarray(flat, dtype=np.float32).reshape(-1, 4)


def _render_book_page(args):
  config, split, page_index = args
  spec = page_spec(config)
  patches = book.page_patches(_WORKER_SENTENCES[split], page_index, BOOK_SEED, spec,
                              config.degrade_factor, config.jpeg_quality)
  examples = []
  for patch_index, patch in enumerate(patches):
    examples.append((f'{page_index:05d}_{patch_index:02d}', {
        'clean': encode_png(patch['clean']),
        'degraded': encode_png(patch['degraded']),
        'text': patch['text'],
        'word_texts': '\n'.join(patch['word_texts']),
        'page': page_index,
        'corner': np.asarray(patch['corner'], dtype=np.int32),
        'font': patch['font'],
        **{field: flatten_boxes(patch[field]) for field in _BOX_FIELDS},
    }))
  return examples


class BookPatches(_LocalBuilder):
  """Part B: aligned clean / degraded 64×256 grayscale patches of rendered book pages (§4.6)."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Pages set from prose on the machine; split 80/20 by page.'}
  BUILDER_CONFIGS = [
      BookPatchesConfig(name='default', description='2285 pages → ~22850 patches (the paper).'),
      BookPatchesConfig(name='small', num_pages=200, description='200 pages → ~2000 patches.'),
      BookPatchesConfig(name='tiny', num_pages=3, description='3 pages, for tests.'),
      # The same pages and patches degraded at a milder factor than 3 (docs/dequant.md,
      # "Degradation factor, receptive field and loss scale").
      *[BookPatchesConfig(name=f'{name}_x{tag}', num_pages=pages, degrade_factor=factor,
                          description=f'`{name}` degraded at factor {factor}.')
        for name, pages in (('default', 2285), ('small', 200))
        for tag, factor in (('2p5', 2.5), ('2', 2.0))],
      # Type twice as large (22–26 px em), degraded at factor 3 or 4: the JPEG blocks then hold
      # parts of letters rather than whole lines (docs/dequant.md, "Type size").
      *[BookPatchesConfig(name=f'{name}_t24{suffix}', num_pages=pages, degrade_factor=factor,
                          font_size_range=(22, 26),
                          description=f'`{name}` set at 22–26 px, degraded at factor {factor}.')
        for name, pages in (('default', 2285), ('small', 200))
        for suffix, factor in (('', 3.0), ('_x4', 4.0))],
  ]
  DEFAULT_CONFIG_NAME = 'default'

  def _info(self) -> tfds.core.DatasetInfo:
    patch_shape = (book.PATCH_HEIGHT, book.PATCH_WIDTH, 1)
    boxes = tfds.features.Tensor(shape=(None,), dtype=np.float32)
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            'clean': tfds.features.Image(shape=patch_shape, encoding_format='png'),
            'degraded': tfds.features.Image(shape=patch_shape, encoding_format='png'),
            'text': tfds.features.Text(),  # lines joined by '\n'
            'word_texts': tfds.features.Text(),  # words fully inside, joined by '\n'
            'page': tfds.features.Scalar(dtype=np.int32),
            'corner': tfds.features.Tensor(shape=(2,), dtype=np.int32),  # (left, top) on page
            'font': tfds.features.Text(),
            'char_boxes': boxes,  # [4 * num_chars] over the non-whitespace chars of text
            'word_boxes': boxes,  # [4 * num_words], parallel to word_texts
            'line_boxes': boxes,  # [4 * num_lines], parallel to the lines of text
        }),
        supervised_keys=('degraded', 'clean'),
        disable_shuffling=True,  # patches of a page stay together, in page order
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    page_splits = book.split_pages(self.builder_config.num_pages, BOOK_SEED)
    return {split: self._generate_examples(split, pages) for split, pages in page_splits.items()}

  def _generate_examples(self, split, page_indices):
    sentences = book.gather_sentences()
    pools = {name: book.sentence_pool(sentences, name) for name in ('train', 'test')}
    tasks = [(self.builder_config, split, int(i)) for i in page_indices]
    for examples in _ordered_map(_render_book_page, tasks, self._num_workers,
                                 f'book_patches/{self.builder_config.name} {split} pages',
                                 initializer=_set_worker_sentences, initargs=(pools,)):
      yield from examples


def book_config(name: str = "default"):
  """The `book_patches` builder config `name`; TficError naming the valid ones otherwise."""
  configs = {c.name: c for c in BookPatches.BUILDER_CONFIGS}
  if name not in configs:
    raise errors.TficError(f"book_patches has no config {name!r}; use one of {sorted(configs)}")
  return configs[name]


# ----------------------------------------------------------------------------- documents
#
# Real typeset PDFs (documents.find_pdfs), split by document (documents.document_split): the
# `test` split of every builder below is made of test documents only, which no `train` split
# ever sees. Work is spread by document: one task renders the chosen pages of one document.

DOCUMENT_SEED = 26


@dataclasses.dataclass
class DocumentSelection(tfds.core.BuilderConfig):
  """Which documents and pages, and how they are rendered (shared by the document builders)."""
  max_documents: int = 0  # 0: every document found; else that many, chosen by a hash of the id.
  pages_per_doc: int = 4  # Pages with text per train document (the first ones, in a seeded order).
  test_pages_per_doc: int = 4  # ... per test document.
  dpis: tuple[int, ...] = (100, 150, 200)  # Each page is rendered at one, chosen by a hash.
  conditions: tuple[str, ...] = ('clean', 'scan', 'photo')
  color: bool = False  # RGB pages (else grey).
  test_fraction: float = documents.TEST_FRACTION


def _selected_documents(config: DocumentSelection, split: str) -> list[documents.PdfDocument]:
  skipped = documents.SkipCounter()
  found = documents.find_pdfs(skipped=skipped)
  if config.max_documents:
    found = sorted(found, key=lambda d: documents.page_seed(DOCUMENT_SEED, d.doc_id))
    found = sorted(found[:config.max_documents], key=lambda d: d.doc_id)
  chosen = [d for d in found if documents.document_split(d.doc_id, config.test_fraction) == split]
  logging.info('%s/%s %s: %d of %d documents (%d pages); skipped files: %s', type(config).__name__,
               config.name, split, len(chosen), len(found), sum(d.num_pages for d in chosen),
               dict(skipped) or 'none')
  if not chosen:
    raise errors.DatasetError(
        f'no PDF documents for the {split} split under {documents.pdf_roots()}: run '
        'scripts/install_system_deps.sh (or set TFIC_PDF_ROOTS to folders of PDFs)')
  return chosen


def _document_pages(config: DocumentSelection, document: documents.PdfDocument, split: str,
                    skipped: documents.SkipCounter):
  """Yields the rendered (clean) pages with text of one document, in a seeded page order: up to
  `pages_per_doc` of them, trying at most three times as many pages."""
  wanted = config.test_pages_per_doc if split == 'test' else config.pages_per_doc
  order = np.random.default_rng(documents.page_seed(DOCUMENT_SEED, document.doc_id)).permutation(
      document.num_pages)
  found = 0
  for page_index in order[:3 * wanted + 2]:
    dpi = config.dpis[documents.page_seed(DOCUMENT_SEED, document.doc_id, page_index, 'dpi')
                      % len(config.dpis)]
    page = documents.render_page(document, int(page_index), dpi, color=config.color,
                                 skipped=skipped)
    if page is None:
      continue
    yield page
    found += 1
    if found == wanted:
      return
  if found < wanted:
    skipped.skip('document with fewer pages of text than wanted', document.doc_id)


def _page_image(image: np.ndarray) -> np.ndarray:
  return image[:, :, None] if image.ndim == 2 else image


def _words_fields(words) -> dict:
  return {
      'word_boxes': flatten_boxes(np.asarray([w.box for w in words], np.float32).reshape(-1, 4)),
      'word_texts': '\n'.join(w.text for w in words),
      'word_lines': np.asarray([w.line for w in words], np.int32),
  }


def _log_skips(name: str, split: str, skipped: documents.SkipCounter):
  logging.info('%s %s: skipped %s', name, split, dict(skipped) if skipped else 'nothing')


@dataclasses.dataclass
class DocumentsConfig(DocumentSelection):
  pass


def _render_document_pages(args):
  config, document, split = args
  skipped = documents.SkipCounter()
  examples = []
  for page in _document_pages(config, document, split, skipped):
    for condition in config.conditions:
      shown = conditions.degrade(page, condition, DOCUMENT_SEED)
      examples.append((f'{document.doc_id}|{page.page_index:05d}|{condition}', {
          'image': encode_png(_page_image(shown.image)),
          'doc_id': document.doc_id,
          'page': page.page_index,
          'dpi': np.float32(page.dpi),
          'condition': condition,
          'text': documents.page_text(shown),
          **_words_fields(shown.words),
      }))
  return examples, skipped


class Documents(_LocalBuilder):
  """Whole pages of real typeset PDFs with their words, clean and under scan / photo conditions.

  Each chosen page is rendered at one dpi and appears once per condition (same page, same
  words; under `photo` the boxes are moved with the perspective). Split by document.
  """

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Debian PDF manuals; clean / scan / photo (augraphy); by document.'}
  BUILDER_CONFIGS = [
      DocumentsConfig(name='default', description='Every document, 4 pages each, grey.'),
      DocumentsConfig(name='rgb', color=True, description='`default` in colour.'),
      DocumentsConfig(name='small', max_documents=40, pages_per_doc=2, test_pages_per_doc=2,
                      description='40 documents, 2 pages each, grey.'),
      DocumentsConfig(name='tiny', max_documents=6, pages_per_doc=1, test_pages_per_doc=1,
                      dpis=(75,), description='For tests: 6 documents, 1 page, 75 dpi.'),
  ]
  DEFAULT_CONFIG_NAME = 'default'

  def _info(self) -> tfds.core.DatasetInfo:
    channels = 3 if self.builder_config.color else 1
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=(None, None, channels), encoding_format='png'),
            'doc_id': tfds.features.Text(),  # path under /usr/share; the split hashes it
            'page': tfds.features.Scalar(dtype=np.int32),  # 0-based page of the PDF
            'dpi': tfds.features.Scalar(dtype=np.float32),
            'condition': tfds.features.Text(),  # clean | scan | photo
            'text': tfds.features.Text(),  # documents.page_text: lines joined by '\n'
            'word_boxes': tfds.features.Tensor(shape=(None,), dtype=np.float32),  # [4N] pixels
            'word_texts': tfds.features.Text(),  # N words joined by '\n', reading order
            'word_lines': tfds.features.Tensor(shape=(None,), dtype=np.int32),  # [N] line ids
        }),
        disable_shuffling=True,  # document order, then page, then condition
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    return {split: self._generate_examples(split) for split in documents.SPLITS}

  def _generate_examples(self, split):
    config = self.builder_config
    tasks = [(config, d, split) for d in _selected_documents(config, split)]
    skipped = documents.SkipCounter()
    for examples, document_skipped in _ordered_map(
        _render_document_pages, tasks, self._num_workers, f'documents/{config.name} {split} docs'):
      skipped.update(document_skipped)
      yield from examples
    _log_skips(f'documents/{config.name}', split, skipped)


# ----------------------------------------------------------------------------- document_crops


@dataclasses.dataclass
class DocumentCropsConfig(DocumentSelection):
  height: int = 256
  width: int = 512
  crops_per_page: int = 8
  text_fraction: float = 0.9  # Crops centred on a word; the rest anywhere on the page.
  condition_weights: tuple[float, ...] = (0.4, 0.4, 0.2)  # P(clean), P(scan), P(photo)


def _page_condition(config, page: documents.Page) -> str:
  """One condition per page, drawn with `condition_weights` from a hash of the page."""
  u = documents.page_seed(DOCUMENT_SEED, page.doc_id, page.page_index, 'condition') / 2.0**31
  weights = np.asarray(config.condition_weights[:len(config.conditions)], np.float64)
  cumulative = np.cumsum(weights / weights.sum())
  return config.conditions[min(int(np.searchsorted(cumulative, u, side='right')),
                               len(config.conditions) - 1)]


def words_inside(words, left: float, top: float, right: float, bottom: float):
  """The words whose boxes lie wholly inside the window, moved to window coordinates."""
  inside = []
  for word in words:
    x0, y0, x1, y1 = word.box
    if x0 >= left and y0 >= top and x1 <= right and y1 <= bottom:
      inside.append(dataclasses.replace(word, box=(x0 - left, y0 - top, x1 - left, y1 - top)))
  return inside


def _render_document_crops(args):
  config, document, split = args
  skipped = documents.SkipCounter()
  examples = []
  for page in _document_pages(config, document, split, skipped):
    height, width = page.image.shape[:2]
    if height < config.height or width < config.width:
      skipped.skip('page smaller than the crop', f'{document.doc_id} page {page.page_index}')
      continue
    shown = conditions.degrade(page, _page_condition(config, page), DOCUMENT_SEED)
    image = shown.image if shown.image.ndim == 3 else np.repeat(shown.image[:, :, None], 3, -1)
    rng = np.random.default_rng(documents.page_seed(DOCUMENT_SEED, document.doc_id,
                                                    page.page_index, 'crops'))
    for crop_index in range(config.crops_per_page):
      if shown.words and rng.uniform() < config.text_fraction:
        word = shown.words[rng.integers(len(shown.words))]
        centre_x = (word.box[0] + word.box[2]) / 2 + rng.uniform(-0.4, 0.4) * config.width
        centre_y = (word.box[1] + word.box[3]) / 2 + rng.uniform(-0.4, 0.4) * config.height
      else:
        centre_x, centre_y = rng.uniform(0, width), rng.uniform(0, height)
      left = int(np.clip(round(centre_x - config.width / 2), 0, width - config.width))
      top = int(np.clip(round(centre_y - config.height / 2), 0, height - config.height))
      inside = words_inside(shown.words, left, top, left + config.width, top + config.height)
      examples.append((f'{document.doc_id}|{page.page_index:05d}|{crop_index:02d}', {
          'image': encode_png(image[top:top + config.height, left:left + config.width]),
          'text': documents.words_text(inside),
          'doc_id': document.doc_id,
          'page': page.page_index,
          'dpi': np.float32(page.dpi),
          'condition': shown.condition,
          'corner': np.asarray([left, top], np.int32),
          **_words_fields(inside),
      }))
  return examples, skipped


class DocumentCrops(_LocalBuilder):
  """Codec training crops (RGB; grey pages as three equal channels) of real typeset pages.

  Pages of train documents (test documents for `test`) at several dpi, each under one condition
  (clean / scan / photo by `condition_weights`); `crops_per_page` windows per page, most centred
  near a word. `text`: the words wholly inside, one line per text line, as the codec stage and
  its OCR loss expect.
  """

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Crops of Debian PDF manuals at 100–300 dpi, clean / scan / photo.'}
  BUILDER_CONFIGS = [
      DocumentCropsConfig(name='default', pages_per_doc=12, test_pages_per_doc=2,
                          dpis=(100, 150, 200, 300),
                          description='256×512, 12 pages per train document, 8 crops each.'),
      DocumentCropsConfig(name='tiles', height=256, width=256, pages_per_doc=12,
                          test_pages_per_doc=2, dpis=(100, 150, 200, 300),
                          description='256×256 tiles of the same pages.'),
      DocumentCropsConfig(name='small', max_documents=40, pages_per_doc=4, test_pages_per_doc=1,
                          dpis=(100, 150, 200, 300), description='40 documents, 256×512.'),
      DocumentCropsConfig(name='tiny', height=128, width=256, max_documents=6, pages_per_doc=1,
                          test_pages_per_doc=1, crops_per_page=3, dpis=(75,),
                          description='For tests: 128×256 crops of 6 documents at 75 dpi.'),
  ]
  DEFAULT_CONFIG_NAME = 'default'

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=(config.height, config.width, 3),
                                         encoding_format='png'),
            'text': tfds.features.Text(),  # words wholly inside, lines joined by '\n'
            'doc_id': tfds.features.Text(),
            'page': tfds.features.Scalar(dtype=np.int32),
            'dpi': tfds.features.Scalar(dtype=np.float32),
            'condition': tfds.features.Text(),
            'corner': tfds.features.Tensor(shape=(2,), dtype=np.int32),  # (left, top) on page
            'word_boxes': tfds.features.Tensor(shape=(None,), dtype=np.float32),  # crop pixels
            'word_texts': tfds.features.Text(),
            'word_lines': tfds.features.Tensor(shape=(None,), dtype=np.int32),
        }),
        supervised_keys=('image', 'text'),
        disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    return {split: self._generate_examples(split) for split in documents.SPLITS}

  def _generate_examples(self, split):
    config = self.builder_config
    tasks = [(config, d, split) for d in _selected_documents(config, split)]
    skipped = documents.SkipCounter()
    for examples, document_skipped in _ordered_map(
        _render_document_crops, tasks, self._num_workers,
        f'document_crops/{config.name} {split} docs'):
      skipped.update(document_skipped)
      yield from examples
    _log_skips(f'document_crops/{config.name}', split, skipped)


# ----------------------------------------------------------------------------- document_words


@dataclasses.dataclass
class DocumentWordsConfig(DocumentSelection):
  height: int = 128  # The canvas of synth_text's `medium` / `small` configs (the judge's data).
  width: int = 256
  runs_per_page: int = 24
  max_words: int = 3  # A run: 1..max_words consecutive words of one line ...
  max_chars: int = 24  # ... of at most this many characters (the judge reads ≤ 25).
  condition_weights: tuple[float, ...] = (0.4, 0.4, 0.2)


def layout_on_canvas(image: np.ndarray, box, canvas_shape, text_height: float = 0.45,
                     max_fill: float = 0.9, margin: float = 0.1) -> np.ndarray:
  """A text box of a page laid out as the judge reads a word box (`tfic_jax.ocr.api.crop_words`
  in "canvas" mode, with the shipped judge's word_text_height 0.45, word_max_fill 0.9 and
  word_stretch 2): scaled, aspect kept, to `text_height` of the canvas height (narrower if it
  would span more than `max_fill` of the width), centred, on the crop's own background colour
  (the median of its border). On a canvas twice as wide as high, which the adapter squeezes to
  the judge's 1:4 input, keeping the aspect here is the judge's 2× stretch there.
  `margin` × box height of the page is kept around the box. uint8 [H, W, C] → [h, w, C]."""
  out_h, out_w = canvas_shape
  height, width = image.shape[:2]
  x0, y0, x1, y1 = box
  pad = margin * (y1 - y0)
  left, top = int(max(0, np.floor(x0 - pad))), int(max(0, np.floor(y0 - pad)))
  right, bottom = int(min(width, np.ceil(x1 + pad))), int(min(height, np.ceil(y1 + pad)))
  crop = image[top:bottom, left:right]
  crop_h, crop_w = crop.shape[:2]
  scale = min(text_height * out_h / max(y1 - y0, 1.0), max_fill * out_w / crop_w,
              out_h / crop_h)
  new_w, new_h = max(1, round(crop_w * scale)), max(1, round(crop_h * scale))
  resized = cv2.resize(crop, (new_w, new_h),
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
  resized = resized.reshape(new_h, new_w, -1)
  border = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]]).reshape(
      -1, crop.shape[2])
  canvas = np.empty((out_h, out_w, crop.shape[2]), np.uint8)
  canvas[:] = np.median(border, axis=0).astype(np.uint8)
  top_out, left_out = (out_h - new_h) // 2, (out_w - new_w) // 2
  canvas[top_out:top_out + new_h, left_out:left_out + new_w] = resized
  return canvas


def word_runs(words, rng: np.random.Generator, count: int, max_words: int, max_chars: int):
  """`count` runs of 1..max_words consecutive words of one line (with a letter or digit, at
  most `max_chars` characters joined by spaces), drawn with `rng`: [(text, box)]."""
  lines = collections.defaultdict(list)
  for word in words:
    lines[word.line].append(word)
  line_words = [line for line in lines.values() if line]
  runs = []
  for _ in range(count * 4):  # Some draws fail the rules; bounded retries.
    if len(runs) == count or not line_words:
      break
    line = line_words[rng.integers(len(line_words))]
    start = int(rng.integers(len(line)))
    run = line[start:start + int(rng.integers(1, max_words + 1))]
    text = ' '.join(w.text for w in run)
    if len(text) > max_chars or not any(c.isalnum() for c in text):
      continue
    box = (min(w.box[0] for w in run), min(w.box[1] for w in run),
           max(w.box[2] for w in run), max(w.box[3] for w in run))
    if box[2] - box[0] < 2 or box[3] - box[1] < 4:
      continue
    runs.append((text, box))
  return runs


def _render_document_words(args):
  config, document, split = args
  skipped = documents.SkipCounter()
  examples = []
  for page in _document_pages(config, document, split, skipped):
    shown = conditions.degrade(page, _page_condition(config, page), DOCUMENT_SEED)
    image = shown.image if shown.image.ndim == 3 else np.repeat(shown.image[:, :, None], 3, -1)
    rng = np.random.default_rng(documents.page_seed(DOCUMENT_SEED, document.doc_id,
                                                    page.page_index, 'words'))
    runs = word_runs(shown.words, rng, config.runs_per_page, config.max_words, config.max_chars)
    for run_index, (text, box) in enumerate(runs):
      canvas = layout_on_canvas(image, box, (config.height, config.width))
      examples.append((f'{document.doc_id}|{page.page_index:05d}|{run_index:03d}', {
          'image': encode_png(canvas),
          'text': text,
          'doc_id': document.doc_id,
          'page': page.page_index,
          'dpi': np.float32(page.dpi),
          'condition': shown.condition,
      }))
  return examples, skipped


class DocumentWords(_LocalBuilder):
  """Recognizer examples from real typeset pages: runs of 1–3 words of one line (≤ 24
  characters) cut from clean / scan / photo pages of train documents and laid out on
  synth_text's canvas as the judge lays out a word box when it reads a page
  (`layout_on_canvas`), so the OCR stage trains on them as on synthetic lines (`image` uint8
  [H, W, 3], `text`)."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Word runs of Debian PDF manuals on 128×256 canvases.'}
  BUILDER_CONFIGS = [
      DocumentWordsConfig(name='default', pages_per_doc=12, test_pages_per_doc=2,
                          dpis=(100, 150, 200, 300),
                          description='128×256 canvases, 12 pages per train document.'),
      DocumentWordsConfig(name='large', height=256, width=512, pages_per_doc=12,
                          test_pages_per_doc=2, dpis=(100, 150, 200, 300),
                          description='256×512 canvases (synth_text `default`).'),
      DocumentWordsConfig(name='small', max_documents=40, pages_per_doc=4, test_pages_per_doc=1,
                          dpis=(100, 150, 200, 300), description='40 documents, 128×256.'),
      DocumentWordsConfig(name='tiny', height=64, width=128, max_documents=6, pages_per_doc=1,
                          test_pages_per_doc=1, runs_per_page=4, dpis=(75,),
                          description='For tests: 64×128 (synth_text `tiny`), 6 documents.'),
  ]
  DEFAULT_CONFIG_NAME = 'default'

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=(config.height, config.width, 3),
                                         encoding_format='png'),
            'text': tfds.features.Text(),
            'doc_id': tfds.features.Text(),
            'page': tfds.features.Scalar(dtype=np.int32),
            'dpi': tfds.features.Scalar(dtype=np.float32),
            'condition': tfds.features.Text(),
        }),
        supervised_keys=('image', 'text'),
        disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    return {split: self._generate_examples(split) for split in documents.SPLITS}

  def _generate_examples(self, split):
    config = self.builder_config
    tasks = [(config, d, split) for d in _selected_documents(config, split)]
    skipped = documents.SkipCounter()
    for examples, document_skipped in _ordered_map(
        _render_document_words, tasks, self._num_workers,
        f'document_words/{config.name} {split} docs'):
      skipped.update(document_skipped)
      yield from examples
    _log_skips(f'document_words/{config.name}', split, skipped)


BUILDERS = {'synth_text': SynthText, 'book_patches': BookPatches, 'documents': Documents,
            'document_crops': DocumentCrops, 'document_words': DocumentWords}
