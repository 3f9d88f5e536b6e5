r"""Trains any stage: `python -m launch.train --config=configs/<experiment>.py --workdir=DIR`.

Config fields can be overridden, e.g. `--config.global_batch_size=64 --config.seed=1`.
Re-running with the same workdir resumes from its latest checkpoint. See docs/training.md.
"""

import sys

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from launch import common
from tfic_jax import errors

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    "config", None, "Training config file (a get_config() module).", lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, config.json and metrics.")
flags.DEFINE_bool("distributed", False,
                  "Call jax.distributed.initialize() (multi-host). Automatic when "
                  "JAX_COORDINATOR_ADDRESS, SLURM_NTASKS>1 or OMPI_COMM_WORLD_SIZE>1 is set.")
flags.DEFINE_string("coordinator_address", None, "host:port of process 0 (multi-host GPU).")
flags.DEFINE_integer("num_processes", None, "Number of processes (multi-host GPU).")
flags.DEFINE_integer("process_id", None, "This process's index (multi-host GPU).")
flags.DEFINE_integer("initialization_timeout", 300,
                     "Seconds to wait for every process to reach the coordinator (multi-host).")
flags.DEFINE_string("compilation_cache", None, "JAX compilation cache directory ('' = off; "
                    "default: $TFIC_JAX_CACHE_DIR or ~/.cache/tfic-jax/xla).")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  common.enable_compilation_cache(FLAGS.compilation_cache)
  # pylint: disable=g-import-not-at-top
  from tfic_jax.train import sharding
  from tfic_jax.train import train
  try:
    sharding.maybe_initialize_distributed(
        FLAGS.distributed, FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id,
        FLAGS.initialization_timeout)
    train.train_and_evaluate(FLAGS.config, FLAGS.workdir)
  except errors.TficError as e:
    logging.flush()
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  except train.Preempted as e:
    print(str(e), file=sys.stderr)
    sys.exit(143)  # As if killed by SIGTERM: schedulers requeue rather than mark it done.


if __name__ == "__main__":
  app.run(main)
