r"""Page-level evaluation (issue 26): whole pages through learned and classical codecs, read by
Tesseract in page mode and (optionally, slow) by our page OCR.

  python -m launch.evaluate --config=configs/eval_documents.py --workdir=out/eval_documents
  # Image files (no ground truth: each page is scored against the reading of its original):
  python -m launch.evaluate --config=configs/eval_documents.py --workdir=out/scans \
      --config.source=images --config.images='scans/*.png,page.png' --config.page_ocr=False
  # The documents tfds builder:
  python -m launch.evaluate --config=configs/eval_documents.py --workdir=out/docs \
      --config.source=documents --config.documents.split=test --config.num_pages=10

Writes results.json, pages.csv, points.csv, readings.json, rate_accuracy_<reader>.png,
rate_table.md (bpp needed for 90 % / 95 % of the uncompressed accuracy) and visual_grid.png
under --workdir (tfic_jax/eval/documents.py; docs/evaluation.md, "Page-level evaluation").
"""

import ml_collections

from tfic_jax.codec import api
from tfic_jax.eval import classical


def shipped(kind: str) -> tuple[str, ...]:
  return tuple(api.shipped_name(kind, q) for q in api.shipped_qualities(kind))


def get_config():
  config = ml_collections.ConfigDict()
  config.part = "documents"  # The evaluator launch.evaluate runs (tfic_jax/eval/parts.py).

  # Pages: "book" (typeset by tfic_jax.data.book, exact text), "images" (files, folders,
  # globs: no ground truth) or "documents" (the tfds builder).
  config.source = "book"
  config.num_pages = 0  # At most this many pages; 0: every image file, or 2 book / documents pages.
  config.images = ""  # source=images: comma-separated files, folders or globs.
  config.book = ml_collections.ConfigDict()
  config.book.split = "test"  # Sentences of book_patches' test pool.
  config.book.first_page = 0
  config.book.height = 1024
  config.book.width = 768
  config.book.text = ""  # Typeset this text instead of the corpus (tests).
  config.documents = ml_collections.ConfigDict()
  config.documents.split = "test"
  config.documents.builder_config = "default"
  config.documents.data_dir = "data"
  config.documents.conditions = ""  # Comma-separated of clean, scan, photo; "": every one.
  config.documents.per_document = 0  # At most this many pages of each document (0: no limit).
  config.documents.max_dpi = 0.0  # Only pages rendered at ≤ this dpi (0: any).

  # Learned codecs: shipped names, model directories or workdirs.
  config.mse_codecs = shipped("mse") + shipped("doc")  # Stage 1: lines, and pages + lines.
  config.tfic_codecs = shipped("tfic")

  # Classical codecs (tfic_jax/eval/classical.py), each at every downscale and quality.
  config.classical_codecs = ",".join(classical.ALL_CODECS)
  config.downscales = "1,2,4"
  # Qualities per codec (jpeg2000 / djvu_iw44: target bpp; djvu_jb2: 200 − loss level);
  # a codec not listed here sweeps its quick grid (classical.Codec.quick_qualities).
  config.qualities = ml_collections.ConfigDict({
      "jpeg": (5, 20, 50), "webp": (0, 20, 50), "avif": (0, 20, 50),
      "jpeg2000": (0.1, 0.2, 0.4), "jxl": (10, 30, 70), "heif": (0, 20, 40),
      "djvu_iw44": (0.1, 0.2, 0.4), "djvu_jb2": (100, 200)})

  # Readers.
  config.tesseract = True  # Page mode (psm below); skipped with a note if not installed.
  config.tesseract_psm = 3  # 3: automatic page segmentation; 6: one block of text.
  config.tesseract_workers = 2  # Concurrent tesseract processes.
  config.page_ocr = False  # Our page OCR (CRAFT + the judge): slow on a CPU.
  config.detector = ""  # "": the shipped craft_default.
  config.judge = ""  # "": the shipped ocr_default.
  config.read_batch = 8  # Decoded pages held before they are read (memory vs parallelism).

  config.keep_fractions = (0.9, 0.95)  # Of the uncompressed accuracy, per reader.

  config.grid = ml_collections.ConfigDict()
  config.grid.height = 192  # The region of the first page shown per method.
  config.grid.width = 320
  config.grid.bpp = 0.0  # The grid's rate; 0: the lowest learned-codec rate.
  return config
