r"""TFIC stage 2, CPU-sized: from the shipped stage-1 model of the same quality, OCR loss only.

  python -m launch.train --config=configs/tfic_small.py:QUALITY --workdir=workdirs/codec_tfic_qQUALITY
"""

from configs import codec_common


def get_config(quality="1"):
  config = codec_common.stage2(codec_common.small(codec_common.base_config(quality)), quality)
  config.data.crop_size = (128, 256)  # Whole canvases: the label is the whole line.
  config.num_train_steps = 1_000
  config.optimizer.learning_rate = 1e-4
  return config
