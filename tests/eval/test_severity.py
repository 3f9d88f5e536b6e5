"""The severity grid (tfic_jax/eval/severity.py, `configs/eval_severity*.py`): a cell's rate is
the real JPEG's bytes, the degradation is `book.degrade`'s and differs by factor, the outputs are
written, and a bad config is one line from the launcher."""

import csv
import io
import json
from pathlib import Path
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest

from configs import eval_severity_tiny
from tfic_jax import errors
from tfic_jax.data import book
from tfic_jax.data import builders
from tfic_jax.data import test_sets
from tfic_jax.eval import classical
from tfic_jax.eval import severity
from tfic_jax.eval import tesseract

ROOT = Path(__file__).resolve().parents[2]
PIXELS = book.PATCH_HEIGHT * book.PATCH_WIDTH


def _patch(seed=0):
  """A 64×256 patch with dark strokes on white (text-like, deterministic)."""
  rng = np.random.default_rng(seed)
  patch = np.full((book.PATCH_HEIGHT, book.PATCH_WIDTH, 1), 255, np.uint8)
  for _ in range(40):
    top, left = int(rng.integers(4, 50)), int(rng.integers(0, 240))
    patch[top:top + int(rng.integers(6, 12)), left:left + int(rng.integers(1, 4))] = 20
  return patch


@pytest.mark.parametrize("factor, quality", [(1.5, 1), (3, 1), (2.5, 10)])
def test_degrade_patch_is_book_degrade_and_its_bytes_decode_to_it(factor, quality):
  clean = _patch()
  degraded, stream = severity.degrade_patch(clean, factor, quality)
  np.testing.assert_array_equal(degraded, book.degrade(clean, factor, quality))
  small = Image.open(io.BytesIO(stream))
  assert small.format == "JPEG"
  assert small.size == (round(book.PATCH_WIDTH / factor), round(book.PATCH_HEIGHT / factor))
  upsampled = small.convert("L").resize((book.PATCH_WIDTH, book.PATCH_HEIGHT),
                                        Image.Resampling.BICUBIC)
  np.testing.assert_array_equal(np.asarray(upsampled), degraded[:, :, 0])


def test_scan_bytes_are_the_file_minus_its_headers():
  _, stream = severity.degrade_patch(_patch(), 2, 1)
  scan = severity.jpeg_scan_bytes(stream)
  assert 0 < scan < len(stream) - 300  # q=1's tables and headers are ~330+ bytes.
  sos = stream.index(b"\xff\xda")
  header = int.from_bytes(stream[sos + 2:sos + 4], "big")
  assert scan == len(stream) - (sos + 2 + header) - 2
  with pytest.raises(errors.BitstreamError):
    severity.jpeg_scan_bytes(b"\xff\xd8\xff\xd9")


def test_degraded_images_differ_by_factor():
  clean = _patch()
  mild, mild_stream = severity.degrade_patch(clean, 1.5, 1)
  harsh, harsh_stream = severity.degrade_patch(clean, 3, 1)
  assert np.abs(mild.astype(int) - harsh.astype(int)).mean() > 1
  assert len(harsh_stream) < len(mild_stream)


def test_the_closest_jb2_setting_is_picked_by_rate():
  ladder = [{"bpp": 0.3}, {"bpp": 0.1}, {"bpp": 0.02}]
  assert severity.closest_setting(ladder, 0.12) == 1
  assert severity.closest_setting(ladder, 0.0) == 2
  assert severity.closest_setting(ladder, 1.0) == 0


def test_grid_patches_are_test_text_of_the_asked_type_size():
  sentences = ("The quick brown fox jumps over the lazy dog again and again.",) * 200
  patches = severity.grid_patches(16, 3, 20, sentences)
  assert len(patches) == 3
  for patch in patches:
    assert patch["clean"].shape == (64, 256, 1)
    assert sum(c.isalnum() for c in patch["text"]) >= 20
    heights = patch["char_boxes"][:, 3] - patch["char_boxes"][:, 1]
    assert heights.max() <= 16  # No glyph taller than the em.
  assert severity.grid_patches(16, 3, 20, sentences)[0]["corner"] == patches[0]["corner"]


@pytest.mark.parametrize("field, value, message", [
    ("factors", "1.5,x", "factors must be floats"),
    ("factors", "0.5", "factors must be downsample factors"),
    ("qualities", "", "qualities is empty"),
    ("qualities", "0", "qualities must be JPEG qualities"),
    ("type_sizes", "12,12", "repeats a value"),
    ("num_patches", 0, "num_patches must be >= 1"),
    ("jb2_rate", "bytes", "jb2_rate must be one of"),
])
def test_a_bad_setting_is_one_clear_error(field, value, message):
  config = eval_severity_tiny.get_config()
  config[field] = value
  with pytest.raises(errors.TficError, match=message):
    severity.settings(config)


def test_the_launcher_exits_1_with_one_line_on_a_bad_config(tmp_path):
  result = subprocess.run(
      [sys.executable, "-m", "launch.evaluate", "--config=configs/eval_severity_tiny.py",
       "--config.factors=2,zero", f"--workdir={tmp_path}"],
      cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 1
  assert "Traceback" not in result.stderr
  assert result.stderr.strip().splitlines()[-1].startswith("error: config.factors must be")
  assert not list(tmp_path.iterdir())


@pytest.mark.skipif(not tesseract.available(), reason="tesseract is not installed")
def test_the_tiny_grid_writes_its_cells_table_and_heat_maps(tmp_path):
  pytest.importorskip("matplotlib")
  classical.djvu_tool("cjb2")
  config = eval_severity_tiny.get_config()
  config.num_patches = 2
  report = severity.run(config, tmp_path)
  cells = report["cells"]
  assert [(c["type_size"], c["factor"], c["quality"]) for c in cells] == [(16, 1.5, 1),
                                                                         (16, 3.0, 1)]
  for cell in cells:  # The rate is the real JPEG files' bytes.
    assert len(cell["jpeg_bytes"]) == 2
    assert cell["jpeg_bpp"] == pytest.approx(np.mean([8 * n / PIXELS for n in cell["jpeg_bytes"]]))
    assert cell["jpeg_scan_bpp"] < cell["jpeg_bpp"]
    for kind in ("clean", "degraded", "restored", "jb2"):
      assert set(cell["accuracy"][kind]) == {"tesseract", "judge"}
    assert cell["accuracy"]["d1_d2"] == {}  # No D2 ships: the column is empty, not invented.
    assert cell["jb2"]["bpp"] == pytest.approx(min(
        (s["bpp"] for s in report["jb2_ladder"]["16"]),
        key=lambda bpp: abs(bpp - cell["jpeg_scan_bpp"])))
  assert cells[0]["jpeg_bpp"] > cells[1]["jpeg_bpp"]  # Factor 1.5 keeps more than 3.
  # The bytes counted are those of the JPEG files of the same test patches, coded again.
  patches = severity.grid_patches(16, 2, config.min_alnum, test_sets.book_test_sentences())
  assert [p["text"] for p in patches] == [p["text"] for p in report["patches"]["16"]]
  for cell in cells:
    assert cell["jpeg_bytes"] == [
        len(severity.degrade_patch(p["clean"], cell["factor"], 1)[1]) for p in patches]
  names = {p.name for p in tmp_path.iterdir()}
  assert names == {"severity.json", "severity.csv", "severity.md", "heatmap_tesseract.png",
                   "heatmap_judge.png"}
  assert json.loads((tmp_path / "severity.json").read_text())["d2"] == severity.NO_D2
  rows = list(csv.DictReader(open(tmp_path / "severity.csv")))
  assert [float(r["factor"]) for r in rows] == [1.5, 3.0]
  table = (tmp_path / "severity.md").read_text()
  assert table.count("\n| 16 |") == 2 and "no D2 ships" in table
  for reader in ("tesseract", "judge"):
    with Image.open(tmp_path / f"heatmap_{reader}.png") as image:
      assert image.size[0] > 300


def test_the_information_reference_config_trains_on_the_cells_degraded_words(monkeypatch):
  """configs/ocr_crnn_degraded_small.py → `spec_from_data_config`: book words at the cell's
  em, degraded at its factor and quality; its control (p_degrade 0) has the same words, clean."""
  from configs import ocr_crnn_degraded_small  # pylint: disable=g-import-not-at-top
  from tfic_jax.ocr import api as ocr_api  # pylint: disable=g-import-not-at-top
  from tfic_jax.ocr import book_words  # pylint: disable=g-import-not-at-top
  sentences = ("The quick brown fox jumps over the lazy dog near the river bank.",) * 50
  monkeypatch.setattr(book_words, "_split_sentences", lambda split: sentences)
  data = ocr_crnn_degraded_small.get_config().data
  spec = book_words.spec_from_data_config(data)
  assert (spec.font_size_range, spec.degrade_factor_range, spec.degrade_quality_range,
          spec.p_degrade, spec.split) == ((12, 12), (3.0, 3.0), (1, 1), 1.0, "train")
  data.book_pages = 1
  model = ocr_api.build(dict(prediction="ctc", transformation="none", feature_extractor="vgg",
                             output_channel=16, hidden_size=16, input_size=(32, 128),
                             word_resize_mode="canvas"))
  degraded = book_words.BookWordSource(model, (64, 256, 1), 4, 0,
                                       book_words.spec_from_data_config(data))
  data.book_p_degrade = 0.0
  clean = book_words.BookWordSource(model, (64, 256, 1), 4, 0,
                                    book_words.spec_from_data_config(data))
  page, _ = degraded._page(0)  # pylint: disable=protected-access
  glyphs = book.make_page(sentences, degraded.page_indices[0], builders.BOOK_SEED,
                          book.PageSpec(font_size_range=(12, 12)))
  np.testing.assert_array_equal(page, glyphs.image)  # Pages set at the cell's em.
  for index in range(4):
    assert degraded.layout(index)["degrade"] == (3.0, 1)
    assert clean.layout(index)["degrade"] is None
    assert degraded[index]["text"] == clean[index]["text"]
    assert np.abs(degraded[index]["image"].astype(int) - clean[index]["image"]).mean() > 2
  data.book_font_size_range = (13, 12)
  with pytest.raises(errors.TficError, match="book_font_size_range must be"):
    book_words.spec_from_data_config(data)
