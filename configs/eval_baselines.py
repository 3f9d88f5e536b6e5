r"""Classical codecs (JPEG, WebP, AVIF, JPEG 2000) with Tesseract on synthetic test lines.

  python -m launch.evaluate --config=configs/eval_baselines.py --workdir=out/baselines
  python -m launch.evaluate --config=configs/eval_baselines.py --workdir=out/baselines \
      --config.num_images=100 --config.grid=full

Each codec at each downscale (1×, 2×, 4×) over its quality grid: mean bpp and Tesseract's
accuracy (psm 7); the lowest bpp keeping ≥ 95 % of the uncompressed accuracy. Writes
baselines.json and baselines.csv under --workdir (tfic_jax/eval/baselines.py;
docs/baselines.md).
"""

import ml_collections

from tfic_jax.eval import classical


def get_config():
  config = ml_collections.ConfigDict()
  config.part = "baselines"
  config.num_images = 20  # Synthetic test images.
  config.height = 256
  config.width = 512
  config.seed = 1234  # Seed of the synthetic test images.
  config.font_split = "seen"  # seen | heldout
  config.codecs = ",".join(classical.CODECS)  # Codecs to measure, comma-separated.
  config.downscales = "1,2,4"  # Downscale factors, comma-separated.
  config.grid = "quick"  # quick (each codec's 5-point grid) | full
  config.avif_speed = classical.AVIF_SPEED  # aom speed for AVIF, 0 (slowest) to 10.
  config.num_workers = 0  # Parallel tesseract processes (0: the number of CPU cores).
  return config
