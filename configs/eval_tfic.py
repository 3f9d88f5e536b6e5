r"""TFIC rate–accuracy evaluation (issue 6; paper §3.3–3.5), CPU scale.

  python -m launch.evaluate --config=configs/eval_tfic.py --workdir=out/eval_tfic
  python -m launch.evaluate --config=configs/eval_tfic.py --workdir=out/eval_tfic \
      --config.mse_codecs="('workdirs/codec_mse_q1','workdirs/codec_mse_q2')" \
      --config.tfic_codecs="('workdirs/codec_tfic_q1',)" --config.num_images=50

Images: the synthetic test lines at 128×256, the size the CPU-sized codecs
(configs/codec_mse_small.py, configs/tfic_small.py: `medium` canvases) are trained at; the paper
uses 256×512 (set height/width for full-size models). Codecs: shipped names
(`codec_mse_q1`, `codec_tfic_q1`, ...), model directories or training workdirs; the default is
every shipped model (`tfic_jax.codec.api.shipped_qualities`) when the config is read. See
docs/evaluation.md.
"""

import ml_collections

from tfic_jax.codec import api
from tfic_jax.eval import classical


def shipped(kind: str) -> tuple[str, ...]:
  return tuple(api.shipped_name(kind, q) for q in api.shipped_qualities(kind))


def get_config():
  config = ml_collections.ConfigDict()
  config.part = "tfic"  # The evaluator launch.evaluate runs (tfic_jax/eval/parts.py).
  # MSE rate points: stage 1 on CompressAI's grid and the MSE control at TFIC's rates
  # (configs/codec_mse_lowrate_small.py: stage 2's recipe with the MSE loss).
  config.mse_codecs = shipped("mse_low") + shipped("mse")
  config.tfic_codecs = shipped("tfic")  # Stage 2 (OCR loss) rate points.
  config.judge = "ocr_default"  # The frozen OCR the TFIC codecs were trained against.
  config.tesseract = True  # The independent reader (skipped with a note if not installed).
  config.tesseract_workers = 2  # Concurrent tesseract processes.

  config.split = "test"  # synth_text test split, seen fonts ("test_heldout_fonts": held out).
  config.num_images = 100
  config.height = 128
  config.width = 256
  config.judge_batch_size = 50

  config.classical = ml_collections.ConfigDict()
  config.classical.codecs = ("jpeg", "webp", "avif", "jpeg2000")
  config.classical.downscales = (1, 2, 4)
  # Quality grids (eval/classical.py; jpeg2000: target bpp). Default: each codec's full grid.
  config.classical.qualities = ml_collections.ConfigDict(
      {name: tuple(classical.CODECS[name].qualities) for name in classical.CODECS})

  # The table of bpp needed per accuracy: these absolute targets and `keep_fraction` of the
  # uncompressed accuracy (per reader).
  config.accuracy_targets = (0.5, 0.7, 0.9)
  config.keep_fraction = 0.95

  # Paper §3.4: TFIC layer + a low-rate MSE base layer (docs/evaluation.md).
  config.two_layer = ml_collections.ConfigDict()
  config.two_layer.enabled = True
  config.two_layer.base_codec = ""  # One of mse_codecs; "": the lowest-rate one.
  config.two_layer.modes = ("separate", "composite")
  config.two_layer.mask_radius = 2  # Local-contrast window (2r+1)² of the composite's mask.
  config.two_layer.mask_contrast = 8.0  # Contrast gain (gray levels) for a full TFIC pixel.

  # Table 1: the codec whose encoder is timed ("": the lowest-rate TFIC codec).
  config.runtime_codec = ""
  # Also timed: the recognizer class the paper times (TRBA), built from configs/<name>.py with
  # untrained weights (time depends on the architecture, not the weights); "" = skip.
  config.runtime_reference_ocr = "ocr_trba"

  config.grid = ml_collections.ConfigDict()
  config.grid.num_images = 4  # Rows of the Fig. 4-like visual grid.
  return config
