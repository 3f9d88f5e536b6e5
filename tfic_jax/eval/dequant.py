r"""Measurement of the DnCNN dequantizer: behind `configs/eval_dequant.py`.

On rendered book test patches (`test_sets.book_test_patches`: test pages of
`book_patches/default`, set from test sentences never used in training), for the degraded,
DnCNN-restored and clean versions of every patch: OCR accuracy read by the judge (word by word
from the ground-truth boxes, `ocr_judge.judge_read_patch`) and by Tesseract (psm 6, the whole
patch), and PSNR against the clean patch. Also the restoration throughput (patches/s) and a
picture like the paper's Fig. 9 (rows of degraded | clean | restored).
"""

from collections.abc import Sequence
import json
import pathlib
import sys
import time

import jax
import numpy as np

from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax import metrics
from tfic_jax.data import builders
from tfic_jax.data import pages as book_pages
from tfic_jax.data import test_sets
from tfic_jax.dequant import api
from tfic_jax.eval import ocr_judge
from tfic_jax.eval import tesseract
from tfic_jax.ocr import api as ocr_api

KINDS = ("degraded", "restored", "clean")
FIGURE_GAP = 4  # Pixels of mid-gray between the panels of the figure.


def restore_patches(model, variables, images: Sequence[np.ndarray], batch_size: int
                    ) -> list[np.ndarray]:
  """Restores same-size uint8 patches in fixed-size batches (the last padded: one compile)."""
  batch_size = min(batch_size, len(images))
  restored = []
  for start in range(0, len(images), batch_size):
    batch = np.stack(images[start:start + batch_size])
    num_real = len(batch)
    if num_real < batch_size:
      batch = np.concatenate([batch, np.repeat(batch[:1], batch_size - num_real, axis=0)])
    restored += list(api.restore_images(model, variables, batch)[:num_real])
  return restored


def set_psnr(cleans: Sequence[np.ndarray], images: Sequence[np.ndarray]) -> float:
  """PSNR (dB) over all pixels of the set: 10 log10(255² / MSE), MSE over every pixel."""
  sse = sum(float(np.sum((c.astype(np.float64) - i.astype(np.float64)) ** 2))
            for c, i in zip(cleans, images))
  return metrics.psnr_from_sse(sse, sum(int(c.size) for c in cleans))


def judge_readings(judge, judge_variables, images: Sequence[np.ndarray], patches: Sequence[dict],
                   box_reader) -> list[str]:
  """The judge's reading of each image, word by word in its patch's ground-truth boxes
  (`box_reader`: `ocr_judge.make_box_reader(judge)`, made once: it compiles per box count)."""
  return [ocr_judge.judge_read_patch(judge, judge_variables, image, patch["text"],
                                     patch["char_boxes"], box_reader)
          for image, patch in zip(images, patches)]


def time_restoration(model, variables, patch: np.ndarray, batch_sizes: Sequence[int],
                     repeats: int) -> dict[str, float]:
  """Patches/s of `restore_images` at each batch size: median of `repeats` timed calls after a
  compiling call (host checks, padding and the uint8 round trip included)."""
  result = {}
  for batch_size in batch_sizes:
    batch = np.repeat(patch[None], batch_size, axis=0)
    api.restore_images(model, variables, batch)  # Compile.
    times = []
    for _ in range(repeats):
      start = time.perf_counter()
      api.restore_images(model, variables, batch)
      times.append(time.perf_counter() - start)
    result[str(batch_size)] = batch_size / float(np.median(times))
  return result


def time_page(model, variables, page: np.ndarray, repeats: int) -> float:
  """Seconds to restore one whole page (median of `repeats` after a compiling call)."""
  api.restore_image(model, variables, page)
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    api.restore_image(model, variables, page)
    times.append(time.perf_counter() - start)
  return float(np.median(times))


def figure(rows: Sequence[Sequence[np.ndarray]], gap: int = FIGURE_GAP) -> np.ndarray:
  """Panels uint8 [H, W, 1], row by row (e.g. degraded | clean | restored, as the paper's
  Fig. 9), separated by `gap` gray pixels: uint8 [rows·(H+gap)−gap, cols·(W+gap)−gap, 1]."""
  height, width = rows[0][0].shape[:2]
  num_rows, num_cols = len(rows), len(rows[0])
  canvas = np.full((num_rows * (height + gap) - gap, num_cols * (width + gap) - gap, 1), 128,
                   np.uint8)
  for r, row in enumerate(rows):
    for c, panel in enumerate(row):
      top, left = r * (height + gap), c * (width + gap)
      canvas[top:top + height, left:left + width] = panel
  return canvas


def pick_figure_patches(patches: Sequence[dict], num_rows: int) -> list[int]:
  """Indices of the `num_rows` patches with the most text lines (ties: earlier first)."""
  order = sorted(range(len(patches)), key=lambda i: (-len(patches[i]["text"].split("\n")), i))
  return sorted(order[:num_rows])


def patch_readings(patches: Sequence[dict], readings: dict, kinds: Sequence[str],
                   extra: Sequence[dict] | None = None) -> list[dict]:
  """Per-patch JSON rows: page, corner, text and every `{reader}_{kind}` reading (+ `extra`)."""
  return [{"page": int(p["page"]), "corner": [int(c) for c in p["corner"]], "text": p["text"],
           **(extra[i] if extra else {}),
           **{f"{reader}_{kind}": readings[kind][reader][i]
              for kind in kinds for reader in readings[kind]}}
          for i, p in enumerate(patches)]


def write_report(report: dict, out_dir, filename: str, seconds: float) -> None:
  """Writes `report` as JSON under `out_dir` (if given) and prints where."""
  if out_dir is None:
    return
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  path = out_dir / filename
  path.write_text(json.dumps(report, indent=1, allow_nan=False) + "\n")
  print(f"Wrote {path} ({seconds:.0f} s).")


def _check_settings(num_pages: int, batch_size: int, time_batches: Sequence[int],
                    time_repeats: int, figure_rows: int) -> None:
  if num_pages < 1:
    raise errors.TficError(f"--num_pages must be >= 1, got {num_pages}")
  if batch_size < 1 or time_repeats < 1 or any(b < 1 for b in time_batches):
    raise errors.TficError("--batch_size, --time_batches and --time_repeats must be >= 1")
  if figure_rows < 1:
    raise errors.TficError(f"--figure_rows must be >= 1, got {figure_rows}")


def format_table(report: dict) -> str:
  """The printed summary (markdown): accuracy and PSNR per kind, then throughput."""
  lines = [
      f"DnCNN `{report['model']['path']}` ({report['model']['num_params']:,} params, "
      f"D={report['model']['depth']}, F={report['model']['features']}, "
      f"unshuffle {report['model'].get('unshuffle', 1)}) on "
      f"{report['num_patches']} test patches of {report['num_pages']} book pages "
      f"(`book_patches/{report.get('book_config', 'default')}`, degraded at factor "
      f"{report.get('degrade_factor', 3)}); "
      f"{report['backend']}. Judge: `{report['judge_path']}`.",
      "",
      "| patches | Tesseract acc. (psm 6) | judge acc. (word boxes) | PSNR (dB) |",
      "|---|---|---|---|",
  ]
  for kind in KINDS:
    row = report["results"][kind]
    psnr = "∞ (reference)" if row["psnr"] is None else f"{row['psnr']:.2f}"
    lines.append(f"| {kind} | {ocr_judge.fmt(row['tesseract'])} | {ocr_judge.fmt(row['judge'])} | {psnr} |")
  lines += ["", "| restoration speed | figure |", "|---|---|"]
  for batch_size, rate in report["speed"]["patches_per_second"].items():
    lines.append(f"| 64×256 patches, batch {batch_size} ({report['backend']}) | "
                 f"{rate:.1f} patches/s |")
  if report["speed"]["page_seconds"] is not None:
    lines.append(f"| one whole {report['speed']['page_shape']} page | "
                 f"{report['speed']['page_seconds']:.2f} s |")
  return "\n".join(lines)


def run(model_path: str | None, num_pages: int, use_tesseract: bool, use_judge: bool,
        judge_path: str | None = None, out_dir: pathlib.Path | None = None,
        figure_path: pathlib.Path | None = None, figure_rows: int = 4, batch_size: int = 50,
        time_batches: Sequence[int] = (1, 16), time_repeats: int = 5, time_whole_page: bool = True,
        num_workers: int = 1, book_config: str = "default") -> dict:
  """Measures the DnCNN; prints the table, writes `out_dir/eval_dequant.json` and the figure.
  `book_config`: the `book_patches` config whose test pages (and degradation) are used."""
  _check_settings(num_pages, batch_size, time_batches, time_repeats, figure_rows)
  degrade_factor = builders.book_config(book_config).degrade_factor
  start = time.time()
  model, variables = api.load(model_path)  # CheckpointError before any work.
  judge = judge_variables = box_reader = None
  if use_judge:
    judge, judge_variables = ocr_api.load(judge_path)
    box_reader = ocr_judge.make_box_reader(judge)
  if use_tesseract and not tesseract.available():
    raise errors.DependencyError(
        f"tesseract is not installed ({tesseract.INSTALL_HINT}); or pass --tesseract=false.")

  with test_sets.worker_pool(num_workers) as pool:
    pages, patches = test_sets.book_test_patches(num_pages, pool, book_config)
  texts = [patch["text"] for patch in patches]
  images = {"degraded": [p["degraded"] for p in patches], "clean": [p["clean"] for p in patches]}
  restore_start = time.perf_counter()
  images["restored"] = restore_patches(model, variables, images["degraded"], batch_size)
  restore_seconds = time.perf_counter() - restore_start

  results, readings = {}, {kind: {} for kind in KINDS}
  for kind in KINDS:
    psnr = set_psnr(images["clean"], images[kind])
    results[kind] = {"psnr": psnr if np.isfinite(psnr) else None,  # None: the clean reference.
                     "tesseract": None, "judge": None}
    if use_tesseract:
      readings[kind]["tesseract"] = tesseract.read_many(
          images[kind], psm=ocr_judge.TESSERACT_BLOCK_PSM, num_workers=num_workers)
      results[kind]["tesseract"] = metrics.mean_ocr_accuracy(texts, readings[kind]["tesseract"])
    if use_judge:
      readings[kind]["judge"] = judge_readings(judge, judge_variables, images[kind], patches,
                                               box_reader)
      results[kind]["judge"] = metrics.mean_ocr_accuracy(texts, readings[kind]["judge"])

  page = None
  if time_whole_page:
    page = book_pages.render("test", 0, book_config).degraded  # The page of `pages[0]`.
  speed = {
      "patches_per_second": time_restoration(model, variables, images["degraded"][0],
                                             time_batches, time_repeats),
      "time_repeats": time_repeats,
      "page_seconds": time_page(model, variables, page, time_repeats) if page is not None
                      else None,
      "page_shape": list(page.shape[:2]) if page is not None else None,
  }
  if figure_path is not None:
    rows = [[images[k][i] for k in ("degraded", "clean", "restored")]
            for i in pick_figure_patches(patches, figure_rows)]
    imageio.save_image(figure_path, figure(rows))

  report = {
      "command": " ".join(sys.argv),
      "model": {"path": str(model_path or api.DEFAULT_MODEL), "num_params": model.num_params(),
                "depth": model.depth, "features": model.features, "unshuffle": model.unshuffle},
      "book_config": book_config, "degrade_factor": degrade_factor,
      "judge_path": str(judge_path or "models/ocr_default") if use_judge else None,
      "backend": jax.default_backend(),
      "num_pages": len(pages), "pages": pages, "num_patches": len(patches),
      "results": results, "speed": speed,
      "figure": str(figure_path) if figure_path is not None else None,
      "seconds": {"restore_all": restore_seconds, "total": time.time() - start},
      "readings": patch_readings(patches, readings, KINDS),
  }
  print(format_table(report))
  write_report(report, out_dir, "eval_dequant.json", report["seconds"]["total"])
  return report
