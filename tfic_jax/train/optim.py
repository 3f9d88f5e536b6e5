"""Optimizer and learning-rate schedule from `config.optimizer` (flax imagenet style)."""

import ml_collections
import optax

from tfic_jax import errors


def create_learning_rate_fn(config: ml_collections.ConfigDict) -> optax.Schedule:
  """Linear warmup from 0 to `learning_rate`, then cosine decay to 0 or constant."""
  opt = config.optimizer
  base_lr = float(opt.learning_rate)
  warmup_steps = int(opt.get("warmup_steps", 0))
  total_steps = int(config.num_train_steps)
  schedule = opt.get("schedule", "cosine")
  if schedule == "cosine":
    after = optax.cosine_decay_schedule(
        init_value=base_lr, decay_steps=max(1, total_steps - warmup_steps))
  elif schedule == "constant":
    after = optax.constant_schedule(base_lr)
  else:
    raise errors.TficError(
        f"Unknown config.optimizer.schedule {schedule!r}: use 'cosine' or 'constant'.")
  if warmup_steps <= 0:
    return after
  warmup = optax.linear_schedule(
      init_value=0.0, end_value=base_lr, transition_steps=warmup_steps)
  return optax.join_schedules([warmup, after], boundaries=[warmup_steps])


def create_optimizer(config: ml_collections.ConfigDict,
                     learning_rate_fn: optax.Schedule) -> optax.GradientTransformation:
  """adam / adamw (/ sgd) with optional global-norm gradient clipping."""
  opt = config.optimizer
  name = opt.get("name", "adam")
  if name == "adam":
    tx = optax.adam(learning_rate_fn, b1=opt.get("b1", 0.9), b2=opt.get("b2", 0.999))
  elif name == "adamw":
    tx = optax.adamw(learning_rate_fn, b1=opt.get("b1", 0.9), b2=opt.get("b2", 0.999),
                     weight_decay=float(opt.get("weight_decay", 0.0)))
  elif name == "sgd":
    tx = optax.sgd(learning_rate_fn, momentum=opt.get("momentum", 0.9))
  else:
    raise errors.TficError(
        f"Unknown config.optimizer.name {name!r}: use 'adam', 'adamw' or 'sgd'.")
  clip = opt.get("grad_clip_norm", None)
  if clip:
    tx = optax.chain(optax.clip_by_global_norm(float(clip)), tx)
  return tx
