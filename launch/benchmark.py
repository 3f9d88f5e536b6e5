r"""Times a stage's train step and forward pass on the current backend.

  python -m launch.benchmark --config=configs/<experiment>.py [--steps=20] [--config.k=v]

Prints compile time, median step time over --steps (after --warmup steps) and images/s.
See docs/training.md.
"""

import sys

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from tfic_jax import errors

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    "config", None, "Training config file (a get_config() module).", lock_config=True)
flags.DEFINE_integer("steps", 20, "Timed steps (the median is reported).")
flags.DEFINE_integer("warmup", 2, "Untimed steps after compilation.")
flags.mark_flags_as_required(["config"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from tfic_jax.train import benchmark  # pylint: disable=g-import-not-at-top
  try:
    rows = benchmark.benchmark(FLAGS.config, num_steps=FLAGS.steps, num_warmup=FLAGS.warmup)
  except errors.TficError as e:
    logging.flush()
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  print(benchmark.format_table(rows, FLAGS.config))


if __name__ == "__main__":
  app.run(main)
