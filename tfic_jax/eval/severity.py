r"""The severity grid of Part B's degradation (issue 28): behind `configs/eval_severity.py`.

How much text do degraded book patches still hold, by type size and downsample factor? Each
cell (em size s px, factor f, JPEG quality q) takes the same N test patches: book test pages
(test sentences, never training data) set at em s by `book.make_page`, cut into 64×256 patches
with at least `min_alnum` letters and digits, each degraded on its own exactly as
`book.degrade` degrades a page (box-downsample by f, JPEG at q, bicubic upsample), so that the
JPEG file of every patch is a real stream whose bytes are counted:

- rate: `jpeg_bpp` = 8 · (bytes of the JPEG file at the low resolution) / (64 · 256), per pixel
  of the full-resolution patch; `jpeg_scan_bpp` counts only the entropy-coded scan (the file
  minus its ~600 bytes of headers and tables, which a whole page amortizes: the page-level rate
  is close to the scan rate, not to the patch file's);
- readings (the paper's OCR accuracy) by Tesseract (psm 6, the whole patch) and the judge (word
  by word in the ground-truth boxes, `ocr_judge.judge_read_patch`) of the clean, degraded and
  D1-restored patches (the shipped DnCNN, `launch.dequantize`'s default), and of D1 + D2 (the
  OCR-guided chain) where a D2 is given (none ships: the column says so);
- JB2 (DjVu `cjb2`, `classical`'s "djvu_jb2") of the clean patch binarized at 128, at the
  rate closest to the cell's JPEG rate: every setting of a small ladder (fidelity × downscale)
  codes every patch of the type size, and the cell takes the setting whose mean file bpp is
  nearest the cell's mean JPEG bpp (`jb2_rate`: "scan" or "file"); JB2 has no factor, so cells
  of one type size share the readings of the settings they pick.

Writes severity.json (every cell, reading and setting), severity.csv, severity.md (the table)
and one heat map per reader (`heatmap_<reader>.png`: degraded / clean and restored / clean per
type size × factor, one row per quality).
"""

from collections.abc import Callable, Sequence
import csv
import dataclasses
import json
import pathlib
import sys
import time

import numpy as np

from tfic_jax import errors
from tfic_jax import metrics
from tfic_jax.chains import ocr_guided as chain
from tfic_jax.data import book
from tfic_jax.data import builders
from tfic_jax.data import test_sets
from tfic_jax.dequant import api as dequant_api
from tfic_jax.eval import classical
from tfic_jax.eval import dequant
from tfic_jax.eval import ocr_judge
from tfic_jax.eval import report as report_lib
from tfic_jax.eval import tesseract
from tfic_jax.ocr import api as ocr_api

Progress = Callable[[str], None]
READERS = ("tesseract", "judge")
KINDS = ("clean", "degraded", "restored", "d1_d2", "jb2")
# JB2 settings tried per type size: (fidelity = 200 − cjb2 loss level, downscale).
JB2_LADDER = ((200, 1), (100, 1), (0, 1), (200, 2), (100, 2), (0, 2), (100, 4))
JB2_RATES = ("scan", "file")
MAX_PAGES = 200  # Test pages tried per type size before giving up on finding N patches.
NO_D2 = "no D2 ships (models/ has no dequant_ocr_default); give one with --config.d2"


@dataclasses.dataclass(frozen=True)
class Cell:
  type_size: int  # em, px
  factor: float
  quality: int


# ----------------------------------------------------------------------------- data


def degrade_patch(clean: np.ndarray, factor: float, quality: int) -> tuple[np.ndarray, bytes]:
  """`book.degrade` of one uint8 [H, W, 1] patch, and the bytes of the JPEG file it decoded
  (coded at the low resolution)."""
  return book.degrade_with_stream(clean, factor, quality)


def jpeg_scan_bytes(stream: bytes) -> int:
  """Bytes of a baseline JPEG's entropy-coded scan: after the SOS segment, before EOI."""
  position = 2  # After SOI.
  while position + 4 <= len(stream):
    if stream[position] != 0xFF:
      break
    marker = stream[position + 1]
    length = int.from_bytes(stream[position + 2:position + 4], "big")
    if marker == 0xDA:  # Start of scan: the scan follows its header.
      end = len(stream) - 2 if stream.endswith(b"\xff\xd9") else len(stream)
      return end - (position + 2 + length)
    position += 2 + length
  raise errors.BitstreamError(f"no start-of-scan segment in a {len(stream)}-byte JPEG")


def _alnum(text: str) -> int:
  return sum(c.isalnum() for c in text)


def grid_patches(type_size: int, num_patches: int, min_alnum: int,
                 sentences: Sequence[str]) -> list[dict]:
  """The first `num_patches` patches with ≥ `min_alnum` letters and digits of the book test
  pages (`book_patches/default`'s test split) set at em `type_size` px; deterministic.
  Each: {"clean": uint8 [64, 256, 1], "text", "char_boxes", "page", "corner"}."""
  config = builders.book_config("default")
  pages = book.split_pages(config.num_pages, builders.BOOK_SEED)["test"]
  spec = book.PageSpec(height=config.page_height, width=config.page_width,
                       font_size_range=(type_size, type_size))
  patches = []
  for page_index in [int(p) for p in pages[:MAX_PAGES]]:
    page = book.make_page(sentences, page_index, builders.BOOK_SEED, spec)
    rng = np.random.default_rng((builders.BOOK_SEED, page_index, 1))
    for left, top in book.choose_patch_corners(page, rng, min_chars=min_alnum):
      truth = book.patch_ground_truth(page, left, top)
      if _alnum(truth["text"]) < min_alnum:
        continue
      clean = page.image[top:top + book.PATCH_HEIGHT, left:left + book.PATCH_WIDTH]
      patches.append({"clean": clean, "text": truth["text"], "char_boxes": truth["char_boxes"],
                      "page": page_index, "corner": (left, top)})
      if len(patches) == num_patches:
        return patches
  raise errors.TficError(
      f"only {len(patches)} test patches with >= {min_alnum} letters at em {type_size} px in "
      f"{min(len(pages), MAX_PAGES)} test pages; lower num_patches or min_alnum")


# ----------------------------------------------------------------------------- readers


class Readers:
  """Tesseract (psm 6) and the judge (ground-truth word boxes), each optional."""

  def __init__(self, use_tesseract: bool, use_judge: bool, judge_path: str | None):
    if use_tesseract and not tesseract.available():
      raise errors.DependencyError(
          f"tesseract is not installed ({tesseract.INSTALL_HINT}); or pass "
          "--config.tesseract=False")
    self.names = [r for r, on in zip(READERS, (use_tesseract, use_judge)) if on]
    self.judge = self.judge_variables = self.box_reader = None
    if use_judge:
      self.judge, self.judge_variables = ocr_api.load(judge_path)
      self.box_reader = ocr_judge.make_box_reader(self.judge)

  def read(self, images: Sequence[np.ndarray], patches: Sequence[dict]) -> dict:
    """{reader: {"accuracy": mean OCR accuracy, "readings": [str]}}."""
    texts = [p["text"] for p in patches]
    result = {}
    for name in self.names:
      if name == "tesseract":
        readings = tesseract.read_many(images, psm=ocr_judge.TESSERACT_BLOCK_PSM, num_workers=1)
      else:
        readings = dequant.judge_readings(self.judge, self.judge_variables, images, patches,
                                          self.box_reader)
      result[name] = {"accuracy": metrics.mean_ocr_accuracy(texts, readings),
                      "readings": readings}
    return result


def jb2_ladder(cleans: Sequence[np.ndarray]) -> list[dict]:
  """Every JB2 setting on every clean patch: {"fidelity", "downscale", "bpp" (mean file bpp),
  "num_bytes" [per patch], "decoded" [uint8 patches]}."""
  height, width = cleans[0].shape[:2]
  ladder = []
  for fidelity, downscale in JB2_LADDER:
    coded = [classical.encode_decode(c, "djvu_jb2", fidelity, downscale) for c in cleans]
    sizes = [n for _, n in coded]
    ladder.append({"fidelity": fidelity, "downscale": downscale,
                   "bpp": float(np.mean([metrics.bpp(n, height, width) for n in sizes])),
                   "num_bytes": sizes, "decoded": [d for d, _ in coded]})
  return ladder


def closest_setting(ladder: Sequence[dict], target_bpp: float) -> int:
  """Index of the ladder setting whose mean bpp is nearest `target_bpp` (ties: the first)."""
  return int(np.argmin([abs(s["bpp"] - target_bpp) for s in ladder]))


# ----------------------------------------------------------------------------- settings


def _numbers(value, field: str, kind) -> list:
  items = value.split(",") if isinstance(value, str) else list(value or ())
  items = [str(v).strip() for v in items if str(v).strip()]
  if not items:
    raise errors.TficError(f"config.{field} is empty; give one or more, comma-separated")
  try:
    numbers = [kind(v) for v in items]
  except ValueError:
    raise errors.TficError(
        f"config.{field} must be {kind.__name__}s, comma-separated; got {value!r}") from None
  if len(set(numbers)) != len(numbers):
    raise errors.TficError(f"config.{field} repeats a value: {value!r}")
  return numbers


def settings(config) -> dict:
  """The grid's settings from the config; TficError on a bad one (before any work)."""
  type_sizes = _numbers(config.type_sizes, "type_sizes", int)
  factors = _numbers(config.factors, "factors", float)
  qualities = _numbers(config.qualities, "qualities", int)
  if any(s < 4 or s > 48 for s in type_sizes):
    raise errors.TficError(f"config.type_sizes must be em sizes in [4, 48] px, got {type_sizes}")
  if any(f < 1 or f > 8 for f in factors):
    raise errors.TficError(f"config.factors must be downsample factors in [1, 8], got {factors}")
  if any(q < 1 or q > 95 for q in qualities):
    raise errors.TficError(f"config.qualities must be JPEG qualities in [1, 95], got {qualities}")
  if int(config.num_patches) < 1:
    raise errors.TficError(f"config.num_patches must be >= 1, got {config.num_patches}")
  if int(config.min_alnum) < 1:
    raise errors.TficError(f"config.min_alnum must be >= 1, got {config.min_alnum}")
  if str(config.jb2_rate) not in JB2_RATES:
    raise errors.TficError(f"config.jb2_rate must be one of {JB2_RATES}, got {config.jb2_rate!r}")
  if not (config.tesseract or config.use_judge):
    raise errors.TficError("config.tesseract and config.use_judge are both off: nothing reads")
  return {"type_sizes": type_sizes, "factors": factors, "qualities": qualities,
          "num_patches": int(config.num_patches), "min_alnum": int(config.min_alnum),
          "jb2": bool(config.jb2), "jb2_rate": str(config.jb2_rate),
          "d1": str(config.d1) or None, "restore": bool(config.restore),
          "d2": str(config.d2) or None, "judge": str(config.judge) or None,
          "tesseract": bool(config.tesseract), "use_judge": bool(config.use_judge)}


# ----------------------------------------------------------------------------- the grid


def _accuracies(readings: dict | None) -> dict:
  return {r: v["accuracy"] for r, v in (readings or {}).items()}


def _d1_d2(d2_path: str) -> Callable[[Sequence[np.ndarray]], list[np.ndarray]]:
  """The OCR-guided chain (D1 → CRAFT → D2 → paste back; D1 and CRAFT from D2's config, D2's
  trained window) as images → its outputs."""
  models, window = chain.load_chain(d2_path), chain.trained_window(d2_path)
  return lambda images: [chain.refine_page(*models, image, window=window).restored
                         for image in images]


def run(config, workdir, progress: Progress = lambda message: None) -> dict:
  """Builds the grid; writes severity.{json,csv,md} and the heat maps under `workdir`;
  returns the report (with "lines": what to print)."""
  options = settings(config)
  workdir = pathlib.Path(workdir)
  start = time.time()
  if options["jb2"]:
    for tool in ("cjb2", "ddjvu"):
      classical.djvu_tool(tool)  # DependencyError before any work.
  readers = Readers(options["tesseract"], options["use_judge"], options["judge"])
  d1 = d1_variables = None
  if options["restore"]:
    d1, d1_variables = dequant_api.load(options["d1"])
  d2_chain = _d1_d2(options["d2"]) if options["d2"] else None
  progress("gathering the test sentences")
  sentences = test_sets.book_test_sentences()
  cells, by_size = [], {}
  for type_size in options["type_sizes"]:
    patches = grid_patches(type_size, options["num_patches"], options["min_alnum"], sentences)
    cleans = [p["clean"] for p in patches]
    progress(f"em {type_size} px: {len(patches)} patches from test pages "
             f"{sorted({p['page'] for p in patches})}; reading the clean patches")
    size_entry = {"patches": patches, "clean": readers.read(cleans, patches)}
    if options["jb2"]:
      size_entry["jb2_ladder"] = jb2_ladder(cleans)
      size_entry["jb2_read"] = {}
    by_size[type_size] = size_entry
    for quality in options["qualities"]:
      for factor in options["factors"]:
        cell = Cell(type_size, factor, quality)
        progress(f"cell em {type_size} px, factor {factor:g}, q {quality}")
        coded = [degrade_patch(c, factor, quality) for c in cleans]
        degraded = [d for d, _ in coded]
        file_bytes = [len(s) for _, s in coded]
        scan_bytes = [jpeg_scan_bytes(s) for _, s in coded]
        pixels = book.PATCH_HEIGHT * book.PATCH_WIDTH
        entry = {
            **dataclasses.asdict(cell), "em_at_jpeg": type_size / factor,
            "jpeg_bytes": file_bytes, "jpeg_scan_bytes": scan_bytes,
            "jpeg_bpp": float(np.mean([8 * n / pixels for n in file_bytes])),
            "jpeg_scan_bpp": float(np.mean([8 * n / pixels for n in scan_bytes])),
            "psnr_degraded": dequant.set_psnr(cleans, degraded),
        }
        readings = {"clean": size_entry["clean"], "degraded": readers.read(degraded, patches)}
        if d1 is not None:
          restored = dequant.restore_patches(d1, d1_variables, degraded, batch_size=64)
          readings["restored"] = readers.read(restored, patches)
          entry["psnr_restored"] = dequant.set_psnr(cleans, restored)
        if d2_chain is not None:
          readings["d1_d2"] = readers.read(d2_chain(degraded), patches)
        if options["jb2"]:
          ladder = size_entry["jb2_ladder"]
          target = entry["jpeg_scan_bpp" if options["jb2_rate"] == "scan" else "jpeg_bpp"]
          index = closest_setting(ladder, target)
          if index not in size_entry["jb2_read"]:
            size_entry["jb2_read"][index] = readers.read(ladder[index]["decoded"], patches)
          readings["jb2"] = size_entry["jb2_read"][index]
          entry["jb2"] = {"fidelity": ladder[index]["fidelity"],
                          "downscale": ladder[index]["downscale"],
                          "bpp": ladder[index]["bpp"], "matched_to": options["jb2_rate"],
                          "target_bpp": target}
        entry["accuracy"] = {kind: _accuracies(readings.get(kind)) for kind in KINDS}
        entry["readings"] = {kind: {r: v["readings"] for r, v in readings[kind].items()}
                             for kind in readings if kind != "clean"}
        cells.append(entry)

  report = {
      "command": " ".join(sys.argv), "settings": options,
      "d1": str(options["d1"] or dequant_api.DEFAULT_MODEL) if options["restore"] else None,
      "d2": options["d2"] or NO_D2,
      "judge": str(options["judge"] or "ocr_default") if options["use_judge"] else None,
      "readers": readers.names,
      "jb2_ladder": {str(s): [{k: v for k, v in setting.items() if k != "decoded"}
                              for setting in entry["jb2_ladder"]]
                     for s, entry in by_size.items() if "jb2_ladder" in entry},
      "patches": {str(s): [{"page": p["page"], "corner": list(p["corner"]), "text": p["text"]}
                           for p in entry["patches"]] for s, entry in by_size.items()},
      "clean_readings": {str(s): {r: v["readings"] for r, v in entry["clean"].items()}
                         for s, entry in by_size.items()},
      "cells": cells,
  }
  report["seconds"] = time.time() - start
  files = write_outputs(report, workdir)
  report["lines"] = [format_table(report), "",
                     f"wrote {', '.join(sorted(p.name for p in files))} under {workdir} "
                     f"({report['seconds']:.0f} s)"]
  return report


# ----------------------------------------------------------------------------- outputs


def _fmt(value) -> str:
  return "–" if value is None else f"{value:.3f}"


def _ratio(numerator, denominator):
  if numerator is None or not denominator:
    return None
  return numerator / denominator


def csv_rows(report: dict) -> list[dict]:
  """One flat row per cell: rates, PSNR, every reader × kind accuracy and the JB2 setting."""
  rows = []
  for cell in report["cells"]:
    row = {k: cell[k] for k in ("type_size", "factor", "quality", "em_at_jpeg", "jpeg_bpp",
                                "jpeg_scan_bpp", "psnr_degraded")}
    row["psnr_restored"] = cell.get("psnr_restored")
    for reader in report["readers"]:
      for kind in KINDS:
        row[f"{reader}_{kind}"] = cell["accuracy"][kind].get(reader)
    jb2 = cell.get("jb2") or {}
    row.update({"jb2_bpp": jb2.get("bpp"), "jb2_fidelity": jb2.get("fidelity"),
                "jb2_downscale": jb2.get("downscale")})
    rows.append(row)
  return rows


def format_table(report: dict) -> str:
  """The markdown table: one row per cell, each reader's clean / degraded / D1 / D1+D2 / JB2."""
  options = report["settings"]
  header = ["em (px)", "factor", "q", "em at JPEG (px)", "JPEG bpp (file / scan)"]
  for reader in report["readers"]:
    name = "Tess." if reader == "tesseract" else "judge"
    header += [f"{name} clean", f"{name} degraded", f"{name} D1", f"{name} D1+D2",
               f"{name} JB2"]
  header += ["JB2 bpp (fidelity, ↓)"]
  num_patches = options["num_patches"]
  lines = [
      f"Severity grid: {num_patches} book test patches (64×256) per type size, each degraded "
      f"alone (box ↓factor, JPEG q, bicubic ↑); D1: `{report['d1'] or 'not run'}`; "
      f"D1+D2: {report['d2']}; "
      f"judge `{report['judge']}` (ground-truth word boxes), Tesseract psm 6; JB2 = cjb2 of the "
      f"clean patch binarized at 128, the ladder setting whose mean file bpp is closest to the "
      f"cell's JPEG {options['jb2_rate']} bpp.",
      "",
      "| " + " | ".join(header) + " |",
      "|" + "---|" * len(header),
  ]
  for cell in report["cells"]:
    row = [str(cell["type_size"]), f"{cell['factor']:g}", str(cell["quality"]),
           f"{cell['em_at_jpeg']:.1f}", f"{cell['jpeg_bpp']:.3f} / {cell['jpeg_scan_bpp']:.3f}"]
    for reader in report["readers"]:
      row += [_fmt(cell["accuracy"][kind].get(reader)) for kind in KINDS]
    jb2 = cell.get("jb2")
    row.append(f"{jb2['bpp']:.3f} ({jb2['fidelity']}, {jb2['downscale']})" if jb2 else "–")
    lines.append("| " + " | ".join(row) + " |")
  return "\n".join(lines)


def heatmap(report: dict, reader: str, path: pathlib.Path) -> None:
  """Degraded / clean and D1-restored / clean accuracy of `reader`, type size × factor, one
  row of panels per JPEG quality."""
  plt = report_lib.pyplot()
  options = report["settings"]
  sizes, factors, qualities = options["type_sizes"], options["factors"], options["qualities"]
  kinds = ["degraded"] + (["restored"] if report["d1"] else [])
  figure, axes = plt.subplots(len(qualities), len(kinds), squeeze=False, layout="constrained",
                              figsize=(1.0 + (1.2 + 0.8 * len(factors)) * len(kinds),
                                       (1.3 + 0.45 * len(sizes)) * len(qualities)))
  by_key = {(c["type_size"], c["factor"], c["quality"]): c for c in report["cells"]}
  image = None
  for row, quality in enumerate(qualities):
    for column, kind in enumerate(kinds):
      values = np.full((len(sizes), len(factors)), np.nan)
      for i, size in enumerate(sizes):
        for j, factor in enumerate(factors):
          accuracy = by_key[(size, factor, quality)]["accuracy"]
          ratio = _ratio(accuracy[kind].get(reader), accuracy["clean"].get(reader))
          values[i, j] = np.nan if ratio is None else ratio
      axis = axes[row, column]
      image = axis.imshow(values, vmin=0, vmax=1, cmap="viridis", aspect="auto")
      for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
          axis.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if value < 0.5 else "black")
      axis.set_xticks(range(len(factors)), [f"{f:g}" for f in factors])
      axis.set_yticks(range(len(sizes)), [str(s) for s in sizes])
      axis.set_xlabel("downsample factor")
      axis.set_ylabel("em (px)")
      axis.set_title(f"{reader}: {'D1' if kind == 'restored' else kind} / clean, q {quality}",
                     fontsize=9)
  figure.colorbar(image, ax=axes, shrink=0.8)
  path.parent.mkdir(parents=True, exist_ok=True)
  figure.savefig(path, dpi=110)
  plt.close(figure)


def write_outputs(report: dict, workdir: pathlib.Path) -> list[pathlib.Path]:
  """severity.json, severity.csv, severity.md and heatmap_<reader>.png under `workdir`."""
  workdir.mkdir(parents=True, exist_ok=True)
  files = [workdir / "severity.json", workdir / "severity.csv", workdir / "severity.md"]
  files[0].write_text(json.dumps({k: v for k, v in report.items() if k != "lines"}, indent=1,
                                 allow_nan=False) + "\n")
  rows = csv_rows(report)
  with open(files[1], "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
  files[2].write_text(format_table(report) + "\n")
  for reader in report["readers"]:
    files.append(workdir / f"heatmap_{reader}.png")
    heatmap(report, reader, files[-1])
  return files
