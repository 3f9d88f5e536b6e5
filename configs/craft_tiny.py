r"""CPU smoke test of the CRAFT stage: a few thousand parameters, 64² crops, a few steps.

  python -m launch.train --config=configs/craft_tiny.py --workdir=/tmp/craft_tiny
"""

from configs import craft


def get_config():
  config = craft.get_config()
  config.model.vgg_widths = (4, 8, 8, 16, 16)
  config.model.fc_width = 16
  config.model.decoder_widths = (8, 8, 4, 4)
  config.model.head_widths = (4, 4, 4, 4)
  config.global_batch_size = 2
  config.num_train_steps = 6
  config.optimizer.warmup_steps = 1
  config.log_every_steps = 2
  config.eval_every_steps = 6
  config.checkpoint_every_steps = 6
  config.data.num_train_pages = 1
  config.data.num_eval_pages = 1
  config.data.crop_size = 64
  config.eval.crop_size = 64
  config.eval.crops_per_page = 2
  config.eval.num_examples = 2
  config.eval.batch_size = 2
  return config
