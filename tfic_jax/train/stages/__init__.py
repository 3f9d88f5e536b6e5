"""Stage registry: name -> "module:Class", imported lazily so `train` imports no model."""

import importlib

import ml_collections

from tfic_jax import errors
from tfic_jax.train import stage as stage_lib

# New stages add one line here (and a config in configs/). TFIC stage 2 is "codec" with γ > 0.
_STAGES = {
    "toy": "tfic_jax.train.stages.toy:ToyStage",
    "ocr": "tfic_jax.train.stages.ocr:OCRStage",
    "craft": "tfic_jax.train.stages.craft:CraftStage",
    "codec": "tfic_jax.train.stages.codec:CodecStage",
    "dncnn": "tfic_jax.train.stages.dncnn:DnCNNStage",
    "dequant_ocr": "tfic_jax.train.stages.ocr_guided:OCRGuidedStage",
}


def available_stages() -> list[str]:
  return sorted(_STAGES)


def get_stage_class(name: str) -> type[stage_lib.Stage]:
  """Returns the Stage subclass registered under `name` (importing its module)."""
  if name not in _STAGES:
    raise errors.TficError(
        f"Unknown stage {name!r} (config.stage). Known stages: {', '.join(available_stages())}."
    )
  module_name, class_name = _STAGES[name].split(":")
  module = importlib.import_module(module_name)
  return getattr(module, class_name)


def get_stage(name_or_config, config: ml_collections.ConfigDict | None = None) -> stage_lib.Stage:
  """Instantiates a stage: `get_stage(config)` or `get_stage(config.stage, config)`."""
  if isinstance(name_or_config, str):
    name = name_or_config
  else:
    config = name_or_config
    name = config.stage
  return get_stage_class(name)(config)
