"""The whole OCR-guided chain end to end on tiny models: `launch.train` of the "dequant_ocr"
stage, `launch.dequantize --ocr-guided` and the measurement (`evaluate_ocr_guided`)."""

import json
import pathlib
import subprocess
import sys

import numpy as np
from ocr_guided_testlib import frozen_dirs
import pytest

from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax.chains import ocr_guided
from tfic_jax.data import pipeline
from tfic_jax.dequant import api
from tfic_jax.eval import ocr_guided as evaluate_ocr_guided

_ROOT = pathlib.Path(__file__).resolve().parents[2]
_ENV = {"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"}


def _run(*args):
  return subprocess.run([sys.executable, "-m", *args], cwd=_ROOT, capture_output=True,
                        text=True, timeout=900, env=_ENV)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  """Tiny frozen models and a D2 trained from the tiny D1 for a few steps by `launch.train`."""
  root = tmp_path_factory.mktemp("chain")
  frozen = frozen_dirs(root)
  workdir = root / "d2"
  result = _run("launch.train", "--config=configs/dequant_ocr_tiny.py", f"--workdir={workdir}",
                *(f"--config.frozen.{name}={path}" for name, path in frozen.items()),
                f"--config.init_from={frozen['d1']}", "--config.data.window=(24, 96)")
  assert result.returncode == 0, result.stderr[-3000:]
  return root, frozen, workdir


def test_the_chain_refines_with_the_window_d2_was_trained_on(trained):
  _, _, workdir = trained
  assert ocr_guided.trained_window(str(workdir)) == (24, 96)


def test_training_logs_the_ocr_loss_and_evaluates_with_and_without_d2(trained):
  _, _, workdir = trained
  records = [json.loads(line) for line in (workdir / "metrics.jsonl").open()]
  train = [r for r in records if r["split"] == "train"]
  assert [r["step"] for r in train] == [2, 4] and all(np.isfinite(r["ocr_loss"]) for r in train)
  test = [r for r in records if r["split"] == "test"][-1]
  assert test["num_examples"] == 4 and test["num_words"] > 0
  assert {"ocr_loss_d1", "ocr_loss_d2", "word_accuracy_d1", "word_accuracy_d2",
          "ocr_accuracy_d1", "ocr_accuracy_d2"} <= set(test)


def test_dequantize_ocr_guided_restores_a_patch_through_the_chain(trained):
  root, frozen, workdir = trained
  degraded = pipeline.load_split("book_patches", "test", "data", builder_config="tiny")[0][
      "degraded"]
  imageio.save_image(root / "in.png", degraded)
  result = _run("launch.dequantize", "--ocr-guided", f"--d2_workdir={workdir}",
                f"--workdir={frozen['d1']}", f"--craft={frozen['craft']}",
                f"--input={root / 'in.png'}", f"--output={root / 'out.png'}")
  assert result.returncode == 0, result.stderr[-3000:]
  assert "1 words" in result.stdout
  restored = imageio.load_image(root / "out.png", "L")
  d1, detector, d2 = ocr_guided.load_chain(workdir, frozen["d1"], frozen["craft"])
  expected = ocr_guided.refine_page(d1, detector, d2, degraded,
                                    window=ocr_guided.trained_window(str(workdir)))
  np.testing.assert_array_equal(restored, expected.restored)
  assert not np.array_equal(restored, api.restore_image(d1[0], d1[1], degraded))


def test_dequantize_ocr_guided_without_a_d2_names_the_training_command(tmp_path):
  imageio.save_image(tmp_path / "in.png", np.full((16, 16, 1), 200, np.uint8))
  result = _run("launch.dequantize", "--ocr-guided", f"--input={tmp_path / 'in.png'}",
                f"--output={tmp_path / 'out.png'}")
  assert result.returncode == 1
  assert result.stderr.startswith("error: No OCR-guided D2 is shipped")
  assert "python -m launch.train --config=configs/dequant_ocr_small.py" in result.stderr
  assert "Traceback" not in result.stderr and not (tmp_path / "out.png").exists()
  result = _run("launch.dequantize", "--d2_workdir=x", f"--input={tmp_path / 'in.png'}",
                f"--output={tmp_path / 'out.png'}")
  assert result.returncode == 1 and "need --ocr-guided" in result.stderr


def test_the_measurement_reads_every_version_of_the_test_patches(trained, tmp_path):
  _, frozen, workdir = trained
  report = evaluate_ocr_guided.run(
      d2_path=str(workdir), d1_path=frozen["d1"], craft_path=frozen["craft"],
      judge_path=frozen["ocr"], num_pages=1, use_tesseract=False, out_dir=tmp_path,
      figure_path=tmp_path / "fig10.png", figure_rows=2)
  assert report["num_patches"] == 10
  assert set(report["results"]) == set(evaluate_ocr_guided.KINDS)
  assert report["results"]["clean"]["psnr"] is None
  for kind in evaluate_ocr_guided.KINDS:
    row = report["results"][kind]
    assert 0.0 <= row["page_ocr"] <= 1.0 and 0.0 <= row["judge"] <= 1.0
    assert row["tesseract"] is None
  assert report["words_refined"]["mean_per_patch"] == 1.0  # One whole-image box per patch.
  assert report["window"] == [24, 96]
  # D2 changed every pixel of the whole-image "word".
  assert report["results"]["ocr_guided"]["psnr"] != report["results"]["d1"]["psnr"]
  figure = imageio.load_image(tmp_path / "fig10.png", "L")
  assert figure.shape == (2 * 64 + 4, 5 * 256 + 4 * 4, 1)
  saved = json.loads((tmp_path / "eval_dequant_ocr.json").read_text())
  assert len(saved["readings"]) == 10 and "page_ocr_ocr_guided" in saved["readings"][0]


def test_a_negative_paste_margin_is_refused_before_any_model_is_loaded(tmp_path):
  with pytest.raises(errors.TficError, match="--paste_margin must be >= 0"):
    evaluate_ocr_guided.run(d2_path=str(tmp_path / "missing"), use_tesseract=False,
                            paste_margin=-1)
