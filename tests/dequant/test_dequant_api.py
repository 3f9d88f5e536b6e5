"""Restoring host images and files (tfic_jax/dequant/api.py, launch.dequantize): any size,
clear errors for bad input."""

import json
import pathlib
import subprocess
import sys

import flax.serialization
import jax
import numpy as np
import pytest

from configs import dncnn_tiny
from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax.dequant import api
from tfic_jax.train import checkpoint

_ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
  """A model directory (variables.msgpack + config.json) of a random tiny DnCNN."""
  model_dir = tmp_path_factory.mktemp("dncnn_tiny")
  config = dncnn_tiny.get_config()
  variables = api.build(config).init(jax.random.key(0))
  (model_dir / "variables.msgpack").write_bytes(
      flax.serialization.msgpack_serialize(jax.tree.map(np.asarray, variables)))
  checkpoint.write_config_json(model_dir, config)
  return model_dir


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
  return api.load(tiny_model_dir)


def test_any_size_is_padded_and_cropped_back_like_a_whole_image(tiny):
  model, variables = tiny
  image = np.random.default_rng(0).integers(0, 256, (37, 101, 1), dtype=np.uint8)
  restored = api.restore_image(model, variables, image)
  assert restored.shape == (37, 101, 1) and restored.dtype == np.uint8
  # The crop of the padded result: identical to restoring the edge-padded image directly.
  padded = api.pad_to_multiple(image)
  assert padded.shape == (40, 104, 1)
  np.testing.assert_array_equal(api.restore_image(model, variables, padded)[:37, :101],
                                restored)


def test_float_and_2d_inputs_are_accepted(tiny):
  model, variables = tiny
  image = np.random.default_rng(1).integers(0, 256, (16, 24), dtype=np.uint8)
  np.testing.assert_array_equal(api.restore_image(model, variables, image),
                                api.restore_image(model, variables, image / 255.0))


@pytest.mark.parametrize("image, message", [
    (np.zeros((16, 16, 3), np.uint8), "channels"),
    (np.zeros((4, 64, 1), np.uint8), "smaller than the minimum 8×8"),
    (np.full((16, 16, 1), 2.0), "must lie in \\[0, 1\\]"),
    (np.zeros((16, 16, 1), np.int64), "dtype"),
    (np.zeros((2, 16, 16, 1), np.uint8), "expected an image"),
])
def test_images_the_model_cannot_take_are_clear_errors(tiny, image, message):
  model, variables = tiny
  with pytest.raises(errors.ImageInputError, match=message):
    api.restore_image(model, variables, image)


def test_too_large_image_is_refused_before_running(tiny, monkeypatch):
  model, variables = tiny
  monkeypatch.setattr(api, "MAX_PIXELS", 64 * 64)
  with pytest.raises(errors.ImageInputError, match="tiles"):
    api.restore_image(model, variables, np.zeros((72, 64, 1), np.uint8))


def test_dequantize_file_round_trip(tiny_model_dir, tmp_path):
  image = np.random.default_rng(2).integers(0, 256, (30, 50, 3), dtype=np.uint8)  # RGB file
  imageio.save_image(tmp_path / "in.png", image)
  result = api.dequantize_file(tmp_path / "in.png", tmp_path / "out.png", tiny_model_dir)
  assert result["shape"] == (30, 50, 1)
  assert imageio.load_image(tmp_path / "out.png", "L").shape == (30, 50, 1)


def test_a_non_dncnn_model_is_a_clear_error(tmp_path):
  (tmp_path / "config.json").write_text(json.dumps({"stage": "ocr"}))
  with pytest.raises(errors.CheckpointError, match="not a DnCNN"):
    api.load(tmp_path)


def _launch(*args):
  return subprocess.run([sys.executable, "-m", "launch.dequantize", *args], cwd=_ROOT,
                        capture_output=True, text=True, timeout=120,
                        env={"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"})


def test_launcher_restores_a_file(tiny_model_dir, tmp_path):
  imageio.save_image(tmp_path / "in.png", np.full((64, 256, 1), 200, np.uint8))
  result = _launch(f"--workdir={tiny_model_dir}", f"--input={tmp_path / 'in.png'}",
                   f"--output={tmp_path / 'out.png'}")
  assert result.returncode == 0, result.stderr
  assert "restored 64×256" in result.stdout
  assert imageio.load_image(tmp_path / "out.png", "L").shape == (64, 256, 1)


@pytest.mark.parametrize("make_input, message", [
    (lambda d: d / "missing.png", "no such file"),
    (lambda d: (d / "notes.png").write_text("not an image") and d / "notes.png",
     "not an image file"),
    (lambda d: imageio.save_image(d / "tiny.png", np.zeros((4, 4, 1), np.uint8)),
     "smaller than the minimum"),
])
def test_launcher_reports_bad_input_without_a_traceback(tiny_model_dir, tmp_path, make_input,
                                                        message):
  path = make_input(tmp_path)
  result = _launch(f"--workdir={tiny_model_dir}", f"--input={path}",
                   f"--output={tmp_path / 'out.png'}")
  assert result.returncode == 1
  assert message in result.stderr and "Traceback" not in result.stderr
  assert not (tmp_path / "out.png").exists()
