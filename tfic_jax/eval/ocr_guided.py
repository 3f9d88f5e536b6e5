r"""Measurement of the OCR-guided refinement (paper §4.6, Fig. 10): `configs/eval_dequant.py`
with `ocr_guided`.

On the book test patches of `eval.dequant` (`test_sets.book_test_patches`), five versions of every
patch: degraded, D1 (the DnCNN), OCR-guided (D1 + CRAFT on D1's output + D2 on the detected
words, pasted back: `ocr_guided.refine_page`, the paper's chain), OCR-guided with the
ground-truth word boxes instead of CRAFT's (what D2 does where the words are known) and clean.
Each is read three ways: through the full page-OCR pipeline (CRAFT + the judge,
`chains.page_ocr.read_page`: the Part B measure of issue 8), by the judge in the ground-truth
word boxes (as `eval.dequant` for D1) and by Tesseract (psm 6, whole patch); plus PSNR and a
picture like Fig. 10 (degraded | D1 | clean | OCR-guided | OCR-guided, ground-truth boxes).
"""

from collections.abc import Sequence
import pathlib
import sys
import time

import jax
import numpy as np

from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax import metrics
from tfic_jax.chains import ocr_guided
from tfic_jax.chains import page_ocr
from tfic_jax.data import test_sets
from tfic_jax.eval import dequant as dequant_eval
from tfic_jax.eval import ocr_judge
from tfic_jax.eval import tesseract
from tfic_jax.ocr import api as ocr_api

KINDS = ("degraded", "d1", "ocr_guided", "ocr_guided_gt_boxes", "clean")
LABELS = {"degraded": "degraded (input)", "d1": "D1 (DnCNN)",
          "ocr_guided": "OCR-guided (D1 + CRAFT + D2)",
          "ocr_guided_gt_boxes": "OCR-guided, ground-truth word boxes", "clean": "clean"}
FIGURE_KINDS = ("degraded", "d1", "clean", "ocr_guided", "ocr_guided_gt_boxes")
READERS = ("page_ocr", "judge", "tesseract")


def restore_all(d1, detector, d2, patches: Sequence[dict],
                window: Sequence[int] = ocr_guided.WINDOW, paste_margin: float = 0.0
                ) -> tuple[dict, list[int]]:
  """{kind: uint8 patches} of every kind but the inputs, and the words D2 refined per patch
  (CRAFT's detections on D1's output); D2 refines `window`s (the one it was trained on) and
  its words are pasted with `paste_margin` pixels around their boxes."""
  images = {"d1": [], "ocr_guided": [], "ocr_guided_gt_boxes": []}
  num_refined = []
  for patch in patches:
    result = ocr_guided.refine_page(d1, detector, d2, patch["degraded"], window=window,
                                    paste_margin=paste_margin)
    _, _, line_boxes = ocr_guided.ground_truth_words(patch["text"], patch["char_boxes"])
    images["d1"].append(result.d1_output)
    images["ocr_guided"].append(result.restored)
    images["ocr_guided_gt_boxes"].append(
        ocr_guided.refine_words(d2, result.d1_output, line_boxes, window, paste_margin))
    num_refined.append(len(result.boxes))
  return images, num_refined


def format_table(report: dict) -> str:
  """The printed summary (markdown)."""
  lines = [
      f"D1 `{report['d1']}`, CRAFT `{report['craft']}`, D2 `{report['d2']}`, judge "
      f"`{report['judge']}`; {report['num_patches']} test patches of {report['num_pages']} "
      f"book pages (`book_patches/{report.get('book_config', 'default')}`); {report['backend']}; "
      f"D2 window {report.get('window')}, pasted with a {report.get('paste_margin', 0)}-pixel "
      "margin. Words refined by D2 (CRAFT on D1's output): "
      f"{report['words_refined']['mean_per_patch']:.2f} per patch.",
      "",
      "| patches | page OCR (CRAFT + judge) | judge, ground-truth boxes | Tesseract (psm 6) | "
      "PSNR (dB) |",
      "|---|---|---|---|---|",
  ]
  for kind in KINDS:
    row = report["results"][kind]
    psnr = "∞ (reference)" if row["psnr"] is None else f"{row['psnr']:.2f}"
    lines.append(f"| {LABELS[kind]} | {ocr_judge.fmt(row['page_ocr'])} | {ocr_judge.fmt(row['judge'])} | "
                 f"{ocr_judge.fmt(row['tesseract'])} | {psnr} |")
  return "\n".join(lines)


def run(d2_path: str | None, d1_path: str | None = None, craft_path: str | None = None,
        judge_path: str | None = None, num_pages: int = 10, use_tesseract: bool = True,
        out_dir: pathlib.Path | None = None, figure_path: pathlib.Path | None = None,
        figure_rows: int = 3, num_workers: int = 1, book_config: str = "default",
        paste_margin: float = 0.0) -> dict:
  """Measures the chain; prints the table, writes `out_dir/eval_dequant_ocr.json` (with every
  reading) and the figure. `book_config`: the `book_patches` config of the test pages;
  `paste_margin`: pixels around each word box that D2's output replaces too."""
  if num_pages < 1:
    raise errors.TficError(f"--num_pages must be >= 1, got {num_pages}")
  if figure_rows < 1:
    raise errors.TficError(f"--figure_rows must be >= 1, got {figure_rows}")
  if paste_margin < 0:
    raise errors.TficError(f"--paste_margin must be >= 0 pixels, got {paste_margin}")
  if use_tesseract and not tesseract.available():
    raise errors.DependencyError(
        f"tesseract is not installed ({tesseract.INSTALL_HINT}); or pass --tesseract=false.")
  start = time.time()
  d1, detector, d2 = ocr_guided.load_chain(d2_path, d1_path, craft_path)  # Errors first.
  window = ocr_guided.trained_window(d2_path)
  judge, judge_variables = ocr_api.load(judge_path)
  box_reader = ocr_judge.make_box_reader(judge)

  with test_sets.worker_pool(num_workers) as pool:
    pages, patches = test_sets.book_test_patches(num_pages, pool, book_config)
  texts = [patch["text"] for patch in patches]
  images, num_refined = restore_all(d1, detector, d2, patches, window, paste_margin)
  images["degraded"] = [p["degraded"] for p in patches]
  images["clean"] = [p["clean"] for p in patches]

  results, readings = {}, {kind: {} for kind in KINDS}
  for kind in KINDS:
    psnr = dequant_eval.set_psnr(images["clean"], images[kind])
    readings[kind]["page_ocr"] = [
        page_ocr.read_page(detector[0], detector[1], judge, judge_variables, image).text
        for image in images[kind]]
    readings[kind]["judge"] = dequant_eval.judge_readings(judge, judge_variables, images[kind],
                                                          patches, box_reader)
    if use_tesseract:
      readings[kind]["tesseract"] = tesseract.read_many(
          images[kind], psm=ocr_judge.TESSERACT_BLOCK_PSM, num_workers=num_workers)
    results[kind] = {"psnr": psnr if np.isfinite(psnr) else None,
                     **{reader: (metrics.mean_ocr_accuracy(texts, readings[kind][reader])
                                 if reader in readings[kind] else None) for reader in READERS}}

  if figure_path is not None:
    rows = [[images[k][i] for k in FIGURE_KINDS]
            for i in dequant_eval.pick_figure_patches(patches, figure_rows)]
    imageio.save_image(figure_path, dequant_eval.figure(rows))

  report = {
      "command": " ".join(sys.argv),
      "d1": str(d1_path or "(D2's config.frozen.d1)"),
      "craft": str(craft_path or "(D2's config.frozen.craft)"),
      "d2": str(d2_path or ocr_guided.DEFAULT_MODEL),
      "judge": str(judge_path or "models/ocr_default"),
      "backend": jax.default_backend(),
      "book_config": book_config,
      "num_pages": len(pages), "pages": pages, "num_patches": len(patches),
      "window": list(window),
      "paste_margin": paste_margin,
      "words_refined": {"mean_per_patch": float(np.mean(num_refined)) if num_refined else 0.0,
                        "total": int(np.sum(num_refined))},
      "results": results,
      "figure": str(figure_path) if figure_path is not None else None,
      "figure_columns": list(FIGURE_KINDS),
      "seconds": time.time() - start,
      "readings": dequant_eval.patch_readings(patches, readings, KINDS,
                                              [{"words_refined": n} for n in num_refined]),
  }
  print(format_table(report))
  dequant_eval.write_report(report, out_dir, "eval_dequant_ocr.json", report["seconds"])
  return report
