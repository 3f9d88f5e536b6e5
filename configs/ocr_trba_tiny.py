r"""CPU smoke test of the OCR stage: tiny TRBA on the `tiny` synth_text config, few steps.

  python -m launch.train --config=configs/ocr_trba_tiny.py --workdir=/tmp/ocr_trba_tiny
"""

from configs import ocr_common


def get_config():
  config = ocr_common.tiny(ocr_common.base_config())
  config.model.resnet_layers = (1, 1, 1, 1)
  config.model.tps_channels = (8, 16, 16, 32)
  config.model.tps_fc_features = 32
  return config
