"""Frozen sub-models never change while gradients flow through them; BatchNorm handling."""

import flax.serialization
import jax
import numpy as np
from train_testlib import toy_config

from tfic_jax import zoo
from tfic_jax.train import sharding
from tfic_jax.train import stages
from tfic_jax.train import train
from tfic_jax.train.stages import toy


def _setup(config):
  stage = stages.get_stage(config)
  mesh = sharding.create_mesh()
  batches = train._pipeline().train_batches(
      stage.train_source(None), config.global_batch_size, config.seed, 0,
      stage.preprocess_train)
  rng = np.zeros(2, np.uint32)
  state = train.create_train_state(stage, config, rng, next(batches), mesh)
  frozen = sharding.replicate(stage.load_frozen(), mesh)
  step = train.make_train_step(stage, config, mesh)
  return stage, mesh, batches, state, frozen, step, sharding.replicate(rng, mesh)


def _assert_trees_equal(a, b):
  jax.tree.map(np.testing.assert_array_equal, jax.device_get(a), jax.device_get(b))


def test_frozen_variables_bit_identical_while_trainable_params_and_batch_stats_change():
  config = toy_config()
  stage, mesh, batches, state, frozen, step, rng = _setup(config)
  frozen_before = jax.tree.map(np.array, jax.device_get(frozen))
  params_before = jax.tree.map(np.array, jax.device_get(state.params))
  stats_before = jax.tree.map(np.array, jax.device_get(state.model_state))
  assert "batch_stats" in frozen_before["reader"]  # the frozen model has BatchNorm too
  for _ in range(3):
    state, metrics = step(state, frozen, sharding.shard_local_batch(next(batches), mesh), rng)
    assert bool(metrics["is_finite"])
  # Frozen params and batch_stats: bit-identical (inference mode, not in the optimizer).
  _assert_trees_equal(frozen, frozen_before)
  # Adam's moments cover exactly the trainable params (2 per param), nothing frozen.
  num_params = sum(x.size for x in jax.tree.leaves(state.params))
  num_opt = sum(x.size for x in jax.tree.leaves(state.opt_state) if x.ndim)
  assert num_opt == 2 * num_params
  # The loss sees the trainable model only through the frozen reader, so changed params
  # prove that gradients flow through the frozen model.
  for before, after in zip(jax.tree.leaves(params_before), jax.tree.leaves(state.params)):
    assert not np.array_equal(before, np.asarray(after))
  # Trainable BatchNorm: batch_stats in the train state, updated in training mode.
  for before, after in zip(jax.tree.leaves(stats_before), jax.tree.leaves(state.model_state)):
    assert not np.array_equal(before, np.asarray(after))


def test_frozen_model_loaded_from_shipped_model_directory(tmp_path):
  reader = toy.init_reader_variables(seed=99, height=8, width=8)
  model_dir = tmp_path / "reader"
  model_dir.mkdir()
  (model_dir / "variables.msgpack").write_bytes(flax.serialization.msgpack_serialize(reader))
  config = toy_config(frozen__reader=str(model_dir))
  stage = stages.get_stage(config)
  _assert_trees_equal(stage.load_frozen()["reader"], reader)
  state = train.train_and_evaluate(toy_config(frozen__reader=str(model_dir),
                                              num_train_steps=2), tmp_path / "run")
  assert int(state.step) == 2


def test_export_model_round_trips_variables_with_sha256_card(tmp_path):
  workdir = tmp_path / "run"
  state = train.train_and_evaluate(toy_config(num_train_steps=2), workdir)
  from_workdir = zoo.load_variables(workdir)
  _assert_trees_equal(from_workdir["params"], state.params)
  _assert_trees_equal(from_workdir["batch_stats"], state.model_state["batch_stats"])
  out = zoo.export_model(workdir, tmp_path / "models" / "toy",
                         {"description": "A toy.", "metrics": "none"})
  _assert_trees_equal(zoo.load_variables(out), from_workdir)
  card = (out / "MODEL_CARD.md").read_text()
  import hashlib  # pylint: disable=g-import-not-at-top
  assert hashlib.sha256((out / "variables.msgpack").read_bytes()).hexdigest() in card
  assert "A toy." in card and "trained steps: 2" in card
  assert zoo.load_config(out).stage == "toy"


def test_export_card_records_the_frozen_models_checksum(tmp_path):
  """A card names the frozen judge by the bytes it held, not only by a name that can move."""
  reader = toy.init_reader_variables(seed=7, height=8, width=8)
  model_dir = tmp_path / "reader"
  model_dir.mkdir()
  (model_dir / "variables.msgpack").write_bytes(flax.serialization.msgpack_serialize(reader))
  workdir = tmp_path / "run"
  train.train_and_evaluate(toy_config(frozen__reader=str(model_dir), num_train_steps=2), workdir)
  out = zoo.export_model(workdir, tmp_path / "models" / "toy")
  card = (out / "MODEL_CARD.md").read_text()
  import hashlib  # pylint: disable=g-import-not-at-top
  reader_sha = hashlib.sha256((model_dir / "variables.msgpack").read_bytes()).hexdigest()
  assert f"- frozen `reader`: `{model_dir}`, variables.msgpack sha256 `{reader_sha}`" in card
  recorded, actual = zoo.card_checksums(out)  # still the model's own checksum
  assert recorded == actual != reader_sha
  # A frozen model given as a workdir is recorded by its checkpoint step.
  assert zoo.frozen_provenance({"frozen": {"reader": str(workdir), "none": ""}}) == [
      f"- frozen `reader`: `{workdir}`, workdir checkpoint step 2"]
  # Several judges in one role (stage 2 with several judges): one line each.
  assert zoo.frozen_provenance({"frozen": {"ocr": f"{workdir}, {model_dir}"}}) == [
      f"- frozen `ocr`: `{workdir}`, workdir checkpoint step 2",
      f"- frozen `ocr`: `{model_dir}`, variables.msgpack sha256 `{reader_sha}`"]


def test_missing_frozen_model_is_named_in_the_card_and_refused_by_model_identity(tmp_path):
  import pytest  # pylint: disable=g-import-not-at-top

  from tfic_jax import errors  # pylint: disable=g-import-not-at-top
  missing = str(tmp_path / "gone")
  assert zoo.frozen_provenance({"frozen": {"ocr": missing}}) == [
      f"- frozen `ocr`: `{missing}` (not found at export)"]
  with pytest.raises(errors.CheckpointError, match="No model at"):
    zoo.model_identity(missing)
