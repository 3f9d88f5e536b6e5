r"""Classical-codec baselines on synthetic text lines: rate, PSNR and Tesseract accuracy.

For every codec × downscale × quality it codes `--num_images` synthetic test images
(`tfic_jax.data.synth_text`), reads them back with Tesseract (psm 7) and reports the mean bpp,
PSNR and OCR accuracy (paper §3.3), then, per codec, the lowest rate that keeps >= 95 % of the
accuracy Tesseract reaches on the uncompressed images.

  python -m launch.baselines --num_images=20 --height=256 --width=512 \
      --codecs=jpeg,webp,avif,jpeg2000 --out=out/baselines

Writes `baselines.json` (settings, summary rows and per-image readings) and `baselines.csv`
(summary rows) to `--out`.
"""

from collections.abc import Sequence
import os
import pathlib
import sys

from absl import app
from absl import flags

from tfic_jax import errors
from tfic_jax.eval import baselines
from tfic_jax.eval import classical

_NUM_IMAGES = flags.DEFINE_integer("num_images", 20, "Number of synthetic test images.")
_HEIGHT = flags.DEFINE_integer("height", 256, "Image height.")
_WIDTH = flags.DEFINE_integer("width", 512, "Image width.")
_SEED = flags.DEFINE_integer("seed", 1234, "Seed of the synthetic test images.")
_FONT_SPLIT = flags.DEFINE_enum("font_split", "seen", ["seen", "heldout"], "Fonts to render.")
_CODECS = flags.DEFINE_list("codecs", list(classical.CODECS), "Codecs to measure.")
_DOWNSCALES = flags.DEFINE_list("downscales", ["1", "2", "4"], "Downscale factors.")
_GRID = flags.DEFINE_enum(
    "grid", "quick", ["quick", "full"], "Each codec's 5-point quick grid or its full grid."
)
_AVIF_SPEED = flags.DEFINE_integer(
    "avif_speed", classical.AVIF_SPEED, "aom speed for AVIF, 0 (slowest, smallest) to 10."
)
_NUM_WORKERS = flags.DEFINE_integer(
    "num_workers", None, "Parallel tesseract processes (default: the number of CPU cores)."
)
_OUT = flags.DEFINE_string("out", "out/baselines", "Directory for baselines.json/.csv.")


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    downscales = [int(d) for d in _DOWNSCALES.value]
  except ValueError:
    raise app.UsageError(f"--downscales must be integers, got {_DOWNSCALES.value}") from None
  try:
    baselines.run(
        num_images=_NUM_IMAGES.value,
        height=_HEIGHT.value,
        width=_WIDTH.value,
        seed=_SEED.value,
        font_split=_FONT_SPLIT.value,
        codecs=_CODECS.value,
        downscales=downscales,
        grid=_GRID.value,
        num_workers=_NUM_WORKERS.value or os.cpu_count() or 1,
        avif_speed=_AVIF_SPEED.value,
        out_dir=pathlib.Path(_OUT.value) if _OUT.value else None,
    )
  except (errors.TficError, ValueError) as e:
    print(f"Error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)
