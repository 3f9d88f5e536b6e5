"""tfic_jax/eval/dequant.py (behind configs/eval_dequant.py) on tiny random models."""

import json

import jax
import numpy as np
import pytest

from configs import dncnn_tiny
from configs import ocr_crnn_tiny
from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax import zoo
from tfic_jax.data import test_sets
from tfic_jax.dequant import api
from tfic_jax.eval import dequant as evaluate
from tfic_jax.eval import tesseract
from tfic_jax.ocr import api as ocr_api

_SENTENCES = (  # A stand-in for the machine's prose (gathering it takes ~6 s).
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Every process reads its share of the batch and writes nothing back.",
    "A frozen recognizer reads the decoded image and scores the text it sees.",
    "Small pages of plain prose are enough to test the reading of patches.",
)


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
  dncnn = dncnn_tiny.get_config()
  judge = ocr_crnn_tiny.get_config()
  return (zoo.write_model_dir(tmp_path_factory.mktemp("dncnn"), dncnn,
                                api.build(dncnn).init(jax.random.key(0))),
          zoo.write_model_dir(tmp_path_factory.mktemp("judge"), judge,
                                ocr_api.build(judge).init(jax.random.key(0))))


def test_run_measures_every_kind_and_writes_report_and_figure(monkeypatch, tmp_path,
                                                               model_dirs):
  monkeypatch.setattr(test_sets, "book_test_sentences", lambda: _SENTENCES)
  dncnn_dir, judge_dir = model_dirs
  use_tesseract = tesseract.available()
  report = evaluate.run(
      model_path=str(dncnn_dir), num_pages=1, use_tesseract=use_tesseract, use_judge=True,
      judge_path=str(judge_dir), out_dir=tmp_path, figure_path=tmp_path / "fig9.png",
      figure_rows=3, batch_size=4, time_batches=[1, 2], time_repeats=1, num_workers=1)
  written = json.loads((tmp_path / "eval_dequant.json").read_text())
  assert written["num_patches"] == report["num_patches"] == len(written["readings"]) == 10
  results = written["results"]
  assert set(results) == set(evaluate.KINDS)
  assert 0 < results["degraded"]["psnr"] < 30  # The extreme JPEG degradation.
  assert results["clean"]["psnr"] is None  # The reference itself: infinite, stored as null.
  for kind in evaluate.KINDS:
    assert 0.0 <= results[kind]["judge"] <= 1.0
    assert (results[kind]["tesseract"] is not None) == use_tesseract
  assert set(written["speed"]["patches_per_second"]) == {"1", "2"}
  assert written["speed"]["page_shape"] == [1024, 768] and written["speed"]["page_seconds"] > 0
  figure = imageio.load_image(tmp_path / "fig9.png", "L")
  assert figure.shape == (3 * 64 + 2 * 4, 3 * 256 + 2 * 4, 1)


def test_psnr_of_the_set_pools_all_pixels():
  clean = [np.zeros((8, 8, 1), np.uint8), np.zeros((8, 8, 1), np.uint8)]
  test = [np.zeros((8, 8, 1), np.uint8), np.full((8, 8, 1), 10, np.uint8)]
  # MSE over all 128 pixels = 50 (not the mean of per-image PSNRs, one of which is infinite).
  np.testing.assert_allclose(evaluate.set_psnr(clean, test), 10 * np.log10(255 ** 2 / 50))
  assert evaluate.set_psnr(clean, clean) == float("inf")


def test_figure_puts_panels_in_rows_with_gaps():
  panels = [[np.full((2, 3, 1), v, np.uint8) for v in (0, 100, 255)]] * 2
  canvas = evaluate.figure(panels, gap=1)
  assert canvas.shape == (5, 11, 1)
  assert canvas[0, 0, 0] == 0 and canvas[0, 4, 0] == 100 and canvas[3, 8, 0] == 255
  assert canvas[2, 0, 0] == canvas[0, 3, 0] == 128


def test_figure_patches_are_those_with_most_lines():
  patches = [{"text": "a"}, {"text": "a\nb\nc"}, {"text": "a\nb"}, {"text": "a\nb\nc"}]
  assert evaluate.pick_figure_patches(patches, 2) == [1, 3]


def test_bad_settings_are_clear_errors(model_dirs):
  with pytest.raises(errors.TficError, match="num_pages"):
    evaluate.run(model_path=str(model_dirs[0]), num_pages=0, use_tesseract=False,
                 use_judge=False)
  with pytest.raises(errors.TficError, match="no config 'huge'.*small_x2p5"):
    evaluate.run(model_path=str(model_dirs[0]), num_pages=1, use_tesseract=False,
                 use_judge=False, book_config="huge")


def test_book_config_picks_the_degradation_of_the_measured_patches(monkeypatch):
  monkeypatch.setattr(test_sets, "book_test_sentences", lambda: _SENTENCES)
  _, harsh = test_sets.book_test_patches(1)
  _, milder = test_sets.book_test_patches(1, builder_config="default_x2p5")
  assert [p["text"] for p in harsh] == [p["text"] for p in milder]
  for a, b in zip(harsh, milder):
    np.testing.assert_array_equal(a["clean"], b["clean"])
  assert evaluate.set_psnr([p["clean"] for p in milder], [p["degraded"] for p in milder]) > (
      evaluate.set_psnr([p["clean"] for p in harsh], [p["degraded"] for p in harsh]))
