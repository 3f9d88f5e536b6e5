r"""DnCNN dequantizer at the paper's size (§4.3–4.4): D = 17, 64 channels, 64×256 patches.

Trained on the paper-size `book_patches/default` (2285 pages → ~18k train patches). GPU work:
~11 s per step of 16 patches on the 2-core CPU (docs/dequant.md).

  python -m launch.train --config=configs/dncnn.py --workdir=workdirs/dncnn
"""

import ml_collections

from configs import common


def get_config():
  config = common.training_config("dncnn")
  config.global_batch_size = 64
  config.optimizer.warmup_steps = 500

  config.data = ml_collections.ConfigDict()
  config.data.name = "book_patches"
  config.data.builder_config = "default"
  config.data.data_dir = "data"
  config.data.num_workers = 0
  config.data.train_split = "train"
  config.data.eval_split = "test"
  config.data.crop = (64, 256)  # Training window (multiples of 8); whole patches here.

  # DnCNN (tfic_jax.dequant.api.MODEL_DEFAULTS): D convolutions of `features` channels.
  config.model = ml_collections.ConfigDict()
  config.model.depth = 17
  config.model.features = 64
  config.model.channels = 1
  config.model.bn_momentum = 0.9
  # 1: the paper's network at full resolution. s > 1 (2, 4, 8): the same layers on the s × s
  # space-to-depth of the input (FFDNet-style), receptive field × s at 1/s² of the cost per
  # layer (docs/dequant.md, "Degradation factor, receptive field and loss scale").
  config.model.unshuffle = 1

  # λ·MSE(x, x̂) + (1 − λ)·L_DCT(target, x̂); τ in JPEG coefficient units of 0..255 images.
  config.loss = ml_collections.ConfigDict()
  config.loss.mse_weight = 0.8  # λ
  config.loss.tau = 0.5  # τ
  config.loss.dct_target = "clean"  # "clean" | "degraded" (docs/dequant.md compares them)
  config.loss.mse_scale = 1.0  # MSE of [0, 1] images

  config.frozen = ml_collections.ConfigDict()  # No frozen sub-model.
  config.init_from = ""

  config.eval.num_examples = 1_000
  config.eval.batch_size = 50
  return config
