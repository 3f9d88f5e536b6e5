r"""The main job (`make demo`): text images coded to real files, decoded and read, on CPU.

  python -m launch.demo [--num_images=6] [--target_bpp=0.05,0.1] [--out=out/demo]
      [--document] [--document_source=auto|pdf|book] [--document_bpp=0.7]

1. Renders synthetic text test images (Part A: 256×512, held-out test seeds) and writes them.
2. Codes each with every classical codec at each target rate, each given its best shot: the
   highest quality whose real file fits the rate, after a 1×, 2× or 4× downscale (the one with
   the best PSNR; JPEG with optimize=True). Writes the real files and decodes them from disk.
3. Reads the originals and every decoded image with the shipped OCR judge (models/ocr_default)
   and with Tesseract (the independent reader), and prints the table: real bpp (file bytes × 8
   / pixels), PSNR, and the paper's OCR accuracy by each reader.
4. Part B in one line: a rendered book page degraded as in the paper (downsample + JPEG q=1),
   its patches read clean and degraded.

   The shipped learned codecs (models/codec_{mse,mse_low,tfic,doc}_q*) code the same images
   into .tfic files, decoded from disk and read alike.
5. One document page (`--document`, on by default): a page of the first installed PDF manual
   (`data.pdfs`, rendered at the dpi that fits `--document_size`, its text layer as the
   reference), else a page typeset by `data.book` (exact text). Every shipped learned codec
   codes it into a .tfic file; per group (MSE: codec_mse_low_q*, codec_mse_q*; TFIC:
   codec_tfic_q*) the one Tesseract (page mode) reads best at ≤ `--document_bpp` is kept, and
   the better of the two is shown. JPEG, WebP, AVIF and JPEG XL then code the page at ≤ that
   codec's real rate, each at its best shot (`classical.best_at_rate`: the highest quality that
   fits at 1× and 2× downscale, the one Tesseract reads best). Everything is decoded from the
   files on disk and read by Tesseract in page mode (`eval.documents.page_accuracy`); a table
   is printed and `document_page.png` shows the same region of the original, the learned codec
   and the best classical codec.
"""

from collections.abc import Sequence
import dataclasses
import json
import pathlib
import sys
import time

from absl import app
from absl import flags
import numpy as np

from tfic_jax import errors
from tfic_jax.data import test_sets

_NUM_IMAGES = flags.DEFINE_integer("num_images", 6, "Synthetic test images to code and read.")
_TARGET_BPP = flags.DEFINE_list("target_bpp", ["0.05", "0.1"], "Rates (bpp) for the codecs.")
_CODECS = flags.DEFINE_list("codecs", ["jpeg", "webp", "avif", "jpeg2000"], "Classical codecs.")
_OUT = flags.DEFINE_string("out", "out/demo", "Where images, files and results go.")
_SEED_SPLIT = flags.DEFINE_enum("split", "test", ["test", "test_heldout_fonts"],
                                "Which synth_text test split to render.")
_BOOK = flags.DEFINE_bool("book", True, "Also show the Part B degradation on a book page.")
_DOCUMENT = flags.DEFINE_bool(
    "document", True, "Also code one document page with the best learned codec and the best "
    "classical codec at the same rate, read it with Tesseract and write document_page.png.")
_DOCUMENT_SOURCE = flags.DEFINE_enum(
    "document_source", "auto", ["auto", "pdf", "book"],
    "The document page: a page of an installed PDF manual (auto: if there is one, else) a "
    "typeset book page.")
_DOCUMENT_SIZE = flags.DEFINE_string(
    "document_size", "1024x768", "HxW the document page is fitted to (a PDF is rendered at the "
    "dpi that fits; a book page is typeset at this size).")
_DOCUMENT_BPP = flags.DEFINE_float(
    "document_bpp", 0.7, "Target rate of the learned codecs on the document page; the classical "
    "codecs get the rate of the learned codec shown.")
_DOCUMENT_CODECS = flags.DEFINE_list(
    "document_codecs", ["jpeg", "webp", "avif", "jxl"], "Classical codecs on the document page.")


@dataclasses.dataclass
class Row:
  method: str
  bpp: float
  psnr: float
  judge: float | None
  tesseract: float | None


def log(message: str) -> None:
  print(message, flush=True)


def num_steps() -> int:
  """The progress steps: Part A's two, Part B's and the document page's when they are on."""
  return 2 + int(_BOOK.value) + int(_DOCUMENT.value)


def render_images(num_images: int, split: str) -> list[dict]:
  """The first `num_images` examples of a synth_text test split, exactly as the dataset holds."""
  examples, _ = test_sets.synth_test_examples(
      split, num_images, test_sets.SYNTH_HEIGHT, test_sets.SYNTH_WIDTH, data_dir="data")
  return examples


class Readers:
  """The shipped judge and Tesseract, each optional (a note says why one is missing)."""

  def __init__(self):
    from tfic_jax.eval import tesseract  # pylint: disable=g-import-not-at-top
    from tfic_jax.ocr import api  # pylint: disable=g-import-not-at-top
    self._api, self._tesseract = api, tesseract
    try:
      self.model, self.variables = api.load()
      self.judge_name = f"models/{api.DEFAULT_MODEL} ({self.model.num_params():,} params)"
    except errors.CheckpointError as e:
      log(f"note: no OCR judge column: {e}")
      self.model = self.variables = None
    self.has_tesseract = tesseract.available()
    if not self.has_tesseract:
      log(f"note: no Tesseract column: the binary is not installed; {tesseract.INSTALL_HINT}.")

  def judge(self, images: Sequence[np.ndarray]) -> list[str] | None:
    if self.model is None:
      return None
    ids = self._api.recognize(self.model, self.variables, np.stack(images))
    return self.model.decode(np.asarray(ids))

  def tesseract(self, images: Sequence[np.ndarray], psm: int = 7) -> list[str] | None:
    if not self.has_tesseract:
      return None
    return self._tesseract.read_many(list(images), psm=psm)


def score(texts: Sequence[str], readings: list[str] | None) -> float | None:
  from tfic_jax import metrics  # pylint: disable=g-import-not-at-top
  return None if readings is None else metrics.mean_ocr_accuracy(texts, readings)


def code_to_files(images, codec: str, target_bpp: float, out_dir: pathlib.Path):
  """Best setting ≤ target per image; writes the files; returns the images decoded from disk."""
  from tfic_jax.eval import classical  # pylint: disable=g-import-not-at-top
  coder = classical.get_codec(codec)
  decoded, num_bits, pixels = [], 0, 0
  for index, image in enumerate(images):
    point = classical.best_at_rate(image, codec, target_bpp, steps=6)
    if point is None:  # even the lowest quality is above the target: use it, say so in bpp
      point = min(classical.sweep(image, codec, [coder.quality_range[0]]), key=lambda p: p.bpp)
    path = out_dir / f"{index:03d}_{codec}_{target_bpp:g}bpp_x{point.downscale}{coder.extension}"
    path.write_bytes(point.stream)
    decoded.append(classical.decode(path.read_bytes(), image.shape))
    num_bits += 8 * path.stat().st_size
    pixels += image.shape[0] * image.shape[1]
  return decoded, num_bits / pixels


def learned_to_files(images, kind: str, out_dir: pathlib.Path):
  """Every shipped `codec_{kind}_q*` model: [(name, decoded images from disk, real bpp)]."""
  from tfic_jax.codec import api  # pylint: disable=g-import-not-at-top
  from tfic_jax.codec import bitstream  # pylint: disable=g-import-not-at-top
  results = []
  for quality in api.shipped_qualities(kind):
    codec = api.load(api.shipped_name(kind, quality))
    decoded, num_bits, pixels = [], 0, 0
    for index, image in enumerate(images):
      path = out_dir / f"{index:03d}_{codec.name}.tfic"
      path.write_bytes(bitstream.compress(codec, image))
      decoded.append(bitstream.decompress(codec, path.read_bytes()))
      num_bits += 8 * path.stat().st_size
      pixels += image.shape[0] * image.shape[1]
    results.append((f"learned {kind} q{quality}", decoded, num_bits / pixels))
  return results


def part_a(readers: Readers, out_dir: pathlib.Path) -> list[Row]:
  from tfic_jax import imageio  # pylint: disable=g-import-not-at-top
  from tfic_jax import metrics  # pylint: disable=g-import-not-at-top
  log(f"[1/{num_steps()}] Rendering {_NUM_IMAGES.value} synthetic text test images "
      "(256×512) ...")
  examples = render_images(_NUM_IMAGES.value, _SEED_SPLIT.value)
  images = [e["image"] for e in examples]
  texts = [e["text"] for e in examples]
  for index, image in enumerate(images):
    imageio.save_image(out_dir / f"{index:03d}_original.png", image)
  rows = [Row("uncompressed (raw RGB)", 24.0, float("inf"), score(texts, readers.judge(images)),
              score(texts, readers.tesseract(images)))]
  log(f"[2/{num_steps()}] Coding with {', '.join(_CODECS.value)} at "
      f"{', '.join(_TARGET_BPP.value)} bpp "
      "(best of 1×/2×/4× downscale), decoding from the files, reading ...")
  for target in (float(t) for t in _TARGET_BPP.value):
    for codec in _CODECS.value:
      start = time.perf_counter()
      decoded, real_bpp = code_to_files(images, codec, target, out_dir)
      psnr = float(np.mean([min(metrics.psnr(a, b), 99.0) for a, b in zip(images, decoded)]))
      rows.append(Row(f"{codec} @≤{target:g}", real_bpp, psnr,
                      score(texts, readers.judge(decoded)),
                      score(texts, readers.tesseract(decoded))))
      log(f"  {codec:9s} ≤{target:g} bpp: {real_bpp:.4f} bpp, {psnr:.2f} dB "
          f"({time.perf_counter() - start:.1f} s)")
  from tfic_jax.codec import api  # pylint: disable=g-import-not-at-top
  for kind in api.KINDS:  # mse (stage 1), mse_low (MSE at TFIC's rates), tfic (stage 2), doc
    start = time.perf_counter()
    for name, decoded, real_bpp in learned_to_files(images, kind, out_dir):
      psnr = float(np.mean([min(metrics.psnr(a, b), 99.0) for a, b in zip(images, decoded)]))
      rows.append(Row(name, real_bpp, psnr, score(texts, readers.judge(decoded)),
                      score(texts, readers.tesseract(decoded))))
      log(f"  {name}: {real_bpp:.4f} bpp (.tfic files), {psnr:.2f} dB "
          f"({time.perf_counter() - start:.1f} s)")
  return rows


def part_b(readers: Readers, out_dir: pathlib.Path) -> dict | None:
  from tfic_jax import imageio  # pylint: disable=g-import-not-at-top
  from tfic_jax.eval import ocr_judge  # pylint: disable=g-import-not-at-top
  if not readers.has_tesseract:
    return None
  log(f"[3/{num_steps()}] Part B: a book test page, downsampled + JPEG quality 1, its 10 "
      "patches ...")
  _, patches = test_sets.book_test_patches(1)
  texts = [p["text"] for p in patches]
  result = {}
  for kind in ("clean", "degraded"):
    images = [p[kind] for p in patches]
    imageio.save_image(out_dir / f"book_patches_{kind}.png", np.concatenate(images[:4], axis=0))
    result[kind] = score(texts, readers.tesseract(images, psm=ocr_judge.TESSERACT_BLOCK_PSM))
  return result


# ------------------------------------------------------------------------------ document page

PDF_FIRST_PAGE = 6  # Of the first installed PDF manual: past the title and contents pages.
# At 11–13 px type a 4× downscale loses the text (docs/evaluation.md, page-level evaluation).
DOCUMENT_DOWNSCALES = (1, 2)
# best_at_rate's bisection steps: integer qualities 0–100 end within 3 of the highest that fits
# (7 would reach it exactly, at two more AVIF encodes of ~7 s each on a 1024×768 page).
DOCUMENT_BISECT_STEPS = 5
DOCUMENT_CROP = (320, 480)  # The region of the page the picture shows (height, width).
LEARNED_GROUPS = {"MSE": ("mse_low", "mse", "doc"), "TFIC": ("tfic",)}  # Shipped kinds per group.


@dataclasses.dataclass
class PagePoint:
  """The page coded one way, decoded from its file on disk, read by Tesseract."""
  method: str  # "uncompressed", "learned MSE", "learned TFIC" or a classical codec's name.
  setting: str  # The learned codec's name, "q=… ↓d" of a classical codec, or "".
  bpp: float | None  # Real file bytes × 8 / page pixels; None: no setting fits the budget.
  tesseract: float | None  # Page OCR accuracy; None: Tesseract missing or nothing coded.
  psnr: float
  path: str = ""
  note: str = ""
  image: np.ndarray | None = dataclasses.field(default=None, repr=False)


def parse_size(value: str) -> tuple[int, int]:
  """"HxW" → (H, W), each ≥ 64."""
  try:
    height, width = (int(v) for v in value.lower().split("x"))
  except ValueError:
    raise errors.TficError(f"--document_size must be HxW (e.g. 1024x768), got {value!r}") from None
  if min(height, width) < 64:
    raise errors.TficError(f"--document_size must be at least 64x64, got {value!r}")
  return height, width


def _crop_page(page, height: int, width: int):
  """The page's top-left `height × width` (where it is larger), keeping the words inside."""
  page_h, page_w = page.image.shape[:2]
  if page_h <= height and page_w <= width:
    return page
  words = tuple(w for w in page.words if w.box[2] <= width and w.box[3] <= height)
  return dataclasses.replace(page, image=page.image[:height, :width].copy(), words=words)


def pdf_page(height: int, width: int):
  """(NamedPage, description) of a page of the first installed PDF manual, rendered at the
  resolution that fits it in `height × width` (cropped where even 75 dpi does not), or
  (None, why not)."""
  try:
    from tfic_jax.data import pdfs  # pylint: disable=g-import-not-at-top  (needs PyMuPDF)
  except ImportError as e:
    return None, f"PyMuPDF is not installed ({e})"
  from tfic_jax.eval import documents  # pylint: disable=g-import-not-at-top
  for root in pdfs.pdf_roots():  # The first folder holding a PDF (not all of /usr/share/doc).
    found = pdfs.find_pdfs([root])
    if found:
      break
  else:
    return None, ("no PDF manual is installed (scripts/install_system_deps.sh installs the "
                  "Debian ones)")
  low_dpi = pdfs.DPI_RANGE[0]
  for document in found[:5]:
    for index in range(min(PDF_FIRST_PAGE, document.num_pages - 1), document.num_pages):
      probe = pdfs.render_page(document, index, dpi=low_dpi)  # Cheap: its size at 75 dpi.
      if probe is None:  # Little text, a figure, another script: the next page.
        continue
      probe_h, probe_w = probe.image.shape[:2]
      dpi = float(np.clip(low_dpi * min(height / probe_h, width / probe_w), *pdfs.DPI_RANGE))
      dpi = np.floor(dpi * 10) / 10  # A rounded dpi that still fits.
      page = pdfs.render_page(document, index, dpi=dpi)
      if page is None:
        continue
      image = page.image[:, :, None] if page.image.ndim == 2 else page.image
      page = _crop_page(dataclasses.replace(page, image=image), height, width)
      name = f"{document.doc_id} page {index + 1}"
      return (documents.NamedPage(name, page),
              f"{name} ({document.path}), rendered at {dpi:g} dpi, {len(page.words)} words from "
              "its text layer")
  return None, f"no page of {len(found[:5])} PDF(s) under {root} has enough Latin text"


def document_page(source: str, height: int, width: int, text: str = ""):
  """(NamedPage, description): a PDF page (source "pdf", or "auto" when one is installed) or
  a typeset book page (`data.book`, exact text; `text`: typeset this instead of the corpus)."""
  from tfic_jax.eval import documents  # pylint: disable=g-import-not-at-top
  if source in ("auto", "pdf"):
    named, description = pdf_page(height, width)
    if named is not None:
      return named, description
    if source == "pdf":
      raise errors.TficError(f"--document_source=pdf: {description}")
    log(f"  note: no PDF page ({description}); a typeset book page instead")
  named = documents.book_pages(1, "test", 0, height, width, text=text)[0]
  return named, (f"{named.name}: typeset by tfic_jax.data.book, {len(named.page.words)} words "
                 "(exact text)")


def _learned_names(kind: str) -> list[str]:
  from tfic_jax.codec import api  # pylint: disable=g-import-not-at-top
  return [api.shipped_name(kind, q) for q in api.shipped_qualities(kind)]


class PageReader:
  """Tesseract in page mode, scored against the page's text (None where it is missing)."""

  def __init__(self, reference: str | None, use_tesseract: bool):
    from tfic_jax.eval import tesseract  # pylint: disable=g-import-not-at-top
    self._tesseract = tesseract
    self.available = use_tesseract and tesseract.available()
    self.reference = reference
    # id(decoded array) → (the array, kept so that its id stays its own; accuracy): a decoded
    # page read once during the search is not read again.
    self._scores: dict[int, tuple[np.ndarray, float]] = {}

  def accuracy(self, image: np.ndarray) -> float | None:
    from tfic_jax.eval import documents  # pylint: disable=g-import-not-at-top
    if not self.available:
      return None
    if id(image) not in self._scores:
      reading = self._tesseract.read_page(image)
      if self.reference is None:  # A page without ground truth: the original's reading.
        self.reference = reading
      self._scores[id(image)] = (image, documents.page_accuracy(self.reference, reading))
    return self._scores[id(image)][1]


def _rank(point: PagePoint) -> tuple:
  """Best first: Tesseract accuracy (PSNR without Tesseract), then the lower rate."""
  quality = point.tesseract if point.tesseract is not None else point.psnr
  return (-quality, point.bpp)


def code_learned_page(image, reader: PageReader, target_bpp: float, groups: dict,
                      out_dir: pathlib.Path) -> list[PagePoint]:
  """Per group ("MSE", "TFIC"): each codec into a real .tfic file, decoded from disk; the one
  read best (PSNR without Tesseract) at ≤ `target_bpp` (else the group's lowest rate)."""
  from tfic_jax import metrics  # pylint: disable=g-import-not-at-top
  from tfic_jax.codec import api  # pylint: disable=g-import-not-at-top
  from tfic_jax.codec import bitstream  # pylint: disable=g-import-not-at-top
  from tfic_jax.eval import documents  # pylint: disable=g-import-not-at-top
  height, width = image.shape[:2]
  chosen = []
  for group, names in groups.items():
    points, above = [], set()
    for name in names:
      kind = str(name).rsplit("_q", 1)[0]  # codec_mse_q3 → codec_mse
      if kind in above:  # A lower quality of this kind is already above the target.
        log(f"  {name}: skipped (codec {kind}'s lower quality is above {target_bpp:g} bpp)")
        continue
      start = time.perf_counter()
      codec = api.load(name)
      path = out_dir / f"document_{codec.name}.tfic"
      path.write_bytes(bitstream.compress(codec, documents.to_rgb(image)))
      decoded = documents.like_page(bitstream.decompress(codec, path.read_bytes()), image)
      bpp = metrics.bpp(path.stat().st_size, height, width)
      within = bpp <= target_bpp
      if not within:
        above.add(kind)
      accuracy = reader.accuracy(decoded) if within else None
      points.append(PagePoint(f"learned {group}", codec.name, bpp, accuracy,
                              min(metrics.psnr(image, decoded), 99.0), str(path), image=decoded))
      log(f"  {codec.name}: {bpp:.4f} bpp (.tfic file)"
          + (f", Tesseract {accuracy:.3f}" if accuracy is not None else
             "" if within else f", above {target_bpp:g} bpp")
          + f" ({time.perf_counter() - start:.1f} s)")
    if not points:
      continue
    within = [p for p in points if p.bpp <= target_bpp]
    if within:
      chosen.append(min(within, key=_rank))
    else:
      lowest = min(points, key=lambda p: p.bpp)
      lowest.tesseract = reader.accuracy(lowest.image)
      lowest.note = f"no {group} codec at ≤ {target_bpp:g} bpp: its lowest rate"
      chosen.append(lowest)
  return chosen


def code_classical_page(image, reader: PageReader, budget_bpp: float, codecs: Sequence[str],
                        out_dir: pathlib.Path) -> list[PagePoint]:
  """Each codec given its best shot at ≤ `budget_bpp` (`classical.best_at_rate`: the highest
  quality that fits at each downscale, the downscale Tesseract reads best), into a real file,
  decoded from disk."""
  from tfic_jax import metrics  # pylint: disable=g-import-not-at-top
  from tfic_jax.eval import classical  # pylint: disable=g-import-not-at-top
  points = []
  for codec in codecs:
    start = time.perf_counter()
    point = classical.best_at_rate(
        image, codec, budget_bpp, downscales=DOCUMENT_DOWNSCALES, steps=DOCUMENT_BISECT_STEPS,
        score_fn=reader.accuracy if reader.available else None)
    if point is None:
      points.append(PagePoint(codec, "", None, None, float("nan"),
                              note=f"even its lowest quality is above {budget_bpp:.4f} bpp"))
      log(f"  {codec}: no setting at ≤ {budget_bpp:.4f} bpp")
      continue
    coder = classical.get_codec(codec)
    path = out_dir / f"document_{codec}_q{point.quality:g}_x{point.downscale}{coder.extension}"
    path.write_bytes(point.stream)
    decoded = classical.decode(path.read_bytes(), image.shape, codec)
    same = np.array_equal(decoded, point.decoded)  # Then the reading of the search holds.
    accuracy = reader.accuracy(point.decoded if same else decoded)
    bpp = metrics.bpp(path.stat().st_size, *image.shape[:2])
    setting = f"q={point.quality:g}" + (f" ↓{point.downscale}" if point.downscale > 1 else "")
    points.append(PagePoint(codec, setting, bpp, accuracy,
                            min(metrics.psnr(image, decoded), 99.0), str(path), image=decoded))
    log(f"  {codec}: {setting}, {bpp:.4f} bpp"
        + (f", Tesseract {accuracy:.3f}" if accuracy is not None else "")
        + f" ({time.perf_counter() - start:.1f} s)")
  return points


def save_document_picture(path: pathlib.Path, panels: Sequence[tuple[np.ndarray, str]],
                          region: tuple[int, int, int, int], title: str) -> None:
  """Side by side, the same region of each image, each under its label."""
  import matplotlib  # pylint: disable=g-import-not-at-top  (deferred: matplotlib)
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top  (deferred: matplotlib)
  top, left, bottom, right = region
  dpi = 100  # One screen pixel per image pixel.
  fig, axes = plt.subplots(1, len(panels), squeeze=False, dpi=dpi,
                           figsize=(len(panels) * (right - left) / dpi + 0.3,
                                    (bottom - top) / dpi + 0.9))
  for ax, (image, label) in zip(axes.flat, panels):
    ax.axis("off")
    if image is None:
      ax.text(0.5, 0.5, label, ha="center", va="center", fontsize=9, wrap=True)
      continue
    crop = image[top:bottom, left:right]
    ax.imshow(crop[:, :, 0] if crop.shape[2] == 1 else crop, cmap="gray", vmin=0, vmax=255,
              interpolation="nearest")
    ax.set_title(label, fontsize=8)
  fig.suptitle(title, fontsize=8)
  fig.tight_layout()
  path.parent.mkdir(parents=True, exist_ok=True)
  fig.savefig(path, dpi=dpi)
  plt.close(fig)


def _label(point: PagePoint) -> str:
  accuracy = "Tesseract —" if point.tesseract is None else f"Tesseract {point.tesseract:.3f}"
  setting = f" {point.setting}" if point.setting else ""
  return f"{point.method}{setting}\n{point.bpp:.3f} bpp, {accuracy}"


def document_part(out_dir: pathlib.Path, use_tesseract: bool = True, source: str = "auto",
                  size: tuple[int, int] = (1024, 768), target_bpp: float = 0.7,
                  codecs: Sequence[str] = ("jpeg", "webp", "avif", "jxl"),
                  learned: dict | None = None, text: str = "", step: str = "") -> dict:
  """One document page: the best learned MSE / TFIC codec at ≤ `target_bpp`, the classical
  codecs at ≤ the rate of the better one, all from real files, read by Tesseract in page mode;
  writes `document_page.png` (original / learned / best classical). Returns the report (with
  "table", the lines to print).

  `learned`: group → codec names (default: every shipped one, `LEARNED_GROUPS`); `text`: a
  book page typesets this text (tests) instead of the test sentences.
  """
  from tfic_jax import imageio  # pylint: disable=g-import-not-at-top
  from tfic_jax.eval import documents  # pylint: disable=g-import-not-at-top
  start = time.perf_counter()
  if learned is None:
    learned = {group: [n for kind in kinds for n in _learned_names(kind)]
               for group, kinds in LEARNED_GROUPS.items()}
  log(f"{step}Document page: loading a "
      + ("PDF manual page (else a book page)" if source == "auto" else f"{source} page") + " ...")
  named, description = document_page(source, *size, text=text)
  image = named.page.image
  height, width, channels = image.shape
  imageio.save_image(out_dir / "document_original.png", image)
  log(f"  {description}; {height}×{width} ({time.perf_counter() - start:.1f} s)")
  reader = PageReader(named.reference, use_tesseract)
  if not reader.available:
    log("  note: Tesseract is not installed: no accuracy column, codecs chosen by PSNR")
  original = PagePoint("uncompressed", f"{8 * channels}-bit", 8.0 * channels,
                       reader.accuracy(image), float("inf"), image=image)
  log(f"  Coding with every shipped learned codec (target ≤ {target_bpp:g} bpp), reading with "
      "Tesseract (page mode) ...")
  learned_points = code_learned_page(image, reader, target_bpp, learned, out_dir)
  shown = min(learned_points, key=_rank) if learned_points else None
  budget = shown.bpp if shown else target_bpp
  log(f"  Classical codecs ({', '.join(codecs)}) at ≤ {budget:.4f} bpp"
      + (f" (the rate of {shown.setting})" if shown else "")
      + f", each at its best quality per {'/'.join(f'{d}×' for d in DOCUMENT_DOWNSCALES)} "
      "downscale ...")
  classical_points = code_classical_page(image, reader, budget, codecs, out_dir)
  coded = [p for p in classical_points if p.bpp is not None]
  best_classical = min(coded, key=_rank) if coded else None
  region = documents.text_region(image, min(DOCUMENT_CROP[0], height),
                                 min(DOCUMENT_CROP[1], width))
  picture = out_dir / "document_page.png"
  panels = [(image, _label(original).replace("\n", f" ({named.name})\n", 1))]
  panels.append((shown.image, _label(shown)) if shown else (None, "no learned codec"))
  panels.append((best_classical.image,
                 "best classical at ≤ the same rate: " + _label(best_classical))
                if best_classical else
                (None, f"no classical codec fits ≤ {budget:.4f} bpp"))
  save_document_picture(picture, panels, region,
                        f"{named.name}: the same region, decoded from the files on disk")
  rows = [original] + learned_points + classical_points
  table = format_document_table(rows, shown, best_classical, reader.available, budget)
  report = {"page": named.name, "description": description, "shape": [height, width, channels],
            "target_bpp": target_bpp, "classical_budget_bpp": budget,
            "tesseract": reader.available, "picture": str(picture), "region": list(region),
            "rows": [{k: v for k, v in dataclasses.asdict(p).items() if k != "image"}
                     for p in rows],
            "shown": [p.method for p in (shown, best_classical) if p],
            "table": table, "seconds": time.perf_counter() - start}
  log(f"  wrote {picture} ({report['seconds']:.0f} s)")
  return report


def format_document_table(rows: Sequence[PagePoint], shown, best_classical, has_tesseract: bool,
                          budget: float) -> str:
  lines = ["| method | setting | real bpp | Tesseract accuracy (page mode) |",
           "| --- | --- | --- | --- |"]
  for point in rows:
    method = point.method if point.method.startswith(("learned", "uncompressed")) else \
        f"{point.method} @≤{budget:.3f}"
    if point is shown or point is best_classical:
      method += " (in the picture)"
    bpp = "—" if point.bpp is None else f"{point.bpp:.4f}"
    accuracy = ("— (Tesseract not installed)" if not has_tesseract else
                "—" if point.tesseract is None else f"{point.tesseract:.3f}")
    lines.append(f"| {method} | {point.setting or point.note or '—'} | {bpp} | {accuracy} |")
  notes = [f"{p.method}: {p.note}" for p in rows if p.note and p.bpp is not None]
  return "\n".join(lines + [f"note: {n}" for n in notes])


def format_table(rows: list[Row], judge_name: str | None) -> str:
  def cell(value, fmt):
    return "—" if value is None else format(value, fmt)
  lines = ["| method | real bpp | PSNR (dB) | OCR acc. (judge) | OCR acc. (Tesseract) |",
           "| --- | --- | --- | --- | --- |"]
  for row in rows:
    psnr = "∞" if row.psnr == float("inf") else f"{row.psnr:.2f}"
    lines.append(f"| {row.method} | {row.bpp:.4f} | {psnr} | {cell(row.judge, '.3f')} | "
                 f"{cell(row.tesseract, '.3f')} |")
  if judge_name:
    lines.append(f"\njudge: {judge_name}")
  return "\n".join(lines)


def run(out_dir: pathlib.Path) -> dict:
  out_dir.mkdir(parents=True, exist_ok=True)
  start = time.perf_counter()
  readers = Readers()
  rows = part_a(readers, out_dir)
  book_result = part_b(readers, out_dir) if _BOOK.value else None
  document = None
  if _DOCUMENT.value:
    document = document_part(
        out_dir, readers.has_tesseract, _DOCUMENT_SOURCE.value, parse_size(_DOCUMENT_SIZE.value),
        _DOCUMENT_BPP.value, _DOCUMENT_CODECS.value, step=f"[{num_steps()}/{num_steps()}] ")
  table = format_table(rows, getattr(readers, "judge_name", None))
  log("\nPart A: synthetic text test images, real files on disk "
      f"({out_dir}), accuracy = 1 − lev/max over alphanumerics (paper §3.3)\n")
  log(table)
  if book_result:
    log(f"\nPart B: Tesseract on 10 book patches: clean {book_result['clean']:.3f}, "
        f"degraded (LR + JPEG q=1) {book_result['degraded']:.3f}")
  if document:
    log(f"\nDocument page: {document['description']}; {document['shape'][0]}×"
        f"{document['shape'][1]}, real files on disk, Tesseract page mode, accuracy = "
        "1 − lev/max over the page's alphanumerics\n")
    log(document["table"])
    log(f"\npicture: {document['picture']} (original / learned / best classical, same region)")
  report = {"rows": [dataclasses.asdict(r) for r in rows], "book": book_result,
            "document": document, "seconds": time.perf_counter() - start}
  (out_dir / "demo.json").write_text(
      json.dumps(report, indent=2, default=lambda v: None if v != v else v))
  log(f"\nDone in {report['seconds']:.0f} s; images, coded files and demo.json in {out_dir}/")
  return report


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    run(pathlib.Path(_OUT.value))
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)
