r"""The shipped default OCR judge candidate (models/ocr_default/): CRNN with reduced widths.

VGG widths /4 (16..128 channels), BiLSTM hidden 128: ≈ 1.0M params (≈ 4 MB float32), ~2 ms per
image on CPU. Trained on GPU on the `default` synth_text config:

  python -m launch.train --config=configs/ocr_crnn_small.py --workdir=workdirs/ocr_crnn_small
"""

from configs import ocr_common


def get_config():
  config = ocr_common.crnn(ocr_common.base_config())
  config.model.output_channel = 128
  config.model.hidden_size = 128
  config.global_batch_size = 192
  config.num_train_steps = 30_000
  # The judge also reads book words (Part B): 30 % of the examples are words of book train pages.
  config.data.book_fraction = 0.3
  config.data.book_eval_words = 300
  return config
