r"""Restores a degraded (extreme-JPEG) grayscale image with the DnCNN dequantizer.

  python -m launch.dequantize --input=degraded.png --output=restored.png   # models/dncnn_default
  python -m launch.dequantize --workdir=workdirs/dncnn_small --input=page.jpg --output=page.png

Works on a 64×256 patch or a whole page (the network is fully convolutional; the image is
padded to a multiple of 8 and cropped back). Colour inputs are converted to grayscale. The flag
name --ocr-guided is reserved for the OCR-guided refinement (paper §4.5, a later issue).
"""

import sys

from absl import app
from absl import flags
from absl import logging

from tfic_jax import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None,
                    "DnCNN training workdir or model directory (default: models/dncnn_default).")
flags.DEFINE_string("input", None, "Degraded image (PNG, JPEG, ...).", required=True)
flags.DEFINE_string("output", None, "Where to write the restored image (e.g. .png).",
                    required=True)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)  # Orbax logs every restore at INFO.
  from tfic_jax.dequant import api  # pylint: disable=g-import-not-at-top
  try:
    result = api.dequantize_file(FLAGS.input, FLAGS.output, FLAGS.workdir)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  height, width, _ = result["shape"]
  print(f"{FLAGS.output}: restored {height}×{width} with {result['model']} "
        f"in {result['seconds']:.2f} s")


if __name__ == "__main__":
  app.run(main)
