"""Runs a launcher module in a subprocess test, with the test-only pipeline fallback if needed.

  python tests/train/run_launch.py launch.train --config=... --workdir=...
"""

import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import fallback_pipeline  # pylint: disable=g-import-not-at-top

fallback_pipeline.install_if_missing()

if os.environ.get("TFIC_TEST_KILL_AT_BATCH"):
  # SIGKILL this process when the loop asks for that batch (after a grace period for async
  # checkpoint writes): a real, uncatchable kill at a deterministic point.
  import signal  # pylint: disable=g-import-not-at-top
  import time  # pylint: disable=g-import-not-at-top
  from tfic_jax.data import pipeline  # pylint: disable=g-import-not-at-top
  _real_train_batches = pipeline.train_batches
  _kill_at = int(os.environ["TFIC_TEST_KILL_AT_BATCH"])

  def _dying_train_batches(*args, **kwargs):
    for i, batch in enumerate(_real_train_batches(*args, **kwargs)):
      if i == _kill_at:
        time.sleep(float(os.environ.get("TFIC_TEST_KILL_DELAY_S", "1")))
        os.kill(os.getpid(), signal.SIGKILL)
      yield batch

  pipeline.train_batches = _dying_train_batches

if os.environ.get("TFIC_TEST_SIGTERM_AT_BATCH"):
  # A catchable SIGTERM (preemption notice) when the loop asks for that batch.
  import signal  # pylint: disable=g-import-not-at-top
  from tfic_jax.data import pipeline  # pylint: disable=g-import-not-at-top
  _real_batches_for_term = pipeline.train_batches
  _term_at = int(os.environ["TFIC_TEST_SIGTERM_AT_BATCH"])

  def _terminated_train_batches(*args, **kwargs):
    for i, batch in enumerate(_real_batches_for_term(*args, **kwargs)):
      if i == _term_at:
        os.kill(os.getpid(), signal.SIGTERM)
      yield batch

  pipeline.train_batches = _terminated_train_batches
module = sys.argv[1]
sys.argv = [module] + sys.argv[2:]
runpy.run_module(module, run_name="__main__", alter_sys=True)
