r"""Measures the DnCNN dequantizer on book test patches (docs/results.md, issue 7).

  python -m launch.eval_dequant --num_pages=20 --out_dir=workdirs/eval_dequant \
      --figure=docs/img/dncnn_fig9.png
  python -m launch.eval_dequant --workdir=workdirs/dncnn_small --tesseract=false

For the degraded, DnCNN-restored and clean version of every test patch: OCR accuracy by
Tesseract (psm 6) and by the OCR judge (word by word in the ground-truth boxes), and PSNR;
restoration throughput on this backend; optionally a Fig. 9-like picture (degraded | clean |
restored). Logic in tfic_jax/dequant/evaluate.py.
"""

import pathlib
import sys

from absl import app
from absl import flags
from absl import logging

from tfic_jax import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None,
                    "DnCNN training workdir or model directory (default: models/dncnn_default).")
flags.DEFINE_string("judge", None, "OCR judge workdir or model (default: models/ocr_default).")
flags.DEFINE_integer("num_pages", 10, "Book test pages (10 patches each).")
flags.DEFINE_string("book_config", "default",
                    "book_patches config whose test pages and degradation are measured "
                    "(default: factor 3; default_x2p5: factor 2.5).")
flags.DEFINE_bool("tesseract", True, "Also read the patches with Tesseract.")
flags.DEFINE_bool("use_judge", True, "Also read the patches with the OCR judge.")
flags.DEFINE_string("out_dir", None, "Where to write eval_dequant.json (with every reading).")
flags.DEFINE_string("figure", None, "Where to write the Fig. 9-like PNG (none if unset).")
flags.DEFINE_integer("figure_rows", 4, "Patches in the figure (those with the most lines).")
flags.DEFINE_integer("batch_size", 50, "Patches per restoration batch.")
flags.DEFINE_list("time_batches", ["1", "16"], "Batch sizes to time the restoration at.")
flags.DEFINE_integer("time_repeats", 5, "Timed calls per batch size (median).")
flags.DEFINE_bool("time_page", True, "Also time the restoration of one whole page.")
flags.DEFINE_integer("num_workers", 2, "Processes rendering pages and running Tesseract.")
flags.DEFINE_bool("ocr_guided", False, "Measure the OCR-guided chain (D1 + CRAFT + D2).")
flags.DEFINE_string("d2_workdir", None, "With --ocr_guided: D2 (default: dequant_ocr_default).")
flags.DEFINE_string("craft", None, "With --ocr_guided: CRAFT (default: D2's).")
flags.DEFINE_float("paste_margin", 0.0, "With --ocr_guided: pixels around each word box that "
                   "D2's output replaces too (0: the box only).")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)
  from tfic_jax.dequant import evaluate  # pylint: disable=g-import-not-at-top
  try:
    if FLAGS.ocr_guided:
      from tfic_jax.dequant import evaluate_ocr_guided  # pylint: disable=g-import-not-at-top
      evaluate_ocr_guided.run(
          d2_path=FLAGS.d2_workdir, d1_path=FLAGS.workdir, craft_path=FLAGS.craft,
          judge_path=FLAGS.judge, num_pages=FLAGS.num_pages, use_tesseract=FLAGS.tesseract,
          out_dir=pathlib.Path(FLAGS.out_dir) if FLAGS.out_dir else None,
          figure_path=pathlib.Path(FLAGS.figure) if FLAGS.figure else None,
          figure_rows=FLAGS.figure_rows, num_workers=FLAGS.num_workers,
          book_config=FLAGS.book_config, paste_margin=FLAGS.paste_margin)
      return
    evaluate.run(
        model_path=FLAGS.workdir, num_pages=FLAGS.num_pages, use_tesseract=FLAGS.tesseract,
        use_judge=FLAGS.use_judge, judge_path=FLAGS.judge,
        out_dir=pathlib.Path(FLAGS.out_dir) if FLAGS.out_dir else None,
        figure_path=pathlib.Path(FLAGS.figure) if FLAGS.figure else None,
        figure_rows=FLAGS.figure_rows, batch_size=FLAGS.batch_size,
        time_batches=[int(b) for b in FLAGS.time_batches], time_repeats=FLAGS.time_repeats,
        time_whole_page=FLAGS.time_page, num_workers=FLAGS.num_workers,
        book_config=FLAGS.book_config)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)
