r"""TFIC stage 2 at the paper's size (TinyLIC widths, synth_text/default at 256×512): GPU work.

  python -m launch.train --config=configs/codec_mse.py:QUALITY --workdir=workdirs/codec_mse_qQUALITY
  python -m launch.train --config=configs/tfic.py:QUALITY --workdir=workdirs/codec_tfic_qQUALITY

Each rate point starts from the stage-1 run of the same quality (the first command; no
reference-size codec ships with the repository, so `init_from` names its workdir: override
`--config.init_from=DIR` for another). Loss = rate + γ · CE_OCR(text, OCR(x̂)) with λ = 0 and the
frozen `ocr_default` judge; "QUALITY,wide" selects the per-quality γ of configs/tfic_small.py.
The paper does not give stage 2's length or learning rate: 20,000 steps at batch 8 (8 passes
over the 20,000 training canvases) at Adam 1e-4 with a cosine decay are our choice.
"""

from configs import codec_common


def get_config(arg="1"):
  quality, gamma_mode = codec_common.parse_stage2_arg(arg)
  config = codec_common.stage2(codec_common.base_config(quality), quality, gamma_mode)
  config.init_from = f"workdirs/codec_mse_q{quality}"  # configs/codec_mse.py's run.
  config.data.crop_size = (256, 512)  # Whole canvases: the label is the whole line.
  config.num_train_steps = 20_000
  config.optimizer.learning_rate = 1e-4
  config.optimizer.warmup_steps = 200
  config.log_every_steps = 100
  config.eval_every_steps = 2_000
  config.checkpoint_every_steps = 1_000
  return config
