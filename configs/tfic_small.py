r"""TFIC stage 2, CPU-sized: from the shipped stage-1 model of the same quality, OCR loss only.

  python -m launch.train --config=configs/tfic_small.py:QUALITY --workdir=workdirs/codec_tfic_qQUALITY
  python -m launch.train --config=configs/tfic_small.py:QUALITY,wide --workdir=...

"QUALITY" is the paper's recipe, γ = 0.1 at every rate point. "QUALITY,wide" sets
γ = 0.1 · 3^(QUALITY − 1) (0.1, 0.3, 0.9 for qualities 1–3, the ones measured; not in the paper), which keeps the
rate points apart when stage 2 trains long (docs/codec.md, "Stage 2's γ").
"""

from configs import codec_common


def get_config(arg="1"):
  quality, gamma_mode = codec_common.parse_stage2_arg(arg)
  config = codec_common.stage2(codec_common.small(codec_common.base_config(quality)), quality,
                               gamma_mode)
  config.data.crop_size = (128, 256)  # Whole canvases: the label is the whole line.
  config.num_train_steps = 1_000
  config.optimizer.learning_rate = 1e-4
  return config
