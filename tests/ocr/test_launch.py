"""launch/ocr.py and api.load: clear one-line errors for bad paths and missing models."""

import pathlib
import subprocess
import sys

import flax.serialization
import jax
import numpy as np
import pytest

from configs import ocr_crnn_tiny
from tfic_jax import errors
from tfic_jax import zoo
from tfic_jax.ocr import api
from tfic_jax.train import checkpoint

_ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_bad_image_path_is_a_one_line_error(tmp_path):
  result = subprocess.run(
      [sys.executable, "-m", "launch.ocr", str(tmp_path / "missing.png")],
      cwd=_ROOT, capture_output=True, text=True, timeout=120)
  assert result.returncode == 1
  assert result.stderr.strip().splitlines() == [f"error: {tmp_path / 'missing.png'}: no such file."]


def test_missing_default_judge_says_so(monkeypatch, tmp_path):
  monkeypatch.setattr(zoo, "MODELS_DIR", tmp_path)
  with pytest.raises(errors.CheckpointError, match="not shipped yet"):
    api.load()


def test_shipped_model_dir_roundtrip(tmp_path):
  config = ocr_crnn_tiny.get_config()
  model = api.build(config)
  variables = model.init(jax.random.key(0))
  (tmp_path / "variables.msgpack").write_bytes(flax.serialization.msgpack_serialize(
      jax.tree.map(np.asarray, variables)))
  checkpoint.write_config_json(tmp_path, config)
  loaded, loaded_vars = api.load(tmp_path)
  assert loaded == model
  config.model.hidden_size = 64  # Variables no longer fit the config.
  with pytest.raises(errors.CheckpointError, match="differ"):
    api.load(tmp_path, config=config)


def test_a_codec_given_as_the_judge_and_a_too_small_page_are_one_line_errors(tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  Image.new("RGB", (1, 1)).save(tmp_path / "dot.png")
  Image.new("RGB", (64, 32), "white").save(tmp_path / "blank.png")
  result = subprocess.run(
      [sys.executable, "-m", "launch.ocr", "--model_dir=codec_mse_q1", str(tmp_path / "dot.png")],
      cwd=_ROOT, capture_output=True, text=True, timeout=120)
  assert result.returncode == 1 and "Traceback" not in result.stderr
  assert "is a 'codec' model, not 'ocr'" in result.stderr.strip().splitlines()[-1]
  result = subprocess.run(
      [sys.executable, "-m", "launch.ocr", "--detect", str(tmp_path / "dot.png"),
       str(tmp_path / "blank.png")], cwd=_ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 1 and "Traceback" not in result.stderr
  assert [l for l in result.stderr.splitlines() if l.startswith("error:")] == [
      f"error: {tmp_path / 'dot.png'}: image: 1×1 is smaller than the minimum 8×8."]
