"""Document pages with exact ground truth: the record every document source and evaluation shares.

A `Page` is one page image with its words and their boxes in pixel coordinates. Sources fill it
(rendered PDFs take the words from the PDF's text layer, so no OCR is involved); the page-level
evaluation (`tfic_jax.eval.documents`) reads `page_text` as the reference, or, for a page
without words (a real scan), the reading of the original.
"""

import dataclasses

import numpy as np


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
  lines: list[list[str]] = []
  last = None
  for word in page.words:
    if word.line != last:
      lines.append([])
      last = word.line
    lines[-1].append(word.text)
  return "\n".join(" ".join(line) for line in lines)
