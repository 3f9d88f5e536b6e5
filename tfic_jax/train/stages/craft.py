"""Training stage of the CRAFT word detector for the shared loop (`stages.py`: "craft").

Data: rendered book pages (`pages.py`) with exact character boxes. A training example is a
random `crop_size`² window of a page, magnified by `detect.mag_ratio` × a random factor from
`data.scale_range`, taken from the clean page, the degraded page, the degraded page restored by
the DnCNN `data.restorer` (D1: what CRAFT sees in the OCR-guided chain), or a mix
(`data.input`: "clean" | "degraded" | "restored" | "mix", the mix drawing degraded with
probability `data.degraded_fraction`, restored with `data.restored_fraction`, else clean;
pages are restored whole at page resolution, once, before cropping); its targets are
the region / affinity heatmaps (`heatmaps.py`) at half the crop's resolution. Loss: MSE on both
maps (CRAFT §3.1), optionally with online hard-negative mining (`loss.ohem`: per image and map,
all pixels with target ≥ 0.1 plus the `loss.neg_ratio`× as many hardest other pixels, as the
reference's training code).

Evaluation: fixed crops of test pages at exactly `mag_ratio`, one set per kind in
`data.eval_kinds` (clean, degraded, restored); word boxes by the reference post-processing;
precision / recall / H-mean at IoU ≥ 0.5 (`tfic_jax/eval/detect.py`).
"""

from typing import Mapping

import jax.numpy as jnp
import ml_collections
import numpy as np

from tfic_jax import errors
from tfic_jax.data import pages
from tfic_jax.dequant import pages as restored_pages
from tfic_jax.detect import api
from tfic_jax.detect import heatmaps
from tfic_jax.detect import postprocess
from tfic_jax.eval import detect as detect_eval
from tfic_jax.train import stage as stage_lib

INPUTS = ("clean", "degraded", "restored", "mix")
MAX_EVAL_BOXES = 512  # Word boxes of one eval crop, padded (a 256×256 page window has ~150).
_POSITIVE = 0.1  # Target value above which a pixel counts as text for OHEM.


def map_losses(predicted: jnp.ndarray, target: jnp.ndarray, ohem: bool,
               neg_ratio: float) -> jnp.ndarray:
  """Per-image loss [B] of maps [B, h, w, C]: mean squared error summed over the C maps.

  With `ohem`, each map's loss is the mean over its positive pixels (target ≥ 0.1) plus the
  mean over its `neg_ratio`·P hardest negatives (all negatives if fewer; the 500 hardest if the
  map has no positive pixel).
  """
  squared = jnp.square(predicted.astype(jnp.float32) - target)  # [B, h, w, C]
  if not ohem:
    return jnp.sum(jnp.mean(squared, axis=(1, 2)), axis=-1)
  batch, channels = squared.shape[0], squared.shape[-1]
  squared = jnp.moveaxis(squared, -1, 1).reshape(batch, channels, -1)  # [B, C, P]
  positive = jnp.moveaxis(target, -1, 1).reshape(batch, channels, -1) >= _POSITIVE
  num_pos = jnp.sum(positive, axis=-1)  # [B, C]
  num_neg = squared.shape[-1] - num_pos
  pos_loss = jnp.sum(jnp.where(positive, squared, 0), -1) / jnp.maximum(num_pos, 1)
  hardest = -jnp.sort(-jnp.where(positive, -1.0, squared), axis=-1)  # negatives first, desc.
  k = jnp.where(num_pos > 0, jnp.ceil(neg_ratio * num_pos), 500).astype(jnp.int32)
  k = jnp.maximum(jnp.minimum(k, num_neg), 1)
  ranks = jnp.arange(squared.shape[-1])
  neg_loss = jnp.sum(jnp.where(ranks < k[..., None], jnp.maximum(hardest, 0), 0), -1) / k
  return jnp.sum(pos_loss + neg_loss, axis=-1)


class CraftStage(stage_lib.Stage):
  """Trains CRAFT on rendered book pages (docs/detect.md)."""

  def __init__(self, config: ml_collections.ConfigDict):
    super().__init__(config)
    self.detector = api.build(config)
    data = config.data
    if data.input not in INPUTS:
      raise errors.TficError(f"config.data.input={data.input!r}: use one of {INPUTS}")
    if data.crop_size % api.MULTIPLE:
      raise errors.TficError(f"config.data.crop_size must be a multiple of {api.MULTIPLE}")
    fractions = (float(data.get("degraded_fraction", 0.0)),
                 float(data.get("restored_fraction", 0.0)))
    if min(fractions) < 0 or sum(fractions) > 1:
      raise errors.TficError(
          f"config.data.degraded_fraction + restored_fraction must lie in [0, 1], got {fractions}")
    unknown = sorted(set(data.eval_kinds) - set(pages.KINDS))
    if unknown:
      raise errors.TficError(f"config.data.eval_kinds: unknown {unknown}; use {pages.KINDS}")
    self.book_config = str(data.get("builder_config", "")) or pages.DEFAULT_BOOK_CONFIG
    pages.book_setup(self.book_config)  # A bad config name fails here, before any work.
    self.restorer = str(data.get("restorer", "")) or None
    if self._uses_restored():
      if not self.restorer:
        raise errors.TficError("restored pages need config.data.restorer (a DnCNN, e.g. "
                               "'dncnn_default')")
      restored_pages.load_restorer(self.restorer)  # A missing D1 fails here, not in a data thread.

  def _uses_restored(self) -> bool:
    data = self.config.data
    return (data.input == "restored" or "restored" in data.eval_kinds
            or (data.input == "mix" and float(data.get("restored_fraction", 0.0)) > 0))

  # --- Data. ---------------------------------------------------------------------------------

  def train_source(self, data_dir):
    del data_dir  # Pages are rendered, not read.
    return pages.PageSource("train", int(self.config.data.num_train_pages), self.book_config)

  def eval_source(self, data_dir):
    del data_dir
    data, size = self.config.data, int(self.config.eval.crop_size)
    region = size / self.detector.mag_ratio
    return {kind: pages.CropSource("test", int(data.num_eval_pages),
                                   int(self.config.eval.crops_per_page), region,
                                   int(self.config.seed), kind, self.book_config)
            for kind in data.eval_kinds}

  def _kind(self, rng: np.random.Generator) -> str:
    data = self.config.data
    if data.input == "mix":
      draw = rng.uniform()
      degraded = float(data.degraded_fraction)
      if draw < degraded:
        return "degraded"
      return "restored" if draw < degraded + float(data.get("restored_fraction", 0.0)) else "clean"
    return data.input

  def _example(self, page: pages.BookPage, kind: str, corner, scale: float, size: int) -> dict:
    image, boxes = pages.crop(restored_pages.page_image(page, kind, self.restorer), page.char_boxes, corner, scale,
                              size)
    inside, partly = pages.boxes_inside(boxes, size)
    visible = inside | partly
    targets = heatmaps.craft_targets(boxes[visible], page.char_word[visible],
                                     (size // 2, size // 2), scale=0.5)
    return {"image": image, "targets": targets}

  def preprocess_train(self, example, rng: np.random.Generator) -> dict:
    page, data = example["page"], self.config.data
    scale = self.detector.mag_ratio * float(np.exp(rng.uniform(*np.log(data.scale_range))))
    size = int(data.crop_size)
    corner = pages.text_corner(page, size / scale, rng)
    return self._example(page, self._kind(rng), corner, scale, size)

  def preprocess_eval(self, example) -> dict:
    page, size, scale = example["page"], int(self.config.eval.crop_size), self.detector.mag_ratio
    out = self._example(page, example["kind"], example["corner"], scale, size)
    words = pages.to_crop(page.word_boxes, example["corner"], scale)
    inside, partly = pages.boxes_inside(words, size)
    out["gt_boxes"], out["num_gt"] = _pad(words[inside])
    out["ignore_boxes"], out["num_ignore"] = _pad(words[partly])
    return out

  # --- Model. --------------------------------------------------------------------------------

  def init_variables(self, rng, batch: Mapping[str, np.ndarray]) -> dict:
    del batch  # Parameter shapes depend on the config only.
    return self.detector.module.init(rng, jnp.zeros((1, 32, 32, 1), jnp.float32), train=False)

  def _images(self, batch):
    return jnp.asarray(batch["image"], jnp.float32) / 255.0

  def loss_fn(self, params, model_state, frozen, batch, rng, train: bool):
    del frozen, rng
    variables = {"params": params, **model_state}
    if train:
      maps, new_state = self.detector.module.apply(variables, self._images(batch), train=True,
                                                   mutable=["batch_stats"])
      new_state = dict(new_state)
    else:
      maps, new_state = self.detector.module.apply(variables, self._images(batch)), model_state
    targets = jnp.asarray(batch["targets"], jnp.float32)
    per_image = map_losses(maps, targets, bool(self.config.loss.ohem),
                           float(self.config.loss.neg_ratio))
    weights = jnp.asarray(batch.get("mask", jnp.ones(per_image.shape)), jnp.float32)
    loss = jnp.sum(per_image * weights) / jnp.maximum(jnp.sum(weights), 1.0)
    mse = jnp.mean(jnp.square(maps - targets), axis=(0, 1, 2))
    return loss, ({"craft_loss": loss, "region_mse": mse[0], "affinity_mse": mse[1]}, new_state)

  def eval_step(self, variables, frozen, batch) -> dict:
    del frozen
    maps = api.predict_maps(self.detector, variables, self._images(batch))
    targets = jnp.asarray(batch["targets"], jnp.float32)
    return {"maps": maps, "mse": jnp.mean(jnp.square(maps - targets), axis=(1, 2, 3))}

  def eval_summary(self, outputs: list, batches: list) -> dict:
    counts, mses = detect_eval.Counts(), []
    for output, batch in zip(outputs, batches):
      mask = np.asarray(batch.get("mask", np.ones(len(output["maps"]), bool)), bool)
      for i in np.flatnonzero(mask):
        maps = output["maps"][i]
        found = postprocess.word_boxes(maps[..., 0], maps[..., 1],
                                       self.detector.thresholds).scaled(2.0)
        counts += detect_eval.match(found.boxes, batch["gt_boxes"][i][:batch["num_gt"][i]],
                                    batch["ignore_boxes"][i][:batch["num_ignore"][i]])
        mses.append(float(output["mse"][i]))
    return {**counts.summary(), "map_mse": float(np.mean(mses)) if mses else float("nan")}


def _pad(boxes: np.ndarray) -> tuple[np.ndarray, np.int32]:
  boxes = boxes[:MAX_EVAL_BOXES]
  padded = np.zeros((MAX_EVAL_BOXES, 4), np.float32)
  padded[:len(boxes)] = boxes
  return padded, np.int32(len(boxes))
