r"""Stage 1, reference size (TinyLIC widths), on synth_text/default: GPU work.

  python -m launch.train --config=configs/codec_mse.py:QUALITY --workdir=workdirs/codec_mse_qQUALITY
"""

from configs import codec_common


def get_config(quality="1"):
  return codec_common.base_config(quality)
