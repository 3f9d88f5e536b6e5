"""Real-document corpus: PDF discovery, rendering with the text layer, the split by document,
seeded scan / photo conditions, and the three document builders (tiny configs).

The tests write their own small PDFs with PyMuPDF (`insert_text`) and point the corpus at them
($TFIC_PDF_ROOTS), so they never depend on, nor skip for, the Debian PDF packages.
"""

import hashlib
import pathlib
import subprocess
import sys

import numpy as np
import pymupdf
import pytest

from tfic_jax.data import conditions
from tfic_jax.data import documents
from tfic_jax.data import pdfs
from tfic_jax.data import pipeline

_REPO = pathlib.Path(__file__).resolve().parents[2]

_WORDS = ("alpha", "Bravo", "charlie", "delta42", "echo", "Foxtrot", "golf", "hotel", "india",
          "juliet", "kilo", "Lima", "mike", "november", "oscar", "papa")


def _line(seed: int, index: int) -> list[str]:
  rng = np.random.default_rng((seed, index))
  return [str(w) for w in rng.choice(_WORDS, size=6)]


def write_pdf(path, seed: int, num_pages: int = 2, blank_page: bool = False,
              title: str = "") -> list[list[list]]:
  """A letter-size PDF of `num_pages` pages of 20 lines of 6 words (Helvetica 11 pt); returns
  its text, page by page and line by line."""
  pdf = pymupdf.open()
  pdf.set_metadata({"title": title})
  text = []
  for page_index in range(num_pages):
    page = pdf.new_page(width=612, height=792)
    lines = [_line(seed, page_index * 100 + i) for i in range(20)]
    for i, words in enumerate(lines):
      page.insert_text((72, 90 + 28 * i), " ".join(words), fontsize=11, fontname="helv")
    text.append(lines)
  if blank_page:
    pdf.new_page(width=612, height=792)
  pdf.save(str(path))
  pdf.close()
  return text


def _names_for_splits(num_train: int, num_test: int) -> list[str]:
  """File names whose documents fall `num_train` in train and `num_test` in test."""
  names = {"train": [], "test": []}
  wanted = {"train": num_train, "test": num_test}
  for i in range(1000):
    name = f"manual{i:03d}.pdf"
    split = documents.document_split(name)
    if len(names[split]) < wanted[split]:
      names[split].append(name)
    if all(len(names[s]) == wanted[s] for s in names):
      return names["train"] + names["test"]
  raise AssertionError("could not find file names for both splits")


@pytest.fixture(scope="module")
def pdf_dir(tmp_path_factory):
  """Six good PDFs (4 train, 2 test documents, one with a blank page), a corrupt file, a
  symlink to one of the PDFs and a copy of another that differs in its metadata only (the same
  documents again)."""
  root = tmp_path_factory.mktemp("pdfs")
  texts = {}
  for seed, name in enumerate(_names_for_splits(4, 2)):
    texts[name] = write_pdf(root / name, seed, blank_page=(seed == 0))
  (root / "corrupt.pdf").write_bytes(b"%PDF-1.4\nthis is not a pdf\n" + bytes(range(256)))
  (root / "sub").mkdir()
  (root / "sub" / "again.pdf").symlink_to(root / _names_for_splits(4, 2)[0])
  write_pdf(root / "sub" / "zz_copy.pdf", 1, title="another title")
  copied = (root / _names_for_splits(4, 2)[1]).read_bytes()
  assert (root / "sub" / "zz_copy.pdf").read_bytes() != copied
  return root, texts


@pytest.fixture()
def pdf_roots(pdf_dir, monkeypatch):
  monkeypatch.setenv("TFIC_PDF_ROOTS", str(pdf_dir[0]))
  return pdf_dir


def test_find_pdfs_counts_corrupt_files_and_keeps_each_document_once(pdf_roots):
  root, texts = pdf_roots
  skipped = documents.SkipCounter()
  found = pdfs.find_pdfs(skipped=skipped)
  assert sorted(d.path for d in found) == sorted(str(root / name) for name in texts)
  assert all(d.num_pages >= 2 for d in found)
  # corrupt.pdf and zz_copy.pdf (same text as manual...); the symlinked file is found once.
  assert sum(skipped.values()) == 2 and skipped["same text as another document"] == 1


@pytest.mark.parametrize("dpi,color", [(75, False), (150, True), (300, False)])
def test_rendered_words_match_the_pdf_and_lie_inside_the_image(pdf_roots, dpi, color):
  root, texts = pdf_roots
  name = sorted(texts)[1]
  page = pdfs.render_page(str(root / name), 1, dpi=dpi, color=color)
  assert page.image.dtype == np.uint8
  assert page.image.shape == ((round(792 * dpi / 72), round(612 * dpi / 72), 3) if color
                              else (round(792 * dpi / 72), round(612 * dpi / 72)))
  # The words, their order and their lines are what was written into the PDF.
  assert documents.page_text(page) == "\n".join(" ".join(line) for line in texts[name][1])
  assert len({w.line for w in page.words}) == 20
  height, width = page.image.shape[:2]
  boxes = np.asarray([w.box for w in page.words])
  assert (boxes[:, :2] >= 0).all()
  assert (boxes[:, 2] <= width).all() and (boxes[:, 3] <= height).all()
  assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
  # Each box holds its word's ink: darker inside than the page around the text.
  grey = page.image if page.image.ndim == 2 else page.image.mean(axis=-1)
  for word in page.words[:12]:
    x0, y0, x1, y1 = (int(round(v)) for v in word.box)
    assert grey[y0:y1, x0:x1].min() < 128, word
  # Twice the dpi, twice the coordinates.
  if dpi == 75:
    double = pdfs.render_page(str(root / name), 1, dpi=150)
    np.testing.assert_allclose(np.asarray([w.box for w in double.words]), 2 * boxes, atol=0.01)


def test_rotated_page_keeps_words_on_their_ink(tmp_path):
  """A page with /Rotate 90 is rendered turned; its word boxes must turn with it."""
  write_pdf(tmp_path / "rotated.pdf", 7, num_pages=1)
  with pymupdf.open(tmp_path / "rotated.pdf") as pdf:
    pdf[0].set_rotation(90)
    pdf.save(tmp_path / "turned.pdf")
  page = pdfs.render_page(str(tmp_path / "turned.pdf"), 0, dpi=100)
  assert page.image.shape == (850, 1100) and len(page.words) == 120
  for word in page.words:
    x0, y0, x1, y1 = (int(round(v)) for v in word.box)
    assert y1 - y0 > x1 - x0 or len(word.text) < 3  # Lines run down the page now.
    assert page.image[y0:y1, x0:x1].min() < 128, word


def test_pages_without_text_are_skipped_and_counted(pdf_roots):
  root, texts = pdf_roots
  with_blank = list(texts)[0]  # Its third page is blank.
  skipped = documents.SkipCounter()
  assert pdfs.render_page(str(root / with_blank), 2, 100, skipped=skipped) is None
  assert pdfs.render_page(str(root / with_blank), 99, 100, skipped=skipped) is None
  assert skipped["little or no text"] == 1 and sum(skipped.values()) == 2
  assert pdfs.render_page(str(root / with_blank), 0, 100, skipped=skipped) is not None


def test_split_is_by_document_and_keeps_paper_variants_together():
  ids = [f"doc/pkg{i}/manual{i}.pdf" for i in range(400)]
  splits = [documents.document_split(i) for i in ids]
  assert 0.12 < splits.count("test") / len(ids) < 0.28
  assert splits == [documents.document_split(i) for i in ids]  # Stable.
  for stem in ("refcard", "pxfontsdoc", "guide"):
    variants = {documents.document_split(f"doc/x/{stem}{suffix}.pdf")
                for suffix in ("", "-a4", "A4", "-letter", "_legal")}
    assert len(variants) == 1, stem


def _page(pdf_roots, color=False):
  root, texts = pdf_roots
  return pdfs.render_page(str(root / sorted(texts)[2]), 0, dpi=100, color=color)


def _digest(page):
  return hashlib.sha256(page.image.tobytes()).hexdigest()


@pytest.mark.parametrize("condition", ["scan", "photo"])
def test_degradations_are_reproducible_and_seeded(pdf_roots, condition):
  page = _page(pdf_roots)
  first = conditions.degrade(page, condition, seed=3)
  again = conditions.degrade(page, condition, seed=3)
  other = conditions.degrade(page, condition, seed=4)
  assert first.condition == condition and first.image.shape == page.image.shape
  assert _digest(first) == _digest(again)
  assert [w.box for w in first.words] == [w.box for w in again.words]
  assert _digest(first) != _digest(other)
  assert _digest(first) != _digest(page)
  # The page identity is part of the seed: another page, another degradation.
  moved = conditions.degrade(documents.Page(page.image, page.words, "x", 5, page.dpi), condition, 3)
  assert _digest(moved) != _digest(first)


_CHILD = """
import hashlib, sys
from tfic_jax.data import conditions, pdfs
for condition in ("scan", "photo"):
  page = conditions.degrade(pdfs.render_page(sys.argv[1], 0, dpi=100), condition, seed=3)
  print(hashlib.sha256(page.image.tobytes()).hexdigest())
"""


def test_degradations_are_the_same_bytes_in_a_fresh_process(pdf_roots):
  """Builders degrade pages in spawned workers: every RNG augraphy draws from (numba's too)
  must be seeded from the page, not inherited from the process. The fresh process is a
  subprocess with a timeout (a spawned pool under pytest-xdist can lose its task and hang)."""
  root, texts = pdf_roots
  path = str(root / sorted(texts)[2])
  child = subprocess.run([sys.executable, "-c", _CHILD, path], capture_output=True, text=True,
                         timeout=300, check=False, cwd=str(_REPO))
  assert child.returncode == 0, child.stderr[-2000:]
  want = [_digest(conditions.degrade(pdfs.render_page(path, 0, dpi=100), condition, seed=3))
          for condition in ("scan", "photo")]
  assert child.stdout.split() == want


def test_degradation_leaves_the_global_random_state_and_directory_alone(pdf_roots, tmp_path,
                                                                      monkeypatch):
  import os
  import random
  monkeypatch.chdir(tmp_path)
  page = _page(pdf_roots)
  np.random.seed(1)
  random.seed(1)
  conditions.degrade(page, "scan", seed=0)
  assert np.random.random() == np.random.RandomState(1).random_sample()
  assert random.random() == random.Random(1).random()
  assert os.getcwd() == str(tmp_path) and not os.listdir(tmp_path)  # No ./augraphy_cache.


def test_scan_keeps_the_word_boxes_on_the_words(pdf_roots):
  page = _page(pdf_roots, color=True)
  scanned = conditions.degrade(page, "scan", seed=0)
  assert scanned.image.shape == page.image.shape and scanned.image.ndim == 3
  assert [w.text for w in scanned.words] == [w.text for w in page.words]
  for clean, seen in zip(page.words, scanned.words):
    np.testing.assert_allclose(seen.box, clean.box, atol=0.002 * page.image.shape[0] + 1)


def test_photo_moves_the_boxes_with_the_page(pdf_roots):
  page = _page(pdf_roots)
  photo = conditions.degrade(page, "photo", seed=0)
  grey = photo.image
  height, width = grey.shape
  moved = 0
  for clean, seen in zip(page.words, photo.words):
    x0, y0, x1, y1 = seen.box
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    moved += not np.allclose(seen.box, clean.box, atol=2)
    # Still on ink: the darkest pixel of the moved box is well below the paper.
    xa, ya, xb, yb = (int(round(v)) for v in seen.box)
    assert grey[ya:yb, xa:xb].min() < np.median(grey[ya:yb, xa:xb]) - 30
  assert moved > len(page.words) // 2


@pytest.fixture(scope="module")
def built(pdf_dir, tmp_path_factory):
  """The three tiny builders, built once from the generated PDFs."""
  patch = pytest.MonkeyPatch()
  patch.setenv("TFIC_PDF_ROOTS", str(pdf_dir[0]))
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  try:
    yield {name: {split: pipeline.load_split(name, split, data_dir, "tiny", num_workers=1)
                  for split in ("train", "test")}
           for name in ("documents", "document_crops", "document_words")}, pdf_dir
  finally:
    patch.undo()


def test_documents_tiny_builds_and_reads_back(built):
  sources, (root, texts) = built
  train, test = sources["documents"]["train"], sources["documents"]["test"]
  # 4 train and 2 test documents, one page each, three conditions.
  assert (len(train), len(test)) == (12, 6)
  train_docs = {train[i]["doc_id"] for i in range(len(train))}
  test_docs = {test[i]["doc_id"] for i in range(len(test))}
  assert len(train_docs) == 4 and len(test_docs) == 2 and not train_docs & test_docs
  assert all(documents.document_split(d) == "test" for d in test_docs)
  by_condition = {}
  for i in range(3):
    page = documents.page_from_example(test[i])
    by_condition[page.condition] = page
    assert page.image.ndim == 2 and page.dpi == 75.0
    name = page.doc_id.rsplit("/", 1)[-1]
    assert documents.page_text(page) == "\n".join(" ".join(l) for l in texts[name][page.page_index])
    assert test[i]["text"] == documents.page_text(page)
  assert set(by_condition) == {"clean", "scan", "photo"}
  rendered = pdfs.render_page(str(root / name), by_condition["clean"].page_index, 75)
  np.testing.assert_array_equal(rendered.image, by_condition["clean"].image)
  again = conditions.degrade(rendered, "scan", seed=26)
  np.testing.assert_array_equal(again.image, by_condition["scan"].image)  # PNG is lossless


def test_document_crops_tiny_builds_and_reads_back(built):
  sources, _ = built
  train, test = sources["document_crops"]["train"], sources["document_crops"]["test"]
  assert (len(train), len(test)) == (12, 6)
  assert not {train[i]["doc_id"] for i in range(len(train))} & {
      test[i]["doc_id"] for i in range(len(test))}
  with_text = 0
  for i in range(len(train)):
    example = train[i]
    assert example["image"].shape == (128, 256, 3) and example["image"].dtype == np.uint8
    boxes = example["word_boxes"]
    words = example["word_texts"].split("\n") if example["word_texts"] else []
    assert boxes.shape == (len(words), 4)
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 256).all() and (boxes[:, 3] <= 128).all()
    assert example["text"].split() == words
    with_text += bool(words)
  assert with_text >= 9


def test_document_words_tiny_builds_and_reads_back(built):
  sources, _ = built
  train, test = sources["document_words"]["train"], sources["document_words"]["test"]
  assert len(train) == 16 and len(test) == 8
  for i in range(len(train)):
    example = train[i]
    assert example["image"].shape == (64, 128, 3)
    words = example["text"].split(" ")
    assert 1 <= len(words) <= 3 and all(w in _WORDS for w in words), example["text"]
    image = example["image"].astype(np.int32)
    assert np.median(image) - image.min() > 40  # Ink on the canvas.
