"""Toy stage (tfic_jax/train/stages/toy.py): the training loop's tests and benchmark.

  python -m launch.train --config=configs/toy_regression.py --workdir=/tmp/toy
"""

import ml_collections

from configs import common


def get_config():
  config = common.training_config("toy")
  config.num_train_steps = 20
  config.log_every_steps = 5
  config.eval_every_steps = 10
  config.checkpoint_every_steps = 10
  config.tensorboard = True
  config.optimizer.learning_rate = 1e-2
  config.optimizer.warmup_steps = 2

  config.data = ml_collections.ConfigDict()
  config.data.name = "toy"
  config.data.builder_config = ""
  config.data.data_dir = ""
  config.data.num_train = 64
  config.data.num_eval = 10
  config.data.source_seed = 123

  config.model = ml_collections.ConfigDict()
  config.model.height = 16
  config.model.width = 16
  config.model.features = 8
  config.model.reader_features = 4
  config.model.reader_seed = 7

  # name -> workdir or shipped model name; empty: the reader is made from model.reader_seed.
  config.frozen = ml_collections.ConfigDict()
  config.frozen.reader = ""

  config.eval.num_examples = 10
  config.eval.batch_size = 4
  return config
