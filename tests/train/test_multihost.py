"""Multi-host training on one machine: two JAX processes (jax.distributed, localhost coordinator,
two CPU devices each, gloo collectives) against one process with the same four devices.

The jobs run once per module (`jobs`): one process; two processes; two processes of which
process 1 is SIGKILLed mid-run, then both restarted. The toy stage trains with SGD and a frozen
reader loaded from a model directory; with Adam, a bias that a BatchNorm cancels has a true
gradient of zero, and Adam turns its float-rounding noise into ±lr steps, so any change of
reduction order (one process with 2 vs 4 devices too) moves it by ~lr (docs/training.md).
"""

import collections
from pathlib import Path
import shutil
import subprocess
import sys

import jax
import numpy as np
import pytest
from train_testlib import REPO

from configs import toy_regression
from tfic_jax import zoo
from tfic_jax.data import pipeline
from tfic_jax.train.stages import toy

sys.path.insert(0, str(REPO / "scripts"))
import multihost_local  # pylint: disable=g-import-not-at-top,wrong-import-position

RUN_LAUNCH = str(Path(__file__).with_name("run_launch.py"))
ENTRY = [RUN_LAUNCH, "launch.train"]
STEPS, BATCH, DEVICES = 8, 8, 2  # global batch 8 over 2 processes x 2 devices
TIMEOUT = 600
# Float tolerance of the comparisons: sums over devices run in another order across processes.
ATOL = 1e-6


def _toy_flags(workdir, reader) -> list[str]:
  return ["--config=configs/toy_regression.py", f"--workdir={workdir}",
          f"--config.num_train_steps={STEPS}", f"--config.global_batch_size={BATCH}",
          "--config.checkpoint_every_steps=2", "--config.keep_checkpoints=10",
          "--config.eval_every_steps=4", "--config.log_every_steps=2",
          "--config.optimizer.name=sgd", f"--config.frozen.reader={reader}"]


def _one_process(flags, devices: int, env=None) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, *ENTRY, *flags], cwd=REPO, capture_output=True,
                        text=True, timeout=TIMEOUT, env=multihost_local.cpu_env(devices, env))


def _log(workdir, index: int) -> str:
  return (Path(workdir) / f"process_{index}.log").read_text()


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
  root = tmp_path_factory.mktemp("multihost")
  reader = root / "reader"  # A frozen sub-model every process reads from its own path.
  zoo.write_model_dir(reader, {"stage": "toy_reader"},
                      toy.init_reader_variables(11, 16, 16, 4))
  out = {"root": root, "reader": reader}

  out["one"] = _one_process(_toy_flags(root / "one", reader), 2 * DEVICES,
                            {"TFIC_TEST_READ_LOG": str(root / "reads_one")})
  out["two"] = multihost_local.run(
      2, DEVICES, _toy_flags(root / "two", reader), root / "two", timeout=TIMEOUT, entry=ENTRY,
      extra_env={i: {"TFIC_TEST_READ_LOG": str(root / "reads_two")} for i in range(2)})

  # Process 1 is killed when it asks for batch 5 (after the step-4 checkpoint); process 0 is
  # then stuck in a collective or fails, and is killed too; both restart and resume.
  flags = _toy_flags(root / "killed", reader)
  processes = multihost_local.start(2, DEVICES, flags, root / "killed" / "first", entry=ENTRY,
                                    extra_env={1: {"TFIC_TEST_KILL_AT_BATCH": "5"}})
  processes[1].wait(timeout=TIMEOUT)
  out["killed_first"] = multihost_local.wait(processes, timeout=60)
  out["killed_resumed"] = multihost_local.run(2, DEVICES, flags, root / "killed", timeout=TIMEOUT,
                                              entry=ENTRY)
  return out


def _assert_close(a, b):
  jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=0, atol=ATOL), a, b)


def test_two_processes_train_to_the_one_process_result(jobs):
  assert jobs["one"].returncode == 0, jobs["one"].stderr[-3000:]
  assert jobs["two"] == [0, 0], _log(jobs["root"] / "two", 0)[-3000:]
  one, two = zoo.load_variables(jobs["root"] / "one"), zoo.load_variables(jobs["root"] / "two")
  assert jax.tree.structure(one) == jax.tree.structure(two)
  _assert_close(two, one)
  log = _log(jobs["root"] / "two", 1)
  assert "process 1 of 2, 2 local / 4 global devices" in log


def _reads(prefix: Path) -> dict[int, list[int]]:
  return {int(path.suffix[1:]): [int(line) for line in path.read_text().split()]
          for path in prefix.parent.glob(prefix.name + ".*")}


def test_each_process_reads_only_its_share_and_together_the_single_process_examples(jobs):
  one, two = _reads(jobs["root"] / "reads_one"), _reads(jobs["root"] / "reads_two")
  assert sorted(one) == [0] and sorted(two) == [0, 1]
  # Every step's batch (and the few the pipeline prefetched past the last step).
  steps = len(one[0]) // BATCH
  assert steps >= STEPS and len(two[0]) == len(two[1]) == steps * BATCH // 2
  seed = toy_regression.get_config().seed
  for index in range(2):
    positions = np.concatenate([pipeline.local_positions(step, BATCH, index, 2)
                                for step in range(steps)])
    share = pipeline.stream_indices(seed, positions, len(_toy_source()))
    assert collections.Counter(two[index]) == collections.Counter(share.tolist())
  assert collections.Counter(two[0]) + collections.Counter(two[1]) == collections.Counter(one[0])


def _toy_source():
  config = toy_regression.get_config()
  return toy.ToySource(config.data.num_train, 1, 1, config.data.source_seed)


def test_only_process_0_writes_metrics_config_and_progress(jobs):
  workdir = jobs["root"] / "two"
  metrics = (workdir / "metrics.jsonl").read_text().splitlines()
  one_metrics = (jobs["root"] / "one" / "metrics.jsonl").read_text().splitlines()
  assert len(metrics) == len(one_metrics) > 0  # one writer: no line twice
  assert (workdir / "config.json").is_file()
  assert len(list((workdir / "tensorboard").rglob("events.*"))) == 1
  assert "toy:" in _log(workdir, 0) and "toy:" not in _log(workdir, 1)  # the progress bar


def test_a_killed_process_and_a_restart_of_both_resume_to_the_same_result(jobs):
  assert jobs["killed_first"][1] == -9
  assert jobs["killed_first"][0] != 0  # failed with its peer, or killed by the test
  assert jobs["killed_resumed"] == [0, 0], _log(jobs["root"] / "killed", 0)[-3000:]
  assert "Resumed from" in _log(jobs["root"] / "killed", 0)
  _assert_close(zoo.load_variables(jobs["root"] / "killed"),
                zoo.load_variables(jobs["root"] / "one"))


def test_the_two_process_checkpoint_restores_and_trains_on_in_one_process(jobs, tmp_path):
  workdir = tmp_path / "workstation"
  shutil.copytree(jobs["root"] / "two", workdir)
  variables = zoo.load_variables(workdir)  # here: one process, one device
  _assert_close(variables, zoo.load_variables(jobs["root"] / "one"))
  flags = _toy_flags(workdir, jobs["reader"])
  result = _one_process([f for f in flags if "num_train_steps" not in f]
                        + [f"--config.num_train_steps={STEPS + 2}"], 1)
  assert result.returncode == 0, result.stderr[-3000:]
  assert f"at step {STEPS}" in result.stderr


def test_a_global_batch_that_does_not_split_over_processes_is_one_error(jobs, tmp_path):
  flags = _toy_flags(tmp_path / "w", jobs["reader"]) + ["--config.global_batch_size=6"]
  statuses = multihost_local.run(2, DEVICES, flags, tmp_path / "w", timeout=TIMEOUT)
  assert statuses == [1, 1]
  for index in range(2):
    lines = [l for l in _log(tmp_path / "w", index).splitlines() if l.startswith("error:")]
    assert lines == ["error: config.global_batch_size=6 must be a positive multiple of the "
                     "number of devices (4: 2 process(es) x 2 local device(s)) for data "
                     "parallelism. Use e.g. config.global_batch_size=8."]
    assert "Traceback" not in _log(tmp_path / "w", index)


def test_a_missing_coordinator_is_one_error(jobs, tmp_path):
  port = multihost_local.free_port()
  flags = _toy_flags(tmp_path / "w", jobs["reader"]) + [
      f"--coordinator_address=127.0.0.1:{port}", "--num_processes=2", "--process_id=1",
      "--initialization_timeout=2"]
  result = _one_process(flags, DEVICES)
  assert result.returncode == 1
  assert result.stderr.strip().splitlines()[-1] == (
      f"error: no coordinator answered at 127.0.0.1:{port} within 2 s: process 0 serves it, "
      "so start process 0 (with the same --coordinator_address) or correct the address")
  assert "Traceback" not in result.stderr
  result = _one_process(_toy_flags(tmp_path / "w", jobs["reader"]) + ["--distributed"], DEVICES)
  assert result.returncode == 1 and "Traceback" not in result.stderr
  assert result.stderr.strip().splitlines()[-1].startswith(
      "error: multi-process training could not start: coordinator_address should be defined.")


def test_the_ocr_stage_trains_and_evaluates_under_two_processes(tmp_path):
  """The tiny OCR config, one CPU device per process (lighter: under a loaded CI machine the
  processes must reach each new collective within gloo's 30-s context timeout)."""
  data_dir = tmp_path / "data"
  flags = ["--config=configs/ocr_crnn_tiny.py", f"--workdir={tmp_path / 'ocr'}",
           f"--config.data.data_dir={data_dir}", "--config.num_train_steps=4",
           "--config.eval_every_steps=4", "--config.checkpoint_every_steps=4",
           "--config.log_every_steps=2"]
  # The dataset missing: every process refuses in one line instead of building it.
  statuses = multihost_local.run(2, 1, flags, tmp_path / "missing", timeout=TIMEOUT)
  assert statuses == [1, 1]
  for index in range(2):
    log = _log(tmp_path / "missing", index)
    assert "Traceback" not in log
    assert [l for l in log.splitlines() if l.startswith("error:")] == [
        f"error: synth_text/tiny is not built under {data_dir}; several processes do not build "
        "datasets: build it first (on every host, or once on storage they share) with: python "
        f"-m launch.make_data --dataset=synth_text --config=tiny --data_dir={data_dir}"]
  built = subprocess.run([sys.executable, "-m", "launch.make_data", "--dataset=synth_text",
                          "--config=tiny", f"--data_dir={data_dir}"], cwd=REPO,
                         capture_output=True, text=True, timeout=TIMEOUT,
                         env=multihost_local.cpu_env(1))
  assert built.returncode == 0, built.stderr[-2000:]
  statuses = multihost_local.run(2, 1, flags, tmp_path / "ocr", timeout=TIMEOUT)
  assert statuses == [0, 0], _log(tmp_path / "ocr", 0)[-3000:]
  assert "eval test_heldout_fonts @ 4" in _log(tmp_path / "ocr", 1)
  assert zoo.load_variables(tmp_path / "ocr")["params"]
