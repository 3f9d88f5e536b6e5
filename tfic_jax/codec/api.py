"""The codec as other code uses it: build from a config, load a trained one, pure forward pass.

    model, variables = api.load("codec_mse_q2")     # shipped name, model dir or workdir
    out = api.forward(model, variables, images)      # jit-able: x_hat, bpp estimate, ...
    data = bitstream.compress(model, variables, image)   # real files: see bitstream.py

Shipped models live in `models/codec_{kind}_q{quality}`, quality 1 = lowest rate, like
CompressAI's zoo. Kinds: "mse" = stage 1 on CompressAI's λ grid, "mse_low" = the MSE control
for stage 2 (λ below the grid, stage 2's recipe: configs/codec_mse_lowrate_small.py), "tfic" =
stage 2, "doc" = stage 1 fine-tuned on real document pages as well as lines (issue 27:
configs/codec_mse_small.py with `data.mix`; their cards).
"""

import dataclasses
import hashlib
from pathlib import Path
from typing import Union

import flax
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from tfic_jax import errors
from tfic_jax import zoo
from tfic_jax.codec import model as model_lib

_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
PAD_MULTIPLE = 64  # g_a ∘ h_a downsample by 64.
KINDS = ("mse", "mse_low", "tfic", "doc")


@dataclasses.dataclass(frozen=True)
class CodecModel:
  """Static description of a codec: architecture fields and compute dtype (hashable)."""
  fields: tuple
  dtype: str = "float32"

  @property
  def field_dict(self) -> dict:
    return dict(self.fields)

  @property
  def module(self) -> model_lib.Codec:
    return model_lib.Codec(flax.core.FrozenDict(self.field_dict), _DTYPES[self.dtype])

  @property
  def host_module(self) -> model_lib.Codec:
    """The same network in float64, for the entropy parameters on the CPU (bitstream.py)."""
    return model_lib.Codec(flax.core.FrozenDict(self.field_dict), jnp.float64)

  @property
  def num_slices(self) -> int:
    return int(self.field_dict["num_slices"])

  def shapes(self, height: int, width: int) -> model_lib.Shapes:
    return model_lib.shapes(self.field_dict, height, width)

  def init(self, rng, height: int = 64, width: int = 64) -> dict:
    x = jnp.zeros((1, height, width, 3), jnp.float32)
    return jax.jit(lambda r: self.module.init(r, x))(rng)

  def abstract_variables(self) -> dict:
    return jax.eval_shape(lambda: self.module.init(jax.random.PRNGKey(0),
                                                   jnp.zeros((1, 64, 64, 3), jnp.float32)))

  def num_params(self) -> int:
    return model_lib.count_params(self.abstract_variables()["params"])


def build(config: Union[ml_collections.ConfigDict, dict], dtype: str | None = None) -> CodecModel:
  """A CodecModel from a training config (its `model` section and `compute_dtype`)."""
  if isinstance(config, ml_collections.ConfigDict):
    config = config.to_dict()
  config = dict(config)
  if dtype is None:
    dtype = config.get("compute_dtype", "float32")
  if dtype not in _DTYPES:
    raise errors.TficError(f"compute dtype {dtype!r}: use one of {sorted(_DTYPES)}")
  try:
    fields = model_lib.model_fields(config.get("model", {}))
  except ValueError as e:
    raise errors.TficError(str(e)) from e
  return CodecModel(tuple(sorted(fields.items())), dtype)


def identity(variables) -> bytes:
  """8-byte fingerprint of a model's variables (recorded in every bitstream's header)."""
  data = flax.serialization.msgpack_serialize(jax.tree.map(np.asarray, variables))
  return hashlib.sha256(data).digest()[:8]


def shipped_name(kind: str, quality: int) -> str:
  return f"codec_{kind}_q{quality}"


def shipped_qualities(kind: str) -> list[int]:
  found = []
  for path in sorted(zoo.MODELS_DIR.glob(f"codec_{kind}_q*")):
    suffix = path.name.rsplit("_q", 1)[-1]
    if suffix.isdigit() and (path / zoo.VARIABLES_FILE).is_file():
      found.append(int(suffix))
  return sorted(found)


def resolve(workdir: str | None = None, kind: str = "mse", quality: int = 1) -> str:
  """A workdir if given, else the shipped `codec_{kind}_q{quality}` (clear error if absent)."""
  if workdir:
    return workdir
  if kind not in KINDS:
    raise errors.TficError(f"--model must be one of {KINDS}, got {kind!r}")
  qualities = shipped_qualities(kind)
  if quality not in qualities:
    raise errors.CheckpointError(
        f"No shipped {kind} codec at quality {quality}: shipped qualities are "
        f"{qualities or 'none'} (models/{shipped_name(kind, quality)}). Pass --workdir=DIR "
        "for a model you trained.")
  return shipped_name(kind, quality)


@dataclasses.dataclass(frozen=True)
class LoadedCodec:
  model: CodecModel
  variables: dict
  name: str  # What the header records: the shipped name or the directory's name.
  fingerprint: bytes


def load(path: Union[str, Path], dtype: str | None = None) -> LoadedCodec:
  """Loads a trained codec from a workdir, model dir or shipped model name."""
  config = zoo.load_config(path, ("codec",))
  if config.get("stage") not in ("codec",):
    raise errors.CheckpointError(f"{path} holds a {config.get('stage')!r} model, not a codec.")
  model = build(config, dtype)
  variables = zoo.load_variables(path)
  zoo.check_same_structure(variables["params"], model.abstract_variables()["params"],
                           f"codec variables in {path}")
  variables = {"params": variables["params"]}
  return LoadedCodec(model, variables, Path(str(path)).name, identity(variables))


def forward(model: CodecModel, variables, images, rng=None, train: bool = False) -> dict:
  """Pure forward pass on images (B, H, W, 3) in [0, 1] (sides multiples of 64).

  Adds `bpp` (estimated, per example) to the module's outputs.
  """
  out = model.module.apply(variables, images, rng, train)
  num_pixels = images.shape[1] * images.shape[2]
  out["bpp"] = model_lib.bits_per_pixel(out, num_pixels)
  return out


def pad_to_multiple(image: np.ndarray, multiple: int = PAD_MULTIPLE) -> np.ndarray:
  """Edge-pads (H, W, C) so both sides are multiples of `multiple`."""
  height, width = image.shape[:2]
  pad_h, pad_w = -height % multiple, -width % multiple
  if not (pad_h or pad_w):
    return image
  return np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
