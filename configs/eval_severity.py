r"""The severity grid of Part B's degradation (issue 28): how much text degraded book patches
still hold, by type size × downsample factor × JPEG quality.

  python -m launch.evaluate --config=configs/eval_severity.py --workdir=out/eval_severity
  python -m launch.evaluate --config=configs/eval_severity.py --workdir=out/eval_severity \
      --config.type_sizes=12,24 --config.factors=2,3 --config.qualities=1 --config.num_patches=40

Each cell: the rate of the real JPEG files (bpp of the full-resolution patch), Tesseract and the
judge on the clean / degraded / D1-restored (/ D1 + D2) patches, and JB2 of the clean patch at
the rate closest to the JPEG's. Writes severity.json, severity.csv, severity.md and
heatmap_<reader>.png under --workdir (tfic_jax/eval/severity.py; docs/dequant.md, "Severity
grid").
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.part = "severity"
  config.type_sizes = "8,12,16,24"  # em sizes (px), comma-separated.
  config.factors = "1.5,2,2.5,3"  # Downsample factors before the JPEG.
  config.qualities = "1,10"  # JPEG qualities: the paper's 1 and a milder one.
  config.num_patches = 20  # Test patches per type size (the same ones in every cell).
  config.min_alnum = 20  # Letters and digits a patch must hold to be used.
  config.restore = True  # Also read D1's output.
  config.d1 = ""  # D1: DnCNN workdir or model ("": models/dncnn_default, launch.dequantize's).
  config.d2 = ""  # D1 + D2: an OCR-guided D2 workdir or model ("": none ships, column empty).
  config.judge = ""  # OCR judge ("": models/ocr_default).
  config.tesseract = True
  config.use_judge = True
  config.jb2 = True  # JB2 of the clean patch at the JPEG's rate.
  config.jb2_rate = "scan"  # Match JB2's file bpp to the JPEG's "scan" bpp or "file" bpp.
  return config
