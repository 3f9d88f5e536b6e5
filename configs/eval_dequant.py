r"""The DnCNN dequantizer (D1) on book test patches, or with `ocr_guided` the whole OCR-guided
chain (D1 + CRAFT + D2, paper §4.6, Fig. 10).

  python -m launch.evaluate --config=configs/eval_dequant.py --workdir=workdirs/eval_dequant \
      --config.num_pages=20 --config.figure=docs/img/dncnn_fig9.png
  python -m launch.evaluate --config=configs/eval_dequant.py --workdir=out/eval_dequant \
      --config.model=workdirs/dncnn_small --config.tesseract=False
  python -m launch.evaluate --config=configs/eval_dequant.py --workdir=out/eval_ocr_guided \
      --config.ocr_guided=True --config.d2=workdirs/dequant_ocr_small

For the degraded, restored and clean version of every test patch: OCR accuracy by Tesseract
(psm 6) and by the OCR judge (word by word in the ground-truth boxes), and PSNR; restoration
throughput on this backend; optionally a Fig. 9-like picture (degraded | clean | restored).
Writes eval_dequant.json (or eval_ocr_guided.json) under --workdir (tfic_jax/eval/dequant.py,
tfic_jax/eval/ocr_guided.py; docs/dequant.md).
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.part = "dequant"
  # DnCNN (D1) workdir or model directory ("": models/dncnn_default).
  config.model = ""
  config.judge = ""  # OCR judge workdir or model ("": models/ocr_default).
  config.num_pages = 10  # Book test pages (10 patches each).
  # book_patches config whose test pages and degradation are measured (default: factor 3;
  # default_x2p5: factor 2.5).
  config.book_config = "default"
  config.tesseract = True  # Also read the patches with Tesseract.
  config.use_judge = True  # Also read the patches with the OCR judge.
  config.figure = ""  # Where to write the Fig. 9-like PNG ("": none).
  config.figure_rows = 4  # Patches in the figure (those with the most lines).
  config.batch_size = 50  # Patches per restoration batch.
  config.time_batches = "1,16"  # Batch sizes to time the restoration at, comma-separated.
  config.time_repeats = 5  # Timed calls per batch size (median).
  config.time_page = True  # Also time the restoration of one whole page.
  config.num_workers = 2  # Processes rendering pages and running Tesseract.
  # The OCR-guided chain instead of D1 alone.
  config.ocr_guided = False
  config.d2 = ""  # With ocr_guided: D2 ("": dequant_ocr_default).
  config.craft = ""  # With ocr_guided: CRAFT ("": D2's).
  # With ocr_guided: pixels around each word box that D2's output replaces too (0: the box).
  config.paste_margin = 0.0
  return config
