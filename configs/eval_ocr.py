r"""The OCR judge (the frozen recognizer behind TFIC's L_OCR) next to Tesseract.

  python -m launch.evaluate --config=configs/eval_ocr.py --workdir=out/eval_ocr
  python -m launch.evaluate --config=configs/eval_ocr.py --workdir=out/eval_ocr \
      --config.model=workdirs/ocr_crnn_small --config.num_images=200 --config.book_pages=10

1. Part A: `synth_text` test lines at full size (256×512): `test` (fonts seen in training) and
   `test_heldout_fonts` (fonts never trained on), exactly the builder's examples (read from
   `data_dir` when the `default` dataset is built there, else rendered the same way). Mean OCR
   accuracy (the paper's metric) and exact-line (word) accuracy of the judge (batched, jitted
   greedy reading) and of Tesseract (psm 7).
2. Part B: clean and degraded `book_patches` test patches (the builder's `default` test pages).
   The judge reads every visible word (its box is the union of the word's ground-truth character
   boxes: the ground-truth word box for a whole word, the visible letters of a word cut at the
   patch border; by default its vertical extent is its line's, `word_box_height`) cropped as
   the model's `word_resize_mode` says, and joins words by spaces and lines by newlines;
   Tesseract reads the whole patch (psm 6).
3. Optional (`document_words`): runs of 1–3 words of held-out documents (real typeset PDFs,
   clean / scan / photo) on the synthetic canvas, from the `document_words` builder's test
   split, read like the synthetic lines (judge; Tesseract psm 7).
4. Speed: the judge's ms/image at each `time_batches` batch size on the current backend
   (256×512×3 uint8 canvases through the adapter, compiled first, median of `time_repeats`
   calls) and Tesseract's ms/line (wall time of the psm 7 readings / lines).

Prints a markdown table and writes `eval_ocr.json` (settings, results, per-example readings)
under --workdir (tfic_jax/eval/ocr_judge.py).
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.part = "ocr"
  # Training workdir, model directory or shipped model name ("": models/ocr_default).
  config.model = ""
  config.num_images = 600  # synth_text test lines per split.
  config.book_pages = 20  # book_patches test pages (10 patches each).
  config.tesseract = True  # Also read everything with Tesseract.
  config.time_batches = "1,64"  # Batch sizes to time the judge at, comma-separated.
  config.time_repeats = 10  # Timed calls per batch size (median).
  config.height = 256  # synth_text canvas (the dataset's: 256×512).
  config.width = 512
  config.data_dir = "data"  # Where a built synth_text/default is read from (else rendered).
  config.batch_size = 64  # Judge batch size for the accuracies.
  # How book word boxes become the judge's input: pad | stretch | canvas ("": the model's
  # `word_resize_mode`; see tfic_jax.ocr.api.crop_words).
  config.word_resize_mode = ""
  # Vertical extent of each book word box: line (its line's characters) or word (tight box).
  config.word_box_height = "line"
  config.num_workers = 0  # Processes rendering test data and running Tesseract (0: CPU cores).
  # Words of documents never trained on: a built document_words config under data_dir ("small",
  # "default"; "" skips), and how many of its test canvases (a seeded sample).
  config.document_words = ""
  config.num_document_words = 300
  return config
