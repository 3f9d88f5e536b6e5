r"""Page-level evaluation (issue 26): whole pages through the codecs a user would pick, read
again by a page OCR.

Every page (any size) is coded by
  - each learned codec given (`mse_codecs`, `tfic_codecs`: shipped names, model directories or
    workdirs), into a real .tfic file (`bitstream.compress`, tiles for large pages; a grey page
    is coded as RGB with equal channels and read back as grey);
  - each classical codec of `classical.ALL_CODECS` listed in `classical_codecs` (JPEG, WebP,
    AVIF, JPEG 2000, JPEG XL, HEIF/HEVC intra, DjVu IW44 and DjVu JB2 of the binarized page),
    at each downscale (1×, 2×, 4×) and quality of its sweep;
then decoded and read by Tesseract in page mode (`tesseract.PAGE_PSM`) and, if `page_ocr` is
on, by our page OCR (`chains.page_ocr`: the shipped CRAFT detector + the judge). The rate is
the real stream's bytes per pixel of the page; "uncompressed" counts the raw 8-bit samples.

Accuracy is the paper's OCR accuracy (`metrics.ocr_accuracy`: 1 − Levenshtein / max length
over the alphanumerics, case-insensitive, after collapsing whitespace) of the whole page's
reading against the page's ground truth (`data.documents.page_text`) or, for a page without
words (a real scan), against the reading of the original page by the same reader.

Page sources (`source`): "images" (files, folders, globs), "book" (pages typeset by
`data.book`, exact text: the dependency-free source) and "documents" (the `documents` tfds
builder of `tfic_jax.data.builders`).

Outputs (`write_outputs`): results.json, pages.csv (every page × method × setting), points.csv
(means over pages), readings.json, rate_accuracy_<reader>.png, rate_table.md (the bpp each
method needs for 90 % and 95 % of the uncompressed accuracy) and visual_grid.png (one region of
the first page per method, at similar rates). See docs/evaluation.md.
"""

from collections.abc import Callable, Sequence
import collections
import csv
import dataclasses
import json
import math
from pathlib import Path
import time

import jax
import numpy as np
from PIL import Image

from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax import metrics
from tfic_jax.chains import page_ocr
from tfic_jax.codec import api as codec_api
from tfic_jax.codec import bitstream
from tfic_jax.codec import files as codec_files
from tfic_jax.data import book
from tfic_jax.data import documents as documents_lib
from tfic_jax.data import pipeline
from tfic_jax.detect import api as detect_api
from tfic_jax.eval import bjontegaard
from tfic_jax.eval import classical
from tfic_jax.eval import report as report_lib
from tfic_jax.eval import tesseract
from tfic_jax.eval import tfic as tfic_eval
from tfic_jax.ocr import api as ocr_api

Progress = Callable[[str], None]
READERS = ("tesseract", "page_ocr")
SOURCES = ("images", "book", "documents")
LEARNED_KINDS = ("mse", "tfic")
DOCUMENTS_BUILDER = "documents"  # The tfds builder of document pages (tfic_jax.data.builders).
BOOK_SEED = 2285  # The seed book_patches renders its pages with (data.builders.BOOK_SEED).
FILES = {"json": "results.json", "pages_csv": "pages.csv", "points_csv": "points.csv",
         "readings": "readings.json", "table": "rate_table.md", "grid": "visual_grid.png"}
_PAGES_CSV = ("page", "method", "codec", "downscale", "quality", "bytes", "bpp",
              "tesseract_accuracy", "page_ocr_accuracy")
_POINTS_CSV = ("method", "codec", "downscale", "quality", "bpp", "tesseract_accuracy",
               "page_ocr_accuracy", "num_pages")


# ------------------------------------------------------------------------------ pages


@dataclasses.dataclass(frozen=True)
class NamedPage:
  name: str  # A file's path, "book/<split>/<index>" or "documents/<split>/<index>".
  page: documents_lib.Page

  @property
  def reference(self) -> str | None:
    """The ground-truth text, or None for a page without words (read the original instead)."""
    return documents_lib.page_text(self.page) if self.page.has_text else None


def _as_page_array(image: np.ndarray) -> np.ndarray:
  """[H, W, 1] for a grey page (also an RGB file whose channels are equal), else [H, W, 3]."""
  image = np.asarray(image)
  if image.ndim == 2:
    return image[:, :, None]
  if image.shape[2] == 3 and (image == image[:, :, :1]).all():
    return image[:, :, :1]
  return image


def image_pages(specs: Sequence[str]) -> list[NamedPage]:
  """Pages from image files, folders and globs; no ground truth (each is read as a scan)."""
  paths = [path for path, _ in codec_files.expand_inputs(list(specs),
                                                         codec_files.IMAGE_EXTENSIONS)]
  pages = []
  for path in paths:
    image = _as_page_array(imageio.load_image(path, "RGB"))
    pages.append(NamedPage(str(path), documents_lib.Page(image=image, doc_id=path.stem,
                                                         condition="scan")))
  return pages


def from_book_page(rendered: book.Page, doc_id: str, page_index: int) -> documents_lib.Page:
  """A typeset `book.Page` as a `documents.Page`: its words (characters grouped by word id),
  their boxes and lines."""
  words = []
  for word_id in np.unique(rendered.char_word):
    chars = np.flatnonzero(rendered.char_word == word_id)
    boxes = rendered.char_boxes[chars]
    words.append(documents_lib.Word(
        text="".join(rendered.chars[i] for i in chars),
        box=(float(boxes[:, 0].min()), float(boxes[:, 1].min()), float(boxes[:, 2].max()),
             float(boxes[:, 3].max())),
        line=int(rendered.char_line[chars[0]])))
  return documents_lib.Page(image=rendered.image, words=tuple(words), doc_id=doc_id,
                            page_index=page_index, condition="clean")


def book_pages(num_pages: int, split: str = "test", first_page: int = 0, height: int = 1024,
               width: int = 768, text: str = "", seed: int = BOOK_SEED) -> list[NamedPage]:
  """Pages typeset by `data.book` (grey, 11–13 px type, exact text).

  `text`: typeset this text (repeated to fill the page) instead of the corpus of `split`'s
  sentences (gathering the corpus takes a few seconds; tests give a text).
  """
  if num_pages <= 0:
    raise errors.TficError(f"book pages: num_pages must be > 0, got {num_pages}")
  if split not in ("train", "test"):
    raise errors.DatasetError(f"book pages: split {split!r}, expected 'train' or 'test'")
  spec = book.PageSpec(height=int(height), width=int(width),
                       margin=max(4, min(48, min(height, width) // 16)))
  sentences = (book.sentences_from_text(text) or [text.strip()]) if text.strip() else \
      book.sentence_pool(book.gather_sentences(), split)
  pages = []
  for index in range(first_page, first_page + num_pages):
    rendered = book.make_page(sentences, index, seed, spec)
    name = f"book/{split}/{index}"
    pages.append(NamedPage(name, from_book_page(rendered, name, index)))
  return pages


def documents_pages(split: str, builder_config: str, num_pages: int, data_dir: str,
                    conditions: Sequence[str] = (), per_document: int = 0,
                    max_dpi: float = 0.0) -> list[NamedPage]:
  """The first `num_pages` pages of the `documents` tfds builder (split, config), built under
  `data_dir` if missing; `conditions` ("clean", "scan", "photo"; empty: all) filters them, as
  do `per_document` (at most that many pages of each document, so a few pages span many
  documents; 0: no limit) and `max_dpi` (0: any resolution).

  Raises DatasetError naming the builder if `tfic_jax.data.builders` has none.
  """
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top  (deferred: tfds)
  if DOCUMENTS_BUILDER not in builders.BUILDERS:
    raise errors.DatasetError(
        f"the {DOCUMENTS_BUILDER!r} tfds builder does not exist yet (tfic_jax.data.builders "
        f"has {sorted(builders.BUILDERS)}); use source='images' or 'book'")
  source = pipeline.load_split(DOCUMENTS_BUILDER, split, data_dir, builder_config)
  pages, taken = [], collections.Counter()
  for index in range(len(source)):
    if len(pages) >= num_pages:
      break
    page = documents_lib.page_from_example(source[index])
    if conditions and page.condition not in conditions:
      continue
    if (max_dpi and page.dpi > max_dpi) or (per_document and taken[page.doc_id] >= per_document):
      continue
    taken[page.doc_id] += 1
    page = dataclasses.replace(page, image=_as_page_array(page.image))
    name = (f"{DOCUMENTS_BUILDER}/{builder_config}/{split}/{page.doc_id}#{page.page_index}/"
            f"{page.condition}")
    pages.append(NamedPage(name, page))
  return pages


DEFAULT_NUM_PAGES = 2  # Of a book or documents source when config.num_pages is 0.


def load_pages(config) -> list[NamedPage]:
  """The pages `config.source` names (see the module docstring). `config.num_pages` caps
  them; 0: every image file, or `DEFAULT_NUM_PAGES` book / documents pages."""
  source = str(config.source)
  num_pages = int(config.num_pages)
  if num_pages < 0:
    raise errors.TficError(f"config.num_pages must be >= 0, got {num_pages}")
  if source == "images":
    specs = _names(config.images)
    if not specs:
      raise errors.TficError("config.images is empty: give image files, folders or globs")
    pages = image_pages(specs)
    return pages[:num_pages] if num_pages else pages
  num_pages = num_pages or DEFAULT_NUM_PAGES
  if source == "book":
    return book_pages(num_pages, str(config.book.split), int(config.book.first_page),
                      int(config.book.height), int(config.book.width), str(config.book.text))
  if source == "documents":
    return documents_pages(str(config.documents.split), str(config.documents.builder_config),
                           num_pages, str(config.documents.data_dir),
                           _names(config.documents.conditions),
                           int(config.documents.get("per_document", 0)),
                           float(config.documents.get("max_dpi", 0.0)))
  raise errors.TficError(f"config.source is {source!r}: use one of {SOURCES}")


# ------------------------------------------------------------------------------ coding


@dataclasses.dataclass
class Coded:
  """One page coded by one method at one setting."""
  page: int  # Index into the evaluated pages.
  method: str  # "uncompressed", "mse", "tfic" or a classical codec's name.
  codec: str  # The learned codec's name, the classical codec's name, or "".
  downscale: int
  quality: float | None
  num_bytes: int
  bpp: float
  readings: dict = dataclasses.field(default_factory=dict)  # reader → text
  accuracy: dict = dataclasses.field(default_factory=dict)  # reader → accuracy

  @property
  def key(self) -> tuple:
    """The setting: the same for every page (a point of a curve)."""
    return (self.method, self.codec, self.downscale, self.quality)


def curve_name(method: str, downscale: int) -> str:
  """A curve per method and downscale: "webp", "webp ↓2", ...; learned codecs: "mse", "tfic"."""
  return method if downscale == 1 else f"{method} ↓{downscale}"


def to_rgb(image: np.ndarray) -> np.ndarray:
  return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


def like_page(decoded_rgb: np.ndarray, page_image: np.ndarray) -> np.ndarray:
  """A learned codec's RGB output in the page's channels (grey pages: Pillow's luma)."""
  if page_image.shape[2] == 3:
    return decoded_rgb
  return np.asarray(Image.fromarray(decoded_rgb).convert("L"))[:, :, None]


def code_learned(loaded: codec_api.LoadedCodec, image: np.ndarray) -> tuple[np.ndarray, int]:
  """(decoded page, bytes of the .tfic file) of one page."""
  data = bitstream.compress(loaded, to_rgb(image))
  return like_page(bitstream.decompress(loaded, data), image), len(data)


# ------------------------------------------------------------------------------ reading


class Readers:
  """Tesseract in page mode and, optionally, our page OCR (CRAFT + the judge)."""

  def __init__(self, use_tesseract: bool, use_page_ocr: bool, detector: str, judge: str,
               tesseract_workers: int, tesseract_psm: int):
    self.names = []
    self.notes = []
    self.tesseract_workers, self.tesseract_psm = int(tesseract_workers), int(tesseract_psm)
    if use_tesseract:
      if tesseract.available():
        self.names.append("tesseract")
      else:
        self.notes.append(
            f"Tesseract was not run: the binary is missing ({tesseract.INSTALL_HINT})")
    self._page_ocr = None
    if use_page_ocr:
      detector_model, detector_variables = detect_api.load(detector or None)
      ocr_model, ocr_variables = ocr_api.load(judge or None)
      self._page_ocr = (detector_model, detector_variables, ocr_model, ocr_variables)
      self.names.append("page_ocr")
    if not self.names:
      raise errors.TficError("no reader: Tesseract is off or missing and page_ocr is off")

  def read(self, images: Sequence[np.ndarray]) -> dict[str, list[str]]:
    """reader → the readings of `images`, in order."""
    readings = {}
    if "tesseract" in self.names:
      readings["tesseract"] = tesseract.read_many(
          images, psm=self.tesseract_psm, num_workers=self.tesseract_workers, batch_size=4)
    if self._page_ocr is not None:
      readings["page_ocr"] = [page_ocr.read_page(*self._page_ocr, image).text for image in images]
    return readings


def collapse_whitespace(text: str) -> str:
  return " ".join(text.split())


def page_accuracy(reference: str, reading: str) -> float:
  """The paper's OCR accuracy of a whole page's reading (whitespace-normalized texts)."""
  return metrics.ocr_accuracy(collapse_whitespace(reference), collapse_whitespace(reading))


# ------------------------------------------------------------------------------ rates


def rate_needed(points: Sequence[tuple[float, float]], target: float) -> dict:
  """The lowest rate at which a curve of (bpp, accuracy) points reaches `target`.

  Interpolated in log-rate on the curve's envelope (`bjontegaard.rate_at_quality`).
  Returns {"bpp": rate or None ("not reached"), "at_lowest_point": whether the lowest
  measured rate already reaches it (the rate is then an upper bound)}.
  """
  rates = [p[0] for p in points]
  accuracies = [p[1] for p in points]
  rate = bjontegaard.rate_at_quality(rates, accuracies, target)
  _, envelope_accuracies = bjontegaard.envelope(rates, accuracies)
  at_lowest = rate is not None and bool(envelope_accuracies[0] >= target)
  return {"bpp": rate, "at_lowest_point": at_lowest}


def format_rate(entry: dict) -> str:
  if entry["bpp"] is None:
    return "not reached"
  return ("≤ " if entry["at_lowest_point"] else "") + f"{entry['bpp']:.4f}"


# ------------------------------------------------------------------------------ the run


def _names(value) -> list[str]:
  names = value.split(",") if isinstance(value, str) else list(value or ())
  return [str(n).strip() for n in names if str(n).strip()]


def _floats(value) -> list[float]:
  return [float(v) for v in _names(value)]


def check_config(config) -> None:
  """Refuses a bad configuration before any work, with one line saying what to change."""
  if str(config.source) not in SOURCES:
    raise errors.TficError(f"config.source is {config.source!r}: use one of {SOURCES}")
  unknown = [c for c in _names(config.classical_codecs) if c not in classical.ALL_CODECS]
  if unknown:
    raise errors.TficError(
        f"unknown classical codecs {unknown}; known: {list(classical.ALL_CODECS)}")
  for name in _names(config.classical_codecs):
    qualities = config.qualities.get(name) if config.get("qualities") else None
    for quality in (_floats(qualities) if qualities is not None else []):
      try:
        classical.check_quality(name, quality)
      except (TypeError, ValueError) as e:
        raise errors.TficError(f"config.qualities.{name}: {e}") from None
  downscales = [int(d) for d in _names(config.downscales)] if config.downscales else [1]
  if any(d < 1 for d in downscales):
    raise errors.TficError(f"config.downscales must be positive integers, got {config.downscales}")
  fractions = _floats(config.keep_fractions)
  if not fractions or any(not 0 < f <= 1 for f in fractions):
    raise errors.TficError(f"config.keep_fractions must be in (0, 1], got {config.keep_fractions}")


def _qualities(config, codec: str) -> list[float]:
  coder = classical.get_codec(codec)
  given = config.qualities.get(codec) if config.get("qualities") else None
  values = _floats(given) if given is not None else list(coder.quick_qualities)
  return [int(v) if coder.integer_quality else v for v in values]


def text_region(image: np.ndarray, height: int, width: int) -> tuple[int, int, int, int]:
  """(top, left, bottom, right) of the `height × width` window of the page with the most ink
  (dark pixels), searched on a coarse grid: where the grid shows text, not margins. The region
  `visual_grid.png` shows (also the demo's document picture)."""
  page_h, page_w = image.shape[:2]
  height, width = min(height, page_h), min(width, page_w)
  ink = (np.asarray(image, np.float32).mean(axis=2) < 128).astype(np.float64)
  integral = np.pad(ink.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
  best, best_ink = (0, 0), -1.0
  for top in range(0, page_h - height + 1, max(1, height // 4)):
    for left in range(0, page_w - width + 1, max(1, width // 4)):
      total = (integral[top + height, left + width] - integral[top, left + width]
               - integral[top + height, left] + integral[top, left])
      if total > best_ink:
        best, best_ink = (top, left), total
  return best[0], best[1], best[0] + height, best[1] + width


class Evaluation:
  """Codes every page with every method, reads each decoded page, keeps the grid's crops."""

  def __init__(self, pages: Sequence[NamedPage], readers: Readers, region: tuple, flush: int,
               progress: Progress):
    self.pages, self.readers, self.region, self.flush = list(pages), readers, region, flush
    self.progress = progress
    self.references: list[dict[str, str]] = [{} for _ in self.pages]  # page → reader → text
    self.coded: list[Coded] = []
    self.crops: dict[tuple, np.ndarray] = {}  # setting key → crop of the first page
    self._pending: list[tuple[Coded, np.ndarray]] = []

  def add(self, coded: Coded, decoded: np.ndarray) -> None:
    if coded.page == 0:
      top, left, bottom, right = self.region
      self.crops[coded.key] = decoded[top:bottom, left:right].copy()
    self.coded.append(coded)
    self._pending.append((coded, decoded))
    if len(self._pending) >= self.flush:
      self.read_pending()

  def read_pending(self) -> None:
    if not self._pending:
      return
    readings = self.readers.read([decoded for _, decoded in self._pending])
    for index, (coded, _) in enumerate(self._pending):
      coded.readings = {reader: texts[index] for reader, texts in readings.items()}
      if coded.method == "uncompressed":
        for reader, text in coded.readings.items():
          self.references[coded.page][reader] = text
    self._pending = []

  def score(self) -> None:
    """Accuracy of every reading against its page's ground truth or original reading."""
    self.read_pending()
    for coded in self.coded:
      named = self.pages[coded.page]
      for reader, text in coded.readings.items():
        reference = named.reference
        if reference is None:
          reference = self.references[coded.page][reader]
        coded.accuracy[reader] = page_accuracy(reference, text)


def _point_summaries(coded: Sequence[Coded], readers: Sequence[str]) -> list[dict]:
  """Means over pages per setting, in the order settings were first coded."""
  groups: dict[tuple, list[Coded]] = {}
  for c in coded:
    groups.setdefault(c.key, []).append(c)
  summaries = []
  for (method, codec, downscale, quality), group in groups.items():
    summaries.append({
        "method": method, "codec": codec, "downscale": downscale, "quality": quality,
        "curve": curve_name(method, downscale),
        "bpp": float(np.mean([c.bpp for c in group])),
        **{f"{r}_accuracy": float(np.mean([c.accuracy[r] for c in group])) for r in readers},
        "num_pages": len(group)})
  return summaries


def rate_table(points: Sequence[dict], readers: Sequence[str], fractions: Sequence[float]
               ) -> dict:
  """reader → {"uncompressed": accuracy, "targets": {fraction: accuracy}, "curves": {curve →
  {fraction: rate_needed}}}; curves are per method and downscale, plus each classical codec's
  envelope over its downscales ("<codec> (best ↓)")."""
  uncompressed = next(p for p in points if p["method"] == "uncompressed")
  curves: dict[str, list[dict]] = {}
  methods = list(dict.fromkeys(p["method"] for p in points if p["method"] != "uncompressed"))
  for method in methods:
    of_method = [p for p in points if p["method"] == method]
    for p in sorted(of_method, key=lambda p: p["downscale"]):
      curves.setdefault(p["curve"], []).append(p)
    if method in classical.ALL_CODECS and len({p["downscale"] for p in of_method}) > 1:
      curves[f"{method} (best ↓)"] = of_method
  table = {}
  for reader in readers:
    reference = uncompressed[f"{reader}_accuracy"]
    targets = {f: f * reference for f in fractions}
    table[reader] = {
        "uncompressed": reference, "targets": targets,
        "curves": {name: {f: rate_needed([(p["bpp"], p[f"{reader}_accuracy"]) for p in pts], t)
                          for f, t in targets.items()}
                   for name, pts in curves.items()}}
  return table


def format_rate_table(table: dict, scale: str) -> str:
  lines = [f"Scale: {scale}."]
  for reader, entry in table.items():
    fractions = list(entry["targets"])
    lines += ["", f"### bpp needed for a fraction of the uncompressed accuracy ({reader}: "
                  f"uncompressed {entry['uncompressed']:.3f})", "",
              "| method | " + " | ".join(f"{100 * f:g} % (acc. ≥ {entry['targets'][f]:.3f})"
                                         for f in fractions) + " |",
              "|---|" + "---|" * len(fractions)]
    for name, rates in entry["curves"].items():
      lines.append(f"| {name} | " + " | ".join(format_rate(rates[f]) for f in fractions) + " |")
  lines += ["", "Rates interpolated in log-rate on each curve's envelope; ≤: the lowest "
                "measured rate already reaches the target; not reached: no setting does."]
  return "\n".join(lines)


def format_points(points: Sequence[dict], readers: Sequence[str]) -> str:
  lines = ["| method | codec | downscale | quality | bpp | " + " | ".join(readers) + " |",
           "|---|---|---|---|---|" + "---|" * len(readers)]
  for p in points:
    quality = "" if p["quality"] is None else f"{p['quality']:g}"
    lines.append(f"| {p['method']} | {p['codec']} | {p['downscale']}× | {quality} | "
                 f"{p['bpp']:.4f} | " + " | ".join(f"{p[f'{r}_accuracy']:.3f}" for r in readers)
                 + " |")
  return "\n".join(lines)


def run(config, workdir: str | Path, progress: Progress = lambda message: None) -> dict:
  """The page-level evaluation of `config` (configs/eval_documents.py); writes its files
  under `workdir` and returns the report (with "lines" to print)."""
  check_config(config)
  started = time.perf_counter()
  readers = Readers(bool(config.tesseract), bool(config.page_ocr), str(config.detector),
                    str(config.judge), int(config.tesseract_workers), int(config.tesseract_psm))
  learned = {kind: _names(config.get(f"{kind}_codecs", ())) for kind in LEARNED_KINDS}
  # Loaded (and checked: a TFIC codec has γ > 0, an MSE one not) before any page is coded.
  loaded = {kind: [codec for _, codec in tfic_eval.load_codecs(names, kind)]
            for kind, names in learned.items()}
  pages = load_pages(config)
  if not pages:
    raise errors.TficError("no page to evaluate")
  for named in pages:  # A bad page fails before any coding.
    imageio.check_image_array(named.page.image, channels=(1, 3), name=named.name)
  region = text_region(pages[0].page.image, int(config.grid.height), int(config.grid.width))
  evaluation = Evaluation(pages, readers, region, max(1, int(config.read_batch)), progress)
  downscales = [int(d) for d in _names(config.downscales)] if config.downscales else [1]
  codecs = _names(config.classical_codecs)
  for index, named in enumerate(pages):
    image = named.page.image
    height, width, channels = image.shape
    progress(f"page {index + 1}/{len(pages)}: {named.name} ({height}×{width}×{channels})")
    evaluation.add(Coded(index, "uncompressed", "", 1, None, height * width * channels,
                         8.0 * channels), image)
    for kind, codecs_of_kind in loaded.items():
      for codec in codecs_of_kind:
        decoded, num_bytes = code_learned(codec, image)
        evaluation.add(Coded(index, kind, codec.name, 1, None, num_bytes,
                             metrics.bpp(num_bytes, height, width)), decoded)
      if codecs_of_kind:
        progress(f"  {kind}: {len(codecs_of_kind)} codecs")
    for codec in codecs:
      for downscale in downscales:
        if min(height, width) < downscale * 8:  # Too small to code reduced.
          readers.notes.append(f"{named.name}: {height}×{width} is too small for a {downscale}× "
                               f"downscale; not coded so by {codec}")
          continue
        for quality in _qualities(config, codec):
          stream = classical.encode(image, codec, quality, downscale)
          decoded = classical.decode(stream, image.shape, codec)
          evaluation.add(Coded(index, codec, codec, downscale, quality, len(stream),
                               metrics.bpp(len(stream), height, width)), decoded)
      progress(f"  {codec}: {len(downscales)} downscales × {len(_qualities(config, codec))} "
               "qualities")
  evaluation.score()
  points = _point_summaries(evaluation.coded, readers.names)
  fractions = _floats(config.keep_fractions)
  table = rate_table(points, readers.names, fractions)
  scale = (f"{len(pages)} page(s) from source {config.source!r} "
           f"({', '.join(f'{p.page.image.shape[0]}×{p.page.image.shape[1]}' for p in pages[:4])}"
           f"{' ...' if len(pages) > 4 else ''}), JAX backend {jax.default_backend()}")
  report = {
      "scale": scale, "source": str(config.source), "readers": readers.names,
      "notes": readers.notes, "pages": [{"name": p.name, "shape": list(p.page.image.shape),
                                         "has_text": p.page.has_text,
                                         "reference": p.reference} for p in pages],
      "points": points, "rate_table": table, "grid_region": list(region),
      "runtime_s": None, "config": config.to_dict() if hasattr(config, "to_dict") else {},
  }
  report["runtime_s"] = time.perf_counter() - started
  files = write_outputs(report, evaluation, Path(workdir), config)
  report["files"] = {k: str(v) for k, v in files.items()}
  written = ", ".join(sorted(p.name for p in files.values()))
  report["lines"] = ([format_points(points, readers.names), "", format_rate_table(table, scale),
                      ""] + [f"note: {n}" for n in readers.notes]
                     + [f"runtime {report['runtime_s']:.0f} s", f"wrote {written} under {workdir}"])
  return report


# ------------------------------------------------------------------------------ outputs


def plot_rate_accuracy(points: Sequence[dict], reader: str, path: Path, scale: str) -> None:
  """Learned codecs: every point in rate order; classical codecs: the envelope over their
  downscales and qualities; the uncompressed accuracy dashed; log-rate axis."""
  plt = report_lib.pyplot()
  fig, ax = plt.subplots(figsize=(7.2, 4.8))
  colors = plt.get_cmap("tab10")
  key = f"{reader}_accuracy"
  methods = list(dict.fromkeys(p["method"] for p in points if p["method"] != "uncompressed"))
  for number, method in enumerate(methods):
    pts = [p for p in points if p["method"] == method]
    if method in report_lib.STYLE:
      pts = sorted(pts, key=lambda p: p["bpp"])
      ax.plot([p["bpp"] for p in pts], [p[key] for p in pts], **report_lib.STYLE[method])
    else:
      rates, accuracies = bjontegaard.envelope([p["bpp"] for p in pts], [p[key] for p in pts])
      ax.plot(rates, accuracies, marker=".", lw=1.0, color=colors(number % 10),
              label=f"{method} (envelope over ↓)")
  uncompressed = next(p for p in points if p["method"] == "uncompressed")
  ax.axhline(uncompressed[key], color="k", ls="--", lw=1.0,
             label=f"uncompressed ({uncompressed[key]:.3f})")
  ax.set_xscale("log")
  ax.set_xlabel("bits per pixel (real files)")
  ax.set_ylabel(f"page OCR accuracy ({reader})")
  ax.set_title(scale, fontsize=8)
  ax.grid(True, which="both", alpha=0.3)
  ax.legend(fontsize=7, ncol=2)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def grid_points(points: Sequence[dict], target_bpp: float, reader: str) -> list[dict]:
  """One setting per method for a budget of `target_bpp`: the one `reader` reads best among
  its settings at most 1.25× the budget (what a user would pick), else its lowest-rate one."""
  chosen = []
  methods = list(dict.fromkeys(p["method"] for p in points if p["method"] != "uncompressed"))
  for method in methods:
    pts = [p for p in points if p["method"] == method]
    within = [p for p in pts if p["bpp"] <= 1.25 * target_bpp]
    # Ties go to the rate nearest the budget (log scale).
    chosen.append(max(within, key=lambda p: (p[f"{reader}_accuracy"],
                                             -abs(math.log(p["bpp"] / target_bpp))))
                  if within else min(pts, key=lambda p: p["bpp"]))
  return chosen


def grid_target(points: Sequence[dict], config) -> float:
  """The grid's rate: `config.grid.bpp` if set, else the lowest learned-codec rate, else the
  median rate of all settings."""
  if float(config.grid.bpp) > 0:
    return float(config.grid.bpp)
  learned = [p["bpp"] for p in points if p["method"] in LEARNED_KINDS]
  if learned:
    return min(learned)
  return float(np.median([p["bpp"] for p in points if p["method"] != "uncompressed"]))


def plot_grid(points: Sequence[dict], crops: dict, target_bpp: float, reader: str,
              path: Path, page_name: str) -> None:
  plt = report_lib.pyplot()
  uncompressed = next(p for p in points if p["method"] == "uncompressed")
  cells = [uncompressed] + grid_points(points, target_bpp, reader)
  columns = min(4, len(cells))
  rows = -(-len(cells) // columns)
  first = crops[(uncompressed["method"], uncompressed["codec"], 1, None)]
  cell_w = 3.6
  cell_h = cell_w * first.shape[0] / first.shape[1] + 0.5
  fig, axes = plt.subplots(rows, columns, figsize=(cell_w * columns, cell_h * rows),
                           squeeze=False)
  for ax in axes.flat:
    ax.axis("off")
  for ax, p in zip(axes.flat, cells):
    crop = crops[(p["method"], p["codec"], p["downscale"], p["quality"])]
    ax.imshow(crop[:, :, 0] if crop.shape[2] == 1 else crop, cmap="gray", vmin=0, vmax=255,
              interpolation="nearest")
    setting = "" if p["method"] == "uncompressed" else (
        f" {p['codec']}" if p["method"] in LEARNED_KINDS else
        f" q={p['quality']:g}" + (f" ↓{p['downscale']}" if p["downscale"] > 1 else ""))
    ax.set_title(f"{p['method']}{setting}\n{p['bpp']:.3f} bpp, {reader} "
                 f"{p[f'{reader}_accuracy']:.3f}", fontsize=7)
  fig.suptitle(f"{page_name}: one region per method, its best {reader} reading at ≤ 1.25 × "
               f"{target_bpp:.3f} bpp (rates and accuracies: means over pages)", fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def write_outputs(report: dict, evaluation: Evaluation, workdir: Path, config) -> dict[str, Path]:
  """Writes every file (FILES and one rate–accuracy plot per reader); returns their paths."""
  workdir.mkdir(parents=True, exist_ok=True)
  paths = {key: workdir / name for key, name in FILES.items()}
  readers = report["readers"]
  for reader in readers:
    paths[f"plot_{reader}"] = workdir / f"rate_accuracy_{reader}.png"
  paths["json"].write_text(json.dumps(report_lib.json_safe(report), indent=1) + "\n")
  with open(paths["pages_csv"], "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=_PAGES_CSV)
    writer.writeheader()
    for c in evaluation.coded:
      writer.writerow({"page": evaluation.pages[c.page].name, "method": c.method,
                       "codec": c.codec, "downscale": c.downscale,
                       "quality": "" if c.quality is None else c.quality, "bytes": c.num_bytes,
                       "bpp": c.bpp, **{f"{r}_accuracy": c.accuracy.get(r, "")
                                        for r in READERS}})
  with open(paths["points_csv"], "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=_POINTS_CSV, extrasaction="ignore")
    writer.writeheader()
    for p in report["points"]:
      writer.writerow({k: "" if p.get(k) is None else p.get(k, "") for k in _POINTS_CSV})
  paths["readings"].write_text(json.dumps(report_lib.json_safe({
      "pages": [{"name": p.name, "reference": p.reference,
                 "original_readings": evaluation.references[i]}
                for i, p in enumerate(evaluation.pages)],
      "coded": [dataclasses.asdict(c) for c in evaluation.coded]})) + "\n")
  paths["table"].write_text(format_rate_table(report["rate_table"], report["scale"]) + "\n")
  for reader in readers:
    plot_rate_accuracy(report["points"], reader, paths[f"plot_{reader}"], report["scale"])
  plot_grid(report["points"], evaluation.crops, grid_target(report["points"], config),
            readers[0], paths["grid"], evaluation.pages[0].name)
  return paths
