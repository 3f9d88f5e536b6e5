r"""Every evaluation, one launcher: the config's `part` names the evaluator.

  python -m launch.evaluate --config=configs/eval_tfic.py --workdir=out/eval_tfic
  python -m launch.evaluate --config=configs/eval_codec.py --workdir=out/eval_codec
  python -m launch.evaluate --config=configs/eval_ocr.py --workdir=out/eval_ocr
  python -m launch.evaluate --config=configs/eval_detect.py --workdir=out/eval_detect
  python -m launch.evaluate --config=configs/eval_dequant.py --workdir=out/eval_dequant
  python -m launch.evaluate --config=configs/eval_baselines.py --workdir=out/baselines

Settings are config fields, overridden as `--config.<field>=value` (e.g.
`--config.num_images=30`); each config's docstring says what it measures. Results go under
--workdir and the tables are printed (tfic_jax/eval/parts.py; docs/evaluation.md).
"""

import sys

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from launch import common
from tfic_jax import errors
from tfic_jax.eval import parts

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Evaluation config: configs/eval_<part>.py.")
flags.DEFINE_string("workdir", None, "Where the results go.")
flags.DEFINE_string("compilation_cache", None, "JAX compilation cache directory ('' = off; "
                    "default: $TFIC_JAX_CACHE_DIR or ~/.cache/tfic-jax/xla).")
flags.mark_flags_as_required(["config", "workdir"])


def _progress(message: str) -> None:
  print(f"[evaluate] {message}", file=sys.stderr, flush=True)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)  # Orbax logs every restore at INFO.
  common.enable_compilation_cache(FLAGS.compilation_cache)
  try:
    lines = parts.run(FLAGS.config, FLAGS.workdir, progress=_progress)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  except OSError as e:  # An unwritable --workdir or output file: one line, no traceback.
    print(f"error: {e.filename or FLAGS.workdir}: {e.strerror or e}", file=sys.stderr)
    sys.exit(1)
  if lines:
    print("\n".join(lines))


if __name__ == "__main__":
  app.run(main)
