"""Orbax checkpoints: resume after interruption, keep-N, architecture check."""

import jax
import numpy as np
import pytest
from train_testlib import run_launcher
from train_testlib import toy_config

from tfic_jax import errors
from tfic_jax import zoo
from tfic_jax.train import checkpoint
from tfic_jax.train import train
from tfic_jax.train import writer


class Killed(Exception):
  pass


def _kill_after(num_batches, monkeypatch):
  """Makes the data pipeline die after `num_batches` batches, like a killed process."""
  pipeline = train._pipeline()
  real = pipeline.train_batches

  def dying(*args, **kwargs):
    for i, batch in enumerate(real(*args, **kwargs)):
      if i == num_batches:
        raise Killed()
      yield batch

  monkeypatch.setattr(pipeline, "train_batches", dying)
  return real


def _host(state):
  return jax.tree.map(np.asarray, jax.device_get(
      {"params": state.params, "opt_state": state.opt_state, "model_state": state.model_state,
       "step": state.step}))


def test_resume_after_interruption_equals_uninterrupted_run(tmp_path, monkeypatch):
  config = toy_config(num_train_steps=6, checkpoint_every_steps=2, keep_checkpoints=2)
  reference = _host(train.train_and_evaluate(config, tmp_path / "straight"))
  # keep-N: only the 2 newest checkpoints remain.
  assert sorted(int(p.name) for p in (tmp_path / "straight/checkpoints").iterdir()) == [4, 6]

  real = _kill_after(5, monkeypatch)  # Dies in step 6, after the step-4 checkpoint.
  with pytest.raises(Killed):
    train.train_and_evaluate(config, tmp_path / "resumed")
  assert checkpoint.create_manager(tmp_path / "resumed", 2).latest_step() == 4
  monkeypatch.setattr(train._pipeline(), "train_batches", real)
  resumed = _host(train.train_and_evaluate(config, tmp_path / "resumed"))

  # Bit-identical: params, optimizer state, batch_stats, step (CPU, same device count).
  jax.tree.map(np.testing.assert_array_equal, resumed, reference)
  # The metrics of the re-run steps replace those of the killed run: same records.
  strip = lambda r: {k: v for k, v in r.items()
                     if k not in ("time", "images_per_sec", "steps_per_sec")}
  assert ([strip(r) for r in writer.read_metrics(tmp_path / "resumed")] ==
          [strip(r) for r in writer.read_metrics(tmp_path / "straight")])


def test_resume_refuses_changed_architecture(tmp_path):
  train.train_and_evaluate(toy_config(num_train_steps=2), tmp_path)
  with pytest.raises(errors.CheckpointError, match=r"model.features: checkpoint 8 != config 4"):
    train.train_and_evaluate(toy_config(num_train_steps=4, model__features=4), tmp_path)


def toy_launch_flags(workdir, checkpoint_every_steps):
  """`launch.train` flags of a 6-step toy run equal to `toy_config(num_train_steps=6, ...)`."""
  return ["--config=configs/toy_regression.py", f"--workdir={workdir}",
          "--config.num_train_steps=6", "--config.global_batch_size=4",
          "--config.log_every_steps=1", "--config.eval_every_steps=3",
          f"--config.checkpoint_every_steps={checkpoint_every_steps}",
          "--config.keep_checkpoints=10", "--config.tensorboard=False",
          "--config.model.height=8", "--config.model.width=8", "--config.data.num_train=16",
          "--config.eval.num_examples=6", "--config.eval.batch_size=4"]


def test_sigkilled_launch_resumes_to_the_uninterrupted_result(tmp_path):
  config = toy_config(num_train_steps=6, checkpoint_every_steps=2)
  reference = train.train_and_evaluate(config, tmp_path / "straight")
  flags = toy_launch_flags(tmp_path / "killed", checkpoint_every_steps=2)
  killed = run_launcher("launch.train", *flags, env={"TFIC_TEST_KILL_AT_BATCH": "5"})
  assert killed.returncode == -9, killed.stderr[-2000:]
  assert checkpoint.create_manager(tmp_path / "killed", None).latest_step() == 4
  resumed = run_launcher("launch.train", *flags)
  assert resumed.returncode == 0, resumed.stderr[-2000:]
  assert "Resumed from" in resumed.stderr
  variables = zoo.load_variables(tmp_path / "killed")
  jax.tree.map(np.testing.assert_array_equal, variables["params"],
               jax.device_get(reference.params))


def test_sigterm_saves_the_current_step_and_resumes_to_the_uninterrupted_result(tmp_path):
  config = toy_config(num_train_steps=6, checkpoint_every_steps=0)
  reference = train.train_and_evaluate(config, tmp_path / "straight")
  flags = toy_launch_flags(tmp_path / "preempted", checkpoint_every_steps=0)
  # SIGTERM arrives while batch 3 is prefetched (so within the first steps). With no periodic
  # checkpoints, a saved step before the last one can only be the preemption save.
  preempted = run_launcher("launch.train", *flags, env={"TFIC_TEST_SIGTERM_AT_BATCH": "3"})
  assert preempted.returncode == 143, preempted.stderr[-2000:]
  assert "Preempted at step" in preempted.stderr
  saved = checkpoint.create_manager(tmp_path / "preempted", None).latest_step()
  assert saved is not None and saved < 6
  assert f"Preempted at step {saved}" in preempted.stderr
  resumed = run_launcher("launch.train", *flags)
  assert resumed.returncode == 0, resumed.stderr[-2000:]
  assert f"at step {saved}" in resumed.stderr
  variables = zoo.load_variables(tmp_path / "preempted")
  jax.tree.map(np.testing.assert_array_equal, variables["params"],
               jax.device_get(reference.params))
