"""The CRAFT word detector for launchers and other stages (OCR-guided dequantization).

    detector, variables = api.load()                 # models/craft_default, or a workdir
    found = api.detect(detector, variables, image)   # DetectionBoxes in image pixels
    maps = api.predict_maps(detector, variables, x)  # jit-able: [B, H/2, W/2, 2]

Images are uint8 (or float in [0, 1]) [H, W, C] with C = 1 or 3 on the host. Book text is
small (lines 10–14 px), so `detect` first magnifies the image by `mag_ratio` (the reference's
`--mag_ratio`; 2 here): the maps are then at the page's own resolution, which keeps the 2 px
word gaps of condensed fonts apart (at half resolution, even exact target maps lose a quarter
of the words; docs/detect.md).
"""

import dataclasses
import functools
from pathlib import Path
from typing import Optional
from typing import Union

import cv2
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax import zoo
from tfic_jax.detect import craft
from tfic_jax.detect import postprocess

DEFAULT_MODEL = "craft_default"
MULTIPLE = 16  # Four 2× poolings.
MIN_SIZE = 16

# Architecture fields of `config.model` (configs/craft*.py) and their defaults (the reference).
MODEL_DEFAULTS = dict(**craft.REFERENCE_WIDTHS)
# Inference fields of `config.detect`: magnification and the reference's thresholds.
DETECT_DEFAULTS = dict(mag_ratio=2.0, text_threshold=0.7, link_threshold=0.4, low_text=0.4,
                       min_size=10)
_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def _freeze(value):
  if isinstance(value, (list, tuple)):
    return tuple(_freeze(v) for v in value)
  return value


@dataclasses.dataclass(frozen=True)
class Detector:
  """A CRAFT definition (architecture + inference settings). Hashable (jit-static)."""
  spec: tuple  # sorted (field, value) pairs of MODEL_DEFAULTS
  detect_spec: tuple  # sorted (field, value) pairs of DETECT_DEFAULTS
  dtype: str = "float32"

  @property
  def fields(self) -> dict:
    return dict(self.spec)

  @property
  def settings(self) -> dict:
    return dict(self.detect_spec)

  @property
  def mag_ratio(self) -> float:
    return float(self.settings["mag_ratio"])

  @property
  def thresholds(self) -> postprocess.Thresholds:
    s = self.settings
    return postprocess.Thresholds(text=float(s["text_threshold"]),
                                  link=float(s["link_threshold"]),
                                  low_text=float(s["low_text"]), min_size=int(s["min_size"]))

  @functools.cached_property
  def module(self) -> craft.CRAFT:
    return craft.CRAFT(dtype=_DTYPES[self.dtype], **self.fields)

  def init(self, rng, shape=(MIN_SIZE * 2, MIN_SIZE * 2)) -> dict:
    """Fresh variables {"params", "batch_stats"} (parameters do not depend on `shape`)."""
    images = jnp.zeros((1, *shape, 1), jnp.float32)
    return dict(jax.jit(lambda r: self.module.init(r, images, train=False))(rng))

  def abstract_variables(self) -> dict:
    return jax.eval_shape(lambda: self.init(jax.random.key(0)))

  def num_params(self) -> int:
    return int(sum(np.prod(x.shape) for x in
                   jax.tree.leaves(self.abstract_variables()["params"])))


def build(config: Union[ml_collections.ConfigDict, dict], dtype: Optional[str] = None
          ) -> Detector:
  """A Detector from a stage config (`config.model`, `config.detect`, `config.compute_dtype`)."""
  if isinstance(config, ml_collections.ConfigDict):
    config = config.to_dict()
  config = dict(config)
  model_config = dict(config.get("model") or {})
  detect_config = dict(config.get("detect") or {})
  dtype = dtype or config.get("compute_dtype", "float32")
  if dtype not in _DTYPES:
    raise errors.TficError(f"compute dtype {dtype!r}: use one of {sorted(_DTYPES)}")
  fields = {k: _freeze(model_config.get(k, v)) for k, v in MODEL_DEFAULTS.items()}
  settings = {k: _freeze(detect_config.get(k, v)) for k, v in DETECT_DEFAULTS.items()}
  if len(fields["vgg_widths"]) != 5 or len(fields["decoder_widths"]) != 4 or len(
      fields["head_widths"]) != 4:
    raise errors.TficError("CRAFT widths: model.vgg_widths needs 5 entries, "
                           "model.decoder_widths and model.head_widths 4 each")
  if float(settings["mag_ratio"]) <= 0:
    raise errors.TficError(f"detect.mag_ratio must be > 0, got {settings['mag_ratio']}")
  return Detector(tuple(sorted(fields.items())), tuple(sorted(settings.items())), dtype)


def load(path: Union[str, Path, None] = None, dtype: Optional[str] = None
         ) -> tuple[Detector, dict]:
  """Loads a trained detector: a workdir, a model directory or a shipped model's name
  (default: models/craft_default). Raises CheckpointError if it is missing or does not fit."""
  if path is None:
    path = DEFAULT_MODEL
    if not (zoo.MODELS_DIR / DEFAULT_MODEL).is_dir():
      raise errors.CheckpointError(
          f"The default detector is not shipped: {zoo.MODELS_DIR / DEFAULT_MODEL} does "
          "not exist. Train one (docs/detect.md) and pass its workdir.")
  config = zoo.load_config(path, ("craft",))
  if config.get("stage") not in (None, "craft"):
    raise errors.CheckpointError(f"{path}: a {config.get('stage')!r} model, not a CRAFT detector")
  detector = build(config, dtype=dtype)
  variables = zoo.load_variables(path)
  check_variables(detector, variables, where=str(path))
  return detector, variables


def check_variables(detector: Detector, variables: dict, where: str = "variables") -> None:
  """Raises CheckpointError unless `variables` match the detector's parameter shapes."""
  expected = detector.abstract_variables()
  try:
    mismatched = jax.tree.map(lambda e, v: tuple(e.shape) != tuple(np.shape(v)), expected,
                              {k: variables.get(k) for k in expected})
  except (ValueError, TypeError) as e:
    raise errors.CheckpointError(
        f"{where}: the variables do not have the structure of the configured CRAFT ({e})"
    ) from e
  if any(jax.tree.leaves(mismatched)):
    raise errors.CheckpointError(f"{where}: parameter shapes differ from the configured CRAFT")


# --- Pure (jit-able). ------------------------------------------------------------------------


def predict_maps(detector: Detector, variables: dict, images) -> jnp.ndarray:
  """Inference maps [B, H/2, W/2, 2] (region, affinity) of images [B, H, W, 1] in [0, 1]
  (H, W multiples of 16)."""
  frozen = {k: v for k, v in variables.items() if k in ("params", "batch_stats")}
  return detector.module.apply(frozen, images, train=False)


@functools.lru_cache(maxsize=8)
def _predict_fn(detector: Detector):
  return jax.jit(functools.partial(predict_maps, detector))


# --- Host. ------------------------------------------------------------------------------------


def to_gray_float(image, name: str = "image") -> np.ndarray:
  """uint8 / float [0, 1] image [H, W, 1|3] (or [H, W]) → float32 [H, W] in [0, 1]."""
  image = imageio.check_image_array(image, channels=(1, 3), min_size=MIN_SIZE // 2, name=name)
  gray = image.astype(np.float32)
  if image.dtype == np.uint8:
    gray = gray / 255.0
  elif gray.min() < 0.0 or gray.max() > 1.0:
    raise errors.ImageInputError(f"{name}: float images must lie in [0, 1], got "
                                 f"[{gray.min():.4g}, {gray.max():.4g}]")
  if gray.shape[-1] == 3:  # ITU-R 601-2 luma, as Pillow's RGB → L.
    gray = gray @ np.float32([0.299, 0.587, 0.114])[:, None]
  return gray[..., 0]


def magnify(gray: np.ndarray, mag_ratio: float) -> np.ndarray:
  """float [H, W] → float [round(H·mag), round(W·mag)], bilinear (cv2, half-pixel centres)."""
  height, width = gray.shape
  size = (max(1, int(round(width * mag_ratio))), max(1, int(round(height * mag_ratio))))
  if size == (width, height):
    return gray
  return cv2.resize(gray, size, interpolation=cv2.INTER_LINEAR)


def pad_to_multiple(gray: np.ndarray, multiple: int = MULTIPLE, value: float = 1.0
                    ) -> np.ndarray:
  """Pads [H, W] on the bottom and right with white to multiples of `multiple`."""
  height, width = gray.shape
  pad_h, pad_w = -height % multiple, -width % multiple
  return np.pad(gray, ((0, pad_h), (0, pad_w)), constant_values=value)


def image_maps(detector: Detector, variables: dict, image) -> np.ndarray:
  """Maps [h, w, 2] of one host image at `mag_ratio / 2` of its resolution (padding removed)."""
  gray = magnify(to_gray_float(image), detector.mag_ratio)
  height, width = gray.shape
  padded = pad_to_multiple(gray)[None, :, :, None]
  maps = np.asarray(_predict_fn(detector)(variables, padded))[0]
  return maps[:(height + 1) // 2, :(width + 1) // 2]


def detect(detector: Detector, variables: dict, image,
           thresholds: Optional[postprocess.Thresholds] = None) -> postprocess.DetectionBoxes:
  """Word boxes of one image, in its pixel coordinates (see `postprocess.word_boxes`)."""
  maps = image_maps(detector, variables, image)
  found = postprocess.word_boxes(maps[..., 0], maps[..., 1], thresholds or detector.thresholds)
  height, width = np.shape(image)[:2]
  found = found.scaled(2.0 / detector.mag_ratio)
  found.boxes[:] = np.clip(found.boxes, 0, [width, height, width, height])
  return found
