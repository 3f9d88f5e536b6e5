"""The Stage interface: what a training stage supplies to the one training loop.

A stage (OCR, codec-MSE, TFIC, DnCNN, CRAFT, OCR-guided dequantization, ...) supplies the
model, the loss, the frozen sub-models and the evaluation. `tfic_jax.train.train` owns the
mesh, sharding, jit, optimizer, Orbax checkpoints, resume, logging, progress and NaN checks.
See docs/design.md ("Training") for the contract and docs/training.md for how it is driven.
"""

import abc
from typing import Any
from typing import Mapping

import ml_collections
import numpy as np

PyTree = Any


class Stage(abc.ABC):
  """One training stage. Subclasses are found by name via `stages.get_stage`.

  The loop calls, in order: `train_source` / `eval_source` (host), `init_variables`
  (once, traced under `jax.jit` with replicated outputs, so it must be pure), `load_frozen`
  (once), then jitted `loss_fn` every step and jitted `eval_step` + host `eval_summary` every
  eval. With `config.init_from` set, the initial variables are then replaced by that run's.

  Precision: `config.compute_dtype` ("float32" or "bfloat16") is the dtype the stage's
  models compute in (Flax `dtype=`); parameters stay float32 (`param_dtype`) and the loss
  returned by `loss_fn` should be float32 (the loop casts it anyway).
  """

  def __init__(self, config: ml_collections.ConfigDict):
    self.config = config

  # --- Data: the dataset and the per-example host preprocessing. ----------------------------

  @abc.abstractmethod
  def train_source(self, data_dir):
    """Random-access training source (`len`, `__getitem__` -> dict of numpy / str)."""

  @abc.abstractmethod
  def eval_source(self, data_dir):
    """Random-access eval source, or a mapping split name -> source (evaluated in turn)."""

  @abc.abstractmethod
  def preprocess_train(self, example, rng: np.random.Generator) -> dict:
    """Augmentation + encoding of one training example into fixed-shape numpy arrays.

    String entries are allowed (they stay on the host and are dropped before the batch is
    placed on devices).
    """

  @abc.abstractmethod
  def preprocess_eval(self, example) -> dict:
    """Deterministic encoding of one eval example into fixed-shape numpy arrays (+ strings)."""

  # --- Model. --------------------------------------------------------------------------------

  @abc.abstractmethod
  def init_variables(self, rng, batch: Mapping[str, np.ndarray]) -> dict:
    """Initial variables of the trainable model: {"params": ..., ["batch_stats": ...]}.

    `batch` is one process-local preprocessed training batch (numeric entries only) to
    take shapes from.
    """

  def load_frozen(self) -> PyTree:
    """Variables of the frozen sub-models (e.g. via `zoo.load_variables`); {} if none.

    They are passed to every jitted `loss_fn` / `eval_step` call as an argument, never
    enter the optimizer and never change.
    """
    return {}

  @abc.abstractmethod
  def loss_fn(self, params, model_state, frozen, batch, rng, train: bool):
    """Pure, jit-able loss.

    Args:
      params: the trainable model's params.
      model_state: its non-trainable collections (e.g. {"batch_stats": ...}, or {}).
      frozen: `load_frozen()`'s pytree; frozen models run in inference mode.
      batch: dict of device arrays (the global batch, sharded over 'data').
      rng: a PRNG key, different every step, deterministic in (seed, step).
      train: True in training (BatchNorm uses batch statistics and updates model_state).

    Returns:
      (loss, (metrics: dict[str, scalar], new_model_state)).
    """

  @abc.abstractmethod
  def eval_step(self, variables, frozen, batch) -> dict:
    """Jit-able forward pass; returns per-example arrays (leading batch dimension)."""

  @abc.abstractmethod
  def eval_summary(self, outputs: list, batches: list) -> dict:
    """Host-side reduction of `eval_step` outputs over the eval set.

    `outputs[i]` holds numpy arrays for `batches[i]` (the host batch incl. strings and the
    boolean "mask" marking real, non-padding examples).
    """

  # --- Optional. -----------------------------------------------------------------------------

  def architecture_config(self) -> dict:
    """The part of the config a checkpoint's parameters depend on (resume refuses a change).

    Default: `stage` and `model`. Override to add fields (e.g. an alphabet or crop size).
    """
    return {
        "stage": self.config.stage,
        "model": self.config.model.to_dict() if "model" in self.config else {},
    }
