"""The page-level evaluation (tfic_jax/eval/documents.py, `launch.evaluate` part "documents"):
every codec gives back a page of the original size and counts its real stream, DjVu round
trips, the 90 / 95 % rates are interpolated right, the launcher writes its files and refuses
bad inputs in one line."""

import csv
import json
from pathlib import Path
import shutil
import subprocess
import sys

import jax
import numpy as np
import pytest

from configs import codec_mse_tiny
from configs import eval_documents_tiny
from tfic_jax import errors
from tfic_jax import zoo
from tfic_jax.codec import api as codec_api
from tfic_jax.codec import bitstream
from tfic_jax.data import documents as documents_lib
from tfic_jax.eval import classical
from tfic_jax.eval import documents
from tfic_jax.eval import tesseract

_REPO = Path(__file__).resolve().parents[2]
needs_tesseract = pytest.mark.skipif(
    not tesseract.available(),
    reason=f"the tesseract binary is not installed ({tesseract.INSTALL_HINT})")
needs_djvu = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("c44", "cjb2", "ddjvu")),
    reason=f"DjVuLibre is not installed ({classical.DJVU_INSTALL_HINT})")


@pytest.fixture(scope="module")
def page():
  """A small typeset page with exact text (grey, 160×256)."""
  config = eval_documents_tiny.get_config()
  return documents.book_pages(1, height=160, width=256, text=config.book.text)[0]


def test_book_page_words_are_the_typeset_text(page):
  text = documents_lib.page_text(page.page)
  assert page.reference == text
  assert page.page.image.shape == (160, 256, 1) and page.page.image.dtype == np.uint8
  words = text.split()
  assert words[:4] == ["The", "quick", "brown", "fox"]
  assert len(text.split("\n")) >= 3  # Several lines, in reading order.
  for word in page.page.words:  # Each box holds ink.
    x0, y0, x1, y1 = (int(round(v)) for v in word.box)
    assert page.page.image[y0:y1, x0:x1].min() < 128, word


@pytest.mark.parametrize("codec", list(classical.ALL_CODECS))
@pytest.mark.parametrize("downscale", [1, 2])
@pytest.mark.parametrize("channels", [1, 3])
def test_every_classical_codec_gives_the_page_size_and_its_real_stream(page, codec, downscale,
                                                                        channels):
  if codec.startswith("djvu") and not all(shutil.which(t) for t in ("c44", "cjb2", "ddjvu")):
    pytest.skip(f"DjVuLibre is not installed ({classical.DJVU_INSTALL_HINT})")
  image = page.page.image if channels == 1 else np.repeat(page.page.image, 3, axis=2)
  quality = classical.get_codec(codec).quick_qualities[-1]
  stream = classical.encode(image, codec, quality, downscale)
  decoded, num_bytes = classical.encode_decode(image, codec, quality, downscale)
  assert decoded.shape == image.shape and decoded.dtype == np.uint8
  assert num_bytes == len(stream) > 0  # Deterministic encoders: the count is the file's.
  # The decoded page is a page, not noise or an inverted image.
  assert np.abs(decoded.astype(float) - image).mean() < 40
  # Without the codec's name, the format is recognised from the stream.
  np.testing.assert_array_equal(classical.decode(stream, image.shape), decoded)


@needs_djvu
def test_djvu_round_trip():
  image = np.full((96, 128, 1), 255, np.uint8)
  image[20:60, 30:40] = 0  # A thick bar: survives any rate.
  image[70:80, 50:110] = 40
  for codec, quality in (("djvu_iw44", 1.0), ("djvu_jb2", 200)):
    stream = classical.encode(image, codec, quality)
    assert stream.startswith(b"AT&TFORM")
    decoded = classical.decode(stream, image.shape, codec)
    assert decoded.shape == image.shape
    assert decoded[25:55, 32:38].max() < 100 and decoded[:15].min() > 200, codec
  # JB2 is bilevel: the grey bar (40 < threshold) comes back black, paper white.
  bilevel = classical.decode(classical.encode(image, "djvu_jb2", 100), image.shape)
  assert set(np.unique(bilevel)) <= {0, 255}
  assert bilevel[72:78, 55:105].max() == 0


@needs_djvu
def test_iw44_rate_follows_its_target_and_downscale_counts_full_size_pixels(page):
  image = page.page.image
  low = len(classical.encode(image, "djvu_iw44", 0.1))
  high = len(classical.encode(image, "djvu_iw44", 0.5))
  pixels = image.shape[0] * image.shape[1]
  assert low < high
  assert 8 * high / pixels == pytest.approx(0.5, rel=0.35)
  assert 8 * len(classical.encode(image, "djvu_iw44", 0.5, 2)) / pixels == pytest.approx(
      0.5, rel=0.35)


def test_missing_djvu_tool_is_a_dependency_error(page, monkeypatch):
  real_which = shutil.which
  monkeypatch.setattr(classical.shutil, "which",
                      lambda name: None if name == "c44" else real_which(name))
  with pytest.raises(errors.DependencyError, match="c44.*apt-get install djvulibre-bin"):
    classical.encode(page.page.image, "djvu_iw44", 0.2)


def test_corrupt_document_streams_are_bitstream_errors(page):
  for codec in ("jxl", "heif"):
    stream = classical.encode(page.page.image, codec, 40)
    with pytest.raises(errors.BitstreamError):
      classical.decode(stream[: len(stream) // 3], page.page.image.shape, codec)


def _write_tiny_codec(directory: Path) -> str:
  config = codec_mse_tiny.get_config()
  variables = codec_api.build(config).init(jax.random.PRNGKey(0), 64, 64)
  directory.mkdir(parents=True)
  return str(zoo.write_model_dir(directory, config, variables))


@pytest.fixture(scope="module")
def tiny_codec(tmp_path_factory):
  return _write_tiny_codec(tmp_path_factory.mktemp("codecs") / "mse_tiny")


def test_learned_codec_codes_a_grey_page_to_its_size_with_the_real_file(page, tiny_codec):
  loaded = codec_api.load(tiny_codec)
  image = page.page.image  # Grey: coded as RGB with equal channels, read back as grey.
  decoded, num_bytes = documents.code_learned(loaded, image)
  assert decoded.shape == image.shape and decoded.dtype == np.uint8
  assert num_bytes == len(bitstream.compress(loaded, documents.to_rgb(image))) > 0


def test_rate_needed_interpolates_on_a_hand_made_curve():
  # Uncompressed 1.0: 90 % is reached half-way (in accuracy) between 0.2 and 0.4 bpp, so at
  # their geometric mean; 95 % at three quarters: 0.2 · 2^0.75.
  curve = [(0.1, 0.5), (0.2, 0.8), (0.4, 1.0), (0.3, 0.7)]  # (0.3, 0.7): off the envelope.
  assert documents.rate_needed(curve, 0.9)["bpp"] == pytest.approx(np.sqrt(0.2 * 0.4))
  assert documents.rate_needed(curve, 0.95)["bpp"] == pytest.approx(0.2 * 2 ** 0.75)
  assert documents.rate_needed(curve, 1.01) == {"bpp": None, "at_lowest_point": False}
  reached = documents.rate_needed(curve, 0.4)
  assert reached == {"bpp": 0.1, "at_lowest_point": True}
  assert documents.format_rate(reached) == "≤ 0.1000"
  assert documents.format_rate({"bpp": None, "at_lowest_point": False}) == "not reached"
  points = [{"method": "uncompressed", "curve": "uncompressed", "downscale": 1, "bpp": 8.0,
             "tesseract_accuracy": 1.0}] + [
      {"method": "webp", "curve": "webp", "downscale": 1, "bpp": r, "tesseract_accuracy": a}
      for r, a in curve]
  table = documents.rate_table(points, ["tesseract"], [0.9, 0.95])["tesseract"]
  assert table["targets"] == {0.9: 0.9, 0.95: 0.95}
  assert table["curves"]["webp"][0.9]["bpp"] == pytest.approx(np.sqrt(0.2 * 0.4))


def test_page_accuracy_ignores_whitespace_and_scores_errors():
  assert documents.page_accuracy("The quick\nbrown fox", "The  quick brown\n\nfox") == 1.0
  assert documents.page_accuracy("abcd", "abed") == pytest.approx(0.75)
  assert documents.page_accuracy("abcd", "") == 0.0


def test_image_pages_keep_grey_files_grey_and_refuse_bad_files(tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  Image.fromarray(np.full((40, 60), 200, np.uint8)).save(tmp_path / "grey.png")
  Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), np.uint8)).save(
      tmp_path / "colour.png")
  pages = documents.image_pages([str(tmp_path / "*.png")])
  assert [p.page.image.shape for p in pages] == [(40, 60, 3), (40, 60, 1)]
  assert all(p.reference is None for p in pages)  # Scored against the original's reading.
  with pytest.raises(errors.TficError, match="no such file"):
    documents.image_pages([str(tmp_path / "missing.png")])
  (tmp_path / "broken.png").write_text("not an image")
  with pytest.raises(errors.ImageInputError):
    documents.image_pages([str(tmp_path / "broken.png")])


def test_documents_source_names_the_missing_builder(monkeypatch):
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(builders, "BUILDERS",
                      {k: v for k, v in builders.BUILDERS.items() if k != "documents"})
  with pytest.raises(errors.DatasetError, match="'documents' tfds builder does not exist"):
    documents.documents_pages("test", "default", 1, "/nonexistent")


def test_documents_source_reads_pages_with_their_words_and_filters_conditions(monkeypatch):
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top
  if "documents" not in builders.BUILDERS:
    pytest.skip("the documents tfds builder is not in tfic_jax.data.builders")

  def example(condition):
    return {"image": np.full((30, 40, 1), 255, np.uint8), "doc_id": "R/doc/x.pdf", "page": 3,
            "dpi": 150.0, "condition": condition, "text": "Hello world\nagain",
            "word_texts": "Hello\nworld\nagain",
            "word_boxes": np.arange(12, dtype=np.float32), "word_lines": np.array([0, 0, 1])}

  seen = {}

  def load_split(name, split, data_dir, builder_config):
    seen.update(name=name, split=split, data_dir=data_dir, builder_config=builder_config)
    return [example("clean"), example("scan"), example("photo")]

  monkeypatch.setattr(documents.pipeline, "load_split", load_split)
  pages = documents.documents_pages("test", "tiny", 5, "d", conditions=("scan", "photo"))
  assert seen == {"name": "documents", "split": "test", "data_dir": "d", "builder_config": "tiny"}
  assert [p.page.condition for p in pages] == ["scan", "photo"]
  assert pages[0].reference == "Hello world\nagain"
  assert pages[0].page.image.shape == (30, 40, 1)
  assert len(documents.documents_pages("test", "tiny", 1, "d")) == 1
  one_each = documents.documents_pages("test", "tiny", 5, "d", per_document=1)
  assert [p.page.condition for p in one_each] == ["clean"]  # One page of the one document.
  assert documents.documents_pages("test", "tiny", 5, "d", max_dpi=100) == []  # All 150 dpi.


def test_bad_configuration_is_refused_before_any_work():
  config = eval_documents_tiny.get_config()
  config.classical_codecs = "jpeg,bpg"
  with pytest.raises(errors.TficError, match="unknown classical codecs.*bpg"):
    documents.check_config(config)
  config = eval_documents_tiny.get_config()
  config.qualities.jpeg = (500,)
  with pytest.raises(errors.TficError, match="config.qualities.jpeg"):
    documents.check_config(config)
  config = eval_documents_tiny.get_config()
  config.source = "pdf"
  with pytest.raises(errors.TficError, match="config.source"):
    documents.check_config(config)


@needs_tesseract
def test_run_reads_every_setting_and_scores_against_the_text(page, tiny_codec, tmp_path):
  config = eval_documents_tiny.get_config()
  config.mse_codecs = (tiny_codec,)
  config.classical_codecs = "jpeg,djvu_jb2" if shutil.which("cjb2") else "jpeg"
  report = documents.run(config, tmp_path)
  points = {(p["method"], p["downscale"]): p for p in report["points"]}
  assert points[("uncompressed", 1)]["tesseract_accuracy"] > 0.9  # Reads the clean page.
  assert ("mse", 1) in points and ("jpeg", 2) in points
  rows = list(csv.DictReader(open(tmp_path / "pages.csv")))
  assert len(rows) == len(report["points"])  # One page: one row per setting.
  jpeg_row = next(r for r in rows if r["method"] == "jpeg" and r["downscale"] == "1")
  image = page.page.image
  assert int(jpeg_row["bytes"]) == len(classical.encode(image, "jpeg", 20))
  assert float(jpeg_row["bpp"]) == pytest.approx(8 * int(jpeg_row["bytes"]) / (160 * 256))
  readings = json.loads((tmp_path / "readings.json").read_text())
  assert readings["pages"][0]["reference"] == page.reference


def _launch(workdir, *overrides):
  return subprocess.run(
      [sys.executable, "-m", "launch.evaluate", "--config=configs/eval_documents_tiny.py",
       f"--workdir={workdir}", *overrides],
      cwd=_REPO, capture_output=True, text=True, timeout=600,
      env={"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"})


@needs_tesseract
def test_launcher_writes_its_files(tmp_path):
  result = _launch(tmp_path, "--config.classical_codecs=jpeg,webp,jxl")
  assert result.returncode == 0, result.stderr
  for name in list(documents.FILES.values()) + ["rate_accuracy_tesseract.png"]:
    assert (tmp_path / name).stat().st_size > 0, name
  assert (tmp_path / "visual_grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  table = (tmp_path / "rate_table.md").read_text()
  assert "90 %" in table and "95 %" in table and "| webp ↓2 |" in table
  saved = json.loads((tmp_path / "results.json").read_text())
  assert {p["method"] for p in saved["points"]} == {"uncompressed", "jpeg", "webp", "jxl"}
  assert "| jpeg |" in result.stdout


@pytest.mark.parametrize("images,message", [("/nonexistent/page.png", "no such file"),
                                            ("BROKEN", "not an image")])
def test_launcher_refuses_bad_inputs_in_one_line(tmp_path, images, message):
  if images == "BROKEN":
    images = str(tmp_path / "broken.png")
    Path(images).write_bytes(b"\x89PNG\r\n\x1a\n not really")
  result = _launch(tmp_path / "out", "--config.source=images", f"--config.images={images}")
  assert result.returncode != 0
  lines = result.stderr.strip().splitlines()
  assert lines[-1].startswith("error: ") and message in lines[-1].lower(), result.stderr
  assert "Traceback" not in result.stderr


def test_our_page_ocr_is_an_optional_second_reader(tmp_path):
  config = eval_documents_tiny.get_config()
  config.tesseract = False
  config.page_ocr = True  # The shipped CRAFT detector + judge.
  config.classical_codecs = "jpeg"
  config.downscales = "1"
  report = documents.run(config, tmp_path)
  assert report["readers"] == ["page_ocr"]
  uncompressed = next(p for p in report["points"] if p["method"] == "uncompressed")
  assert uncompressed["page_ocr_accuracy"] > 0.6  # Reads most of the clean page.
  assert (tmp_path / "rate_accuracy_page_ocr.png").stat().st_size > 0
  assert not (tmp_path / "rate_accuracy_tesseract.png").exists()
  config.page_ocr = False
  with pytest.raises(errors.TficError, match="no reader"):
    documents.run(config, tmp_path / "none")
