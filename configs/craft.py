r"""CRAFT word detector at the reference's widths (VGG16-BN, fc 1024, decoder 256..32): GPU work.

Trained on rendered book pages (tfic_jax/data/pages.py) with exact character boxes; see
docs/detect.md. CPU-sized variant: configs/craft_small.py.

  python -m launch.train --config=configs/craft.py --workdir=workdirs/craft
"""

import ml_collections

from configs import common


def get_config() -> ml_collections.ConfigDict:
  config = common.training_config("craft")
  config.global_batch_size = 16
  config.num_train_steps = 20_000
  config.log_every_steps = 50
  config.checkpoint_every_steps = 1_000
  config.optimizer.warmup_steps = 500
  config.optimizer.grad_clip_norm = 5.0

  config.data = ml_collections.ConfigDict()
  config.data.name = "book_pages"  # rendered in the stage (tfic_jax/data/pages.py)
  config.data.builder_config = ""
  config.data.data_dir = ""
  config.data.num_train_pages = 400  # of the 1,828 train pages of book_patches/default
  config.data.num_eval_pages = 20  # test pages
  # What the detector sees: "clean", "degraded" (book.degrade: 3× down, JPEG q=1, up),
  # "restored" (the degraded page after the DnCNN `restorer`, D1) or "mix" (degraded with
  # probability degraded_fraction, restored with restored_fraction, else clean). At inference
  # in the OCR-guided chain it sees D1's output.
  config.data.input = "mix"
  config.data.degraded_fraction = 0.5
  config.data.restored_fraction = 0.0
  config.data.restorer = "dncnn_default"  # D1: workdir, model directory or shipped name
  config.data.crop_size = 512  # input pixels (after magnification)
  config.data.scale_range = (0.8, 1.25)  # random factor on detect.mag_ratio
  config.data.eval_kinds = ("clean", "degraded")  # and/or "restored"

  # Architecture (tfic_jax.detect.api.MODEL_DEFAULTS).
  config.model = ml_collections.ConfigDict()
  config.model.vgg_widths = (64, 128, 256, 512, 512)
  config.model.fc_width = 1024
  config.model.decoder_widths = (256, 128, 64, 32)
  config.model.head_widths = (32, 32, 16, 16)

  # Inference (tfic_jax.detect.api.DETECT_DEFAULTS): magnification and the reference's
  # post-processing thresholds.
  config.detect = ml_collections.ConfigDict()
  config.detect.mag_ratio = 2.0
  config.detect.text_threshold = 0.7
  config.detect.link_threshold = 0.4
  config.detect.low_text = 0.4
  config.detect.min_size = 10

  config.loss = ml_collections.ConfigDict()
  config.loss.ohem = True  # online hard-negative mining, as the reference's training
  config.loss.neg_ratio = 3.0

  config.frozen = ml_collections.ConfigDict()  # No frozen sub-model.
  config.init_from = ""

  config.eval.crop_size = 512  # input pixels: a 256×256 page window at mag_ratio 2
  config.eval.crops_per_page = 2
  config.eval.num_examples = 40
  return config
