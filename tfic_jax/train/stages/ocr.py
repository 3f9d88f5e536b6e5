"""Training stage of the OCR judge (TRBA / CRNN) for the shared loop (`stages.py`: "ocr").

Data: `synth_text` (Part A canvases, 256×512 RGB with one text line) via
`tfic_jax.data.pipeline.load_split`, optionally mixed with words of book TRAIN pages
(`config.data.book_fraction`, `book_words.BookWordSource`: cropped as `api.read_words` crops
them, on canvases of the synthetic size). Host preprocessing augments the canvas (`augment.py`)
and encodes the label; the jitted loss adapts the canvas to the recognizer's input with the
same adapter that the frozen judge uses later (`adapter.adapt`), so training and use see
identical resizing. `config.data.book_eval_words` > 0 adds an eval split "book_words_test" of
single words of book test pages.
"""

from typing import Mapping

import jax.numpy as jnp
import ml_collections
import numpy as np

from tfic_jax import errors
from tfic_jax import metrics
from tfic_jax.data import pipeline
from tfic_jax.ocr import api
from tfic_jax.ocr import augment
from tfic_jax.ocr import book_words
from tfic_jax.train import stage as stage_lib


def ctc_sequence_length(model: api.OCRModel) -> int:
  """Number of CTC time steps of the model at its input width."""
  width = int(model.input_size[1])
  if model.feature_extractor == "vgg":
    return width // 4 - 1
  return width // 4 + 1


def ctc_feasible(labels: np.ndarray, length: int, time_steps: int) -> bool:
  """CTC needs one frame per character plus a blank between repeated characters."""
  label = labels[:length]
  repeats = int(np.sum(label[1:] == label[:-1])) if length > 1 else 0
  return length + repeats <= time_steps


class OCRStage(stage_lib.Stage):
  """Trains a recognizer on synthetic text lines (docs/ocr.md)."""

  def __init__(self, config: ml_collections.ConfigDict):
    super().__init__(config)
    self.model = api.build(config)
    self.augment_config = (config.augment.to_dict()
                           if "augment" in config and config.augment is not None else {})

  # --- Data. ---------------------------------------------------------------------------------

  def train_source(self, data_dir):
    """synth_text's train split (with `data.mix`'s datasets: `pipeline.config_train_source`),
    mixed with book words when `data.book_fraction` > 0."""
    fraction = float(self.config.data.get("book_fraction", 0.0))
    if not 0.0 <= fraction < 1.0:
      raise errors.TficError(f"config.data.book_fraction must be in [0, 1), got {fraction}")
    synth = pipeline.config_train_source(self.config.data, data_dir)
    if fraction == 0.0:
      return synth
    spec = book_words.spec_from_data_config(self.config.data, "train")
    words = book_words.BookWordSource(
        self.model, np.shape(synth[0]["image"]), seed=self.config.seed, spec=spec,
        length=max(1, round(len(synth) * fraction / (1.0 - fraction))))
    words.render_all()  # Before training starts, not inside the first batches.
    return pipeline.MixedSource([synth, words])

  def eval_source(self, data_dir):
    """{split: source} over `config.data.eval_splits` (or the single `eval_split`), plus
    "book_words_test" when `data.book_eval_words` > 0."""
    sources = pipeline.config_eval_sources(self.config.data, data_dir)
    num_words = int(self.config.data.get("book_eval_words", 0))
    if num_words > 0:
      canvas_shape = np.shape(next(iter(sources.values()))[0]["image"])
      spec = book_words.BookWordsSpec(split="test", num_pages=10, word_counts=(1.0,),
                                      p_degrade=0.0)
      sources["book_words_test"] = book_words.BookWordSource(
          self.model, canvas_shape, length=num_words, seed=self.config.seed, spec=spec)
    return sources

  def _encode(self, example) -> dict:
    text = pipeline.as_text(example["text"])
    labels, lengths = self.model.encode(text)
    max_length = self.model.max_length
    weight = float(self.model.charset.fits(text, max_length))
    if self.model.prediction == "ctc" and not ctc_feasible(
        labels[0], int(lengths[0]), ctc_sequence_length(self.model)):
      weight = 0.0
    return {
        "label": labels[0],
        "label_length": lengths[0],
        # Over-long labels were truncated: they no longer match the pixels, train without them.
        "label_weight": np.float32(weight),
        "text": text,
    }

  def preprocess_train(self, example, rng: np.random.Generator) -> dict:
    image = augment.augment_image(np.asarray(example["image"]), rng, self.augment_config)
    return {"image": image, **self._encode(example)}

  def preprocess_eval(self, example) -> dict:
    return {"image": np.asarray(example["image"]), **self._encode(example)}

  # --- Model. --------------------------------------------------------------------------------

  def init_variables(self, rng, batch: Mapping[str, np.ndarray]) -> dict:
    del batch  # Parameter shapes depend on the config only.
    return self.model.init(rng)

  def _forward(self, variables, batch, train: bool):
    model = self.model
    images = model.adapt(batch["image"])
    labels = jnp.asarray(batch["label"], jnp.int32)
    lengths = jnp.asarray(batch["label_length"], jnp.int32)
    decoder_inputs = targets = mask = None
    if model.prediction == "attn":
      decoder_inputs, targets, mask = api.attention_targets(labels, lengths)
    if train:
      logits, new_state = model.module.apply(variables, images, decoder_inputs, train=True,
                                             mutable=["batch_stats"])
    else:
      logits = model.module.apply(variables, images, decoder_inputs, train=False)
      new_state = None
    total, count = api.loss_from_logits(model, logits, labels, lengths, targets, mask)
    return logits, total, count, targets, mask, new_state

  def loss_fn(self, params, model_state, frozen, batch, rng, train: bool):
    del frozen, rng
    variables = {"params": params, **model_state}
    logits, total, count, targets, mask, new_state = self._forward(variables, batch, train)
    weights = jnp.asarray(batch["label_weight"], jnp.float32)
    if "mask" in batch:
      weights = weights * jnp.asarray(batch["mask"], jnp.float32)
    loss = api.weighted_mean(self.model, total, count, weights)
    metrics_ = {"ocr_loss": loss, "label_weight": jnp.mean(weights)}
    if targets is not None:  # Teacher-forced token accuracy (attention only).
      correct = (jnp.argmax(logits, -1) == targets) & mask
      metrics_["token_accuracy"] = jnp.sum(correct) / jnp.maximum(jnp.sum(mask), 1)
    new_model_state = dict(new_state) if new_state is not None else model_state
    return loss, (metrics_, new_model_state)

  def eval_step(self, variables, frozen, batch) -> dict:
    del frozen
    return {"pred_ids": api.recognize(self.model, variables, batch["image"])}

  def eval_summary(self, outputs: list, batches: list) -> dict:
    gts, preds = [], []
    for output, batch in zip(outputs, batches):
      mask = np.asarray(batch.get("mask", np.ones(len(output["pred_ids"]), bool)), bool)
      texts = batch.get("text")
      if texts is None:  # Fall back to the (normalized) encoded labels.
        texts = self.model.decode(batch["label"])
      decoded = self.model.decode(output["pred_ids"])
      for keep, gt, pred in zip(mask, list(texts), decoded):
        if keep:
          gts.append(pipeline.as_text(gt))
          preds.append(pred)
    if not gts:
      return {"ocr_accuracy": float("nan"), "word_accuracy": float("nan"), "num_examples": 0}
    return {
        "ocr_accuracy": metrics.mean_ocr_accuracy(gts, preds),
        "word_accuracy": metrics.word_accuracy(gts, preds),
        "num_examples": len(gts),
    }
