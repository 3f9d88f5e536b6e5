"""The TFIC rate–accuracy evaluation (launch.evaluate) end to end on tiny codecs and 2 lines."""

import csv
import json
from pathlib import Path
import subprocess
import sys

import jax
import numpy as np
import pytest

from configs import codec_mse_tiny
from configs import eval_tfic_tiny
from tfic_jax import errors
from tfic_jax import metrics
from tfic_jax import zoo
from tfic_jax.codec import api
from tfic_jax.eval import classical
from tfic_jax.eval import codec as codec_evaluate
from tfic_jax.eval import report as report_lib
from tfic_jax.eval import tesseract
from tfic_jax.eval import tfic

_REPO = Path(__file__).resolve().parents[2]


def _write_codec(directory: Path, seed: int, gamma: float) -> str:
  """A random tiny codec as a model directory; gamma > 0 marks it as a stage-2 (TFIC) model."""
  config = codec_mse_tiny.get_config()
  config.loss.gamma = gamma
  if gamma:
    config.loss.lmbda = 0.0
  variables = api.build(config).init(jax.random.PRNGKey(seed), 64, 64)
  directory.mkdir(parents=True)
  return str(zoo.write_model_dir(directory, config, variables))


@pytest.fixture(scope="module")
def codec_dirs(tmp_path_factory):
  root = tmp_path_factory.mktemp("codecs")
  return {"mse": [_write_codec(root / f"mse_{i}", seed=i, gamma=0.0) for i in (0, 1)],
          "tfic": [_write_codec(root / f"tfic_{i}", seed=10 + i, gamma=0.1) for i in (0, 1)]}


def _config(codec_dirs):
  config = eval_tfic_tiny.get_config()
  config.mse_codecs = tuple(codec_dirs["mse"])
  config.tfic_codecs = tuple(codec_dirs["tfic"])
  return config


@pytest.fixture(scope="module")
def evaluated(codec_dirs, tmp_path_factory):
  workdir = tmp_path_factory.mktemp("eval_tfic")
  with pytest.MonkeyPatch.context() as patch:
    patch.delenv("DISPLAY", raising=False)  # Plots must not need a display.
    patch.delenv("MPLBACKEND", raising=False)
    report = tfic.run(_config(codec_dirs), workdir)
  return report, workdir


def test_writes_every_artifact(evaluated):
  report, workdir = evaluated
  for key, name in report_lib.FILES.items():
    if key == "plot_tesseract" and not tesseract.available():
      assert name not in report["files"].values()
      continue
    path = workdir / name
    assert path.stat().st_size > 0, name
    if name.endswith(".png"):
      assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000, name
  saved = json.loads((workdir / "results.json").read_text())
  assert saved["scale"] == {"num_images": 2, "height": 64, "width": 128, "split": "test",
                            "backend": jax.default_backend(),
                            "device": jax.devices()[0].device_kind}
  with open(workdir / "points.csv") as f:
    rows = list(csv.DictReader(f))
  assert len(rows) == len(saved["points"])
  assert {r["method"] for r in rows} == {"uncompressed", "mse", "tfic", "two_layer_separate",
                                         "two_layer_composite", *classical.CODECS}
  table = (workdir / "rate_table.md").read_text()
  assert "acc. ≥ 0.5" in table and "95% of uncompressed" in table and "vs jpeg2000" in table


def test_every_method_and_setting_is_measured(evaluated):
  report, _ = evaluated
  config = eval_tfic_tiny.get_config()
  points = report["points"]
  for codec in classical.CODECS:
    settings = {(p["downscale"], p["quality"]) for p in points if p["method"] == codec}
    expected = {(d, float(q)) for d in config.classical.downscales
                for q in config.classical.qualities[codec]}
    assert settings == expected, codec
  for p in points:
    assert 0.0 <= p["judge_accuracy"] <= 1.0
    assert (p["tesseract_accuracy"] is not None) == tesseract.available()
  for kind in ("mse", "tfic"):
    rates = [p["bpp"] for p in points if p["method"] == kind]
    assert len(rates) == 2 and rates == sorted(rates)  # Each learned curve in rate order.
  uncompressed = report["uncompressed"]
  assert uncompressed["bpp"] == 24.0 and uncompressed["psnr"] is None


def test_rates_are_real_file_sizes(evaluated):
  report, workdir = evaluated
  readings = json.loads((workdir / "readings.json").read_text())
  by_setting = {(p["method"], p["setting"]): p for p in readings["points"]}
  pixels = 64 * 128
  for p in report["points"]:
    if p["method"] in ("mse", "tfic"):
      sizes = by_setting[(p["method"], p["setting"])]["bytes"]
      assert p["bpp"] == pytest.approx(np.mean([8 * s / pixels for s in sizes]))
  # A classical point: the stream of the same setting, coded again here.
  images = [e["image"] for e in codec_evaluate.test_images(2, 64, 128)]
  jpeg = next(p for p in report["points"]
              if p["method"] == "jpeg" and p["downscale"] == 2 and p["quality"] == 50)
  sizes = [len(classical.encode(image, "jpeg", 50, 2)) for image in images]
  assert jpeg["bpp"] == pytest.approx(np.mean([8 * s / pixels for s in sizes]))
  # Two layers: both files, the base being the lowest-rate MSE codec.
  points = report["_points"]["curves"]
  base = points["mse"][0]
  for text_layer, separate, combined in zip(points["tfic"], points["two_layer_separate"],
                                            points["two_layer_composite"]):
    assert separate.bpp == pytest.approx(text_layer.bpp + base.bpp) == combined.bpp
    assert separate.judge_accuracy == text_layer.judge_accuracy
    assert separate.psnr == base.psnr
    assert 0.0 <= combined.details["mask_mean"] <= 1.0


def test_readings_are_the_judges_on_the_decoded_images(evaluated):
  report, _ = evaluated
  from tfic_jax.ocr import api as ocr_api  # pylint: disable=g-import-not-at-top
  model, variables = ocr_api.load("ocr_default")
  point = report["_points"]["curves"]["tfic"][0]
  texts = ocr_api.decode(model, ocr_api.recognize(model, variables, np.stack(point.images)))
  assert texts == point.per_image["judge"][:len(point.images)]
  assert point.judge_accuracy == pytest.approx(
      metrics.mean_ocr_accuracy(report["_points"]["texts"], point.per_image["judge"]))


def test_runtime_is_reported_at_batch_one(evaluated):
  runtime = evaluated[0]["runtime"]
  assert runtime["batch_size"] == 1 and runtime["num_images"] == 2
  assert runtime["codec"] == evaluated[0]["_points"]["curves"]["tfic"][0].setting
  assert runtime["encode_ms"]["mean"] > 0 and runtime["ocr_ms"]["mean"] > 0
  assert runtime["encode_over_ocr"] == pytest.approx(
      runtime["encode_ms"]["mean"] / runtime["ocr_ms"]["mean"])
  assert runtime["encode_transforms_ms"]["mean"] < runtime["encode_ms"]["mean"]
  assert "encoder / OCR" in report_lib.format_runtime(runtime)
  # The reference recognizer (configs/eval_tfic_tiny.py: ocr_crnn_tiny), timed the same way.
  reference = runtime["reference_ocr"]
  assert reference["config"] == "ocr_crnn_tiny" and reference["params"] > 0
  assert reference["ms"]["mean"] > 0 and reference["encode_over_ocr"] == pytest.approx(
      runtime["encode_ms"]["mean"] / reference["ms"]["mean"])
  assert "encoder / reference" in report_lib.format_runtime(runtime)


def test_summary_lists_every_point(evaluated):
  report, _ = evaluated
  lines = report_lib.summary_lines(report)
  assert lines[0].startswith("| method |")
  assert sum(line.startswith("| ") for line in lines[0].splitlines()) == len(report["points"]) + 1


def test_composite_takes_the_sharper_layer_only_where_it_is_sharper():
  base = np.full((32, 64, 3), 120, np.uint8)
  text_layer = base.copy()
  text_layer[8:24, 40:56:2] = 0  # Strokes at the right...
  text_layer[:, :20] = 200  # ...and a flat, differently coloured background at the left.
  picture, mask = tfic.composite(text_layer, base, radius=2, contrast=8.0)
  assert mask[16, 48] == pytest.approx(1.0)
  np.testing.assert_array_equal(picture[12:20, 44:52], text_layer[12:20, 44:52])
  np.testing.assert_array_equal(picture[:, :14], base[:, :14])  # Flat: the base layer's.
  assert mask[:, :14].max() == 0.0


def test_tables_from_known_curves():
  def point(method, bpp, accuracy):
    return report_lib.Point(method, f"{method}@{bpp}", bpp, 30.0, accuracy, accuracy)
  curves = {"mse": [point("mse", 0.1, 0.2), point("mse", 0.4, 0.8)],
            "tfic": [point("tfic", 0.05, 0.2), point("tfic", 0.2, 0.8)],
            "jpeg": [point("jpeg", 0.5, 0.1), point("jpeg", 1.0, 0.7)]}
  table = tfic.rate_table(curves, "judge", {"0.5": 0.5, "0.9": 0.9})
  assert table["tfic"]["0.5"] == pytest.approx(0.1)  # Log-rate midpoint of 0.05 and 0.2.
  assert table["mse"]["0.5"] == pytest.approx(0.2)
  assert table["jpeg"]["0.9"] is None
  bd = tfic.bd_rates(curves, "judge")
  assert bd["mse"] == pytest.approx(-0.5)  # TFIC needs half the rate everywhere.
  uncompressed = point("uncompressed", 24.0, 0.6)
  head = tfic.headline(curves, uncompressed, "judge")
  assert head["tfic_bpp"] == 0.05 and head["mse_setting"] == "mse@0.1"
  assert head["classical_bpp_at_tfic_accuracy"]["jpeg"] == pytest.approx(
      0.5 * (1.0 / 0.5) ** (0.1 / 0.6))


def test_bad_configs_are_refused_with_one_line(codec_dirs, tmp_path):
  cases = [
      (dict(tfic_codecs=()), "config.tfic_codecs is empty"),
      (dict(mse_codecs=(str(tmp_path / "missing"),)), "No model at"),
      (dict(tfic_codecs=tuple(codec_dirs["mse"])), "loss.gamma = 0"),
      (dict(mse_codecs=tuple(codec_dirs["tfic"])), "OCR loss"),
      (dict(num_images=0), "num_images"),
      (dict(runtime_reference_ocr="no_such_config"), "runtime_reference_ocr"),
  ]
  for overrides, message in cases:
    config = _config(codec_dirs)
    config.update(overrides)
    with pytest.raises(errors.TficError, match=message) as raised:
      tfic.run(config, tmp_path / "out")
    assert "\n" not in str(raised.value)
  config = _config(codec_dirs)
  config.classical.codecs = ("jpeg", "heic")
  with pytest.raises(errors.TficError, match="heic"):
    tfic.run(config, None)
  config = _config(codec_dirs)
  config.two_layer.base_codec = codec_dirs["tfic"][0]
  with pytest.raises(errors.TficError, match="base_codec"):
    tfic.run(config, None)
  assert not (tmp_path / "out").exists()


def test_launcher_prints_a_clear_error(tmp_path):
  result = subprocess.run(
      [sys.executable, "-m", "launch.evaluate", "--config=configs/eval_tfic_tiny.py",
       f"--workdir={tmp_path}", "--config.mse_codecs=()"],
      cwd=_REPO, capture_output=True, text=True, timeout=120)
  assert result.returncode == 1
  assert result.stderr.strip().splitlines()[-1].startswith("error: config.mse_codecs is empty")
  assert "Traceback" not in result.stderr


def test_a_tfic_codec_read_by_another_judge_than_its_own_gets_a_note(tmp_path):
  """Judges are compared by their variables, not by name: a shipped name can move on."""
  path = _write_codec(tmp_path / "tfic", seed=3, gamma=0.1)
  config = zoo.load_config(path)
  config.frozen.ocr = "ocr_32x128"
  zoo.write_model_dir(path, config, zoo.load_variables(path))
  notes = tfic.judge_mismatch_notes([path], "ocr_default")
  assert len(notes) == 1 and "'ocr_32x128'" in notes[0] and "'ocr_default'" in notes[0]
  assert not tfic.judge_mismatch_notes([path], "ocr_32x128")
  same_bytes = tmp_path / "judge_copy"
  same_bytes.mkdir()
  for name in ("variables.msgpack", "config.json"):
    (same_bytes / name).write_bytes((_REPO / "models" / "ocr_32x128" / name).read_bytes())
  assert not tfic.judge_mismatch_notes([path], str(same_bytes))
  untrained = _write_codec(tmp_path / "no_judge", seed=4, gamma=0.1)  # frozen.ocr empty
  assert not tfic.judge_mismatch_notes([untrained], "ocr_default")


def test_a_tfic_codec_whose_judge_is_gone_gets_a_note_and_a_missing_judge_is_refused(tmp_path):
  path = _write_codec(tmp_path / "tfic", seed=5, gamma=0.1)
  config = zoo.load_config(path)
  config.frozen.ocr = str(tmp_path / "deleted_judge")
  zoo.write_model_dir(path, config, zoo.load_variables(path))
  notes = tfic.judge_mismatch_notes([path], "ocr_default")
  assert len(notes) == 1 and "deleted_judge" in notes[0]
  with pytest.raises(errors.CheckpointError, match="No model at"):
    tfic.judge_mismatch_notes([path], str(tmp_path / "no_such_judge"))
