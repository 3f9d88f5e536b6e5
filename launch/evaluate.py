r"""TFIC rate–accuracy evaluation (issue 6): uncompressed, MSE and TFIC codecs, two-layer mode,
JPEG / WebP / AVIF / JPEG 2000 sweeps; bpp, PSNR, OCR accuracy by the judge and by Tesseract;
runtime (encoder vs OCR, batch 1).

  python -m launch.evaluate --config=configs/eval_tfic.py --workdir=out/eval_tfic

Writes results.json, points.csv, readings.json, three plots, rate_table.md and visual_grid.png
under --workdir and prints the tables (docs/evaluation.md).
"""

import sys

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from tfic_jax import errors

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Evaluation config (configs/eval_tfic.py).")
flags.DEFINE_string("workdir", None, "Where the results go.")
flags.mark_flags_as_required(["config", "workdir"])


def _progress(message: str) -> None:
  print(f"[evaluate] {message}", file=sys.stderr, flush=True)


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  from tfic_jax.eval import tfic  # pylint: disable=g-import-not-at-top
  try:
    report = tfic.run(FLAGS.config, FLAGS.workdir, progress=_progress)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  print("\n".join(tfic.summary_lines(report)))
  print(f"\nwrote {', '.join(sorted(report['files'].values()))} under {FLAGS.workdir}")


if __name__ == "__main__":
  app.run(main)
