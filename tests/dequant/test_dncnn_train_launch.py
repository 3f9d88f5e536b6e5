"""`launch.train --config=configs/dncnn_tiny.py` end to end on the tiny book_patches set.

The data comes from the config's data dir (`data/`, git-ignored), built there on first use.
"""

import json
import pathlib
import subprocess
import sys

from tfic_jax.dequant import api

_ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_tiny_config_trains_evaluates_and_loads(tmp_path):
  workdir = tmp_path / "dncnn_tiny"
  result = subprocess.run(
      [sys.executable, "-m", "launch.train", "--config=configs/dncnn_tiny.py",
       f"--workdir={workdir}"],
      cwd=_ROOT, capture_output=True, text=True, timeout=600,
      env={"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"})
  assert result.returncode == 0, result.stderr[-3000:]
  records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  train = [r for r in records if r["split"] == "train"]
  test = [r for r in records if r["split"] == "test"]
  assert [r["step"] for r in train] == [2, 4, 6] and all("dct" in r for r in train)
  assert [r["step"] for r in test] == [3, 6] and test[-1]["num_examples"] == 8
  assert 5.0 < test[-1]["psnr_degraded"] < 30.0
  model, variables = api.load(workdir)
  assert model.depth == 3 and "batch_stats" in variables
