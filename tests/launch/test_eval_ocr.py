"""Tests for the judge evaluation (configs/eval_ocr.py) on a tiny randomly initialised judge (fast, small images)."""

import json
import pathlib
import subprocess
import sys

import flax.serialization
import jax
import numpy as np
import pytest

from configs import ocr_crnn_tiny
from tfic_jax import errors
from tfic_jax.data import book
from tfic_jax.data import pages
from tfic_jax.data import test_sets
from tfic_jax.eval import ocr_judge as eval_ocr
from tfic_jax.ocr import api
from tfic_jax.train import checkpoint

_ROOT = pathlib.Path(__file__).resolve().parents[2]
_SENTENCES = (  # A stand-in for the machine's prose (gathering it takes ~6 s).
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Every process reads its share of the batch and writes nothing back.",
    "A frozen recognizer reads the decoded image and scores the text it sees.",
    "Small pages of plain prose are enough to test the reading of patches.",
)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
  """A shipped-model directory (variables.msgpack + config.json) of a random tiny CRNN."""
  model_dir = tmp_path_factory.mktemp("ocr_tiny")
  config = ocr_crnn_tiny.get_config()
  variables = api.build(config).init(jax.random.key(0))
  (model_dir / "variables.msgpack").write_bytes(
      flax.serialization.msgpack_serialize(jax.tree.map(np.asarray, variables)))
  checkpoint.write_config_json(model_dir, config)
  return model_dir


def _accuracies(report):
  synth = report["synth_text"]
  values = [synth[split]["judge"][name] for split in test_sets.SYNTH_SPLITS
            for name in ("ocr_accuracy", "word_accuracy")]
  return values + [report["book"]["judge"]["clean"], report["book"]["judge"]["degraded"]]


def test_run_writes_every_field(monkeypatch, tmp_path, tiny_model_dir, capsys):
  monkeypatch.setattr(test_sets, "book_test_sentences", lambda: _SENTENCES)
  report = eval_ocr.run(
      model_path=str(tiny_model_dir), num_images=4, book_pages=1, use_tesseract=False,
      out_dir=tmp_path, time_batches=[1, 2], height=64, width=128, batch_size=2,
      num_workers=1, time_repeats=2)
  written = json.loads((tmp_path / "eval_ocr.json").read_text())
  assert written["model"]["num_params"] == report["model"]["num_params"] > 0
  assert written["model"]["path"] == str(tiny_model_dir)
  assert written["backend"] == jax.default_backend()
  for split in test_sets.SYNTH_SPLITS:
    assert written["synth_text"][split]["num_images"] == 4
    assert written["synth_text"][split]["source"] == "rendered"  # 64×128 is not a dataset.
    assert written["synth_text"][split]["tesseract"] is None
    assert len(written["readings"]["synth_text"][split]) == 4
  assert written["book"]["num_pages"] == 1 and written["book"]["num_patches"] > 0
  # The OCR configs read book words on a canvas (api.crop_words), boxes as high as their line.
  assert written["book"]["word_resize_mode"] == "canvas"
  assert written["book"]["word_box_height"] == "line"
  assert all(0.0 <= value <= 1.0 for value in _accuracies(written))
  assert set(written["speed"]["judge_ms_per_image"]) == {"1", "2"}
  assert all(ms > 0 for ms in written["speed"]["judge_ms_per_image"].values())
  assert written["speed"]["tesseract_ms_per_line"] is None
  printed = capsys.readouterr().out
  assert "| synth_text test_heldout_fonts | 4 |" in printed and "book patches, degraded" in printed


def test_synth_examples_are_the_builders(tmp_path):
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top
  from tfic_jax.data import synth_text  # pylint: disable=g-import-not-at-top
  examples, source = test_sets.synth_test_examples("test_heldout_fonts", 2, 64, 128, str(tmp_path))
  spec = synth_text.SynthTextSpec(height=64, width=128, font_split="heldout")
  expected = synth_text.render_example(spec, builders.SYNTH_SPLIT_SEEDS["test_heldout_fonts"], 1)
  assert source == "rendered"
  np.testing.assert_array_equal(examples[1]["image"], expected["image"])
  assert examples[1]["text"] == expected["text"]


def test_patch_reading_matches_read_words(tiny_model_dir):
  model, variables = api.load(tiny_model_dir)
  patch = next(p for p in book.page_patches(_SENTENCES, 0, 0) if len(p["lines"]) >= 2)
  tight = pages.word_boxes_by_line(patch["text"], patch["char_boxes"], "word")
  assert [len(boxes) for boxes in tight] == [len(line.split()) for line in patch["lines"]]
  all_boxes = np.concatenate(tight)
  for box in patch["word_boxes"]:  # Whole words get exactly their ground-truth boxes.
    assert (all_boxes == box).all(axis=1).any()
  # By default a word keeps its x extent and takes its line's y extent (the line box).
  lines = pages.word_boxes_by_line(patch["text"], patch["char_boxes"])
  for line_boxes, word_boxes, line_box in zip(lines, tight, patch["line_boxes"]):
    np.testing.assert_array_equal(line_boxes[:, [0, 2]], word_boxes[:, [0, 2]])
    assert (line_boxes[:, 1] == line_box[1]).all() and (line_boxes[:, 3] == line_box[3]).all()
  with pytest.raises(errors.TficError, match="box_height"):
    pages.word_boxes_by_line(patch["text"], patch["char_boxes"], "page")
  reading = eval_ocr.judge_read_patch(model, variables, patch["clean"], patch["text"],
                                      patch["char_boxes"], eval_ocr.make_box_reader(model))
  expected = "\n".join(api.read_words(model, variables, patch["clean"], boxes)
                       for boxes in lines)
  assert reading == expected


def test_unknown_model_is_a_one_line_error(tmp_path):
  result = subprocess.run(
      [sys.executable, "-m", "launch.evaluate", "--config=configs/eval_ocr.py",
       f"--config.model={tmp_path / 'nothing'}", "--config.num_images=1",
       "--config.book_pages=0", "--config.tesseract=False", f"--workdir={tmp_path}"],
      cwd=_ROOT, capture_output=True, text=True, timeout=120)
  assert result.returncode == 1
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("error: No model at ")
  assert not (tmp_path / "eval_ocr.json").exists()


def test_held_out_document_words_are_read_and_reported(monkeypatch, tmp_path, tiny_model_dir,
                                                       capsys):
  from tfic_jax.data import pipeline  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(test_sets, "book_test_sentences", lambda: _SENTENCES)
  canvases = [{"image": np.full((64, 128, 3), 200 + i, np.uint8), "text": f"word{i}",
               "doc_id": f"doc/{i % 2}"} for i in range(10)]
  calls = []

  def fake_load(name, split, data_dir, builder_config="default", **kwargs):
    calls.append((name, split, builder_config, kwargs.get("build_if_missing")))
    return canvases

  monkeypatch.setattr(pipeline, "load_split", fake_load)
  report = eval_ocr.run(
      model_path=str(tiny_model_dir), num_images=2, book_pages=0, use_tesseract=False,
      out_dir=tmp_path, time_batches=[1], height=64, width=128, batch_size=2, num_workers=1,
      time_repeats=1, document_words="tiny", num_document_words=3)
  assert calls == [("document_words", "test", "tiny", False)]  # Never built by an evaluation.
  row = report["documents"]["document_words/tiny test"]
  assert row["num_images"] == 3 and 0.0 <= row["judge"]["ocr_accuracy"] <= 1.0
  readings = report["readings"]["documents"]["document_words/tiny test"]
  assert len({r["text"] for r in readings}) == 3 and all(r["font"].startswith("doc/")
                                                         for r in readings)
  assert "| document_words/tiny test, held-out documents" in capsys.readouterr().out
