r"""CPU-sized DnCNN (the shipped models/dncnn_default): D = 10, 32 channels, 64×128 crops.

Trained on `book_patches/small` (200 pages → 1,600 train / 400 test patches):

  python -m launch.make_data --dataset=book_patches --config=small --data_dir=data
  python -m launch.train --config=configs/dncnn_small.py --workdir=workdirs/dncnn_small
"""

from configs import dncnn


def get_config():
  config = dncnn.get_config()
  config.model.depth = 10
  config.model.features = 32
  config.data.builder_config = "small"
  config.data.crop = (64, 128)
  config.global_batch_size = 16
  config.num_train_steps = 1_500
  config.optimizer.warmup_steps = 50
  config.log_every_steps = 25
  config.eval_every_steps = 500
  config.checkpoint_every_steps = 100
  config.eval.num_examples = 200
  config.eval.batch_size = 25
  return config
