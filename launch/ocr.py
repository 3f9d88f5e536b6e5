r"""Reads text lines with the OCR judge: prints `PATH<TAB>TEXT` per image.

  python -m launch.ocr IMAGE...                       # the shipped default, models/ocr_default/
  python -m launch.ocr --workdir=workdirs/ocr_crnn_small IMAGE...
  python -m launch.ocr --model_dir=models/ocr_trba IMAGE...
  python -m launch.ocr --detect PAGE...               # whole pages / patches: CRAFT + judge,
                                                      # prints `PATH<TAB>LINE` per text line
  python -m launch.ocr --detect --detector_workdir=workdirs/craft_small PAGE...
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
flags.DEFINE_boolean("detect", False,
                     "Read whole pages or patches: detect words with CRAFT, read them in reading "
                     "order (tfic_jax/chains/page_ocr.py).")
flags.DEFINE_string("detector_workdir", None,
                    "With --detect: CRAFT workdir, model directory or shipped name "
                    "(default: models/craft_default).")


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
    if FLAGS.detect:
      from tfic_jax.detect import api as detect_api  # pylint: disable=g-import-not-at-top
      detector, detector_variables = detect_api.load(FLAGS.detector_workdir)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)

  import jax  # pylint: disable=g-import-not-at-top

  from tfic_jax.chains import page_ocr  # pylint: disable=g-import-not-at-top
  recognize = jax.jit(lambda v, x: api.recognize(model, v, x, FLAGS.resize_mode))
  failed = 0
  for path, image in zip(paths, images):
    try:
      if FLAGS.detect:
        reading = page_ocr.read_page(detector, detector_variables, model, variables, image,
                                     FLAGS.resize_mode)
        for line in reading.lines:
          print(f"{path}\t{line}")
      else:
        # Images differ in size: one at a time (each size compiles once).
        ids = recognize(variables, image[None])
        print(f"{path}\t{model.decode(ids)[0]}")
    except errors.TficError as e:  # e.g. an image too small to read; the others go on.
      failed += 1
      print(f"error: {path}: {e}", file=sys.stderr)
  sys.exit(1 if failed else 0)


if __name__ == "__main__":
  app.run(main)
