"""Document pages with exact ground truth: the record every document source and evaluation shares.

A `Page` is one page image with its words and their boxes in pixel coordinates. Sources fill it
(rendered PDFs take the words from the PDF's text layer, so no OCR is involved); the page-level
evaluation (`tfic_jax.eval.documents`) reads `page_text` as the reference, or, for a page
without words (a real scan), the reading of the original.

The real-document source lives here too: the PDF manuals Debian ships (`PDF_ROOTS`,
`find_pdfs`), each page rendered by PyMuPDF at 75–300 dpi with its words (`render_page`), split
by document (`document_split`), and a built `documents` example read back as a `Page`
(`page_from_example`). Scan and photo conditions: `tfic_jax.data.conditions`; the tfds builders:
`tfic_jax.data.builders` (docs/data.md, "Real documents").
"""

import collections
import dataclasses
import glob
import hashlib
import os
import re
from typing import Sequence

from absl import logging
import numpy as np
import pymupdf

from tfic_jax import errors


@dataclasses.dataclass(frozen=True)
class Word:
  text: str
  box: tuple[float, float, float, float]  # (x0, y0, x1, y1) in pixels of `Page.image`.
  line: int = 0  # Line id within the page (reading order): words of one line share it.


@dataclasses.dataclass(frozen=True)
class Page:
  image: np.ndarray  # uint8 [H, W] (grey) or [H, W, 3] (RGB).
  words: tuple[Word, ...] = ()  # Reading order; empty where no ground truth is known.
  doc_id: str = ""  # Splits are by document: every page of one document is in one split.
  page_index: int = 0
  dpi: float = 0.0  # Rendering resolution (0 when unknown, e.g. a scan).
  condition: str = "clean"  # e.g. "clean", "scan", "photo": how the image was degraded.

  @property
  def has_text(self) -> bool:
    return bool(self.words)


def page_text(page: Page) -> str:
  """The page's words in reading order, one output line per `Word.line`."""
  return words_text(page.words)


def words_text(words: Sequence[Word]) -> str:
  """Words in reading order joined by spaces, one output line per `Word.line`."""
  lines: list[list[str]] = []
  last = None
  for word in words:
    if word.line != last:
      lines.append([])
      last = word.line
    lines[-1].append(word.text)
  return "\n".join(" ".join(line) for line in lines)


# ------------------------------------------------------------------------ rendered PDF pages
#
# Real typeset documents: the PDF manuals Debian packages ship (scripts/install_system_deps.sh
# installs them; docs/data.md lists packages, documents and pages). PyMuPDF renders a page at
# any resolution and gives the exact text layer (word strings and boxes), so the ground truth
# of a rendered page involves no OCR.

# Where installed PDFs are looked for (recursively), and the packages that put them there.
PDF_ROOTS = (
    "/usr/share/R/doc/manual",  # r-doc-pdf: the R manuals
    "/usr/share/doc/texlive-doc",  # texlive-*-doc: LaTeX package manuals
    "/usr/share/doc/octave",  # octave-doc
    "/usr/share/doc/gnuplot",  # gnuplot-doc
    "/usr/share/doc/asymptote",  # asymptote-doc
    "/usr/share/doc",  # whatever else ships a PDF manual (e.g. libtasn1-doc)
)
# Never read: kept for independent evaluation, as in book.py.
_EXCLUDED_PREFIXES = ("/usr/share/common-licenses",)
DPI_RANGE = (75, 300)
SPLITS = ("train", "test")
TEST_FRACTION = 0.2
MIN_PAGE_CHARS = 200  # Pages with fewer characters in words (title pages, figures) are skipped.
MAX_UNKNOWN_CHAR_FRACTION = 0.01  # Glyphs without Unicode (U+FFFD): above this, skip the page.
# The readers here read Latin script: pages whose letters are mostly of another script (the
# polyglossia examples in Japanese, Thai, Arabic...) are skipped.
MIN_LATIN_LETTER_FRACTION = 0.9
_LATIN_END = 0x250  # Basic Latin, Latin-1, Latin Extended-A and -B.
# Ligatures expanded ("ﬁ" → "fi", as a reader writes them); unknown glyphs as U+FFFD (counted).
_WORD_FLAGS = (pymupdf.TEXTFLAGS_WORDS & ~pymupdf.TEXT_PRESERVE_LIGATURES
               & ~pymupdf.TEXT_CID_FOR_UNKNOWN_UNICODE)
# Paper-size variants of one manual (refcard-a4 / refcard-letter, pxfontsdocA4 / pxfontsdoc) are
# one document for the split: they hold the same text.
_PAPER_SUFFIX = re.compile(r"[-_]?(a4|a5|letter|legal|us)$", re.IGNORECASE)

pymupdf.TOOLS.mupdf_display_errors(False)  # A damaged file is counted and logged, not printed.


@dataclasses.dataclass(frozen=True)
class PdfDocument:
  doc_id: str  # The file's path relative to /usr/share (e.g. "R/doc/manual/R-intro.pdf").
  path: str
  num_pages: int


class SkipCounter(collections.Counter):
  """Why documents or pages were skipped: reason → count, each first occurrence logged."""

  def skip(self, reason: str, what: str) -> None:
    if not self[reason]:
      logging.info("skipping %s: %s (further skips for this reason are only counted)", what,
                   reason)
    self[reason] += 1


def pdf_roots() -> tuple[str, ...]:
  """PDF_ROOTS, or the folders listed in $TFIC_PDF_ROOTS (os.pathsep-separated): your own PDFs,
  or the tests' generated ones."""
  override = os.environ.get("TFIC_PDF_ROOTS", "")
  return tuple(r for r in override.split(os.pathsep) if r) if override else PDF_ROOTS


def document_id(path: str) -> str:
  real = os.path.realpath(path)
  return real[len("/usr/share/"):] if real.startswith("/usr/share/") else real


def split_key(doc_id: str) -> str:
  """What the split hashes: the file name without directory, extension and paper-size suffix
  (so that the A4 and letter printings of one manual, under any directory, share a split)."""
  stem = os.path.basename(doc_id)
  stem = stem[:-len(".pdf")] if stem.lower().endswith(".pdf") else stem
  return _PAPER_SUFFIX.sub("", stem).lower()


def document_split(doc_id: str, test_fraction: float = TEST_FRACTION) -> str:
  """'train' or 'test', from a hash of the document (never of a page): a test document is never
  trained on. Stable across machines and Python runs (sha256, not `hash`)."""
  digest = hashlib.sha256(split_key(doc_id).encode("utf-8")).digest()
  return "test" if int.from_bytes(digest[:8], "big") / 2.0**64 < test_fraction else "train"


def find_pdfs(roots: Sequence[str] | None = None,
              skipped: SkipCounter | None = None) -> list[PdfDocument]:
  """The readable PDFs under `roots` (default: `pdf_roots()`), sorted by id, each file once.

  Symlinks are resolved, and files with the same page count and text on their first pages are
  one document (`_content_digest`), kept once (the first by id). Files that do not open, are
  encrypted or have no pages are skipped and counted in `skipped`.
  """
  skipped = skipped if skipped is not None else SkipCounter()
  paths = set()
  for root in pdf_roots() if roots is None else roots:
    for path in glob.glob(os.path.join(root, "**", "*.pdf"), recursive=True):
      real = os.path.realpath(path)
      if os.path.isfile(real) and not real.startswith(_EXCLUDED_PREFIXES):
        paths.add(real)
  documents, digests = [], set()
  for path in sorted(paths, key=document_id):
    try:
      with pymupdf.open(path) as pdf:
        if pdf.needs_pass:
          skipped.skip("encrypted", path)
          continue
        num_pages = pdf.page_count
        digest = _content_digest(path, pdf)
    except (RuntimeError, ValueError, OSError) as e:  # pymupdf raises FileDataError et al.
      skipped.skip(f"unreadable ({type(e).__name__})", path)
      continue
    if num_pages == 0:
      skipped.skip("no pages", path)
      continue
    if digest in digests:
      skipped.skip("same text as another document", path)
      continue
    digests.add(digest)
    documents.append(PdfDocument(document_id(path), path, num_pages))
  return documents


def _content_digest(path: str, pdf: "pymupdf.Document") -> str:
  """What makes two files one document: the page count and the text of the first pages (R's
  refman.pdf and fullrefman.pdf differ in a byte of metadata only; the A4 and letter printings
  of a manual set the same words); the file's bytes when those pages hold little text."""
  text = "".join(pdf[i].get_text() for i in range(min(3, pdf.page_count)))
  if len(text.strip()) < MIN_PAGE_CHARS:
    with open(path, "rb") as f:
      return "bytes:" + hashlib.sha256(f.read()).hexdigest()
  return f"text:{pdf.page_count}:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def page_words(pdf_page: "pymupdf.Page", scale: float) -> tuple[list[Word], int]:
  """Words of the text layer in reading order, boxes in pixels at `scale` pixels per point.

  Reading order is MuPDF's (block, line, word) numbering; `Word.line` numbers the (block, line)
  pairs in that order. Also returns how many characters had no Unicode mapping (U+FFFD).
  """
  matrix = pdf_page.rotation_matrix * pymupdf.Matrix(scale, scale)
  raw = pdf_page.get_text("words", flags=_WORD_FLAGS)
  raw.sort(key=lambda w: (w[5], w[6], w[7]))
  words, line_ids, unknown = [], {}, 0
  for x0, y0, x1, y1, text, block, line, _ in raw:
    text = text.strip()
    if not text:
      continue
    unknown += text.count("\ufffd")
    rect = pymupdf.Rect(x0, y0, x1, y1) * matrix
    line_id = line_ids.setdefault((block, line), len(line_ids))
    words.append(Word(text, (rect.x0, rect.y0, rect.x1, rect.y1), line_id))
  return words, unknown


def render_page(document: PdfDocument | str, page_index: int, dpi: float = 150,
                color: bool = False, skipped: SkipCounter | None = None,
                min_chars: int = MIN_PAGE_CHARS) -> Page | None:
  """Page `page_index` of a PDF rendered at `dpi`, grey ([H, W]) or RGB ([H, W, 3]) uint8, with
  its words (boxes clipped to the image, words wholly outside it dropped).

  None, counted in `skipped`, when the page cannot be rendered, has fewer than `min_chars`
  characters in words, more than MAX_UNKNOWN_CHAR_FRACTION of them unmapped, or letters mostly
  not Latin.
  """
  if not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
    raise errors.TficError(f"dpi must be in {DPI_RANGE}, got {dpi}")
  if isinstance(document, str):
    document = PdfDocument(document_id(document), document, 0)
  skipped = skipped if skipped is not None else SkipCounter()
  what = f"{document.doc_id} page {page_index}"
  scale = dpi / 72.0
  try:
    with pymupdf.open(document.path) as pdf:
      pdf_page = pdf[page_index]
      words, unknown = page_words(pdf_page, scale)
      num_chars = sum(len(w.text) for w in words)
      if num_chars < min_chars:
        skipped.skip("little or no text", what)
        return None
      if unknown > MAX_UNKNOWN_CHAR_FRACTION * num_chars:
        skipped.skip("glyphs without Unicode", what)
        return None
      letters = [c for w in words for c in w.text if c.isalpha()]
      if sum(ord(c) < _LATIN_END for c in letters) < MIN_LATIN_LETTER_FRACTION * len(letters):
        skipped.skip("not Latin script", what)
        return None
      pixmap = pdf_page.get_pixmap(matrix=pymupdf.Matrix(scale, scale), alpha=False,
                                   colorspace=pymupdf.csRGB if color else pymupdf.csGRAY)
  except (RuntimeError, ValueError, IndexError, OSError) as e:
    skipped.skip(f"unreadable page ({type(e).__name__})", what)
    return None
  image = np.frombuffer(pixmap.samples, np.uint8).reshape(pixmap.height, pixmap.width,
                                                          pixmap.n)
  image = image.copy() if color else image[:, :, 0].copy()
  height, width = image.shape[:2]
  kept = []
  for word in words:
    x0, y0, x1, y1 = word.box
    box = (max(0.0, x0), max(0.0, y0), min(float(width), x1), min(float(height), y1))
    if box[2] - box[0] >= 1 and box[3] - box[1] >= 1:  # Wholly outside or degenerate: dropped.
      kept.append(dataclasses.replace(word, box=box))
  return Page(image=image, words=tuple(kept), doc_id=document.doc_id, page_index=page_index,
              dpi=float(dpi))


def page_seed(seed: int, *keys) -> int:
  """A 31-bit seed (fits a C int: OpenCV's) from `seed` and keys (document id, page,
  condition...), stable across runs and machines."""
  text = "\x1f".join(str(k) for k in (seed, *keys))
  return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") >> 1


def page_from_example(example: dict) -> Page:
  """A `documents` dataset example (`pipeline.load_split("documents", ...)[i]`) as a `Page`."""
  image = np.asarray(example["image"])
  if image.ndim == 3 and image.shape[-1] == 1:
    image = image[:, :, 0]
  texts = example["word_texts"].split("\n") if example["word_texts"] else []
  boxes = np.asarray(example["word_boxes"], np.float32).reshape(-1, 4)
  lines = np.asarray(example["word_lines"], np.int32).reshape(-1)
  words = tuple(Word(t, tuple(float(v) for v in b), int(l))
                for t, b, l in zip(texts, boxes, lines))
  return Page(image=image, words=words, doc_id=str(example["doc_id"]),
              page_index=int(example["page"]), dpi=float(example["dpi"]),
              condition=str(example["condition"]))
