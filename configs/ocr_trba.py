r"""OCR judge, TRBA at full size (TPS-ResNet-BiLSTM-Attn, ≈ 49.6M params): GPU.

  python -m launch.train --config=configs/ocr_trba.py --workdir=workdirs/ocr_trba
"""

from configs import ocr_common


def get_config():
  config = ocr_common.base_config()
  config.global_batch_size = 192
  config.num_train_steps = 30_000
  config.optimizer.learning_rate = 1e-3
  return config
