r"""OCR-guided D2 at the paper's size (§4.5): a DnCNN with D = 17, 64 channels refining word
windows of D1's output, trained only by the frozen recognizer's loss.

D2 has D1's architecture and starts from it (`init_from`), so D1 here is the paper-size DnCNN
of `configs/dncnn.py` (train it first). GPU work.

  python -m launch.train --config=configs/dncnn.py --workdir=workdirs/dncnn
  python -m launch.train --config=configs/dequant_ocr.py --workdir=workdirs/dequant_ocr
"""

import ml_collections

from configs import common
from configs import dncnn


def get_config():
  config = common.training_config("dequant_ocr")
  config.global_batch_size = 32  # patches; each brings up to data.max_words word windows
  config.num_train_steps = 10_000
  config.eval_every_steps = 1_000
  config.checkpoint_every_steps = 1_000
  config.optimizer.learning_rate = 1e-4  # Fine-tuning D1's weights.
  config.optimizer.warmup_steps = 200

  config.data = ml_collections.ConfigDict()
  config.data.name = "book_patches"
  config.data.builder_config = "default"
  config.data.data_dir = "data"
  config.data.num_workers = 0  # Host preprocessing runs D1 and CRAFT: threads, not processes.
  config.data.train_split = "train"
  config.data.eval_split = "test"
  # "detected" (the paper: CRAFT on D1's output, matched to the ground truth by IoU) or
  # "ground_truth" (the ground-truth word boxes at their line's height).
  config.data.word_boxes = "detected"
  config.data.iou_threshold = 0.5
  config.data.max_words = 16  # Word windows per patch (a 64×256 patch shows ~20 words).
  config.data.window = (32, 128)  # (h, w) image pixels around each word, multiples of 8.

  # L_OCR (§4.5) + fidelity_weight · MSE(D2's word windows, the clean windows) on [0, 1]
  # images. 0 is the paper's loss (docs/dequant.md, "OCR-guided refinement on large type").
  config.loss = ml_collections.ConfigDict()
  config.loss.fidelity_weight = 0.0

  # D2: the DnCNN of D1 (tfic_jax.dequant.api.MODEL_DEFAULTS).
  config.model = dncnn.get_config().model

  config.frozen = ml_collections.ConfigDict()
  config.frozen.d1 = "workdirs/dncnn"  # The paper-size D1.
  config.frozen.craft = "craft_default"
  config.frozen.ocr = "ocr_default"
  config.init_from = "workdirs/dncnn"  # D2 starts as D1 (§4.5).

  config.eval.num_examples = 500
  config.eval.batch_size = 20
  return config
