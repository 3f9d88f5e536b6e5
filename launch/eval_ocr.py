r"""Measures the OCR judge (the frozen recognizer behind TFIC's L_OCR) next to Tesseract.

  python -m launch.eval_ocr                              # models/ocr_default, 600 lines/split
  python -m launch.eval_ocr --model=workdirs/ocr_crnn_small --num_images=200 --book_pages=10

1. Part A: `synth_text` test lines at full size (256×512): `test` (fonts seen in training) and
   `test_heldout_fonts` (fonts never trained on), exactly the builder's examples (read from
   `--data_dir` when the `default` dataset is built there, else rendered the same way). Mean OCR
   accuracy (the paper's metric) and exact-line (word) accuracy of the judge (batched, jitted
   greedy reading) and of Tesseract (psm 7).
2. Part B: clean and degraded `book_patches` test patches (the builder's `default` test pages).
   The judge reads every visible word (its box is the union of the word's ground-truth character
   boxes: the ground-truth word box for a whole word, the visible letters of a word cut at the
   patch border; by default its vertical extent is its line's, `--word_box_height`) cropped as
   the model's `word_resize_mode` says (`--word_resize_mode`), and joins words by spaces and
   lines by newlines; Tesseract reads the whole patch (psm 6).
3. Speed: the judge's ms/image at each `--time_batches` batch size on the current backend
   (256×512×3 uint8 canvases through the adapter, compiled first, median of `--time_repeats`
   calls) and Tesseract's ms/line (wall time of the psm 7 readings / lines).

Prints a markdown table and writes `eval_ocr.json` (settings, results, per-example readings)
to `--out`.
"""

from collections.abc import Sequence
import os
import pathlib
import sys

from absl import app
from absl import flags
from absl import logging

from tfic_jax import errors
from tfic_jax.eval import ocr_judge

_MODEL = flags.DEFINE_string(
    "model", None, "Training workdir, model directory or shipped model name (default: the "
    "shipped default judge, models/ocr_default).")
_NUM_IMAGES = flags.DEFINE_integer("num_images", 600, "synth_text test lines per split.")
_BOOK_PAGES = flags.DEFINE_integer("book_pages", 20, "book_patches test pages (10 patches each).")
_TESSERACT = flags.DEFINE_boolean("tesseract", True, "Also read everything with Tesseract.")
_OUT = flags.DEFINE_string("out", "out/eval_ocr", "Directory for eval_ocr.json.")
_TIME_BATCHES = flags.DEFINE_list("time_batches", ["1", "64"], "Batch sizes to time the judge at.")
_TIME_REPEATS = flags.DEFINE_integer("time_repeats", 10, "Timed calls per batch size (median).")
_HEIGHT = flags.DEFINE_integer("height", 256, "synth_text canvas height (the dataset's: 256).")
_WIDTH = flags.DEFINE_integer("width", 512, "synth_text canvas width (the dataset's: 512).")
_DATA_DIR = flags.DEFINE_string(
    "data_dir", "data", "Where a built synth_text/default is read from (else rendered).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 64, "Judge batch size for the accuracies.")
_WORD_RESIZE_MODE = flags.DEFINE_string(
    "word_resize_mode", None, "How book word boxes become the judge's input: pad | stretch | "
    "canvas (default: the model's `word_resize_mode`; see tfic_jax.ocr.api.crop_words).")
_WORD_BOX_HEIGHT = flags.DEFINE_string(
    "word_box_height", "line", "Vertical extent of each book word box: line (its line's "
    "characters) or word (the tight ground-truth word box).")
_NUM_WORKERS = flags.DEFINE_integer(
    "num_workers", None, "Processes rendering test data and running Tesseract (default: the "
    "number of CPU cores).")


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)  # Orbax logs every restore at INFO.
  try:
    try:
      time_batches = [int(b) for b in _TIME_BATCHES.value]
    except ValueError:
      raise errors.TficError(
          f"--time_batches must be integers, got {_TIME_BATCHES.value}") from None
    ocr_judge.run(model_path=_MODEL.value, num_images=_NUM_IMAGES.value, book_pages=_BOOK_PAGES.value,
        use_tesseract=_TESSERACT.value,
        out_dir=pathlib.Path(_OUT.value) if _OUT.value else None, time_batches=time_batches,
        height=_HEIGHT.value, width=_WIDTH.value, data_dir=_DATA_DIR.value,
        batch_size=_BATCH_SIZE.value, num_workers=_NUM_WORKERS.value or os.cpu_count() or 1,
        time_repeats=_TIME_REPEATS.value, word_resize_mode=_WORD_RESIZE_MODE.value,
        word_box_height=_WORD_BOX_HEIGHT.value)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)
