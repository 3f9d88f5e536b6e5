r"""How readable the degraded book patches are, per downsampling factor and type size
(docs/dequant.md).

  python scripts/degrade_factor_study.py --num_pages=10 --factors=1.5,2,2.5,3
  python scripts/degrade_factor_study.py --num_pages=10 --factors=3,4,5 --type_sizes=11-13,22-26

For the first `num_pages` book test pages (as `book_patches/default` renders them, or set at
another em size range with `--type_sizes`), degrades each page at every factor with JPEG
quality 1 (`tfic_jax.data.book.degrade`), cuts the same patches and prints, per type size and
factor: Tesseract (psm 6, finds the text itself), the shipped judge read
word by word inside the ground-truth boxes (a reader told where every word is; it scores ~0.18
even on unreadable blotches by guessing letters of the right count), and PSNR to the clean
patches.
"""

import dataclasses
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from absl import app  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

from tfic_jax.data import test_sets

FLAGS = flags.FLAGS
flags.DEFINE_integer("num_pages", 10, "Book test pages (10 patches each).")
flags.DEFINE_list("factors", ["1.5", "2", "2.5", "3"], "Downsampling factors.")
flags.DEFINE_integer("quality", 1, "JPEG quality.")
flags.DEFINE_integer("num_workers", 2, "Tesseract processes.")
flags.DEFINE_list("type_sizes", ["11-13"], "Em size ranges in page pixels, LOW-HIGH inclusive "
                  "(11-13: book_patches/default; 22-26: the *_t24 configs).")


def _type_size(text: str) -> tuple[int, int]:
  low, _, high = text.partition("-")
  try:
    sizes = (int(low), int(high or low))
  except ValueError:
    raise app.UsageError(f"--type_sizes: {text!r} is not LOW-HIGH") from None
  if not 4 <= sizes[0] <= sizes[1]:
    raise app.UsageError(f"--type_sizes: {text!r} needs 4 <= LOW <= HIGH")
  return sizes


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  type_sizes = [_type_size(t) for t in FLAGS.type_sizes]  # Bad flags fail before any work.
  from tfic_jax.data import book  # pylint: disable=g-import-not-at-top
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top
  from tfic_jax.eval import dequant as evaluate  # pylint: disable=g-import-not-at-top
  from tfic_jax.eval import ocr_judge  # pylint: disable=g-import-not-at-top
  from tfic_jax.ocr import api  # pylint: disable=g-import-not-at-top

  config = builders.book_config("default")
  pages = [int(p) for p in book.split_pages(config.num_pages, builders.BOOK_SEED)["test"]]
  pages = pages[:FLAGS.num_pages]
  sentences = test_sets.book_test_sentences()
  judge, variables = api.load()
  box_reader = ocr_judge.make_box_reader(judge)
  print(f"{len(pages)} book test pages, JPEG quality {FLAGS.quality}\n")
  print("| em (px) | factor | em at the JPEG's resolution (px) | patches | Tesseract acc. (psm 6) "
        "| judge acc. (ground-truth word boxes) | PSNR (dB) | Tesseract on the clean patches |")
  print("|---|---|---|---|---|---|---|---|")
  clean_accuracy = {}
  for sizes, factor in [(s, float(f)) for s in type_sizes for f in FLAGS.factors]:
    spec = dataclasses.replace(builders.page_spec(config), font_size_range=sizes)
    patches = [patch for page in pages
               for patch in book.page_patches(sentences, page, builders.BOOK_SEED, spec,
                                              factor, FLAGS.quality)]
    texts = [p["text"] for p in patches]
    degraded = [p["degraded"] for p in patches]
    tesseract, _ = ocr_judge.tesseract_read(degraded, ocr_judge.TESSERACT_BLOCK_PSM,
                                            FLAGS.num_workers)
    judge_texts = [ocr_judge.judge_read_patch(judge, variables, p["degraded"], p["text"],
                                              p["char_boxes"], box_reader) for p in patches]
    psnr = evaluate.set_psnr([p["clean"] for p in patches], degraded)
    if sizes not in clean_accuracy:
      clean_texts, _ = ocr_judge.tesseract_read([p["clean"] for p in patches],
                                                ocr_judge.TESSERACT_BLOCK_PSM, FLAGS.num_workers)
      clean_accuracy[sizes] = ocr_judge.scores(texts, clean_texts)["ocr_accuracy"]
    print(f"| {sizes[0]}–{sizes[1]} | {factor:g} | {sum(sizes) / 2 / factor:.1f} | "
          f"{len(patches)} | "
          f"{ocr_judge.scores(texts, tesseract)['ocr_accuracy']:.3f} | "
          f"{ocr_judge.scores(texts, judge_texts)['ocr_accuracy']:.3f} | {psnr:.2f} | "
          f"{clean_accuracy[sizes]:.3f} |",
          flush=True)


if __name__ == "__main__":
  app.run(main)
