"""The artifacts of the TFIC evaluation (`eval.tfic.run`): the measured `Point`s written as JSON
and CSV, rate–accuracy and rate–PSNR plots, the visual grid (like the paper's Fig. 4) and the
text tables the launcher prints. Formatting only: nothing here measures.
"""

from collections.abc import Sequence
import csv
import dataclasses
import json
import math
from pathlib import Path

import numpy as np

from tfic_jax import metrics
from tfic_jax.eval import bjontegaard
from tfic_jax.eval import classical

FILES = {
    "json": "results.json", "csv": "points.csv", "readings": "readings.json",
    "plot_judge": "rate_accuracy_judge.png", "plot_tesseract": "rate_accuracy_tesseract.png",
    "plot_psnr": "rate_psnr.png", "table": "rate_table.md", "grid": "visual_grid.png",
}
_CSV_FIELDS = ("method", "setting", "downscale", "quality", "bpp", "psnr", "judge_accuracy",
               "judge_word_accuracy", "tesseract_accuracy", "tesseract_word_accuracy",
               "num_images")


@dataclasses.dataclass
class Point:
  """One method at one setting, averaged over the test images.

  `per_image` holds, per image, the rate ("bpp"), "psnr" and the readings ("judge",
  "tesseract"); `images` the decoded images kept for the grid and the two-layer mode (not
  written out).
  """
  # "uncompressed", "mse", "tfic", "two_layer_separate", "two_layer_composite", or a classical
  # codec's name.
  method: str
  setting: str
  bpp: float
  psnr: float | None  # None for the uncompressed images (infinite).
  judge_accuracy: float
  judge_word_accuracy: float
  tesseract_accuracy: float | None = None  # None when Tesseract did not run.
  tesseract_word_accuracy: float | None = None
  downscale: int | None = None
  quality: float | None = None
  details: dict = dataclasses.field(default_factory=dict)
  per_image: dict = dataclasses.field(default_factory=dict, repr=False)
  images: list = dataclasses.field(default_factory=list, repr=False)

  def accuracy(self, reader: str) -> float | None:
    return getattr(self, f"{reader}_accuracy")

  def summary(self) -> dict:
    d = dataclasses.asdict(self)
    d.pop("per_image")
    d.pop("images")
    return d


def json_float(value):
  if value is None:
    return None
  value = float(value)
  return value if math.isfinite(value) else None


def is_classical(name: str) -> bool:
  return name in classical.CODECS


# ------------------------------------------------------------------------------ outputs


def json_safe(value):
  """`value` with dict keys as strings, tuples as lists, numpy scalars as Python ones and
  non-finite floats as None: what `json.dumps` writes as strict JSON."""
  if isinstance(value, dict):
    return {str(k): json_safe(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [json_safe(v) for v in value]
  if isinstance(value, (float, np.floating)):
    return json_float(value)
  if isinstance(value, np.integer):
    return int(value)
  return value


def write_outputs(report: dict, workdir: Path) -> dict[str, Path]:
  """Writes every artifact (see FILES); returns their paths. Plots need no display (Agg)."""
  workdir.mkdir(parents=True, exist_ok=True)
  points = report.pop("_points")
  uncompressed, curves, texts = points["uncompressed"], points["curves"], points["texts"]
  all_points = [uncompressed] + [p for c in curves.values() for p in c]
  paths = {key: workdir / name for key, name in FILES.items()}
  report["files"] = {key: path.name for key, path in paths.items()}
  if not report["tesseract"]["used"]:
    del report["files"]["plot_tesseract"]
  paths["json"].write_text(json.dumps(json_safe(report), indent=2))
  with open(paths["csv"], "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=_CSV_FIELDS)
    writer.writeheader()
    for p in all_points:
      row = p.summary() | {"num_images": len(texts)}
      writer.writerow({k: "" if row[k] is None else row[k] for k in _CSV_FIELDS})
  paths["readings"].write_text(json.dumps(json_safe({
      "texts": texts,
      "points": [{"method": p.method, "setting": p.setting, **p.per_image} for p in all_points],
  })))
  paths["table"].write_text(format_rate_tables(report) + "\n")
  plot_rate(curves, uncompressed, "judge", paths["plot_judge"], report["scale"])
  if report["tesseract"]["used"]:
    plot_rate(curves, uncompressed, "tesseract", paths["plot_tesseract"], report["scale"])
  else:
    paths.pop("plot_tesseract")
  plot_rate(curves, uncompressed, "psnr", paths["plot_psnr"], report["scale"])
  plot_grid(uncompressed, curves, texts, paths["grid"])
  report["_points"] = points  # The caller may still want them.
  return paths


def pyplot():
  """matplotlib.pyplot on the Agg backend (no display needed), imported when first plotted."""
  import matplotlib  # pylint: disable=g-import-not-at-top  (deferred: matplotlib)
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top  (deferred: matplotlib)
  return plt


# How every plot draws the learned codecs (and the two-layer modes of the TFIC evaluation).
STYLE = {"tfic": dict(marker="o", lw=2.2, color="tab:red", label="TFIC"),
          "mse": dict(marker="s", lw=2.0, color="tab:blue", label="MSE codec"),
          "two_layer_separate": dict(marker="D", lw=1.2, ls=":", color="tab:purple",
                                     label="two-layer (separate)"),
          "two_layer_composite": dict(marker="^", lw=1.2, ls=":", color="tab:brown",
                                      label="two-layer (composite)")}


_CLASSICAL_COLORS = {"jpeg": "tab:olive", "webp": "tab:orange", "avif": "tab:green",
                     "jpeg2000": "tab:gray"}


def plot_rate(curves: dict[str, Sequence[Point]], uncompressed: Point, quality: str,
              path: Path, scale: dict) -> None:
  """Rate–accuracy (quality = "judge" / "tesseract") or rate–PSNR ("psnr"). Learned codecs:
  every point, in rate order; classical codecs: their envelope over downscales and qualities."""
  plt = pyplot()
  value = (lambda p: p.psnr) if quality == "psnr" else (lambda p: p.accuracy(quality))
  fig, ax = plt.subplots(figsize=(6.4, 4.4))
  for name, points in curves.items():
    pts = [p for p in points if value(p) is not None]
    if not pts:
      continue
    if name in STYLE:
      pts = sorted(pts, key=lambda p: p.bpp)
      ax.plot([p.bpp for p in pts], [value(p) for p in pts], **STYLE[name])
    else:
      r, q = bjontegaard.envelope([p.bpp for p in pts], [value(p) for p in pts])
      ax.plot(r, q, marker=".", lw=1.0, color=_CLASSICAL_COLORS.get(name),
              label=f"{name} (envelope over downscales)")
  if quality != "psnr" and value(uncompressed) is not None:
    ax.axhline(value(uncompressed), color="k", ls="--", lw=1.0,
               label=f"uncompressed ({value(uncompressed):.3f})")
  ax.set_xscale("log")
  ax.set_xlabel("bits per pixel (real files)")
  ax.set_ylabel({"judge": "OCR accuracy (our judge)", "tesseract": "OCR accuracy (Tesseract)",
                 "psnr": "PSNR (dB)"}[quality])
  ax.set_title(f"{scale['num_images']} synthetic test lines, {scale['height']}×{scale['width']}, "
               f"{scale['backend']}", fontsize=9)
  ax.grid(True, which="both", alpha=0.3)
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def grid_columns(curves: dict[str, Sequence[Point]]) -> list[Point]:
  """Fig. 4's columns after the original: TFIC at its lowest rate, the MSE codec nearest to
  that rate (log scale), and the classical setting the judge reads best among those within
  0.8–1.25× that rate (else the nearest in rate)."""
  tfic = min(curves["tfic"], key=lambda p: p.bpp)
  distance = lambda p: abs(math.log(p.bpp / tfic.bpp))
  mse = min(curves["mse"], key=distance)
  candidates = [p for name, pts in curves.items() if is_classical(name) for p in pts]
  columns = [mse, tfic]
  if candidates:
    near = [p for p in candidates if 0.8 <= p.bpp / tfic.bpp <= 1.25]
    columns.append(max(near, key=lambda p: p.judge_accuracy) if near
                   else min(candidates, key=distance))
  return columns


def plot_grid(uncompressed: Point, curves: dict[str, Sequence[Point]], texts: Sequence[str],
              path: Path) -> None:
  """Rows: the first images; columns: original, MSE, TFIC, classical; each labelled with its
  rate (this image's file) and what the judge read (green: read exactly)."""
  plt = pyplot()
  columns = [uncompressed] + grid_columns(curves)
  rows = len(uncompressed.images)
  height, width = uncompressed.images[0].shape[:2]
  cell_w = 3.2
  cell_h = cell_w * height / width + 0.55
  fig, axes = plt.subplots(rows, len(columns), figsize=(cell_w * len(columns), cell_h * rows),
                           squeeze=False)
  for row in range(rows):
    for col, point in enumerate(columns):
      ax = axes[row][col]
      ax.imshow(point.images[row])
      ax.set_xticks([])
      ax.set_yticks([])
      reading = point.per_image["judge"][row]
      exact = metrics.normalize_text(reading) == metrics.normalize_text(texts[row])
      name = {"uncompressed": "original", "mse": "MSE", "tfic": "TFIC"}.get(
          point.method, point.method)
      setting = "" if point.method == "uncompressed" else f" {Path(point.setting).name}"
      rate = point.per_image["bpp"][row]
      label = f"{name}{setting}, {rate:.3f} bpp\njudge: {reading!r}"
      if col == 0:
        label = f"original, {rate:g} bpp\ntext: {texts[row]!r}\njudge: {reading!r}"
      ax.set_title(label, fontsize=7, color="tab:green" if exact else "tab:red")
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


# ------------------------------------------------------------------------------ text


def _bpp(value) -> str:
  return "never" if value is None else f"{value:.4f}"


def _percent(value) -> str:
  return "no overlap" if value is None else f"{100 * value:+.1f} %"


def format_points(report: dict) -> str:
  lines = ["| method | setting | bpp | PSNR (dB) | judge acc. | Tesseract acc. |",
           "|---|---|---|---|---|---|"]
  for p in report["points"]:
    psnr = "inf" if p["psnr"] is None else f"{p['psnr']:.2f}"
    tess = "-" if p["tesseract_accuracy"] is None else f"{p['tesseract_accuracy']:.3f}"
    lines.append(f"| {p['method']} | {p['setting']} | {p['bpp']:.4f} | {psnr} | "
                 f"{p['judge_accuracy']:.3f} | {tess} |")
  return "\n".join(lines)


def format_rate_tables(report: dict) -> str:
  """Markdown: bpp needed per accuracy target and reader, then the BD-rates."""
  scale = report["scale"]
  lines = [f"Scale: {scale['num_images']} synthetic test lines ({scale['split']}), "
           f"{scale['height']}×{scale['width']}, backend {scale['backend']}."]
  for reader, table in report["rate_table"].items():
    targets = list(next(iter(table.values())).keys()) if table else []
    lines += ["", f"### bpp needed to reach an OCR accuracy ({reader})", "",
              "| method | " + " | ".join(f"acc. ≥ {t}" for t in targets) + " |",
              "|---|" + "---|" * len(targets)]
    for method, rates in table.items():
      lines.append(f"| {method} | " + " | ".join(_bpp(rates[t]) for t in targets) + " |")
    lines += ["", f"BD-rate of TFIC at equal accuracy ({reader}; negative = TFIC needs less "
                  "rate):", ""]
    for method, value in report["bd_rate_accuracy"][reader].items():
      lines.append(f"- vs {method}: {_percent(value)}")
  return "\n".join(lines)


def format_runtime(runtime: dict) -> str:
  e, o = runtime["encode_ms"], runtime["ocr_ms"]
  return (f"Runtime per image at batch 1 ({runtime['backend']}, {runtime['device']}, "
          f"{runtime['num_images']} images, codec {runtime['codec']}): encoder "
          f"{e['mean']:.1f} ± {e['std']:.1f} ms (transforms "
          f"{runtime['encode_transforms_ms']['mean']:.1f}, entropy coding "
          f"{runtime['encode_entropy_ms']['mean']:.1f}), OCR {o['mean']:.1f} ± {o['std']:.1f} ms; "
          f"encoder / OCR = {runtime['encode_over_ocr']:.2f}" + _format_reference(runtime))


def _format_reference(runtime: dict) -> str:
  ref = runtime.get("reference_ocr")
  if not ref:
    return ""
  return (f"; reference recognizer {ref['config']} ({ref['params']:,} params, "
          f"{ref['weights']}) {ref['ms']['mean']:.1f} ± {ref['ms']['std']:.1f} ms, "
          f"encoder / reference = {ref['encode_over_ocr']:.2f}")


def summary_lines(report: dict) -> list[str]:
  lines = [format_points(report), "", format_rate_tables(report), ""]
  for reader, h in report["headline"].items():
    if not h:
      continue
    mse = ("no MSE point at ≥ that rate" if h["mse_setting"] is None else
           f"MSE {h['mse_setting']} at {h['mse_bpp']:.4f} bpp reads {h['mse_accuracy']:.3f}")
    classical_text = ", ".join(f"{k} {_bpp(v)}"
                               for k, v in h["classical_bpp_at_tfic_accuracy"].items())
    lines.append(f"Lowest TFIC point ({reader}): {h['tfic_setting']} at {h['tfic_bpp']:.4f} bpp "
                 f"reads {h['tfic_accuracy']:.3f} (uncompressed {h['uncompressed_accuracy']:.3f});"
                 f" {mse}; classical bpp for the same accuracy: {classical_text}")
  for reader, values in report["bd_rate_accuracy_two_layer_vs_mse"].items():
    for name, value in values.items():
      lines.append(f"BD-rate of {name} vs the MSE codec at equal accuracy ({reader}): "
                   f"{_percent(value)}")
  lines.append(format_runtime(report["runtime"]))
  lines += [f"note: {n}" for n in report["notes"]]
  return lines
