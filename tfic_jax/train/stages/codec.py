"""Training stage of the codec for the shared loop (`stages.py`: "codec").

One stage for both of the paper's training stages (§3.2):

    loss = λ · 255² · MSE(x, x̂) + bpp(ŷ, ẑ) + γ · CE_OCR(text, OCR(x̂))

- Stage 1 (configs/codec_mse*.py): γ = 0, one λ per rate point (CompressAI's λ grid).
- Stage 2 (configs/tfic*.py): λ = 0, γ = 0.1, warm-started from a stage-1 model
  (`config.init_from`); the OCR judge is a frozen sub-model (`config.frozen.ocr`), so only the
  codec trains.

Rates are estimated from the likelihoods (additive noise in training, rounding in evaluation);
bitstream.py turns the same model into real files. The OCR loss reads x̂ clipped to [0, 1],
which is what a decoded file holds.
"""

from typing import Mapping

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from tfic_jax import errors
from tfic_jax import metrics
from tfic_jax import zoo
from tfic_jax.codec import api
from tfic_jax.codec import model as model_lib
from tfic_jax.data import pipeline
from tfic_jax.ocr import api as ocr_api
from tfic_jax.train import eot
from tfic_jax.train import stage as stage_lib


class CodecStage(stage_lib.Stage):
  """Trains the hyperprior codec on synthetic text canvases (docs/codec.md)."""

  def __init__(self, config: ml_collections.ConfigDict):
    super().__init__(config)
    self.model = api.build(config)
    self.lmbda = float(config.loss.lmbda)
    self.gamma = float(config.loss.get("gamma", 0.0))
    self.judge_paths = self._judge_paths() if self.gamma > 0 else []
    self.judges = [ocr_api.build(zoo.load_config(path)) for path in self.judge_paths]
    self.judge = self.judges[0] if self.judges else None  # Evaluation reads with the first.
    try:
      self.eot = eot.from_config(config.loss.get("eot"))
    except ValueError as e:
      raise errors.TficError(str(e)) from e
    if self.eot.enabled and self.judge is None:
      raise errors.TficError("loss.eot transforms what the judge reads: it needs loss.gamma > 0.")
    crop = config.data.get("crop_size")
    self.crop = tuple(crop) if crop else None
    if self.crop and any(c % api.PAD_MULTIPLE for c in self.crop):
      raise errors.TficError(f"config.data.crop_size {self.crop} must be multiples of 64.")

  def _judge_paths(self) -> list[str]:
    """`config.frozen.ocr`: one judge, or several separated by commas (the OCR loss is their
    mean), each a shipped name, model dir or workdir."""
    paths = self.config.frozen.get("ocr") if "frozen" in self.config else None
    paths = [p.strip() for p in str(paths or "").split(",") if p.strip()]
    if not paths:
      raise errors.TficError("loss.gamma > 0 needs config.frozen.ocr (the frozen OCR judge).")
    return paths

  @staticmethod
  def _suffix(index: int) -> str:
    return f"_{index}" if index else ""

  # --- Data. ---------------------------------------------------------------------------------

  def train_source(self, data_dir):
    return pipeline.config_train_source(self.config.data, data_dir)

  def eval_source(self, data_dir):
    return pipeline.config_eval_sources(self.config.data, data_dir)

  def _example(self, image: np.ndarray, text) -> dict:
    image = np.asarray(image)
    if (image.ndim != 3 or image.shape[-1] != 3
        or any(s % api.PAD_MULTIPLE for s in image.shape[:2])):
      raise errors.DatasetError(f"codec training wants RGB canvases with sides multiple of 64, "
                                f"got {image.shape}")
    example = {"image": image.astype(np.uint8), "text": pipeline.as_text(text)}
    for index, judge in enumerate(self.judges):  # Each judge's own charset and label length.
      suffix = self._suffix(index)
      labels, lengths = judge.encode(example["text"])
      example["label" + suffix], example["label_length" + suffix] = labels[0], lengths[0]
      example["label_weight" + suffix] = np.float32(judge.charset.fits(example["text"],
                                                                       judge.max_length))
    return example

  def preprocess_train(self, example, rng: np.random.Generator) -> dict:
    image = np.asarray(example["image"])
    if self.crop and self.crop != image.shape[:2]:
      if self.judge is not None:
        raise errors.TficError(
            f"config.data.crop_size {self.crop} cuts the {image.shape[:2]} canvases, but the OCR "
            "loss needs the whole line its label describes: use the canvas size.")
      height, width = self.crop
      top = rng.integers(0, image.shape[0] - height + 1)
      left = rng.integers(0, image.shape[1] - width + 1)
      image = image[top:top + height, left:left + width]
    return self._example(image, example["text"])

  def preprocess_eval(self, example) -> dict:
    return self._example(example["image"], example["text"])

  # --- Model. --------------------------------------------------------------------------------

  def init_variables(self, rng, batch: Mapping[str, np.ndarray]) -> dict:
    height, width = np.shape(batch["image"])[1:3]
    return self.model.init(rng, int(height), int(width))

  def load_frozen(self):
    return {"ocr" + self._suffix(index): zoo.load_variables(path)
            for index, path in enumerate(self.judge_paths)}

  def _ocr_terms(self, frozen, batch, x_hat, rng, train: bool):
    """The mean OCR loss of the judges on x̂ clipped to [0, 1] (randomly transformed first
    when `loss.eot` is on and training)."""
    images = jnp.clip(x_hat, 0.0, 1.0)
    if train and self.eot.enabled:
      images = eot.transform(images, jax.random.fold_in(rng, 0xE07), self.eot)
    losses = []
    for index, judge in enumerate(self.judges):
      suffix = self._suffix(index)
      weights = jnp.asarray(batch["label_weight" + suffix], jnp.float32)
      if "mask" in batch:
        weights = weights * jnp.asarray(batch["mask"], jnp.float32)
      losses.append(ocr_api.ocr_loss(judge, frozen["ocr" + suffix], images,
                                     batch["label" + suffix], batch["label_length" + suffix],
                                     weights))
    return sum(losses) / len(losses)

  def loss_fn(self, params, model_state, frozen, batch, rng, train: bool):
    x = jnp.asarray(batch["image"], jnp.float32) / 255.0
    out = api.forward(self.model, {"params": params}, x, rng, train=train)
    mse = jnp.mean(jnp.square(out["x_hat"] - x))
    bpp = jnp.mean(out["bpp"])
    num_pixels = x.shape[1] * x.shape[2]
    loss = self.lmbda * 255.0 ** 2 * mse + bpp
    metrics_ = {
        "mse": mse, "bpp": bpp, "psnr": -10.0 * jnp.log10(jnp.maximum(mse, 1e-10)),
        "bpp_z": jnp.mean(model_lib.bits(out["z_likelihoods"])) / num_pixels,
    }
    if self.judge is not None:
      ocr = self._ocr_terms(frozen, batch, out["x_hat"], rng, train)
      loss = loss + self.gamma * ocr
      metrics_["ocr_loss"] = ocr
    return loss, (metrics_, model_state)

  def eval_step(self, variables, frozen, batch) -> dict:
    x = jnp.asarray(batch["image"], jnp.float32) / 255.0
    out = api.forward(self.model, {"params": variables["params"]}, x, train=False)
    x_hat = jnp.round(jnp.clip(out["x_hat"], 0.0, 1.0) * 255.0)  # What a decoded file holds.
    mse = jnp.mean(jnp.square(x_hat - x * 255.0), axis=(1, 2, 3))
    result = {"bpp": out["bpp"], "mse": mse}
    if self.judge is not None:
      result["pred_ids"] = ocr_api.recognize(self.judge, frozen["ocr"], x_hat / 255.0)
    return result

  def eval_summary(self, outputs: list, batches: list) -> dict:
    bpps, mses, gts, preds = [], [], [], []
    for output, batch in zip(outputs, batches):
      mask = np.asarray(batch.get("mask", np.ones(len(output["bpp"]), bool)), bool)
      bpps.extend(np.asarray(output["bpp"])[mask])
      mses.extend(np.asarray(output["mse"])[mask])
      if "pred_ids" in output:
        decoded = self.judge.decode(output["pred_ids"])
        gts.extend(pipeline.as_text(t) for t, keep in zip(batch["text"], mask) if keep)
        preds.extend(p for p, keep in zip(decoded, mask) if keep)
    mses = np.asarray(mses, np.float64)
    summary = {
        "bpp": float(np.mean(bpps)),
        # Mean of per-image PSNR (the convention of CompressAI's and our classical tables).
        "psnr": float(np.mean(10 * np.log10(255.0 ** 2 / np.maximum(mses, 1e-10)))),
        "num_examples": len(bpps),
    }
    if gts:
      summary["ocr_accuracy"] = metrics.mean_ocr_accuracy(gts, preds)
    return summary

  def architecture_config(self) -> dict:
    return {"stage": self.config.stage,
            "model": {k: list(v) if isinstance(v, tuple) else v
                      for k, v in self.model.fields}}
