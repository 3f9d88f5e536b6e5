"""Trained models: find them, load them, export them (a leaf module, like CompressAI's `zoo`).

A model is named by one of:
  - the name of a shipped model, `models/<name>/` in this repository (e.g. "codec_mse_q1");
  - a model directory: `variables.msgpack` (flax.serialization of {"params": ...,
    ["batch_stats": ...]}), `config.json` (the training config) and `MODEL_CARD.md`;
  - a training workdir (its latest Orbax checkpoint under `checkpoints/`, and `config.json`).

Every model package (`codec.api`, `ocr.api`, `detect.api`, `dequant.api`) and every launcher
loads through this module; it imports nothing of tfic_jax but `errors`, so any layer may use it.
"""

import datetime
import hashlib
import json
import os
from pathlib import Path
import re
from typing import Any
from typing import Mapping

from absl import logging
import flax.serialization
import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from tfic_jax import errors

CHECKPOINT_DIR = "checkpoints"
CONFIG_FILE = "config.json"
VARIABLES_FILE = "variables.msgpack"
MODEL_CARD_FILE = "MODEL_CARD.md"
# Shipped models live in <repo>/models/<name>/.
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def config_to_dict(config) -> dict:
  """A JSON-normal dict of a ConfigDict (tuples become lists, odd values strings)."""
  if isinstance(config, ml_collections.ConfigDict):
    config = json.loads(config.to_json_best_effort())
  return json.loads(json.dumps(config, sort_keys=True, default=str))


def flatten(tree, prefix="") -> dict:
  """{"a.b": leaf} of a nested dict."""
  if isinstance(tree, dict):
    out = {}
    for key, value in tree.items():
      out.update(flatten(value, f"{prefix}{key}."))
    return out
  return {prefix[:-1]: tree}


# --- Frozen sub-models and shipped models. -------------------------------------------------------


def resolve(path) -> Path:
  """A workdir, a checkpoints dir, a shipped model dir, or a shipped model's name."""
  candidate = Path(os.path.expanduser(str(path)))
  if candidate.exists():
    return candidate
  if os.sep not in str(path) and (MODELS_DIR / str(path)).is_dir():
    return MODELS_DIR / str(path)
  raise errors.CheckpointError(
      f"No model at {str(path)!r}: expected a training workdir (with {CHECKPOINT_DIR}/), a "
      f"model directory with {VARIABLES_FILE}, or the name of a shipped model in {MODELS_DIR} "
      f"({', '.join(sorted(p.name for p in MODELS_DIR.iterdir() if p.is_dir())) or 'none shipped yet'}).")


def _checkpoints_dir(path: Path) -> Path | None:
  if (path / CHECKPOINT_DIR).is_dir():
    return path / CHECKPOINT_DIR
  if path.name == CHECKPOINT_DIR and path.is_dir():
    return path
  return None


def load_variables(path) -> dict:
  """Model variables {"params": ..., ["batch_stats": ...]} as numpy arrays.

  `path` is a training workdir (its latest checkpoint), a model directory with
  variables.msgpack, or the name of a shipped model under models/.
  """
  path = resolve(path)
  if (path / VARIABLES_FILE).is_file():
    data = (path / VARIABLES_FILE).read_bytes()
    return flax.serialization.msgpack_restore(data)
  ckpt_dir = _checkpoints_dir(path)
  if ckpt_dir is None:
    raise errors.CheckpointError(
        f"{path} has neither {VARIABLES_FILE} nor a {CHECKPOINT_DIR}/ directory.")
  step = ocp.CheckpointManager(ckpt_dir.resolve()).latest_step()
  if step is None:
    raise errors.CheckpointError(f"{ckpt_dir} holds no finished checkpoint.")
  items = {p.name for p in (ckpt_dir / str(step)).iterdir() if p.is_dir()}
  # Every item gets its handler, so that reading the metadata names no unknown item.
  handlers = {name: (ocp.JsonCheckpointHandler() if name == "meta"
                     else ocp.StandardCheckpointHandler()) for name in items}
  manager = ocp.CheckpointManager(ckpt_dir.resolve(), item_handlers=handlers)
  metadata = manager.item_metadata(step)
  # Restored onto one local device, whatever mesh saved them: a checkpoint written by a pod or
  # by several processes loads on a workstation (Orbax would otherwise ask for the saving
  # topology's devices).
  device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])

  def target(tree):
    return jax.tree.map(lambda leaf: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype,
                                                          sharding=device), tree)

  names = [name for name in ("params", "model_state") if name in items]
  restored = manager.restore(step, args=ocp.args.Composite(
      **{name: ocp.args.StandardRestore(target(metadata[name])) for name in names}))
  manager.close()
  variables = {"params": restored["params"]}
  if "model_state" in names:
    variables.update(restored["model_state"])
  return jax.tree.map(np.asarray, jax.device_get(variables))


def check_same_structure(loaded, expected, what: str) -> None:
  """Raises CheckpointError unless `loaded` has `expected`'s tree paths, shapes and dtypes."""
  loaded_leaves, expected_leaves = flatten(loaded), flatten(expected)
  missing = sorted(set(expected_leaves) - set(loaded_leaves))
  extra = sorted(set(loaded_leaves) - set(expected_leaves))
  mismatched = sorted(
      f"{name}: {np.shape(loaded_leaves[name])} vs {np.shape(expected_leaves[name])}"
      for name in set(loaded_leaves) & set(expected_leaves)
      if np.shape(loaded_leaves[name]) != np.shape(expected_leaves[name]))
  if missing or extra or mismatched:
    raise errors.CheckpointError(
        f"{what} does not match the model of this config: "
        f"missing {missing[:5]}, unexpected {extra[:5]}, shape mismatches {mismatched[:5]}.")


def load_config(path, stages: tuple[str, ...] = ()) -> ml_collections.ConfigDict:
  """The training config stored next to a workdir or shipped model (config.json).

  With `stages`, CheckpointError unless the config's stage is one of them (e.g. an OCR model
  asked for where a codec was given).
  """
  path = resolve(path)
  if path.name == CHECKPOINT_DIR:
    path = path.parent
  config_path = path / CONFIG_FILE
  if not config_path.is_file():
    raise errors.CheckpointError(f"{path} has no {CONFIG_FILE}.")
  config = ml_collections.ConfigDict(json.loads(config_path.read_text()))
  stage = config.get("stage")
  if stages and stage and stage not in stages:
    raise errors.CheckpointError(
        f"{path} is a {stage!r} model, not {' or '.join(repr(s) for s in stages)}: give a "
        f"model of that kind")
  return config


def _sha256(path: Path) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
      digest.update(chunk)
  return digest.hexdigest()


def card_checksums(model_dir) -> tuple[str, str]:
  """(sha256 its MODEL_CARD.md records, sha256 of its variables file) of an exported model.

  CheckpointError if the card records none.
  """
  model_dir = Path(model_dir)
  card = (model_dir / MODEL_CARD_FILE).read_text()
  recorded = re.search(r"sha256: `([0-9a-f]{64})`", card)
  if recorded is None:
    raise errors.CheckpointError(f"{model_dir / MODEL_CARD_FILE} records no sha256")
  return recorded.group(1), _sha256(model_dir / VARIABLES_FILE)


def write_model_dir(out_dir, config, variables) -> Path:
  """Writes a model directory that `load_variables` / `load_config` (and every stage's
  `api.load`) read: `variables.msgpack` (flax.serialization of the variables, as numpy) and
  `config.json`. For models made outside a training workdir; `export_model` adds the card."""
  out_dir = Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  (out_dir / VARIABLES_FILE).write_bytes(
      flax.serialization.msgpack_serialize(jax.tree.map(np.asarray, variables)))
  (out_dir / CONFIG_FILE).write_text(
      json.dumps(config_to_dict(config), indent=2, sort_keys=True) + "\n")
  return out_dir


def model_identity(path) -> str:
  """What a model name stands for now: the sha256 of a model directory's variables file, or
  the resolved path of a training workdir. Two names are the same model iff these agree."""
  path = resolve(path)
  if (path / VARIABLES_FILE).is_file():
    return _sha256(path / VARIABLES_FILE)
  return str(path.resolve())


def frozen_provenance(config: Mapping[str, Any]) -> list[str]:
  """One card line per frozen sub-model of a training config (`config.frozen.*`): the name it
  was given and the sha256 of the variables it held when exported, so a card keeps naming the
  judge a model was trained against after a shipped name (`ocr_default`) moves on.

  A frozen model given as a training workdir is recorded as its latest checkpoint step.
  """
  lines = []
  # A role may name several models, comma-separated (stage 2 with several judges).
  entries = [(role, part.strip()) for role, names in sorted(dict(config.get("frozen") or {}).items())
             for part in str(names or "").split(",")]
  for role, name in entries:
    if not name:
      continue
    try:
      path = resolve(name)
    except errors.CheckpointError:
      lines.append(f"- frozen `{role}`: `{name}` (not found at export)")
      continue
    ckpt_dir = _checkpoints_dir(path)
    if (path / VARIABLES_FILE).is_file():
      what = f"{VARIABLES_FILE} sha256 `{_sha256(path / VARIABLES_FILE)}`"
    elif ckpt_dir is not None:
      what = f"workdir checkpoint step {ocp.CheckpointManager(ckpt_dir.resolve()).latest_step()}"
    else:
      what = "no variables found at export"
    lines.append(f"- frozen `{role}`: `{name}`, {what}")
  return lines


def export_model(workdir, out_dir, card_fields: Mapping[str, Any] | None = None) -> Path:
  """Exports a workdir's latest checkpoint as a shipped model directory.

  Writes `variables.msgpack` (flax.serialization of the params and model state),
  `config.json` (the training config) and a `MODEL_CARD.md` skeleton with the sha256 of
  the variables (and of each frozen sub-model's, `frozen_provenance`); `card_fields` (e.g.
  {"description": ..., "training data": ..., "metrics": ..., "limitations": ...}) fill its
  sections. Returns `out_dir`.
  """
  variables = load_variables(workdir)
  config = config_to_dict(load_config(workdir))
  out_dir = write_model_dir(out_dir, config, variables)
  variables_path = out_dir / VARIABLES_FILE
  num_params = sum(int(np.size(x)) for x in jax.tree.leaves(variables.get("params", {})))
  step = None
  ckpt_dir = _checkpoints_dir(resolve(workdir))
  if ckpt_dir is not None:
    step = ocp.CheckpointManager(ckpt_dir.resolve()).latest_step()
  card_fields = dict(card_fields or {})
  lines = [
      f"# {card_fields.pop('name', out_dir.name)}",
      "",
      f"- stage: `{config.get('stage')}`",
      f"- trained steps: {step}",
      f"- parameters: {num_params:,}",
      f"- exported: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}",
      f"- source workdir: `{workdir}`",
      f"- `{VARIABLES_FILE}` sha256: `{_sha256(variables_path)}`",
      *frozen_provenance(config),
      "",
  ]
  for section in ("description", "training data", "metrics", "intended use", "limitations"):
    card_fields.setdefault(section, "TODO")
  for title, body in card_fields.items():
    lines += [f"## {title[:1].upper()}{title[1:]}", "", str(body), ""]
  shipped = out_dir.resolve().parent == MODELS_DIR.resolve()
  where = out_dir.name if shipped else str(out_dir)  # shipped models load by name
  lines += ["## Loading", "", "```python",
            "from tfic_jax import zoo",
            f"variables = zoo.load_variables({where!r})", "```", ""]
  (out_dir / MODEL_CARD_FILE).write_text("\n".join(lines))
  logging.info("Exported %s (step %s) to %s.", workdir, step, out_dir)
  return out_dir
