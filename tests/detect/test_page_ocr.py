"""Page OCR (tfic_jax/chains/page_ocr.py, `launch.ocr --detect`) end to end on tiny models."""

import pathlib
import subprocess
import sys

import flax.serialization
import jax
import numpy as np

from configs import craft_tiny
from configs import ocr_crnn_tiny
from tfic_jax import imageio
from tfic_jax.chains import page_ocr
from tfic_jax.detect import api
from tfic_jax.detect import postprocess
from tfic_jax.ocr import api as ocr_api
from tfic_jax.train import checkpoint

_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _whole_image_detector():
  """A tiny CRAFT whose last layer reports region 1 and affinity 0 everywhere: the whole
  image is one word."""
  detector = api.build(craft_tiny.get_config())
  variables = jax.tree.map(np.asarray, detector.init(jax.random.key(0)))
  last = sorted(variables["params"], key=lambda n: int(n.split("_")[-1]))[-1]
  variables["params"][last]["kernel"] = np.zeros_like(variables["params"][last]["kernel"])
  variables["params"][last]["bias"] = np.float32([1.0, 0.0])
  return detector, variables


def _ocr():
  model = ocr_api.build(ocr_crnn_tiny.get_config())
  return model, jax.tree.map(np.asarray, model.init(jax.random.key(0)))


def _save(directory, config, variables):
  directory.mkdir()
  (directory / "variables.msgpack").write_bytes(flax.serialization.msgpack_serialize(variables))
  checkpoint.write_config_json(directory, config)
  return directory


def test_read_page_reads_detected_words_in_reading_order(monkeypatch):
  ocr_model, ocr_variables = _ocr()
  image = np.full((64, 256, 1), 255, np.uint8)
  boxes = np.float32([[120, 40, 160, 50], [10, 5, 40, 15], [60, 6, 100, 16], [10, 40, 50, 52]])
  found = postprocess.DetectionBoxes(np.zeros((4, 4, 2), np.float32), boxes, np.ones(4))
  monkeypatch.setattr(api, "detect", lambda *args, **kwargs: found)
  reading = page_ocr.read_page(None, None, ocr_model, ocr_variables, image)
  assert len(reading.lines) == 2
  np.testing.assert_array_equal(reading.line_boxes[0], boxes[[1, 2]])
  np.testing.assert_array_equal(reading.line_boxes[1], boxes[[3, 0]])
  words = page_ocr.read_boxes(ocr_model, ocr_variables, image, boxes[[1, 2, 3, 0]])
  assert reading.text == "\n".join([" ".join(w for w in words[:2] if w),
                                    " ".join(w for w in words[2:] if w)])


def test_tiny_detector_and_recognizer_read_a_page():
  detector, variables = _whole_image_detector()
  ocr_model, ocr_variables = _ocr()
  image = np.full((48, 80, 3), 255, np.uint8)
  image[20:28, 10:70] = 0
  found = api.detect(detector, variables, image)
  np.testing.assert_allclose(found.boxes, [[0, 0, 80, 48]], atol=1e-3)
  reading = page_ocr.read_page(detector, variables, ocr_model, ocr_variables, image)
  assert len(reading.lines) == 1 and isinstance(reading.lines[0], str)


def test_launch_ocr_detect_prints_one_row_per_line(tmp_path):
  detector, variables = _whole_image_detector()
  detector_dir = _save(tmp_path / "craft", craft_tiny.get_config(), variables)
  ocr_dir = _save(tmp_path / "ocr", ocr_crnn_tiny.get_config(), _ocr()[1])
  image_path = imageio.save_image(tmp_path / "page.png", np.full((48, 80, 1), 255, np.uint8))
  result = subprocess.run(
      [sys.executable, "-m", "launch.ocr", "--detect", f"--detector_workdir={detector_dir}",
       f"--model_dir={ocr_dir}", str(image_path)],
      cwd=_ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr
  rows = result.stdout.splitlines()
  assert len(rows) == 1 and rows[0].startswith(f"{image_path}\t")


def test_launch_ocr_detect_missing_detector_is_a_one_line_error(tmp_path):
  image_path = imageio.save_image(tmp_path / "page.png", np.full((48, 80, 1), 255, np.uint8))
  result = subprocess.run(
      [sys.executable, "-m", "launch.ocr", "--detect",
       f"--detector_workdir={tmp_path / 'none'}", str(image_path)],
      cwd=_ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 1
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("error: No model at")
