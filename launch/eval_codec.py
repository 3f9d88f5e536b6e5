r"""Rate–PSNR of learned codecs vs JPEG / WebP / AVIF / JPEG 2000 on synthetic test lines.

  python -m launch.eval_codec --codecs=codec_mse_q1,codec_mse_q2,codec_mse_q3,codec_mse_q4 \
      --num_images=50 --height=128 --width=256 --out_dir=out/eval_codec

Every learned rate is the size of a real file (header included). Prints a table, BD-rates,
timings and coder throughput; writes results.json and rd.png under --out_dir.
"""

import sys

from absl import app
from absl import flags
from absl import logging

from tfic_jax import errors

FLAGS = flags.FLAGS
flags.DEFINE_list("codecs", None, "Learned codecs: workdirs, model dirs or shipped names.")
flags.DEFINE_integer("num_images", 50, "Synthetic test lines (split 'test', seen fonts).")
flags.DEFINE_integer("height", 128, "Canvas height.")
flags.DEFINE_integer("width", 256, "Canvas width.")
flags.DEFINE_string("out_dir", "out/eval_codec", "Where results.json and rd.png go.")
flags.DEFINE_string("label", "learned (mse)", "Legend of the learned curve.")
flags.DEFINE_bool("classical", True, "Also sweep the classical codecs.")
flags.mark_flag_as_required("codecs")


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  from tfic_jax.codec import evaluate  # pylint: disable=g-import-not-at-top
  try:
    report = evaluate.run(FLAGS.codecs, FLAGS.num_images, FLAGS.height, FLAGS.width,
                          FLAGS.out_dir, FLAGS.label, FLAGS.classical)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  print("\n".join(evaluate.summary_lines(report)))
  if FLAGS.out_dir:
    print(f"\nwrote {FLAGS.out_dir}/results.json" + (" and rd.png" if FLAGS.classical else ""))


if __name__ == "__main__":
  app.run(main)
