r"""Stage 1, CPU-sized codec on synth_text/medium (128×256 canvases): the shipped MSE models.

  python -m launch.train --config=configs/codec_mse_small.py:QUALITY --workdir=workdirs/codec_mse_qQUALITY
"""

from configs import codec_common


def get_config(quality="1"):
  return codec_common.small(codec_common.base_config(quality))
