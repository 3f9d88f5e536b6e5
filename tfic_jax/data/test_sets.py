"""The fixed evaluation sets every evaluator reads, rendered as their builders render them.

Synthetic test lines (`synth_text` test splits: read back from a built `synth_text/default`
when there is one, else rendered exactly as the builder does) and the test pages of a
`book_patches` config with their 64×256 patches. Rendering is spread over a spawn process pool
(`worker_pool`) when asked.
"""

from collections.abc import Callable
from collections.abc import Sequence
import contextlib
import itertools
import multiprocessing

from tfic_jax import errors
from tfic_jax.data import book
from tfic_jax.data import builders
from tfic_jax.data import pipeline
from tfic_jax.data import synth_text

SYNTH_SPLITS = ("test", "test_heldout_fonts")
SYNTH_HEIGHT, SYNTH_WIDTH = 256, 512  # The `default` synth_text config (paper size).


@contextlib.contextmanager
def worker_pool(num_workers: int):
  """A spawn process pool (forking after JAX has started is unsafe), or None for 1 worker."""
  if num_workers <= 1:
    yield None
    return
  with multiprocessing.get_context("spawn").Pool(num_workers) as pool:
    yield pool


def _starmap(pool, function: Callable, tasks: Sequence[tuple]) -> list:
  """`[function(*task) for task in tasks]`, in order, in `pool`'s processes if there is one."""
  if pool is None or len(tasks) <= 1:
    return list(itertools.starmap(function, tasks))
  return pool.starmap(function, tasks)


def _dataset_split(split: str, num_images: int, data_dir: str):
  """The built `synth_text/default` split if it is under `data_dir` and long enough, else None."""
  try:
    source = pipeline.load_split("synth_text", split, data_dir, "default",
                                 build_if_missing=False)
  except errors.DatasetError:
    return None
  return source if len(source) >= num_images else None


def synth_test_examples(split: str, num_images: int, height: int, width: int, data_dir: str,
                        pool=None) -> tuple[list[dict], str]:
  """The first `num_images` examples of a synth_text test split: ([{"image", "text", "font"}],
  where they came from). The builder's examples: read back, or rendered exactly as it does."""
  if (height, width) == (SYNTH_HEIGHT, SYNTH_WIDTH):
    source = _dataset_split(split, num_images, data_dir)
    if source is not None:
      return [source[i] for i in range(num_images)], f"{data_dir}/synth_text/default"
  spec = synth_text.SynthTextSpec(
      height=height, width=width,
      font_split="heldout" if split == "test_heldout_fonts" else "seen")
  seed = builders.SYNTH_SPLIT_SEEDS[split]
  tasks = [(spec, seed, index) for index in range(num_images)]
  return _starmap(pool, synth_text.render_example, tasks), "rendered"


def book_test_sentences() -> tuple[str, ...]:
  """The sentence pool of book test pages (prose found on this machine, ~6 s)."""
  return book.sentence_pool(book.gather_sentences(), "test")


def book_test_patches(num_pages: int, pool=None, builder_config: str = "default"
                      ) -> tuple[list[int], list[dict]]:
  """The first `num_pages` test pages of `book_patches/<builder_config>` and their patches,
  rendered as the builder renders them (clean and degraded uint8 [64, 256, 1], text, char
  boxes, ...)."""
  config = builders.book_config(builder_config)
  pages = [int(p) for p in book.split_pages(config.num_pages, builders.BOOK_SEED)["test"]]
  pages = pages[:num_pages]
  if not pages:
    return [], []
  spec = builders.page_spec(config)
  sentences = book_test_sentences()
  tasks = [(sentences, page, builders.BOOK_SEED, spec, config.degrade_factor,
            config.jpeg_quality) for page in pages]
  return pages, [patch for patches in _starmap(pool, book.page_patches, tasks)
                 for patch in patches]
