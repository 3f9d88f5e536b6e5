r"""The information reference of one severity-grid cell (issue 28): the judge's architecture
trained on words of book TRAIN pages degraded exactly as the cell degrades its test patches
(em `book_font_size_range` px, box ↓`book_degrade_factor_range`, JPEG at
`book_degrade_quality_range`, bicubic ↑), fine-tuned from the shipped judge. Its reading of the
cell's degraded test patches (`configs/eval_severity.py` with `--config.judge=WORKDIR`) says how
much text the degradation left, independent of any restoration. The control is the same run
with `--config.data.book_p_degrade=0` (same start, steps and words, clean pages).

  python -m launch.train --config=configs/ocr_crnn_degraded_small.py --workdir=workdirs/ocr_deg_12_3
  python -m launch.train --config=configs/ocr_crnn_degraded_small.py \
      --workdir=workdirs/ocr_clean_12_3 --config.data.book_p_degrade=0
  python -m launch.evaluate --config=configs/eval_severity.py --workdir=out/severity_ref \
      --config.type_sizes=12 --config.factors=3 --config.qualities=1 --config.tesseract=False \
      --config.restore=False --config.jb2=False --config.judge=workdirs/ocr_deg_12_3

The data fields reach the book words through `book_words.spec_from_data_config`, which the OCR
stage's `train_source` must call (it builds its `BookWordsSpec` from `book_pages` and
`book_p_degrade` only as of this config; docs/dequant.md, "Severity grid").
"""

from configs import ocr_crnn_small


def get_config():
  config = ocr_crnn_small.get_config()
  config.init_from = "ocr_default"  # Same start for the run and its control.
  # One cell: the paper-like setting (default type 11–13 px → 12, factor 3, JPEG quality 1).
  config.data.book_fraction = 0.9  # Mostly book words; the rest synthetic lines as before.
  config.data.book_pages = 20
  config.data.book_p_degrade = 1.0
  config.data.book_font_size_range = (12, 12)
  config.data.book_degrade_factor_range = (3.0, 3.0)
  config.data.book_degrade_quality_range = (1, 1)
  config.data.book_eval_words = 0
  config.data.builder_config = "medium"  # 128×256 canvases (20,000 lines; built here).
  config.data.eval_splits = ("test",)
  config.global_batch_size = 32
  config.num_train_steps = 300
  config.optimizer.learning_rate = 3e-4
  config.optimizer.warmup_steps = 30
  config.log_every_steps = 50
  config.eval_every_steps = 0
  config.checkpoint_every_steps = 0
  config.eval.num_examples = 100
  config.eval.batch_size = 50
  return config
