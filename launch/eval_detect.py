r"""Measures the CRAFT word detector: precision / recall / H-mean (IoU ≥ 0.5) and page OCR.

  python -m launch.eval_detect                                   # models/craft_default
  python -m launch.eval_detect --detector=workdirs/craft_small --pages=10 --patch_pages=10

1. Whole test pages of `book_patches/default` (or `--book_config`, e.g. default_t24; 1024×768,
   rendered with their exact word boxes), clean, degraded (3× down, JPEG q=1, up) and, with
   `--kinds=...,restored`, degraded and restored by the DnCNN `--restorer` (D1, default
   models/dncnn_default).
2. The test patches (64×256) of the first `--patch_pages` of those pages, as the builder cuts
   them: the patch's whole words are the ground truth, words it cuts are don't-care.
3. Page OCR on the patches with the recognizer (`--ocr_model`, default models/ocr_default):
   mean OCR accuracy of the text read through the detector's boxes in reading order, next to
   the same recognizer reading the ground-truth word boxes.

Prints a markdown table and writes `eval_detect.json` (settings, results, readings) to `--out`.
The logic is in tfic_jax/detect/evaluate.py.
"""

from collections.abc import Sequence
import json
import pathlib
import sys

from absl import app
from absl import flags
from absl import logging

from tfic_jax import errors

_DETECTOR = flags.DEFINE_string(
    "detector", None, "CRAFT training workdir, model directory or shipped model name "
    "(default: models/craft_default).")
_OCR_MODEL = flags.DEFINE_string(
    "ocr_model", None, "Recognizer for page OCR (default: models/ocr_default).")
_PAGES = flags.DEFINE_integer("pages", 10, "Whole test pages.")
_PATCH_PAGES = flags.DEFINE_integer("patch_pages", 10, "Test pages whose 10 patches are used.")
_KINDS = flags.DEFINE_list("kinds", ["clean", "degraded"],
                           "Page versions to evaluate: clean, degraded, restored (by --restorer).")
_RESTORER = flags.DEFINE_string(
    "restorer", "dncnn_default", "The DnCNN (D1) that makes the 'restored' pages and patches.")
_BOOK_CONFIG = flags.DEFINE_string(
    "book_config", "default", "The book_patches config whose test pages (type size, "
    "degradation) are used, e.g. default_t24.")
_PAGE_OCR = flags.DEFINE_boolean("page_ocr", True, "Also read the patches (page OCR).")
_OUT = flags.DEFINE_string("out", "out/eval_detect", "Directory for eval_detect.json.")


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)  # Orbax logs every restore at INFO.
  from tfic_jax.detect import evaluate  # pylint: disable=g-import-not-at-top
  try:
    report = evaluate.run(_DETECTOR.value, _OCR_MODEL.value, _PAGES.value, _PATCH_PAGES.value,
                          tuple(_KINDS.value), _PAGE_OCR.value, _RESTORER.value,
                          _BOOK_CONFIG.value)
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  print(evaluate.format_table(report))
  if _OUT.value:
    out = pathlib.Path(_OUT.value)
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval_detect.json").write_text(json.dumps(report, indent=1, default=str) + "\n")


if __name__ == "__main__":
  app.run(main)
