r"""Reads text lines with the OCR judge: prints `PATH<TAB>TEXT` per image.

  python -m launch.ocr IMAGE...                       # the shipped default, models/ocr_default/
  python -m launch.ocr --workdir=workdirs/ocr_crnn_small IMAGE...
  python -m launch.ocr --model_dir=models/ocr_trba IMAGE...
"""

import sys

from absl import app
from absl import flags
from absl import logging

from tfic_jax import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Training workdir of an OCR stage (its latest checkpoint).")
flags.DEFINE_string("model_dir", None,
                    "Shipped model directory or name under models/ (default: ocr_default).")
flags.DEFINE_enum("resize_mode", None, ["stretch", "pad"],
                  "Override the model's resize mode ('pad' keeps the aspect ratio).")


def main(argv):
  paths = argv[1:]
  logging.set_verbosity(logging.WARNING)  # Orbax logs every restore at INFO.
  if not paths:
    raise app.UsageError("Give one or more image paths.")
  # pylint: disable=g-import-not-at-top
  from tfic_jax import imageio
  from tfic_jax.ocr import api
  try:
    if FLAGS.workdir and FLAGS.model_dir:
      raise errors.TficError("Give --workdir or --model_dir, not both.")
    images = [imageio.load_image(path, "RGB") for path in paths]  # Fails early on bad paths.
    model, variables = api.load(FLAGS.workdir or FLAGS.model_dir)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)

  import jax  # pylint: disable=g-import-not-at-top
  recognize = jax.jit(lambda v, x: api.recognize(model, v, x, FLAGS.resize_mode))
  for path, image in zip(paths, images):
    # Images differ in size: one at a time (each size compiles once).
    ids = recognize(variables, image[None])
    print(f"{path}\t{model.decode(ids)[0]}")


if __name__ == "__main__":
  app.run(main)
