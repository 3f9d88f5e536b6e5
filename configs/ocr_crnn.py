r"""OCR judge, CRNN at full size (None-VGG-BiLSTM-CTC, ≈ 8.5M params): GPU.

  python -m launch.train --config=configs/ocr_crnn.py --workdir=workdirs/ocr_crnn
"""

from configs import ocr_common


def get_config():
  config = ocr_common.crnn(ocr_common.base_config())
  config.global_batch_size = 192
  config.num_train_steps = 30_000
  return config
