r"""CPU-sized CRAFT (the shipped models/craft_default): widths /8, 128² crops, batch 8.

  python -m launch.train --config=configs/craft_small.py --workdir=workdirs/craft_small
"""

from configs import craft


def get_config():
  config = craft.get_config()
  config.model.vgg_widths = (8, 16, 32, 64, 64)
  config.model.fc_width = 128
  config.model.decoder_widths = (32, 16, 16, 8)
  config.model.head_widths = (8, 8, 8, 8)
  config.global_batch_size = 8
  config.num_train_steps = 2_000
  config.optimizer.warmup_steps = 100
  # ~1.5 s each to render (cached); a page holds ~150 distinct 64² page windows.
  config.data.num_train_pages = 24
  # Clean half the time (the clean bar first), else the degraded page or, what it sees in the
  # OCR-guided chain, the degraded page restored by D1 (models/dncnn_default).
  config.data.degraded_fraction = 0.15
  config.data.restored_fraction = 0.35
  config.data.eval_kinds = ("clean", "degraded", "restored")
  config.data.num_eval_pages = 4
  config.data.crop_size = 128  # a 64² page window at mag_ratio 2
  config.log_every_steps = 25
  config.eval_every_steps = 500
  config.checkpoint_every_steps = 250
  config.eval.num_examples = 8
  return config
