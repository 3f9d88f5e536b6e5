r"""The DnCNN dequantizer as a library: build, load, and restore host images.

    model, variables = api.load()                  # models/dncnn_default/, or a workdir
    restored = api.restore_image(model, variables, degraded)   # uint8 [H, W, 1], any size
    x_hat = api.apply(model, variables, images)    # pure, jit-able: float [B, H, W, C]

`restore_image` checks its input on the host (`errors.ImageInputError`), pads the image to a
multiple of 8 by repeating its border, runs the fully convolutional network on the whole image
and crops back; `dequantize_file` does the same from and to files (`launch.dequantize`).
"""

import dataclasses
import functools
from pathlib import Path
import time
from typing import Optional
from typing import Union

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from PIL import Image

from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax import zoo
from tfic_jax.dequant import models

DEFAULT_MODEL = "dncnn_default"
# Architecture fields of `config.model` (configs/dncnn*.py) and their defaults (the paper's).
MODEL_DEFAULTS = dict(depth=17, features=64, channels=1, bn_momentum=0.9, unshuffle=1)
UNSHUFFLE_FACTORS = (1, 2, 4, 8)  # Divisors of PAD_MULTIPLE: padded images always fit.
PAD_MULTIPLE = 8  # JPEG's block size: the DCT loss, and the grid the model was trained on.
MIN_SIZE = 8  # One 8×8 block.
MAX_PIXELS = 4096 * 4096  # Activations of F channels per pixel must fit in host memory.
_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}


@dataclasses.dataclass(frozen=True)
class Dequantizer:
  """A DnCNN's architecture and compute dtype; holds no parameters (hashable, jit-static)."""
  depth: int
  features: int
  channels: int
  bn_momentum: float
  unshuffle: int = 1
  dtype: str = "float32"

  @property
  def module(self) -> models.DnCNN:
    return models.DnCNN(depth=self.depth, features=self.features, channels=self.channels,
                        bn_momentum=self.bn_momentum, unshuffle=self.unshuffle,
                        dtype=_DTYPES[self.dtype])

  def init(self, rng, height: int = 64, width: int = 256) -> dict:
    """Fresh variables {"params", "batch_stats"} (shapes do not depend on height, width)."""
    images = jnp.zeros((1, height, width, self.channels), jnp.float32)
    return dict(jax.jit(lambda key: self.module.init(key, images, train=False))(rng))

  def abstract_variables(self) -> dict:
    return jax.eval_shape(lambda: self.init(jax.random.key(0), MIN_SIZE, MIN_SIZE))

  def num_params(self) -> int:
    return int(sum(np.prod(x.shape) for x in
                   jax.tree.leaves(self.abstract_variables()["params"])))


def build(config: Union[ml_collections.ConfigDict, dict, Dequantizer],
          dtype: Optional[str] = None) -> Dequantizer:
  """A Dequantizer from a stage config (`config.model`, `config.compute_dtype`) or a model dict.

  Raises:
    TficError: a depth below 2, a non-positive width, or an unknown dtype.
  """
  if isinstance(config, Dequantizer):
    return config if dtype is None else dataclasses.replace(config, dtype=dtype)
  if isinstance(config, ml_collections.ConfigDict):
    config = config.to_dict()
  config = dict(config)
  model_config = dict(config.get("model", config))
  dtype = dtype or config.get("compute_dtype", "float32")
  if dtype not in _DTYPES:
    raise errors.TficError(f"compute dtype {dtype!r}: use one of {sorted(_DTYPES)}")
  fields = {k: type(v)(model_config.get(k, v)) for k, v in MODEL_DEFAULTS.items()}
  if fields["depth"] < 2 or fields["features"] < 1 or fields["channels"] < 1:
    raise errors.TficError(
        f"DnCNN needs depth >= 2 and positive features and channels, got {fields}.")
  if fields["unshuffle"] not in UNSHUFFLE_FACTORS:
    raise errors.TficError(
        f"DnCNN unshuffle must be one of {UNSHUFFLE_FACTORS}, got {fields['unshuffle']}.")
  return Dequantizer(**fields, dtype=dtype)


def load(path: Union[str, Path, None] = None, dtype: Optional[str] = None
         ) -> tuple[Dequantizer, dict]:
  """A trained DnCNN: (Dequantizer, variables).

  Args:
    path: a training workdir (latest checkpoint), a model directory (`variables.msgpack` +
      `config.json`) or a shipped model's name; None: models/dncnn_default.
    dtype: compute dtype override; default: the config's.

  Raises:
    CheckpointError: nothing usable there, or variables that do not fit the config.
  """
  path = DEFAULT_MODEL if path is None else path
  config = zoo.load_config(path)
  if config.get("stage") != "dncnn":
    raise errors.CheckpointError(
        f"{path}: a {config.get('stage')!r} model, not a DnCNN (stage 'dncnn').")
  model = build(config, dtype=dtype)
  variables = zoo.load_variables(path)
  variables = {k: variables[k] for k in ("params", "batch_stats") if k in variables}
  zoo.check_same_structure(variables, model.abstract_variables(), str(path))
  return model, variables


# --- Pure functions (jit-able). ----------------------------------------------------------------


def apply(model: Dequantizer, variables: dict, images) -> jax.Array:
  """x̂ = x − r̂ in inference mode: images float [B, H, W, C] in [0, 1] → float32, unclipped."""
  return model.module.apply(variables, images, train=False)


@functools.partial(jax.jit, static_argnums=0)
def _restore_batch(model: Dequantizer, variables: dict, images_uint8) -> jax.Array:
  """uint8 [B, H, W, C] → restored uint8 [B, H, W, C] (clipped to [0, 1], rounded)."""
  x_hat = apply(model, variables, images_uint8.astype(jnp.float32) / 255.0)
  return jnp.round(jnp.clip(x_hat, 0.0, 1.0) * 255.0).astype(jnp.uint8)


# --- Host images. ------------------------------------------------------------------------------


def check_input(model: Dequantizer, image, name: str = "image") -> np.ndarray:
  """Checks a host image for the model; returns uint8 [H, W, C].

  Float images must lie in [0, 1]. Raises ImageInputError for a wrong type, channel count
  (convert RGB to grayscale first: `imageio.load_image(path, "L")`), an image smaller than
  8×8, or one of more than MAX_PIXELS pixels.
  """
  image = imageio.check_image_array(image, channels=model.channels, min_size=MIN_SIZE, name=name)
  height, width, _ = image.shape
  if height * width > MAX_PIXELS:
    raise errors.ImageInputError(
        f"{name}: {height}×{width} is more than {MAX_PIXELS:,} pixels; restore it in tiles.")
  if image.dtype != np.uint8:
    if image.min() < 0.0 or image.max() > 1.0:
      raise errors.ImageInputError(
          f"{name}: float images must lie in [0, 1], got [{image.min():.4g}, {image.max():.4g}].")
    image = np.round(image * 255.0).astype(np.uint8)
  return image


def pad_to_multiple(image: np.ndarray, multiple: int = PAD_MULTIPLE) -> np.ndarray:
  """Pads [H, W, C] at the bottom and right to multiples of `multiple` (border repeated)."""
  height, width = image.shape[:2]
  pad_h, pad_w = -height % multiple, -width % multiple
  return np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def restore_images(model: Dequantizer, variables: dict, images: np.ndarray) -> np.ndarray:
  """Restores a batch of same-size images: uint8 [B, H, W, C] → uint8 [B, H, W, C].

  H and W need not be multiples of 8 (padded and cropped back); each batch shape compiles once.
  """
  images = np.asarray(images)
  if images.ndim != 4 or images.shape[0] == 0:
    raise errors.ImageInputError(
        f"restore_images: expected a batch [B, H, W, C], got shape {images.shape}.")
  checked = [check_input(model, image, f"images[{i}]") for i, image in enumerate(images)]
  height, width = checked[0].shape[:2]
  padded = np.stack([pad_to_multiple(image) for image in checked])
  restored = _restore_batch(model, variables, padded)
  return np.asarray(restored)[:, :height, :width]


def restore_image(model: Dequantizer, variables: dict, image) -> np.ndarray:
  """Restores one image (a patch or a whole page): uint8 or [0, 1] float [H, W(, C)] → uint8
  [H, W, C]."""
  return restore_images(model, variables, check_input(model, image)[None])[0]


def dequantize_file(input_path, output_path, model_path=None) -> dict:
  """Reads a degraded image (any format Pillow reads; converted to grayscale), restores it and
  writes it (format from the extension, e.g. .png). Returns {"shape", "seconds", "model"}.

  Raises:
    ImageInputError: a missing, unreadable or unsuitable input, or an output extension Pillow
      cannot write (checked before the model runs).
    CheckpointError: no usable model at `model_path` (default: models/dncnn_default).
  """
  image = imageio.load_image(input_path, "L")
  _check_output_path(output_path)
  model, variables = load(model_path)
  start = time.perf_counter()
  restored = restore_image(model, variables, image)
  seconds = time.perf_counter() - start
  imageio.save_image(output_path, restored)
  return {"shape": restored.shape, "seconds": seconds,
          "model": str(model_path or DEFAULT_MODEL)}


def _check_output_path(output_path) -> None:
  extension = Path(output_path).suffix.lower()
  Image.init()
  if extension not in Image.EXTENSION or Image.EXTENSION[extension] not in Image.SAVE:
    raise errors.ImageInputError(
        f"{output_path}: cannot write {extension or 'files without an extension'!r}; use .png.")
  if Path(output_path).is_dir():
    raise errors.ImageInputError(f"{output_path}: is a directory, expected a file name.")
