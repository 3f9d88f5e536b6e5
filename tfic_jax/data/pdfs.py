"""Real typeset documents: the PDF manuals Debian ships, rendered with their text layer.

scripts/install_system_deps.sh installs them; docs/data.md lists packages, documents and pages.
PyMuPDF renders a page at any resolution and gives the exact text layer (word strings and
boxes), so the ground truth of a rendered page (`documents.Page`) involves no OCR. Documents are
files (`find_pdfs`); the split by document is `documents.document_split`. Kept apart from
`documents` so that reading a built dataset or the `Page` record never needs PyMuPDF.
"""

import dataclasses
import glob
import hashlib
import os
from typing import Sequence

import numpy as np
import pymupdf

from tfic_jax import errors
from tfic_jax.data import documents

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
MIN_PAGE_CHARS = 200  # Pages with fewer characters in words (title pages, figures) are skipped.
MAX_UNKNOWN_CHAR_FRACTION = 0.01  # Glyphs without Unicode (U+FFFD): above this, skip the page.
# The readers here read Latin script: pages whose letters are mostly of another script (the
# polyglossia examples in Japanese, Thai, Arabic...) are skipped.
MIN_LATIN_LETTER_FRACTION = 0.9
_LATIN_END = 0x250  # Basic Latin, Latin-1, Latin Extended-A and -B.
# Ligatures expanded ("ﬁ" → "fi", as a reader writes them); unknown glyphs as U+FFFD (counted).
_WORD_FLAGS = (pymupdf.TEXTFLAGS_WORDS & ~pymupdf.TEXT_PRESERVE_LIGATURES
               & ~pymupdf.TEXT_CID_FOR_UNKNOWN_UNICODE)

pymupdf.TOOLS.mupdf_display_errors(False)  # A damaged file is counted and logged, not printed.


@dataclasses.dataclass(frozen=True)
class PdfDocument:
  doc_id: str  # The file's path relative to /usr/share (e.g. "R/doc/manual/R-intro.pdf").
  path: str
  num_pages: int


def pdf_roots() -> tuple[str, ...]:
  """PDF_ROOTS, or the folders listed in $TFIC_PDF_ROOTS (os.pathsep-separated): your own PDFs,
  or the tests' generated ones."""
  override = os.environ.get("TFIC_PDF_ROOTS", "")
  return tuple(r for r in override.split(os.pathsep) if r) if override else PDF_ROOTS


def document_id(path: str) -> str:
  real = os.path.realpath(path)
  return real[len("/usr/share/"):] if real.startswith("/usr/share/") else real


def find_pdfs(roots: Sequence[str] | None = None,
              skipped: documents.SkipCounter | None = None) -> list[PdfDocument]:
  """The readable PDFs under `roots` (default: `pdf_roots()`), sorted by id, each file once.

  Symlinks are resolved, and files with the same page count and text on their first pages are
  one document (`_content_digest`), kept once (the first by id). Files that do not open, are
  encrypted or have no pages are skipped and counted in `skipped`.
  """
  skipped = skipped if skipped is not None else documents.SkipCounter()
  paths = set()
  for root in pdf_roots() if roots is None else roots:
    for path in glob.glob(os.path.join(root, "**", "*.pdf"), recursive=True):
      real = os.path.realpath(path)
      if os.path.isfile(real) and not real.startswith(_EXCLUDED_PREFIXES):
        paths.add(real)
  found, digests = [], set()
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
    found.append(PdfDocument(document_id(path), path, num_pages))
  return found


def _content_digest(path: str, pdf: "pymupdf.Document") -> str:
  """What makes two files one document: the page count and the text of the first pages (R's
  refman.pdf and fullrefman.pdf differ in a byte of metadata only; the A4 and letter printings
  of a manual set the same words); the file's bytes when those pages hold little text."""
  text = "".join(pdf[i].get_text() for i in range(min(3, pdf.page_count)))
  if len(text.strip()) < MIN_PAGE_CHARS:
    with open(path, "rb") as f:
      return "bytes:" + hashlib.sha256(f.read()).hexdigest()
  return f"text:{pdf.page_count}:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def page_words(pdf_page: "pymupdf.Page", scale: float) -> tuple[list[documents.Word], int]:
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
    words.append(documents.Word(text, (rect.x0, rect.y0, rect.x1, rect.y1), line_id))
  return words, unknown


def render_page(document: PdfDocument | str, page_index: int, dpi: float = 150,
                color: bool = False, skipped: documents.SkipCounter | None = None,
                min_chars: int = MIN_PAGE_CHARS) -> documents.Page | None:
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
  skipped = skipped if skipped is not None else documents.SkipCounter()
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
  return documents.Page(image=image, words=tuple(kept), doc_id=document.doc_id,
                        page_index=page_index, dpi=float(dpi))


