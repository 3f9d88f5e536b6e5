"""Document pages with exact ground truth: the record every document source and evaluation shares.

A `Page` is one page image with its words and their boxes in pixel coordinates. Sources fill it
(rendered PDFs take the words from the PDF's text layer, so no OCR is involved); the page-level
evaluation (`tfic_jax.eval.documents`) reads `page_text` as the reference, or, for a page
without words (a real scan), the reading of the original.

Also here, light enough for any consumer (numpy only): the split by document
(`document_split`), seeds per page (`page_seed`), skip accounting (`SkipCounter`) and a built
`documents` example read back as a `Page` (`page_from_example`). Real PDFs are found and
rendered by `tfic_jax.data.pdfs` (PyMuPDF), degraded by `tfic_jax.data.conditions` (augraphy)
and built into datasets by `tfic_jax.data.builders` (docs/data.md, "Real documents").
"""

import collections
import dataclasses
import hashlib
import os
import re
from typing import Sequence

from absl import logging
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


SPLITS = ("train", "test")
TEST_FRACTION = 0.2
# Paper-size variants of one manual (refcard-a4 / refcard-letter, pxfontsdocA4 / pxfontsdoc) are
# one document for the split: they hold the same text.
_PAPER_SUFFIX = re.compile(r"[-_]?(a4|a5|letter|legal|us)$", re.IGNORECASE)


class SkipCounter(collections.Counter):
  """Why documents or pages were skipped: reason → count, each first occurrence logged."""

  def skip(self, reason: str, what: str) -> None:
    if not self[reason]:
      logging.info("skipping %s: %s (further skips for this reason are only counted)", what,
                   reason)
    self[reason] += 1


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
