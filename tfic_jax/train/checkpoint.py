"""Orbax checkpoints of the train state (save, restore, resume checks).

Layout of a workdir checkpoint (`WORKDIR/checkpoints/<step>/`), one Orbax Composite:
  params       StandardSave  the trainable model's params
  model_state  StandardSave  its non-trainable collections (e.g. batch_stats); absent if none
  opt_state    StandardSave  the optax state
  meta         JsonSave      {"step", "config", "architecture"}
Loading a trained model (a workdir, a model directory or a shipped name) and exporting one is
`tfic_jax.zoo`'s job.
"""

import json
import logging as std_logging
from pathlib import Path
from typing import Any
from typing import Mapping

from absl import logging
import jax
import numpy as np
import orbax.checkpoint as ocp

from tfic_jax import errors
from tfic_jax import zoo


def write_config_json(workdir, config) -> None:
  if jax.process_index() != 0:
    return
  path = Path(workdir) / zoo.CONFIG_FILE
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps(zoo.config_to_dict(config), indent=2, sort_keys=True) + "\n")


# --- Train-state checkpoints. -------------------------------------------------------------------


class _QuietOrbax(std_logging.Filter):
  """Drops Orbax's INFO chatter (several lines per array per save) from the absl log."""

  def filter(self, record):
    return record.levelno >= std_logging.WARNING or "orbax" not in record.pathname


def quiet_orbax_logging() -> None:
  handler = logging.get_absl_handler()
  if not any(isinstance(f, _QuietOrbax) for f in handler.filters):
    handler.addFilter(_QuietOrbax())


def create_manager(workdir, max_to_keep: int | None) -> ocp.CheckpointManager:
  quiet_orbax_logging()
  directory = Path(workdir).resolve() / zoo.CHECKPOINT_DIR
  options = ocp.CheckpointManagerOptions(
      max_to_keep=max_to_keep if max_to_keep and max_to_keep > 0 else None, create=True)
  return ocp.CheckpointManager(directory, options=options)


def save_state(manager: ocp.CheckpointManager, step: int, items: Mapping[str, Any],
               meta: Mapping[str, Any]) -> None:
  """Saves `items` (name -> pytree; empty pytrees are skipped) and `meta` (JSON) at `step`."""
  args = {name: ocp.args.StandardSave(tree) for name, tree in items.items()
          if jax.tree.leaves(tree)}
  args["meta"] = ocp.args.JsonSave(dict(meta))
  manager.save(step, args=ocp.args.Composite(**args), force=True)


def _abstract(tree):
  def to_struct(x):
    sharding = getattr(x, "sharding", None)
    return jax.ShapeDtypeStruct(np.shape(x), x.dtype, sharding=sharding)
  return jax.tree.map(to_struct, tree)


def restore_meta(manager: ocp.CheckpointManager, step: int) -> dict:
  restored = manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
  return dict(restored["meta"])


def restore_state(manager: ocp.CheckpointManager, step: int,
                  targets: Mapping[str, Any]) -> dict:
  """Restores the items of `targets` (name -> pytree giving structure, dtypes, shardings)."""
  args = {name: ocp.args.StandardRestore(_abstract(tree)) for name, tree in targets.items()
          if jax.tree.leaves(tree)}
  restored = manager.restore(step, args=ocp.args.Composite(**args))
  return {name: (restored[name] if name in args else tree) for name, tree in targets.items()}


def check_architecture(saved: Mapping[str, Any], current: Mapping[str, Any], workdir) -> None:
  """Raises CheckpointError listing the differences if the architecture config changed."""
  saved, current = zoo.config_to_dict(saved), zoo.config_to_dict(current)
  if saved == current:
    return
  flat_saved, flat_current = zoo.flatten(saved), zoo.flatten(current)
  diffs = []
  for key in sorted(set(flat_saved) | set(flat_current)):
    old, new = flat_saved.get(key, "<absent>"), flat_current.get(key, "<absent>")
    if old != new:
      diffs.append(f"  {key}: checkpoint {old!r} != config {new!r}")
  raise errors.CheckpointError(
      f"Refusing to resume from {Path(workdir) / zoo.CHECKPOINT_DIR}: the architecture-defining "
      f"config differs from the one the checkpoint was trained with:\n" + "\n".join(diffs) +
      "\nUse a new --workdir, or restore the original values (WORKDIR/config.json).")


