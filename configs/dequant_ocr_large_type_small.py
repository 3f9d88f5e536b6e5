r"""CPU-sized OCR-guided D2 on large type (`book_patches/default_t24`, 22–26 px).

The chain of paper §4.5 with the large-type D1 as D1 and as D2's start
(`configs/dncnn_large_type_small.py`: D = 17, 64 channels on the 4×4 space-to-depth; 6,000 steps
and 3,000 more, `workdirs/dncnn_large_type_long`), and the large-type CRAFT
(`configs/craft_large_type_small.py`) finding the words on D1's output: the paper's detected
boxes, matched to the ground truth by IoU (docs/dequant.md, "OCR-guided refinement on large
type").

Word windows of 48×192 pixels hold a 22–26 px word with its neighbourhood (32×128 holds the
11–13 px words of `default`); a 64×256 patch shows about 8 whole words of this size.

  python -m launch.train --config=configs/dncnn_large_type_small.py --workdir=workdirs/dncnn_large_type
  python -m launch.train --config=configs/dncnn_large_type_small.py --workdir=workdirs/dncnn_large_type_long \
    --config.init_from=workdirs/dncnn_large_type --config.num_train_steps=3000 \
    --config.optimizer.learning_rate=3e-4 --config.optimizer.warmup_steps=100
  python -m launch.train --config=configs/craft_large_type_small.py --workdir=workdirs/craft_large_type
  python -m launch.train --config=configs/dequant_ocr_large_type_small.py --workdir=workdirs/dequant_ocr_large_type
"""

from configs import dequant_ocr
from configs import dncnn_large_type_small


def get_config():
  config = dequant_ocr.get_config()
  config.model = dncnn_large_type_small.get_config().model
  config.frozen.d1 = "workdirs/dncnn_large_type_long"
  config.frozen.craft = "workdirs/craft_large_type"
  config.init_from = "workdirs/dncnn_large_type_long"
  config.data.builder_config = "default_t24"
  config.data.word_boxes = "detected"
  config.data.window = (48, 192)
  config.data.max_words = 8
  config.global_batch_size = 8
  config.num_train_steps = 400
  config.optimizer.learning_rate = 2e-4
  config.optimizer.warmup_steps = 20
  config.log_every_steps = 10
  config.eval_every_steps = 200
  config.checkpoint_every_steps = 50
  config.eval.num_examples = 40
  config.eval.batch_size = 8
  return config
