r"""Test-sized OCR-guided D2: a fresh D = 3, 8-channel D2, `book_patches/tiny`, a few steps.

The frozen models are the shipped ones unless overridden (the tests pass tiny ones):

  python -m launch.train --config=configs/dequant_ocr_tiny.py --workdir=/tmp/dequant_ocr_tiny
"""

from configs import dequant_ocr
from configs import dncnn_tiny


def get_config():
  config = dequant_ocr.get_config()
  config.model = dncnn_tiny.get_config().model
  config.frozen.d1 = "dncnn_default"
  config.init_from = ""
  config.data.builder_config = "tiny"
  config.data.word_boxes = "ground_truth"
  config.data.max_words = 4
  config.global_batch_size = 2
  config.num_train_steps = 4
  config.optimizer.learning_rate = 1e-3
  config.optimizer.warmup_steps = 1
  config.log_every_steps = 2
  config.eval_every_steps = 4
  config.checkpoint_every_steps = 4
  config.tensorboard = False
  config.eval.num_examples = 4
  config.eval.batch_size = 2
  return config
