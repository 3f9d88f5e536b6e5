r"""The MSE control for TFIC stage 2, CPU-sized: MSE rate points at TFIC's rates (issue 6).

  python -m launch.train --config=configs/codec_mse_lowrate_small.py:LEVEL \
      --workdir=workdirs/codec_mse_low_qLEVEL

The CPU-sized stage-1 models (configs/codec_mse_small.py, CompressAI's λ grid) are far from
converged and spend ≥ 0.49 bpp even at the grid's lowest λ, so they have no point at the rates
TFIC's stage 2 reaches (≈ 0.1 bpp). These configs are stage 2's recipe with the MSE loss instead
of the OCR loss: the same start (`codec_mse_q1`), whole 128×256 canvases, batch, optimizer and
number of steps as `configs/tfic_small.py:1`; only the loss differs, λ·255²·MSE + bpp with λ
below CompressAI's grid, LEVELS[level - 1] (level 1 = the lowest rate). Shipped as
`models/codec_mse_low_q{level}` (`--model=mse_low --quality=level`, docs/codec.md).
"""

from configs import codec_common

# λ below CompressAI's grid (whose lowest is 0.0018), low to high rate: 0.0018 / 64, 0.0018 / 16,
# 0.0006 (level 3: TFIC q1's direct control, at or above its rate, 0.08–0.09 bpp, from the
# longer-trained `codec_mse_q1`; 0.0018 / 2 was that level from the stage 1 shipped until 8fc9db5).
LEVELS = (0.0018 / 64, 0.0018 / 16, 0.0006)


def get_config(level="1"):
  level = int(level or 1)
  if not 1 <= level <= len(LEVELS):
    raise ValueError(f"level must be 1..{len(LEVELS)}, got {level}")
  config = codec_common.small(codec_common.base_config(1))
  config.quality = level  # Rate point within the mse_low family (the model's name).
  config.loss.lmbda = LEVELS[level - 1]
  config.init_from = "codec_mse_q1"
  config.data.crop_size = (128, 256)  # Whole canvases, as stage 2 trains.
  config.num_train_steps = 1_000
  config.optimizer.learning_rate = 1e-4
  return config
