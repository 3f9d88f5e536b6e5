"""The training block every stage's base config shares; not a config itself.

The loop's own fields (tfic_jax/train/train.py, docs/design.md). Each base config
(configs/codec_common.py, ocr_common.py, craft.py, dncnn.py, dequant_ocr.py, toy_regression.py)
starts from `training_config(stage)`, overrides the fields that differ and adds `data`, `model`,
`frozen` and the stage's own fields, as flax's examples/imagenet configs override
`configs/default.py`.
"""

import ml_collections


def training_config(stage: str) -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.stage = stage  # The stage to train (tfic_jax/train/stages/): its data, model and loss.
  config.seed = 0  # Parameter init, data order and step randomness (deterministic in (seed, step)).
  config.global_batch_size = 8  # Examples per step over all devices (a multiple of their count).
  config.num_train_steps = 30_000
  config.compute_dtype = "float32"  # "bfloat16" computes in bf16 (on GPU); params stay float32.
  config.log_every_steps = 100  # Mean train metrics to the log and WORKDIR/metrics.jsonl.
  config.eval_every_steps = 2_000  # And at the last step (0: only there).
  config.checkpoint_every_steps = 2_000  # WORKDIR/checkpoints/; also the last step (0: only it).
  config.keep_checkpoints = 3  # The latest checkpoints kept (0: all).
  config.max_steps_in_flight = 2  # Steps the host may dispatch ahead of the device.

  # tfic_jax/train/optim.py: linear warmup from 0 to learning_rate, then `schedule`.
  config.optimizer = ml_collections.ConfigDict()
  config.optimizer.name = "adam"  # "adam" | "adamw" | "sgd"
  config.optimizer.learning_rate = 1e-3
  config.optimizer.warmup_steps = 1_000
  config.optimizer.schedule = "cosine"  # "cosine" (decay to 0 at num_train_steps) | "constant"
  config.optimizer.weight_decay = 0.0  # adamw only.
  config.optimizer.grad_clip_norm = 1.0  # Global-norm gradient clipping (0: none).

  # Evaluation: the first num_examples of each eval split (0: no evaluation).
  config.eval = ml_collections.ConfigDict()
  config.eval.num_examples = 600
  config.eval.batch_size = 8  # Global, a multiple of the device count.
  return config
