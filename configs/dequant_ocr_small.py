r"""CPU-sized OCR-guided D2: the shipped D1 `models/dncnn_default` (D = 10, 32 channels) as D1
and as D2's starting point, `book_patches/small`, 4 patches × 16 word windows a step.

Word boxes: the ground truth, because CRAFT finds no word on this D1's output (0 of 625 words
of 30 `book_patches/small` test patches at IoU ≥ 0.5; docs/dequant.md); pass
`--config.data.word_boxes=detected` for the paper's detected boxes.

  python -m launch.train --config=configs/dequant_ocr_small.py --workdir=workdirs/dequant_ocr_small
"""

from configs import dequant_ocr
from configs import dncnn_small


def get_config():
  config = dequant_ocr.get_config()
  config.model = dncnn_small.get_config().model
  config.frozen.d1 = "dncnn_default"
  config.init_from = "dncnn_default"
  config.data.builder_config = "small"
  config.data.word_boxes = "ground_truth"
  config.global_batch_size = 4
  config.num_train_steps = 300
  config.optimizer.learning_rate = 3e-4
  config.optimizer.warmup_steps = 20
  config.log_every_steps = 10
  config.eval_every_steps = 150
  config.checkpoint_every_steps = 50
  config.eval.num_examples = 40
  config.eval.batch_size = 4
  return config
