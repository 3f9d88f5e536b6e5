r"""CRAFT word detection (precision / recall / H-mean at IoU ≥ 0.5) and page OCR on book pages.

  python -m launch.evaluate --config=configs/eval_detect.py --workdir=out/eval_detect
  python -m launch.evaluate --config=configs/eval_detect.py --workdir=out/eval_detect \
      --config.kinds=clean,degraded,restored --config.book_config=default_t24

Prints a table and writes eval_detect.json under --workdir (tfic_jax/eval/detect.py;
docs/detect.md).
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.part = "detect"
  # CRAFT workdir, model directory or shipped model name ("": models/craft_default).
  config.detector = ""
  config.ocr_model = ""  # Recognizer for page OCR ("": models/ocr_default).
  config.pages = 10  # Whole test pages.
  config.patch_pages = 10  # Test pages whose 10 patches are used.
  # Page versions to evaluate, comma-separated: clean, degraded, restored (by `restorer`).
  config.kinds = "clean,degraded"
  config.restorer = "dncnn_default"  # The DnCNN (D1) that makes the 'restored' pages.
  # The book_patches config whose test pages (type size, degradation) are used.
  config.book_config = "default"
  config.page_ocr = True  # Also read the patches (page OCR).
  return config
