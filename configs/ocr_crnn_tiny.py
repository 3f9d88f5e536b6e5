r"""CPU smoke test of the OCR stage: tiny CRNN on the `tiny` synth_text config, few steps.

  python -m launch.train --config=configs/ocr_crnn_tiny.py --workdir=/tmp/ocr_crnn_tiny
"""

from configs import ocr_common


def get_config():
  return ocr_common.tiny(ocr_common.crnn(ocr_common.base_config()))
