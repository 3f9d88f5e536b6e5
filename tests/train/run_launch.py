"""Runs a launcher module in a subprocess test, optionally signalling itself at a given batch.

  python tests/train/run_launch.py launch.train --config=... --workdir=...
"""

import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _signal_at_batch(signum: int, at_batch: int) -> None:
  """Sends `signum` to this process when the loop asks for batch `at_batch`.

  The loop asks for batch k just before step k + 1, after it has issued the save of any
  checkpoint at step <= k. Orbax writes checkpoints asynchronously, so before signalling this
  waits until every checkpoint already asked for is committed: the signal then lands at a
  deterministic point however loaded the machine is (a real kill that long after a save finds
  it committed too).
  """
  from tfic_jax.data import pipeline  # pylint: disable=g-import-not-at-top
  from tfic_jax.train import checkpoint  # pylint: disable=g-import-not-at-top
  managers = []
  real_create_manager = checkpoint.create_manager

  def recording_create_manager(*args, **kwargs):
    manager = real_create_manager(*args, **kwargs)
    managers.append(manager)
    return manager

  real_train_batches = pipeline.train_batches

  def signalling_train_batches(*args, **kwargs):
    for i, batch in enumerate(real_train_batches(*args, **kwargs)):
      if i == at_batch:
        for manager in managers:
          manager.wait_until_finished()
        os.kill(os.getpid(), signum)
      yield batch

  checkpoint.create_manager = recording_create_manager
  pipeline.train_batches = signalling_train_batches


def _log_toy_reads(prefix: str) -> None:
  """Appends every training example the toy stage's source hands out to PREFIX.<process>."""
  import threading  # pylint: disable=g-import-not-at-top
  import jax  # pylint: disable=g-import-not-at-top
  from tfic_jax.train.stages import toy  # pylint: disable=g-import-not-at-top
  lock = threading.Lock()
  real_train_source = toy.ToyStage.train_source

  class LoggedSource:

    def __init__(self, source):
      self._source = source

    def __len__(self):
      return len(self._source)

    def __getitem__(self, index):
      with lock, open(f"{prefix}.{jax.process_index()}", "a") as log:
        log.write(f"{int(index)}\n")
      return self._source[index]

  toy.ToyStage.train_source = lambda self, data_dir: LoggedSource(
      real_train_source(self, data_dir))


if os.environ.get("TFIC_TEST_READ_LOG"):
  _log_toy_reads(os.environ["TFIC_TEST_READ_LOG"])
if os.environ.get("TFIC_TEST_KILL_AT_BATCH"):
  # A real, uncatchable kill at a deterministic point.
  import signal  # pylint: disable=g-import-not-at-top
  _signal_at_batch(signal.SIGKILL, int(os.environ["TFIC_TEST_KILL_AT_BATCH"]))
if os.environ.get("TFIC_TEST_SIGTERM_AT_BATCH"):
  # A catchable SIGTERM (a preemption notice).
  import signal  # pylint: disable=g-import-not-at-top
  _signal_at_batch(signal.SIGTERM, int(os.environ["TFIC_TEST_SIGTERM_AT_BATCH"]))
module = sys.argv[1]
sys.argv = [module] + sys.argv[2:]
runpy.run_module(module, run_name="__main__", alter_sys=True)
