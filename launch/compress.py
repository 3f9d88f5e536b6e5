r"""Compresses an image into a .tfic file with a learned codec.

  python -m launch.compress --input=a.png --output=a.tfic                  # shipped mse q1
  python -m launch.compress --model=tfic --quality=2 --input=a.png --output=a.tfic
  python -m launch.compress --workdir=workdirs/codec_mse_q3 --input=a.png --output=a.tfic

Prints the real bpp (file size, header included), PSNR of the reconstruction and the time.
"""

import sys

from absl import app
from absl import flags
from absl import logging

from tfic_jax import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("input", None, "Image to compress (any format Pillow reads).")
flags.DEFINE_string("output", None, "Where to write the .tfic file.")
flags.DEFINE_string("workdir", None, "A codec's training workdir or model dir (else shipped).")
flags.DEFINE_enum("model", "mse", ["mse", "mse_low", "tfic"],
                  "Shipped model kind (without --workdir): mse (stage 1), mse_low (MSE at "
                  "TFIC's rates), tfic (stage 2).")
flags.DEFINE_integer("quality", 1, "Shipped rate point, 1 = lowest rate (without --workdir).")
flags.DEFINE_bool("psnr", True, "Also decode and print the PSNR against the input.")
flags.mark_flags_as_required(["input", "output"])


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  # pylint: disable=g-import-not-at-top
  from tfic_jax import imageio
  from tfic_jax import metrics
  from tfic_jax.codec import api
  from tfic_jax.codec import bitstream
  from tfic_jax.codec import files
  try:
    codec = api.load(api.resolve(FLAGS.workdir, FLAGS.model, FLAGS.quality))
    report = files.compress_file(codec, FLAGS.input, FLAGS.output)
    if FLAGS.psnr:
      decoded = bitstream.decompress(codec, open(FLAGS.output, "rb").read())
      report["psnr"] = metrics.psnr(imageio.load_image(FLAGS.input, "RGB"), decoded)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  print(f"{FLAGS.output}: {files.format_report(report)}")


if __name__ == "__main__":
  app.run(main)
