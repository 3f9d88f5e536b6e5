"""tfic_jax/eval/detect.run (behind configs/eval_detect.py) with the "restored" kind."""

import jax
import pytest

from configs import craft_tiny
from configs import dncnn_tiny
from tfic_jax import errors
from tfic_jax import zoo
from tfic_jax.dequant import api as dequant_api
from tfic_jax.detect import api
from tfic_jax.eval import detect as evaluate


@pytest.fixture(scope="module")
def models(tmp_path_factory):
  craft = craft_tiny.get_config()
  dncnn = dncnn_tiny.get_config()
  return (str(zoo.write_model_dir(tmp_path_factory.mktemp("craft"), craft,
                                  api.build(craft).init(jax.random.key(0)))),
          str(zoo.write_model_dir(tmp_path_factory.mktemp("d1"), dncnn,
                                  dequant_api.build(dncnn).init(jax.random.key(0)))))


def test_restored_kind_is_measured_on_pages_and_patches(models):
  detector, d1 = models
  report = evaluate.run(detector, num_pages=1, patch_pages=1,
                        kinds=("degraded", "restored"), page_ocr_enabled=False, restorer=d1)
  assert report["restorer"] == d1
  for where, num_images in (("pages", 1), ("patches", 10)):
    assert set(report[where]) == {"degraded", "restored"}
    for row in report[where].values():
      assert row["num_images"] == num_images and 0.0 <= row["hmean"] <= 1.0


def test_restored_kind_without_a_usable_restorer_is_refused_before_any_work(models, tmp_path):
  detector, _ = models
  with pytest.raises(errors.TficError, match="restorer"):
    evaluate.run(detector, num_pages=1, patch_pages=1, kinds=("restored",),
                 page_ocr_enabled=False, restorer=None)
  with pytest.raises(errors.CheckpointError):
    evaluate.run(detector, num_pages=1, patch_pages=1, kinds=("restored",),
                 page_ocr_enabled=False, restorer=str(tmp_path / "missing"))
  with pytest.raises(errors.TficError, match="unknown"):
    evaluate.run(detector, num_pages=1, patch_pages=1, kinds=("blurred",))


def test_a_book_config_picks_the_pages_and_an_unknown_one_is_refused_before_any_work(models,
                                                                                  tmp_path):
  detector, _ = models
  report = evaluate.run(detector, num_pages=1, patch_pages=1, kinds=("clean",),
                        page_ocr_enabled=False, book_config="small_t24")
  assert (report["book_config"], report["type_size_px"]) == ("small_t24", [22, 26])
  assert report["patches"]["clean"]["num_images"] == 10
  with pytest.raises(errors.TficError, match="no config 'huge'"):
    evaluate.run(str(tmp_path / "no_detector"), num_pages=1, patch_pages=1,
                 page_ocr_enabled=False, book_config="huge")


def test_launch_evaluate_reports_an_unknown_book_config_in_one_line(tmp_path):
  import pathlib  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  result = subprocess.run(
      [sys.executable, "-m", "launch.evaluate", "--config=configs/eval_detect.py",
       "--config.book_config=huge", f"--workdir={tmp_path}"],
      cwd=pathlib.Path(__file__).resolve().parents[2], capture_output=True, text=True,
      timeout=300, env={"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"})
  assert result.returncode == 1
  assert result.stderr.startswith("error: book_patches has no config 'huge'")
  assert "Traceback" not in result.stderr
