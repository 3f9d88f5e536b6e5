"""Fields shared by the codec configs (configs/codec_*.py, configs/tfic*.py); not a config itself.

Stage 1 (`codec_mse*`): loss = λ·255²·MSE + bpp, one model per rate point. The rate point is the
config argument: `--config=configs/codec_mse_small.py:2` trains quality 2 (1 = lowest rate).
See docs/codec.md.
"""

import ml_collections

from configs import common

# CompressAI's λ grid for MSE-optimized models (qualities 1..8, low to high rate).
LAMBDAS = (0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.1800)


def quality_index(quality) -> int:
  quality = int(quality or 1)
  if not 1 <= quality <= len(LAMBDAS):
    raise ValueError(f"quality must be 1..{len(LAMBDAS)}, got {quality}")
  return quality


def base_config(quality=1) -> ml_collections.ConfigDict:
  quality = quality_index(quality)
  config = common.training_config("codec")
  config.quality = quality
  config.num_train_steps = 500_000
  config.eval_every_steps = 5_000
  config.checkpoint_every_steps = 5_000
  config.optimizer.learning_rate = 1e-4

  config.loss = ml_collections.ConfigDict()
  config.loss.lmbda = LAMBDAS[quality - 1]
  config.loss.gamma = 0.0
  # Stage 2 only: random differentiable transformations of x̂ before the judge (expectation
  # over transformation; tfic_jax/train/eot.py). All 0: the paper's loss.
  config.loss.eot = ml_collections.ConfigDict({
      "scale": 0.0, "rotate": 0.0, "shift": 0.0, "blur": 0.0, "noise": 0.0, "contrast": 0.0})

  config.data = ml_collections.ConfigDict()
  config.data.name = "synth_text"
  config.data.builder_config = "default"
  config.data.data_dir = "data"
  config.data.num_workers = 0
  config.data.train_split = "train"
  config.data.eval_splits = ("test",)
  config.data.crop_size = (256, 256)  # Random crops for training (multiples of 64).
  # Other datasets' train splits in the mix, "name/builder_config:weight,..." (e.g.
  # "document_crops/small:0.5": half the crops from real pages); their test splits are
  # evaluated too (tfic_jax.data.pipeline.config_train_source).
  config.data.mix = ""

  # Architecture: tfic_jax.codec.model.MODEL_DEFAULTS (TinyLIC's reference widths).
  config.model = ml_collections.ConfigDict()
  config.model.channels = (128, 192, 256, 320)
  config.model.depths = (2, 2, 6, 2)
  config.model.heads = (8, 12, 16, 20)
  config.model.blocks = ("nat", "nat", "nat", "nat")
  config.model.kernel_size = 7
  config.model.hyper_channels = (192, 192)
  config.model.hyper_depths = (1, 1)
  config.model.hyper_heads = (12, 12)
  config.model.hyper_kernel_size = 3
  config.model.num_slices = 1
  # g_s / h_s transposed convolutions: "auto" = the sub-pixel form on the CPU (same function,
  # several times faster to train there), nn.ConvTranspose on GPU/TPU; or "lax" / "subpixel".
  config.model.conv_transpose = "auto"

  config.frozen = ml_collections.ConfigDict()
  config.frozen.ocr = ""  # Stage 2: the frozen judge (a shipped name or workdir).
  config.init_from = ""
  return config


def small(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """CPU-sized codec: residual conv blocks at 1/2 and 1/4, NA (5×5) at 1/8 and 1/16.

  Trained on 64×128 crops of the 128×256 `medium` canvases (the transforms are
  convolutional / local, so the model codes any size; evaluation uses whole canvases): on a
  shared 2-core CPU every pixel of the batch counts.
  """
  config.model.channels = (48, 64, 96, 128)
  config.model.depths = (1, 1, 2, 1)
  config.model.heads = (2, 2, 4, 4)
  config.model.blocks = ("conv", "conv", "nat", "nat")
  config.model.kernel_size = 5
  config.model.hyper_channels = (96, 64)
  config.model.hyper_depths = (1, 1)
  config.model.hyper_heads = (4, 4)
  config.data.builder_config = "medium"  # 20,000 canvases at 128×256.
  config.data.crop_size = (64, 128)
  config.global_batch_size = 8
  config.optimizer.learning_rate = 5e-4
  config.optimizer.warmup_steps = 50
  config.num_train_steps = 4_000
  config.log_every_steps = 50
  config.eval_every_steps = 1_000
  config.checkpoint_every_steps = 250
  config.eval.num_examples = 200
  config.eval.batch_size = 20
  return config


def tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Test-sized codec on the `tiny` data (64×128 canvases)."""
  config.model.channels = (8, 8, 8, 16)
  config.model.depths = (1, 1, 1, 1)
  config.model.heads = (1, 1, 2, 2)
  config.model.blocks = ("conv", "nat", "nat", "nat")
  config.model.kernel_size = 3
  config.model.hyper_channels = (8, 8)
  config.model.hyper_depths = (1, 1)
  config.model.hyper_heads = (1, 1)
  config.data.builder_config = "tiny"
  config.data.crop_size = (64, 128)
  config.global_batch_size = 4
  config.optimizer.learning_rate = 1e-3
  config.optimizer.warmup_steps = 0
  config.num_train_steps = 4
  config.log_every_steps = 1
  config.eval_every_steps = 4
  config.checkpoint_every_steps = 2
  config.eval.num_examples = 8
  config.eval.batch_size = 4
  return config


# Stage 2's OCR weight γ (paper §3.2: "γ is set to 0.1 for all rate points").
PAPER_GAMMA = 0.1
# The "wide" option (not in the paper): γ = 0.1 · 3^(quality − 1) for qualities 1–3, the ones it
# was measured at (CPU scale). With λ = 0 the rate term is the only thing that pulls on the
# rate, and with one γ for all qualities it pulls every rate point towards the same rate when
# stage 2 trains long (docs/codec.md, "Stage 2's γ").
GAMMA_MODES = ("paper", "wide")
WIDE_GAMMAS = (0.1, 0.3, 0.9)


def stage2_gamma(quality, mode: str = "paper") -> float:
  if mode not in GAMMA_MODES:
    raise ValueError(f"stage-2 γ mode must be one of {GAMMA_MODES}, got {mode!r}")
  quality = quality_index(quality)
  if mode == "paper":
    return PAPER_GAMMA
  if quality > len(WIDE_GAMMAS):
    raise ValueError(f"the wide γ is defined for qualities 1..{len(WIDE_GAMMAS)} (where it was "
                     f"measured), got {quality}: set --config.loss.gamma instead")
  return WIDE_GAMMAS[quality - 1]


def parse_stage2_arg(arg) -> tuple[int, str]:
  """The stage-2 config argument: "QUALITY" (the paper's γ) or "QUALITY,wide"."""
  quality, _, mode = str(arg or "1").partition(",")
  mode = mode.strip() or "paper"
  stage2_gamma(quality, mode)  # Validates both.
  return quality_index(quality), mode


def stage2(config: ml_collections.ConfigDict, quality,
           gamma_mode: str = "paper") -> ml_collections.ConfigDict:
  """TFIC stage 2 (paper §3.2): λ = 0, γ (0.1), frozen judge, from the stage-1 model."""
  config.loss.lmbda = 0.0
  config.loss.gamma = stage2_gamma(quality, gamma_mode)
  config.frozen.ocr = "ocr_default"
  config.init_from = f"codec_mse_q{quality_index(quality)}"
  return config
