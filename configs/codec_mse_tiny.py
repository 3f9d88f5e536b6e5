r"""Stage 1 smoke test: a tiny codec on synth_text/tiny, a few steps (tests, CPU).

  python -m launch.train --config=configs/codec_mse_tiny.py --workdir=/tmp/codec_tiny
"""

from configs import codec_common


def get_config(quality="3"):
  return codec_common.tiny(codec_common.base_config(quality))
