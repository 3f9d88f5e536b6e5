r"""Test-sized DnCNN: D = 3, 8 channels, 32×64 crops of `book_patches/tiny`, a few steps.

  python -m launch.train --config=configs/dncnn_tiny.py --workdir=/tmp/dncnn_tiny
"""

from configs import dncnn


def get_config():
  config = dncnn.get_config()
  config.model.depth = 3
  config.model.features = 8
  config.data.builder_config = "tiny"
  config.data.crop = (32, 64)
  config.global_batch_size = 4
  config.num_train_steps = 6
  config.optimizer.warmup_steps = 1
  config.log_every_steps = 2
  config.eval_every_steps = 3
  config.checkpoint_every_steps = 3
  config.tensorboard = False
  config.eval.num_examples = 8
  config.eval.batch_size = 4
  return config
