"""The demo's document page (`launch.demo.document_part`) on a tiny typeset page: real files,
the printed rows and the three-panel picture."""

import pathlib
import re

import pytest

from launch import demo
from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax.eval import tesseract

TEXT = ("The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs. "
        "How vexingly quick daft zebras jump. Sphinx of black quartz, judge my vow.")
LEARNED = {"MSE": ["codec_mse_q1"], "TFIC": ["codec_tfic_q1"]}
SIZE = (256, 384)


def run_part(out: pathlib.Path, use_tesseract: bool = True) -> dict:
  out.mkdir(parents=True, exist_ok=True)
  return demo.document_part(out, use_tesseract, "book", SIZE, 4.0, ("jpeg", "webp"), LEARNED,
                            text=TEXT, step="[t] ")


def check_files_and_rows(out: pathlib.Path, report: dict, printed: str) -> list[str]:
  table = report["table"]
  # The rows: the original, the best MSE and TFIC codec, each classical codec at the budget.
  for row in ("| uncompressed |", "| learned MSE", "| learned TFIC", "| jpeg @≤", "| webp @≤"):
    assert row in table, table
  assert table.count("(in the picture)") == 2, table
  assert "Document page" in printed and "document_page.png" in printed
  rows = report["rows"]
  assert [r["method"] for r in rows] == ["uncompressed", "learned MSE", "learned TFIC", "jpeg",
                                         "webp"]
  height, width = SIZE
  # Every coded row's rate is its real file's, and the classical ones fit the learned rate.
  for row in rows[1:]:
    assert row["path"], row
    path = pathlib.Path(row["path"])
    assert path.parent == out and path.is_file()
    assert abs(8 * path.stat().st_size / (height * width) - row["bpp"]) < 1e-9
  assert [pathlib.Path(r["path"]).suffix for r in rows[1:3]] == [".tfic", ".tfic"]
  shown = next(r for r in rows[1:3] if r["method"] in report["shown"])
  assert report["classical_budget_bpp"] == shown["bpp"]
  for row in rows[3:]:
    assert 0 < row["bpp"] <= report["classical_budget_bpp"] + 1e-12
  # The picture: three panels side by side, the original's region has ink, the others too.
  picture = imageio.load_image(out / "document_page.png", "RGB")
  assert picture.shape[1] > 2.5 * picture.shape[0], picture.shape
  top, left, bottom, right = report["region"]
  original = imageio.load_image(out / "document_original.png", "L")
  assert original.shape[:2] == SIZE
  assert (original[top:bottom, left:right] < 128).mean() > 0.02  # A region with text.
  return table.splitlines()


def test_document_page_codes_reads_and_draws(tmp_path, capsys):
  if not tesseract.available():
    pytest.skip(f"Tesseract is not installed ({tesseract.INSTALL_HINT})")
  out = tmp_path / "demo"
  report = run_part(out)
  lines = check_files_and_rows(out, report, capsys.readouterr().out)
  assert report["tesseract"]
  accuracies = {r["method"]: r["tesseract"] for r in report["rows"]}
  assert accuracies["uncompressed"] > 0.9, accuracies  # The page's exact text is read back.
  assert all(0 <= a <= 1 for a in accuracies.values()), accuracies
  uncompressed = next(line for line in lines if line.startswith("| uncompressed |"))
  assert re.search(r"\| 8\.0000 \| (0\.9\d\d|1\.000) \|$", uncompressed), uncompressed


def test_document_page_without_tesseract_says_so(tmp_path, capsys, monkeypatch):
  monkeypatch.setattr(tesseract, "available", lambda: False)
  out = tmp_path / "demo"
  report = run_part(out, use_tesseract=True)
  lines = check_files_and_rows(out, report, capsys.readouterr().out)
  assert not report["tesseract"]
  assert all(r["tesseract"] is None for r in report["rows"])
  body = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
  assert len(body) == 5 and all(line.endswith("| — (Tesseract not installed) |")
                                for line in body), lines


def test_document_size_and_source_are_checked(tmp_path, monkeypatch):
  assert demo.parse_size("1024x768") == (1024, 768)
  for bad in ("1024", "axb", "32x768"):
    with pytest.raises(errors.TficError, match="document_size"):
      demo.parse_size(bad)
  monkeypatch.setenv("TFIC_PDF_ROOTS", str(tmp_path))  # A folder without PDFs.
  with pytest.raises(errors.TficError, match="no PDF"):
    demo.document_page("pdf", *SIZE)
  named, description = demo.document_page("auto", *SIZE, text=TEXT)  # The book page instead.
  assert named.name.startswith("book/") and "exact text" in description
  assert named.page.image.shape == (*SIZE, 1) and named.reference.startswith("The quick")
