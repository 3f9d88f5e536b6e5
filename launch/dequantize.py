r"""Restores a degraded (extreme-JPEG) grayscale image with the DnCNN dequantizer.

  python -m launch.dequantize --input=degraded.png --output=restored.png   # models/dncnn_default
  python -m launch.dequantize --workdir=workdirs/dncnn_small --input=page.jpg --output=page.png

Works on a 64×256 patch or a whole page (the network is fully convolutional; the image is
padded to a multiple of 8 and cropped back). Colour inputs are converted to grayscale.

  python -m launch.dequantize --ocr-guided --input=degraded.png --output=restored.png
  python -m launch.dequantize --ocr-guided --d2_workdir=workdirs/dequant_ocr_small ...

--ocr-guided runs the whole chain of paper §4.5 (tfic_jax/chains/ocr_guided.py): D1 (--workdir,
default: D2's own), CRAFT on its output (--craft), D2 on each word, pasted back.
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
flags.DEFINE_bool("ocr-guided", False, "Refine the words with the OCR-guided D2 (paper §4.5).")
flags.DEFINE_string("d2_workdir", None, "With --ocr-guided: the D2 workdir or model directory "
                    "(default: models/dequant_ocr_default).")
flags.DEFINE_string("craft", None, "With --ocr-guided: the CRAFT workdir or model directory "
                    "(default: the one D2 was trained with).")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)  # Orbax logs every restore at INFO.
  from tfic_jax.dequant import api  # pylint: disable=g-import-not-at-top
  try:
    if FLAGS["ocr-guided"].value:
      from tfic_jax.chains import ocr_guided  # pylint: disable=g-import-not-at-top
      result = ocr_guided.dequantize_file(FLAGS.input, FLAGS.output, FLAGS.d2_workdir,
                                          FLAGS.workdir, FLAGS.craft)
      result["model"] = f"D1 + CRAFT + D2 {result['d2']} ({result['num_words']} words)"
    elif FLAGS.d2_workdir or FLAGS.craft:
      raise errors.TficError("--d2_workdir and --craft need --ocr-guided.")
    else:
      result = api.dequantize_file(FLAGS.input, FLAGS.output, FLAGS.workdir)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  height, width, _ = result["shape"]
  print(f"{FLAGS.output}: restored {height}×{width} with {result['model']} "
        f"in {result['seconds']:.2f} s")


if __name__ == "__main__":
  app.run(main)
