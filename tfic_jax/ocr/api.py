"""Pure, jit-able OCR API for the other stages (TFIC, OCR-guided dequantization) and launchers.

    model, variables = api.load()              # models/ocr_default/, or a workdir / model dir
    model = api.build(config); variables = model.init(rng)   # a fresh model
    ids = api.recognize(model, variables, images)           # [B, T] label ids, 0 = padding
    texts = api.decode(model, ids)                           # host: list[str]
    loss = api.ocr_loss(model, variables, images, labels, label_lengths)   # scalar

`images` is anything `tfic_jax.ocr.adapter.adapt` accepts (uint8 or float [0, 1], [B, H, W, C]
with C = 1 or 3, any size). The recognizer always runs in inference mode here (BatchNorm uses
its running averages, no collection is mutated): these functions are for a *frozen* judge, and
differentiable w.r.t. `images`. Labels come from `model.encode(texts)` (see `charset`).
"""

import dataclasses
import functools
from pathlib import Path
from typing import Optional
from typing import Sequence
from typing import Union

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from tfic_jax import errors
from tfic_jax import zoo
from tfic_jax.ocr import adapter
from tfic_jax.ocr import charset as charset_lib
from tfic_jax.ocr import models
from tfic_jax.ocr import sampling

DEFAULT_MODEL = "ocr_default"

# Architecture fields of `config.model` (configs/ocr_*.py) and their defaults (TRBA, 32×100).
MODEL_DEFAULTS = dict(
    prediction="attn",
    transformation="tps",
    feature_extractor="resnet",
    sequence_model="bilstm",
    input_size=(32, 100),
    resize_mode="stretch",
    output_channel=512,
    hidden_size=256,
    resnet_layers=(1, 2, 5, 3),
    num_fiducial=20,
    tps_channels=(64, 128, 256, 512),
    tps_fc_features=256,
    max_length=25,
    charset="alnum36",
    include_space=False,
    # How `crop_words` / `read_words` turn a word box into the input (`WORD_RESIZE_MODES`):
    # "pad" (the reference's NormalizePAD on the tight box; what models trained on lines only
    # expect, so it stays the default for configs that do not name one) or "canvas"
    # (`sampling.crop_canvas`: the text on a plain canvas laid out like a training line; the
    # OCR configs train on book words cropped this way). The word_* fields are its layout.
    word_resize_mode="pad",
    word_text_height=0.45,
    word_stretch=2.0,
    word_max_fill=0.9,
    word_margin=0.05,
)

WORD_RESIZE_MODES = ("pad", "stretch", "canvas")

_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}


def _freeze(value):
  if isinstance(value, (list, tuple)):
    return tuple(_freeze(v) for v in value)
  return value


@dataclasses.dataclass(frozen=True)
class OCRModel:
  """A recognizer definition: architecture + charset + input size. Hashable (jit-static).

  Attributes:
    spec: sorted tuple of (field, value) pairs, the architecture fields of MODEL_DEFAULTS.
    dtype: compute dtype name ("float32" | "bfloat16"); parameters are always float32.
  """
  spec: tuple
  dtype: str = "float32"

  @property
  def fields(self) -> dict:
    return dict(self.spec)

  def __getattr__(self, name):
    # Convenience read access to the architecture fields (model.input_size, model.prediction).
    if name in MODEL_DEFAULTS:
      return dict(self.spec)[name]
    raise AttributeError(name)

  @functools.cached_property
  def charset(self) -> charset_lib.Charset:
    return charset_lib.get_charset(self.fields["charset"], self.fields["include_space"])

  @property
  def num_classes(self) -> int:
    # CTC: blank + N; attention: [GO] + [s] + N.
    return self.charset.size + (1 if self.fields["prediction"] == "ctc" else 2)

  @functools.cached_property
  def module(self) -> models.Recognizer:
    f = self.fields
    return models.Recognizer(
        num_classes=self.num_classes,
        prediction=f["prediction"],
        transformation=f["transformation"],
        feature_extractor=f["feature_extractor"],
        sequence_model=f["sequence_model"],
        input_size=tuple(f["input_size"]),
        output_channel=f["output_channel"],
        hidden_size=f["hidden_size"],
        resnet_layers=tuple(f["resnet_layers"]),
        num_fiducial=f["num_fiducial"],
        tps_channels=tuple(f["tps_channels"]),
        tps_fc_features=f["tps_fc_features"],
        max_length=f["max_length"],
        dtype=_DTYPES[self.dtype])

  # --- Host helpers. -------------------------------------------------------------------------

  def encode(self, texts, strict: bool = False, overlong: str = "truncate"):
    """Texts → (labels int32 [B, max_length], lengths int32 [B]); see `charset`."""
    return self.charset.encode(texts, self.fields["max_length"], strict=strict,
                               overlong=overlong)

  def decode(self, ids) -> list[str]:
    return self.charset.decode(np.asarray(ids))

  def adapt(self, images, resize_mode: Optional[str] = None) -> jnp.ndarray:
    return adapter.adapt(images, self.fields["input_size"],
                         resize_mode or self.fields["resize_mode"])

  def init(self, rng, batch_size: int = 1) -> dict:
    """Fresh variables {"params", "batch_stats"}."""
    images = jnp.zeros((batch_size,) + tuple(self.fields["input_size"]) + (1,), jnp.float32)
    decoder_inputs = None
    if self.fields["prediction"] == "attn":
      decoder_inputs = jnp.zeros((batch_size, self.fields["max_length"] + 1), jnp.int32)
    # Jitted: an eager init runs the LSTM scans op by op (~20 s on CPU even for tiny models).
    # Parameters are drawn from an RBG key derived from `rng` (still deterministic in it):
    # threefry bits for every parameter shape take 5-10× longer to compile on CPU.
    def init(rng):
      if jnp.issubdtype(rng.dtype, jax.dtypes.prng_key):
        seed_bits = jax.random.bits(rng, (4,), jnp.uint32)
      else:  # A raw uint32[2] key.
        seed_bits = jax.random.bits(jax.random.wrap_key_data(rng), (4,), jnp.uint32)
      rbg_key = jax.random.wrap_key_data(seed_bits, impl="rbg")
      return self.module.init({"params": rbg_key}, images, decoder_inputs, train=False)
    return dict(jax.jit(init)(rng))

  def abstract_variables(self) -> dict:
    return jax.eval_shape(lambda: self.init(jax.random.key(0)))

  def num_params(self) -> int:
    return int(sum(np.prod(x.shape) for x in
                   jax.tree.leaves(self.abstract_variables()["params"])))


def build(config: Union[ml_collections.ConfigDict, dict, OCRModel],
          dtype: Optional[str] = None) -> OCRModel:
  """An OCRModel from a stage config (uses `config.model`, `config.compute_dtype`) or a model
  config dict. Unknown model fields are ignored; missing ones take MODEL_DEFAULTS."""
  if isinstance(config, OCRModel):
    return config if dtype is None else dataclasses.replace(config, dtype=dtype)
  if isinstance(config, ml_collections.ConfigDict):
    config = config.to_dict()
  config = dict(config)
  model_config = dict(config.get("model", config))
  if dtype is None:
    dtype = config.get("compute_dtype", model_config.get("dtype", "float32"))
  if dtype not in _DTYPES:
    raise errors.TficError(f"compute dtype {dtype!r}: use one of {sorted(_DTYPES)}")
  fields = {k: _freeze(model_config.get(k, v)) for k, v in MODEL_DEFAULTS.items()}
  if fields["prediction"] not in ("attn", "ctc"):
    raise errors.TficError(f"model.prediction must be 'attn' or 'ctc', got "
                           f"{fields['prediction']!r}")
  if fields["resize_mode"] not in adapter.RESIZE_MODES:
    raise errors.TficError(f"model.resize_mode must be one of {adapter.RESIZE_MODES}")
  if fields["word_resize_mode"] not in WORD_RESIZE_MODES:
    raise errors.TficError(f"model.word_resize_mode must be one of {WORD_RESIZE_MODES}")
  return OCRModel(tuple(sorted(fields.items())), dtype)


def load(path: Union[str, Path, None] = None, dtype: Optional[str] = None,
         config=None) -> tuple[OCRModel, dict]:
  """Loads a trained recognizer: (OCRModel, variables).

  Args:
    path: a training workdir (latest checkpoint), a shipped model directory
      (`variables.msgpack` + `config.json`) or a shipped model's name under models/. None:
      the default judge, models/ocr_default/.
    dtype: compute dtype override (e.g. "bfloat16"); default: the config's.
    config: the training config, if the directory has no config.json.

  Raises:
    CheckpointError: nothing usable there, or variables that do not fit the config.
  """
  if path is None:
    path = DEFAULT_MODEL
    if not (zoo.MODELS_DIR / DEFAULT_MODEL).is_dir():
      raise errors.CheckpointError(
          f"The default OCR judge is not shipped yet: {zoo.MODELS_DIR / DEFAULT_MODEL} "
          "does not exist. Train one (docs/ocr.md) and pass --workdir, or export it there.")
  if config is None:
    config = zoo.load_config(path, ("ocr",))
  model = build(config, dtype=dtype)
  variables = zoo.load_variables(path)
  check_variables(model, variables, where=str(path))
  return model, variables


def check_variables(model: OCRModel, variables: dict, where: str = "variables") -> None:
  """Raises CheckpointError unless `variables` match the model's parameter shapes."""
  expected = model.abstract_variables()
  got = {k: variables.get(k) for k in expected}
  if any(v is None for v in got.values()):
    raise errors.CheckpointError(
        f"{where}: missing collections {[k for k, v in got.items() if v is None]}")
  try:
    mismatched = jax.tree.map(lambda e, v: tuple(e.shape) != tuple(np.shape(v)), expected, got)
  except ValueError as e:
    raise errors.CheckpointError(
        f"{where}: the variables do not have the structure of the configured OCR model "
        f"({e})") from e
  if any(jax.tree.leaves(mismatched)):
    raise errors.CheckpointError(f"{where}: parameter shapes differ from the configured model")


# --- Pure functions (jit-able). ----------------------------------------------------------------


def _model(model_or_config) -> OCRModel:
  return model_or_config if isinstance(model_or_config, OCRModel) else build(model_or_config)


def logits(model, variables, images, decoder_inputs=None, resize_mode=None) -> jnp.ndarray:
  """Inference-mode logits; see `models.Recognizer`."""
  model = _model(model)
  x = model.adapt(images, resize_mode)
  frozen_vars = {k: v for k, v in variables.items() if k in ("params", "batch_stats")}
  return model.module.apply(frozen_vars, x, decoder_inputs, train=False)


def ids_from_logits(model, logits_: jnp.ndarray) -> jnp.ndarray:
  """Greedy logits → label ids [B, T] (0-padded, left-aligned)."""
  model = _model(model)
  best = jnp.argmax(logits_, axis=-1).astype(jnp.int32)  # [B, T]
  if model.prediction == "ctc":
    # Collapse repeats, drop blanks, then pack the kept ids to the left.
    previous = jnp.pad(best[:, :-1], ((0, 0), (1, 0)), constant_values=-1)
    keep = (best != 0) & (best != previous)
    position = jnp.where(keep, jnp.cumsum(keep, axis=1) - 1, best.shape[1])
    rows = jnp.arange(best.shape[0])[:, None]
    return jnp.zeros_like(best).at[rows, position].set(best, mode="drop")
  # Attention: classes are label + 1; stop at the first [s] (class 1), [GO] reads as padding.
  ended = jnp.cumsum(best == 1, axis=1) > 0
  return jnp.where(ended | (best == 0), 0, best - 1)


def recognize(model, variables, images, resize_mode: Optional[str] = None) -> jnp.ndarray:
  """Greedy recognition → label ids int32 [B, T], 0-padded (T: CTC time steps, or
  max_length + 1 for attention). `decode` turns them into strings."""
  return ids_from_logits(model, logits(model, variables, images, resize_mode=resize_mode))


def decode(model, ids) -> list[str]:
  """Label ids [B, T] → strings (host)."""
  return _model(model).decode(ids)


def attention_targets(labels: jnp.ndarray, lengths: jnp.ndarray):
  """Teacher-forcing inputs, targets and mask [B, max_length + 1] from label ids.

  inputs = [GO] c1 .. cL (pad), targets = c1 .. cL [s] (pad), mask on the L + 1 real targets.
  """
  batch, max_length = labels.shape
  steps = jnp.arange(max_length + 1)[None]  # [1, S]
  chars = jnp.where(steps[:, :max_length] < lengths[:, None], labels + 1, 0)  # classes
  inputs = jnp.concatenate([jnp.zeros((batch, 1), jnp.int32), chars], axis=1)
  chars_ext = jnp.concatenate([chars, jnp.zeros((batch, 1), jnp.int32)], axis=1)
  targets = jnp.where(steps == lengths[:, None], 1, chars_ext)
  mask = steps <= lengths[:, None]
  return inputs.astype(jnp.int32), targets.astype(jnp.int32), mask


def loss_from_logits(model, logits_, labels, lengths, targets=None, mask=None):
  """Per-example loss [B] and token count [B] (the denominator of the token mean).

  Attention: summed cross-entropy over the L + 1 targets (incl. [s]) and count L + 1.
  CTC: negative log-likelihood and count max(L, 1) (PyTorch's CTCLoss "mean" normalization).
  """
  model = _model(model)
  logits_ = logits_.astype(jnp.float32)
  if model.prediction == "ctc":
    max_length = labels.shape[1]
    label_paddings = (jnp.arange(max_length)[None] >= lengths[:, None]).astype(jnp.float32)
    logit_paddings = jnp.zeros(logits_.shape[:2], jnp.float32)
    nll = optax.ctc_loss(logits_, logit_paddings, labels, label_paddings, blank_id=0)
    return nll, jnp.maximum(lengths, 1).astype(jnp.float32)
  if targets is None:
    _, targets, mask = attention_targets(labels, lengths)
  ce = optax.softmax_cross_entropy_with_integer_labels(logits_, targets)  # [B, S]
  mask = mask.astype(jnp.float32)
  return jnp.sum(ce * mask, axis=1), jnp.sum(mask, axis=1)


def _loss_terms(model, variables, images, labels, label_lengths, resize_mode):
  """Summed loss and token count per example ([B], [B]) for either head."""
  labels = jnp.asarray(labels, jnp.int32)
  label_lengths = jnp.asarray(label_lengths, jnp.int32)
  decoder_inputs = targets = mask = None
  if model.prediction == "attn":
    decoder_inputs, targets, mask = attention_targets(labels, label_lengths)
  out = logits(model, variables, images, decoder_inputs, resize_mode)
  return loss_from_logits(model, out, labels, label_lengths, targets, mask)


def per_example_loss(model, variables, images, labels, label_lengths,
                     resize_mode: Optional[str] = None):
  """Per-example OCR loss [B] (each normalized by its own token count)."""
  total, count = _loss_terms(_model(model), variables, images, labels, label_lengths,
                             resize_mode)
  return total / count


def ocr_loss(model, variables, images, labels, label_lengths, weights=None,
             resize_mode: Optional[str] = None) -> jnp.ndarray:
  """Scalar OCR loss of a frozen recognizer, differentiable w.r.t. `images` (paper §3.2).

  Attention (TRBA): token-mean cross-entropy with teacher forcing, as the reference trains it.
  CTC (CRNN): CTC NLL divided by the label length, averaged over the batch.

  Args:
    labels, label_lengths: from `model.encode(texts)`: int [B, max_length], [B].
    weights: optional [B] example weights (e.g. 0 for padding examples).
  """
  model = _model(model)
  total, count = _loss_terms(model, variables, images, labels, label_lengths, resize_mode)
  return weighted_mean(model, total, count, weights)


def weighted_mean(model, total, count, weights=None) -> jnp.ndarray:
  """Reduction shared by `ocr_loss` and the training stage.

  Attention: sum of token losses / number of tokens (the reference's CrossEntropyLoss mean);
  CTC: mean over examples of NLL / length (PyTorch's CTCLoss "mean").
  """
  if weights is None:
    weights = jnp.ones_like(total)
  weights = jnp.asarray(weights, jnp.float32)
  if _model(model).prediction == "ctc":
    return jnp.sum(weights * total / count) / jnp.maximum(jnp.sum(weights), 1e-6)
  return jnp.sum(weights * total) / jnp.maximum(jnp.sum(weights * count), 1e-6)


# --- Word-by-word reading of long lines (book patches). -----------------------------------------


def crop_words(model, image, word_boxes, resize_mode: Optional[str] = None) -> jnp.ndarray:
  """Crops word boxes [N, 4] (x0, y0, x1, y1) of one image [H, W, C] to the recognizer's input:
  [N, h, w, 1] float in [-1, 1] (jit-able, differentiable w.r.t. the image).

  `resize_mode` (default: the model's `word_resize_mode`): "canvas" lays each box out like a
  training line (`sampling.crop_canvas` with the model's word_* fields; give boxes the height of
  their line), "pad" scales the tight box to the input height and repeats its last column,
  "stretch" stretches it to the input size.
  """
  model = _model(model)
  resize_mode = resize_mode or model.word_resize_mode
  if resize_mode not in WORD_RESIZE_MODES:
    raise ValueError(f"resize_mode must be one of {WORD_RESIZE_MODES}, got {resize_mode!r}")
  if np.ndim(image) == 4 and np.shape(image)[0] != 1:
    raise errors.ImageInputError(f"crop_words reads one image, got a batch {np.shape(image)}")
  gray = adapter.to_gray(image)[0]  # [H, W, 1] in [0, 1]
  if resize_mode == "canvas":
    crops = sampling.crop_canvas(
        gray, word_boxes, tuple(model.input_size), text_height=model.word_text_height,
        stretch=model.word_stretch, max_fill=model.word_max_fill, margin=model.word_margin)
  else:
    crops = sampling.crop_boxes(gray, word_boxes, tuple(model.input_size),
                                keep_aspect=(resize_mode == "pad"))
  return crops * 2.0 - 1.0


def read_words(model, variables, image, word_boxes: Sequence[Sequence[float]],
               resize_mode: Optional[str] = None) -> str:
  """Reads a long line (e.g. a book patch line) word by word from word boxes and joins the
  words with single spaces (host). TRBA reads at most 25 characters at once, a book line has
  ~40, so lines are never read in one go. `resize_mode`: see `crop_words`."""
  model = _model(model)
  word_boxes = np.asarray(word_boxes, np.float32).reshape(-1, 4)
  if word_boxes.shape[0] == 0:
    return ""
  ids = _read_words_fn(model, resize_mode or model.word_resize_mode)(variables, image,
                                                                     word_boxes)
  return " ".join(w for w in decode(model, ids) if w)


@functools.lru_cache(maxsize=16)
def _read_words_fn(model: OCRModel, resize_mode: str):
  def read(variables, image, word_boxes):
    crops = crop_words(model, image, word_boxes, resize_mode)  # [N, h, w, 1] in [-1, 1]
    frozen_vars = {k: v for k, v in variables.items() if k in ("params", "batch_stats")}
    return ids_from_logits(model, model.module.apply(frozen_vars, crops, None, train=False))
  return jax.jit(read)
