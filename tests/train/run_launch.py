"""Runs a launcher module in a subprocess test, optionally signalling itself at a given batch.

  python tests/train/run_launch.py launch.train --config=... --workdir=...
"""

import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _signal_at_batch(signum: int, at_batch: int, delay_s: float) -> None:
  """Sends `signum` to this process when the loop asks for batch `at_batch`."""
  import time  # pylint: disable=g-import-not-at-top
  from tfic_jax.data import pipeline  # pylint: disable=g-import-not-at-top
  real_train_batches = pipeline.train_batches

  def signalling_train_batches(*args, **kwargs):
    for i, batch in enumerate(real_train_batches(*args, **kwargs)):
      if i == at_batch:
        time.sleep(delay_s)
        os.kill(os.getpid(), signum)
      yield batch

  pipeline.train_batches = signalling_train_batches


if os.environ.get("TFIC_TEST_KILL_AT_BATCH"):
  # A real, uncatchable kill at a deterministic point (after a grace period for async
  # checkpoint writes).
  import signal  # pylint: disable=g-import-not-at-top
  _signal_at_batch(signal.SIGKILL, int(os.environ["TFIC_TEST_KILL_AT_BATCH"]),
                   float(os.environ.get("TFIC_TEST_KILL_DELAY_S", "1")))
if os.environ.get("TFIC_TEST_SIGTERM_AT_BATCH"):
  # A catchable SIGTERM (a preemption notice).
  import signal  # pylint: disable=g-import-not-at-top
  _signal_at_batch(signal.SIGTERM, int(os.environ["TFIC_TEST_SIGTERM_AT_BATCH"]), 0.0)
module = sys.argv[1]
sys.argv = [module] + sys.argv[2:]
runpy.run_module(module, run_name="__main__", alter_sys=True)
