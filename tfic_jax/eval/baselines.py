r"""Classical-codec baselines with Tesseract: behind `configs/eval_baselines.py`.

Codes synthetic text lines with every codec × downscale × quality, reads them with Tesseract
and finds, per codec, the lowest rate keeping 95 % of the uncompressed accuracy.
"""

from collections.abc import Sequence
import concurrent.futures
import csv
import dataclasses
import json
import math
import pathlib
import sys
import time

import numpy as np

from tfic_jax import errors
from tfic_jax import metrics
from tfic_jax.data import synth_text
from tfic_jax.eval import classical
from tfic_jax.eval import tesseract

KEEP_FRACTION = 0.95  # "Lowest bpp keeping >= 95 % of the uncompressed Tesseract accuracy".
TESSERACT_PSM = 7  # One text line.


@dataclasses.dataclass(frozen=True)
class Setting:
  codec: str
  downscale: int
  quality: float


def render_test_images(
    num_images: int, height: int, width: int, seed: int, font_split: str
) -> list[dict]:
  """The synthetic test lines: [{"image": uint8[H, W, 3], "text": str, ...}]."""

  spec = synth_text.SynthTextSpec(height=height, width=width, font_split=font_split)
  return [synth_text.render_example(spec, seed, index) for index in range(num_images)]


def quality_grid(codec: str, grid: str) -> tuple[float, ...]:
  coder = classical.get_codec(codec)
  return coder.qualities if grid == "full" else coder.quick_qualities


def _code_images(
    images: Sequence[np.ndarray], setting: Setting | None, avif_speed: int
) -> tuple[list[np.ndarray], list[int]]:
  """Decoded images and stream sizes (None = uncompressed: the raw 8-bit samples)."""
  if setting is None:
    return list(images), [image.size for image in images]
  options = {"speed": avif_speed} if setting.codec == "avif" else {}
  coded = [
      classical.encode_decode(image, setting.codec, setting.quality, setting.downscale, **options)
      for image in images
  ]
  return [decoded for decoded, _ in coded], [num_bytes for _, num_bytes in coded]


def summarize(setting: Setting | None, per_image: list[dict]) -> dict:
  """Mean rate, PSNR (dB, mean over images) and accuracies of one setting."""
  return {
      "codec": "uncompressed" if setting is None else setting.codec,
      "downscale": 1 if setting is None else setting.downscale,
      "quality": None if setting is None else setting.quality,
      "bpp": float(np.mean([m["bpp"] for m in per_image])),
      "psnr": float(np.mean([m["psnr"] for m in per_image])),
      "accuracy": float(np.mean([m["accuracy"] for m in per_image])),
      "word_accuracy": metrics.word_accuracy(
          [m["text"] for m in per_image], [m["reading"] for m in per_image]
      ),
  }


def measure(
    examples: list[dict], settings: Sequence[Setting | None], num_workers: int, avif_speed: int
) -> tuple[list[dict], dict]:
  """Summary rows for `settings` (None = uncompressed) and per-image measurements.

  Encoding runs here while Tesseract reads the previous setting's images in the background
  (batched tesseract processes, `num_workers` at a time).
  """
  images = [example["image"] for example in examples]
  texts = [example["text"] for example in examples]
  pending = []
  with concurrent.futures.ThreadPoolExecutor(max_workers=1) as reader:
    for setting in settings:
      decoded, stream_sizes = _code_images(images, setting, avif_speed)
      readings = reader.submit(
          tesseract.read_many, decoded, psm=TESSERACT_PSM, num_workers=num_workers
      )
      measurements = [
          {
              "text": text,
              "num_bytes": num_bytes,
              "bpp": metrics.bpp(num_bytes, *image.shape[:2]),
              "psnr": metrics.psnr(image, decoded_image),
          }
          for text, image, decoded_image, num_bytes in zip(texts, images, decoded, stream_sizes)
      ]
      pending.append((setting, measurements, readings))
    rows, per_image = [], {}
    for setting, measurements, readings in pending:
      for measurement, reading in zip(measurements, readings.result()):
        measurement["reading"] = reading
        measurement["accuracy"] = metrics.ocr_accuracy(measurement["text"], reading)
      rows.append(summarize(setting, measurements))
      per_image[_setting_key(setting)] = measurements
  return rows, per_image


def _setting_key(setting: Setting | None) -> str:
  if setting is None:
    return "uncompressed"
  return f"{setting.codec}/x{setting.downscale}/q{setting.quality:g}"


def lowest_rate_keeping(rows: list[dict], reference_accuracy: float) -> dict[str, dict | None]:
  """Per codec, the lowest-bpp row whose accuracy is >= KEEP_FRACTION × the reference."""
  threshold = KEEP_FRACTION * reference_accuracy
  best = {}
  for row in rows:
    if row["codec"] == "uncompressed":
      continue
    best.setdefault(row["codec"], None)
    if row["accuracy"] >= threshold and (
        best[row["codec"]] is None or row["bpp"] < best[row["codec"]]["bpp"]
    ):
      best[row["codec"]] = row
  return best


def _format_quality(quality) -> str:
  return "-" if quality is None else f"{quality:g}"


def format_table(rows: list[dict]) -> str:
  lines = [
      "| codec | downscale | quality | bpp | PSNR (dB) | Tesseract acc. | exact lines |",
      "|---|---|---|---|---|---|---|",
  ]
  for row in rows:
    psnr = "inf" if math.isinf(row["psnr"]) else f"{row['psnr']:.2f}"
    lines.append(
        f"| {row['codec']} | {row['downscale']}× | {_format_quality(row['quality'])} | "
        f"{row['bpp']:.4f} | {psnr} | {row['accuracy']:.3f} | {row['word_accuracy']:.2f} |"
    )
  return "\n".join(lines)


def format_lowest_rates(best: dict[str, dict | None], reference_accuracy: float) -> str:
  lines = [
      f"Lowest bpp keeping >= {KEEP_FRACTION:.0%} of the uncompressed Tesseract accuracy "
      f"({reference_accuracy:.3f} -> >= {KEEP_FRACTION * reference_accuracy:.3f}):",
      "| codec | bpp | downscale | quality | accuracy | PSNR (dB) |",
      "|---|---|---|---|---|---|",
  ]
  for codec, row in best.items():
    if row is None:
      lines.append(f"| {codec} | none in the grid | | | | |")
    else:
      lines.append(
          f"| {codec} | {row['bpp']:.4f} | {row['downscale']}× | "
          f"{_format_quality(row['quality'])} | {row['accuracy']:.3f} | {row['psnr']:.2f} |"
      )
  return "\n".join(lines)


def _json_safe(value):
  """Non-finite floats (the PSNR of an identical image) as strings: strict JSON has no inf."""
  if isinstance(value, float) and not math.isfinite(value):
    return str(value)
  if isinstance(value, dict):
    return {key: _json_safe(item) for key, item in value.items()}
  if isinstance(value, (list, tuple)):
    return [_json_safe(item) for item in value]
  return value


def write_outputs(out_dir: pathlib.Path, report: dict) -> None:
  out_dir.mkdir(parents=True, exist_ok=True)
  with open(out_dir / "baselines.json", "w") as f:
    json.dump(_json_safe(report), f, indent=1, allow_nan=False)
  with open(out_dir / "baselines.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(report["rows"][0]))
    writer.writeheader()
    writer.writerows(report["rows"])


def run(
    num_images: int,
    height: int,
    width: int,
    seed: int,
    font_split: str,
    codecs: Sequence[str],
    downscales: Sequence[int],
    grid: str,
    num_workers: int,
    avif_speed: int,
    out_dir: pathlib.Path | None,
) -> dict:
  """Measures every setting and returns the report (also printed, and written to `out_dir`)."""
  for codec in codecs:
    classical.get_codec(codec)  # Unknown names fail before any work.
  if not tesseract.available():
    raise errors.DependencyError(f"The tesseract binary was not found; {tesseract.INSTALL_HINT}.")
  start = time.time()
  examples = render_test_images(num_images, height, width, seed, font_split)
  settings = [None] + [
      Setting(codec, downscale, quality)
      for codec in codecs
      for downscale in downscales
      for quality in quality_grid(codec, grid)
  ]
  rows, per_image = measure(examples, settings, num_workers, avif_speed)
  reference_accuracy = rows[0]["accuracy"]
  best = lowest_rate_keeping(rows, reference_accuracy)
  print(format_table(rows))
  print()
  print(format_lowest_rates(best, reference_accuracy))
  elapsed = time.time() - start
  print(f"\n{num_images} images {height}×{width}, {len(settings)} settings, {elapsed:.0f} s.")
  report = {
      "command": " ".join(sys.argv),
      "num_images": num_images,
      "height": height,
      "width": width,
      "seed": seed,
      "font_split": font_split,
      "tesseract_psm": TESSERACT_PSM,
      "avif_speed": avif_speed,
      "grid": grid,
      "rows": rows,
      "lowest_rate_keeping_95": best,
      "per_image": per_image,
      "seconds": elapsed,
  }
  if out_dir is not None:
    write_outputs(out_dir, report)
    print(f"Wrote {out_dir / 'baselines.json'} and {out_dir / 'baselines.csv'}.")
  return report
