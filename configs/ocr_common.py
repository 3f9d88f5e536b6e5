"""Fields shared by the OCR judge configs (configs/ocr_*.py); not a training config itself.

Each OCR config calls `base_config()` and overrides the architecture (`config.model`, fields of
`tfic_jax.ocr.api.MODEL_DEFAULTS`), the data size and the schedule. See docs/ocr.md.
"""

import ml_collections

from configs import common


def base_config() -> ml_collections.ConfigDict:
  config = common.training_config("ocr")
  config.global_batch_size = 128
  config.optimizer.grad_clip_norm = 5.0  # As the reference (clip 5).

  config.data = ml_collections.ConfigDict()
  config.data.name = "synth_text"
  config.data.builder_config = "default"
  config.data.data_dir = "data"
  # Host pipeline: spawned worker processes building batches (0: threads only; see pipeline.py).
  config.data.num_workers = 0
  config.data.train_split = "train"
  # Evaluated in turn: seen fonts, and fonts never seen in training.
  config.data.eval_splits = ("test", "test_heldout_fonts")
  # Other datasets' train splits in the mix, "name/builder_config:weight,..." (each weight its
  # share of the examples; e.g. "document_words/small:0.5"); their test splits are evaluated too
  # (tfic_jax.data.pipeline.config_train_source).
  config.data.mix = ""
  # Words of book TRAIN pages in the training mix (tfic_jax/ocr/book_words.py): this fraction
  # of the examples, from `book_pages` rendered pages, `book_p_degrade` of them degraded.
  config.data.book_fraction = 0.0
  config.data.book_pages = 100
  config.data.book_p_degrade = 0.2
  # > 0: also evaluate on that many single words of book test pages ("book_words_test").
  config.data.book_eval_words = 0

  # Architecture (tfic_jax.ocr.api.MODEL_DEFAULTS); the per-model configs fill it in.
  config.model = ml_collections.ConfigDict()
  config.model.prediction = "attn"
  config.model.transformation = "tps"
  config.model.feature_extractor = "resnet"
  config.model.sequence_model = "bilstm"
  # Our canvases are 256×512 with a line spanning 60–95 % of the width: 32×128 keeps more
  # horizontal resolution per character than the reference's 32×100.
  config.model.input_size = (32, 128)
  config.model.resize_mode = "stretch"
  config.model.output_channel = 512
  config.model.hidden_size = 256
  config.model.resnet_layers = (1, 2, 5, 3)
  config.model.num_fiducial = 20
  config.model.tps_channels = (64, 128, 256, 512)
  config.model.tps_fc_features = 256
  config.model.max_length = 25
  config.model.charset = "alnum36"
  config.model.include_space = False
  # How api.read_words crops word boxes (api.MODEL_DEFAULTS); book words in the training mix
  # are cropped the same way.
  config.model.word_resize_mode = "canvas"
  config.model.word_text_height = 0.45
  config.model.word_stretch = 2.0
  config.model.word_max_fill = 0.9
  config.model.word_margin = 0.05

  # Host augmentation (tfic_jax.ocr.augment.DEFAULTS); set a probability to 0 to disable.
  config.augment = ml_collections.ConfigDict()
  config.augment.p_geometry = 0.5
  config.augment.p_contrast = 0.5
  config.augment.p_blur = 0.3
  config.augment.p_noise = 0.3
  config.augment.p_jpeg = 0.4
  config.augment.jpeg_quality_range = (5, 60)

  config.frozen = ml_collections.ConfigDict()  # The OCR stage has no frozen sub-model.
  config.init_from = ""  # Warm start: a workdir, model dir or shipped model name ("" = none).

  config.eval.batch_size = 100
  return config


def crnn(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """None-VGG-BiLSTM-CTC (CRNN) architecture fields."""
  config.model.prediction = "ctc"
  config.model.transformation = "none"
  config.model.feature_extractor = "vgg"
  return config


def tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """CPU smoke-test settings: the `tiny` synth_text config, narrow layers, a few steps."""
  config.data.builder_config = "tiny"
  config.model.output_channel = 32
  config.model.hidden_size = 32
  config.global_batch_size = 8
  config.num_train_steps = 20
  config.optimizer.warmup_steps = 2
  config.log_every_steps = 5
  config.eval_every_steps = 10
  config.checkpoint_every_steps = 10
  config.eval.num_examples = 16
  config.eval.batch_size = 8
  return config
