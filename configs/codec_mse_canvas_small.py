r"""Stage 1, CPU-sized: whole-canvas fine-tuning of the crop-trained `codec_mse_qQUALITY`.

  python -m launch.train --config=configs/codec_mse_canvas_small.py:QUALITY \
      --workdir=workdirs/codec_mse_canvas_qQUALITY

Starts from the crop-trained `workdirs/codec_mse_qQUALITY` (configs/codec_mse_small.py) unless
`--config.init_from` says otherwise. The shipped `models/codec_mse_q*` are fine-tunes made with
this config: the last steps of each chain in docs/models/codec_mse_training.txt (quality 4 on
whole canvases after 11,000 crop steps, then 3, 2 and 1 each from the quality above).

configs/codec_mse_small.py trains on 64×128 crops (a 4×8 latent, where every position is near a
border) and is evaluated on whole 128×256 canvases; on those its rate is several times what the
same loss reaches when trained at the evaluation size (docs/results.md, issue 5). This is the same
loss and λ (CompressAI's grid) continued on whole canvases, as stage 2 and
configs/codec_mse_lowrate_small.py train.
"""

from configs import codec_common


def get_config(quality="1"):
  config = codec_common.small(codec_common.base_config(quality))
  config.init_from = f"workdirs/codec_mse_q{config.quality}"  # The crop-trained model.
  config.data.crop_size = (128, 256)  # Whole canvases: the size every evaluation codes.
  config.num_train_steps = 400
  config.optimizer.learning_rate = 1e-4
  config.optimizer.warmup_steps = 20
  config.eval_every_steps = 200
  config.checkpoint_every_steps = 100
  config.eval.num_examples = 100
  return config
