"""Training stage of the DnCNN dequantizer for the shared loop (`stages.py`: "dncnn").

Data: `book_patches` (Part B): aligned degraded → clean 64×256 grayscale patches, split 80/20 by
page. Training takes a random `config.data.crop` window of each patch (the same window of both
images; the network is fully convolutional, so smaller crops only make CPU steps cheaper) and
evaluates on whole test patches. Loss: `losses.dequant_loss` (paper §4.4).
"""

from typing import Mapping

import jax.numpy as jnp
import ml_collections
import numpy as np

from tfic_jax import errors
from tfic_jax import metrics
from tfic_jax.data import book
from tfic_jax.data import pipeline
from tfic_jax.dequant import api
from tfic_jax.dequant import losses
from tfic_jax.train import stage as stage_lib


def check_crop(crop, patch_height: int, patch_width: int) -> tuple[int, int]:
  """The training crop (height, width): positive multiples of 8 within the patch."""
  crop_height, crop_width = (int(c) for c in crop)
  if (crop_height <= 0 or crop_width <= 0 or crop_height % 8 or crop_width % 8
      or crop_height > patch_height or crop_width > patch_width):
    raise errors.TficError(
        f"data.crop must be positive multiples of 8 within the {patch_height}×{patch_width} "
        f"patches (the DCT loss works on 8×8 blocks), got {crop_height}×{crop_width}.")
  return crop_height, crop_width


def random_crop(images: list[np.ndarray], crop: tuple[int, int],
                rng: np.random.Generator) -> list[np.ndarray]:
  """The same random (crop_h × crop_w) window of each of `images` ([H, W, C], equal sizes)."""
  height, width = images[0].shape[:2]
  top = int(rng.integers(0, height - crop[0] + 1))
  left = int(rng.integers(0, width - crop[1] + 1))
  return [image[top:top + crop[0], left:left + crop[1]] for image in images]


def to_unit(image: np.ndarray) -> np.ndarray:
  """uint8 [H, W, C] → float32 in [0, 1]."""
  return np.asarray(image, np.float32) / 255.0


class DnCNNStage(stage_lib.Stage):
  """Trains a DnCNN to map degraded book patches to clean ones (docs/dequant.md)."""

  def __init__(self, config: ml_collections.ConfigDict):
    super().__init__(config)
    self.model = api.build(config)
    self.crop = check_crop(config.data.get("crop", (book.PATCH_HEIGHT, book.PATCH_WIDTH)),
                           book.PATCH_HEIGHT, book.PATCH_WIDTH)
    loss = config.get("loss", ml_collections.ConfigDict())
    self.mse_weight = float(loss.get("mse_weight", losses.MSE_WEIGHT))
    self.tau = float(loss.get("tau", losses.TAU))
    self.dct_target = losses.check_dct_target(loss.get("dct_target", "degraded"))
    self.mse_scale = float(loss.get("mse_scale", 1.0))
    if not 0.0 <= self.mse_weight <= 1.0:
      raise errors.TficError(f"loss.mse_weight (λ) must lie in [0, 1], got {self.mse_weight}.")

  # --- Data. ---------------------------------------------------------------------------------

  def train_source(self, data_dir):
    return pipeline.config_train_source(self.config.data, data_dir)

  def eval_source(self, data_dir):
    return pipeline.config_eval_sources(self.config.data, data_dir)

  def preprocess_train(self, example, rng: np.random.Generator) -> dict:
    degraded, clean = random_crop([example["degraded"], example["clean"]], self.crop, rng)
    return {"degraded": to_unit(degraded), "clean": to_unit(clean)}

  def preprocess_eval(self, example) -> dict:
    return {"degraded": to_unit(example["degraded"]), "clean": to_unit(example["clean"])}

  # --- Model. --------------------------------------------------------------------------------

  def init_variables(self, rng, batch: Mapping[str, np.ndarray]) -> dict:
    return dict(self.model.module.init(rng, jnp.asarray(batch["degraded"]), train=False))

  def loss_fn(self, params, model_state, frozen, batch, rng, train: bool):
    del frozen, rng
    variables = {"params": params, **model_state}
    if train:
      restored, new_state = self.model.module.apply(
          variables, batch["degraded"], train=True, mutable=["batch_stats"])
      new_model_state = dict(new_state)
    else:
      restored = self.model.module.apply(variables, batch["degraded"], train=False)
      new_model_state = model_state
    loss, terms = losses.dequant_loss(
        restored, batch["clean"], batch["degraded"], mse_weight=self.mse_weight, tau=self.tau,
        dct_target=self.dct_target, mse_scale=self.mse_scale)
    return loss, (terms, new_model_state)

  def eval_step(self, variables, frozen, batch) -> dict:
    """Per patch: summed squared errors (0..255 scale) of the restored and degraded images."""
    del frozen
    restored = jnp.clip(api.apply(self.model, variables, batch["degraded"]), 0.0, 1.0)
    clean = batch["clean"]

    def squared_error_sum(images):
      return jnp.sum(jnp.square(255.0 * (images - clean)), axis=(1, 2, 3))

    return {"sse_restored": squared_error_sum(restored),
            "sse_degraded": squared_error_sum(batch["degraded"])}

  def eval_summary(self, outputs: list, batches: list) -> dict:
    """PSNR (dB) over all evaluated pixels: 10 log10(255² / MSE) of the restored and degraded."""
    sums = {"sse_restored": 0.0, "sse_degraded": 0.0}
    num_examples, pixels_per_example = 0, None
    for output, batch in zip(outputs, batches):
      mask = np.asarray(batch["mask"], bool)
      pixels_per_example = int(np.prod(batch["clean"].shape[1:]))
      num_examples += int(mask.sum())
      for key in sums:
        sums[key] += float(np.sum(np.asarray(output[key], np.float64)[mask]))
    if not num_examples:
      return {"psnr_restored": float("nan"), "psnr_degraded": float("nan"), "num_examples": 0}
    num_pixels = num_examples * pixels_per_example
    return {
        "psnr_restored": metrics.psnr_from_sse(sums["sse_restored"], num_pixels),
        "psnr_degraded": metrics.psnr_from_sse(sums["sse_degraded"], num_pixels),
        "num_examples": num_examples,
    }
