r"""What limits the judge on synth_text: its accuracy by the size of the text in the canvas.

  python -m launch.evaluate --config=configs/eval_ocr.py --workdir=out/eval_ocr --config.num_images=200 --config.book_pages=10      # writes out/eval_ocr
  python scripts/judge_by_text_size.py --report=out/eval_ocr/eval_ocr.json

Re-renders each test line of the report (`synth_text.render_example`, the builder's own
generator, which also returns the line's box) and prints the judge's and Tesseract's mean
accuracy per quartile of line height and of pixels per character, both in the canvas of the
report (256×512 by default). The judge sees the whole canvas stretched to its input (32×128 for
the shipped one), so a character of w canvas pixels gets w·128/512 input columns.
"""

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from absl import app  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

FLAGS = flags.FLAGS
flags.DEFINE_string("report", "out/eval_ocr/eval_ocr.json", "the judge evaluation's JSON report (configs/eval_ocr.py).")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  import numpy as np  # pylint: disable=g-import-not-at-top

  from tfic_jax import metrics  # pylint: disable=g-import-not-at-top
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top
  from tfic_jax.data import synth_text  # pylint: disable=g-import-not-at-top

  path = pathlib.Path(FLAGS.report)
  if not path.is_file():
    sys.exit(f"error: no report at {path}; run python -m launch.evaluate --config=configs/eval_ocr.py --workdir=out/eval_ocr first")
  report = json.loads(path.read_text())
  rows = []
  for split, readings in report["readings"]["synth_text"].items():
    spec = synth_text.SynthTextSpec(
        height=report["height"], width=report["width"],
        font_split="heldout" if split == "test_heldout_fonts" else "seen")
    for index, reading in enumerate(readings):
      example = synth_text.render_example(spec, builders.SYNTH_SPLIT_SEEDS[split], index)
      if example["text"] != reading["text"]:
        sys.exit(f"error: {split}[{index}] renders {example['text']!r}, the report has "
                 f"{reading['text']!r}: the generator changed since the report was written")
      left, top, right, bottom = example["text_box"]
      rows.append((bottom - top, (right - left) / max(1, len(reading["text"])),
                   metrics.ocr_accuracy(reading["text"], reading["judge"]),
                   metrics.ocr_accuracy(reading["text"], reading["tesseract"])
                   if reading.get("tesseract") is not None else np.nan))
  rows = np.asarray(rows, np.float64)
  print(f"{len(rows)} lines of {path} ({report['height']}×{report['width']} canvases); "
        f"judge {rows[:, 2].mean():.3f}, Tesseract {np.nanmean(rows[:, 3]):.3f}\n")
  for title, column in (("line height (canvas px)", 0), ("pixels per character (canvas)", 1)):
    print(f"| {title} | lines | judge acc. | Tesseract acc. |\n|---|---|---|---|")
    edges = np.quantile(rows[:, column], [0, 0.25, 0.5, 0.75, 1])
    for quartile, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
      inside = (rows[:, column] >= low) & ((rows[:, column] < high) | (quartile == 3))
      print(f"| {low:.1f}–{high:.1f} | {inside.sum()} | {rows[inside, 2].mean():.3f} | "
            f"{np.nanmean(rows[inside, 3]):.3f} |")
    print()


if __name__ == "__main__":
  app.run(main)
