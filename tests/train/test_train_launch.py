"""launch.train / launch.benchmark from the command line."""

import json

from train_testlib import run_launcher


def test_config_overrides_from_command_line_reach_the_run(tmp_path):
  workdir = tmp_path / "run"
  result = run_launcher(
      "launch.train", "--config=configs/toy_regression.py", f"--workdir={workdir}",
      "--config.num_train_steps=3", "--config.global_batch_size=4",
      "--config.optimizer.learning_rate=0.003", "--config.model.height=8",
      "--config.model.width=8", "--config.tensorboard=False")
  assert result.returncode == 0, result.stderr[-3000:]
  config = json.loads((workdir / "config.json").read_text())
  assert config["num_train_steps"] == 3
  assert config["global_batch_size"] == 4
  assert config["optimizer"]["learning_rate"] == 0.003
  assert config["model"]["height"] == 8
  assert sorted(p.name for p in (workdir / "checkpoints").iterdir()) == ["3"]


def test_launcher_prints_tfic_error_without_traceback(tmp_path):
  result = run_launcher(
      "launch.train", "--config=configs/toy_regression.py", f"--workdir={tmp_path}",
      "--config.global_batch_size=3", num_devices=2)
  assert result.returncode == 1
  assert "global_batch_size=3 must be a positive multiple of the number of devices (2" in (
      result.stderr)
  assert "Traceback" not in result.stderr
