r"""Decompresses a .tfic file; the header names the model that made it, so no flags are needed.

  python -m launch.decompress --input=a.tfic --output=b.png [--original=a.png]
  python -m launch.decompress --workdir=workdirs/codec_mse_q3 --input=a.tfic --output=b.png
"""

import sys

from absl import app
from absl import flags
from absl import logging

from tfic_jax import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("input", None, "The .tfic file.")
flags.DEFINE_string("output", None, "Where to write the decoded image (PNG).")
flags.DEFINE_string("workdir", None, "Decode with this workdir's codec instead of the shipped "
                    "model the header names (must be the model that made the file).")
flags.DEFINE_string("original", None, "Original image, to print the PSNR.")
flags.mark_flags_as_required(["input", "output"])


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  from tfic_jax.codec import files  # pylint: disable=g-import-not-at-top
  try:
    report = files.decompress_file(FLAGS.input, FLAGS.output, FLAGS.workdir, FLAGS.original)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  print(f"{FLAGS.output}: {files.format_report(report)}")


if __name__ == "__main__":
  app.run(main)
