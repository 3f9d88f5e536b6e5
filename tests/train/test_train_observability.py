"""metrics.jsonl, determinism, NaN stop, bfloat16 compute, benchmark."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from train_testlib import toy_config

from tfic_jax import errors
from tfic_jax import zoo
from tfic_jax.train import benchmark
from tfic_jax.train import train
from tfic_jax.train import writer

TIMING_KEYS = ("time", "images_per_sec", "steps_per_sec")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
  workdirs = [tmp_path_factory.mktemp(f"run{i}") for i in range(2)]
  states = [jax.device_get(train.train_and_evaluate(toy_config(), w).params) for w in workdirs]
  return workdirs, states


def test_metrics_jsonl_has_train_and_eval_records(two_runs):
  records = writer.read_metrics(two_runs[0][0])
  train_records = [r for r in records if r["split"] == "train"]
  assert [r["step"] for r in train_records] == [1, 2, 3, 4, 5, 6]  # log_every_steps=1
  for record in train_records:
    for key in ("loss", "lr", "grad_norm", "images_per_sec", "steps_per_sec", "pixel_mse"):
      assert np.isfinite(record[key]), (key, record)
  assert train_records[0]["lr"] == 0.0 and train_records[1]["lr"] > 0  # warmup from 0
  eval_records = [r for r in records if r["split"] == "test"]  # the toy stage's split name
  assert [r["step"] for r in eval_records] == [3, 6]
  assert all(r["num_examples"] == 6 for r in eval_records)  # padding masked out


def test_same_seed_same_devices_gives_identical_metrics_and_params(two_runs):
  (first, second), (params_a, params_b) = two_runs
  strip = lambda rs: [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in rs]
  assert strip(writer.read_metrics(first)) == strip(writer.read_metrics(second))
  jax.tree.map(np.testing.assert_array_equal, params_a, params_b)


def test_nonfinite_loss_stops_with_step_and_keeps_last_good_checkpoint(tmp_path):
  # An absurd learning rate: step 1 is fine, its update blows the params up, step 2 is inf.
  config = toy_config(checkpoint_every_steps=1, log_every_steps=5, optimizer__warmup_steps=0,
                      optimizer__learning_rate=1e30, optimizer__grad_clip_norm=0.0,
                      optimizer__schedule="constant")
  with pytest.raises(train.NonFiniteError, match=r"Non-finite values at step 2: loss=nan, grad_norm=nan") as e:
    train.train_and_evaluate(config, tmp_path)
  assert "last good checkpoint is step 1" in str(e.value)
  steps = sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir())
  assert steps == [1]
  variables = zoo.load_variables(tmp_path)
  assert all(np.isfinite(x).all() for x in jax.tree.leaves(variables))
  assert writer.read_metrics(tmp_path)[-1]["step"] == 2


def test_bfloat16_compute_keeps_float32_params(tmp_path):
  config = toy_config(compute_dtype="bfloat16", num_train_steps=2)
  state = train.train_and_evaluate(config, tmp_path)
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(state.params))
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(state.model_state))
  record = [r for r in writer.read_metrics(tmp_path) if r["split"] == "train"][-1]
  assert np.isfinite(record["loss"])
  # The toy model really computes in bfloat16.
  from tfic_jax.train import stages  # pylint: disable=g-import-not-at-top
  stage = stages.get_stage(config)
  variables = {"params": state.params, **state.model_state}
  y = stage.model.apply(variables, jnp.zeros((1, 8, 8, 1)), train=False)
  assert y.dtype == jnp.bfloat16


def test_benchmark_reports_train_and_forward_timings():
  config = toy_config()
  rows = benchmark.benchmark(config, num_steps=3, num_warmup=1)
  assert [r["what"] for r in rows] == ["train step", "host data (per process)",
                                       "forward (eval_step)"]
  for row in rows:
    assert row["step_ms"] > 0 and row["images_per_sec"] > 0
  table = benchmark.format_table(rows, config)
  assert "median ms" in table and "train step" in table


def test_tensorboard_event_files_are_written_without_tensorflow(tmp_path):
  metric_writer = writer.MetricWriter(tmp_path, tensorboard=True)
  metric_writer.write(3, "train", {"loss": 0.5})
  metric_writer.close()
  events = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
  assert events and events[0].stat().st_size > 0
  assert writer.read_metrics(tmp_path) == [
      {"step": 3, "split": "train", "time": pytest.approx(0, abs=1e12), "loss": 0.5}]


def test_host_dispatches_at_most_max_steps_in_flight_ahead_of_the_device(tmp_path, monkeypatch):
  """Each step is made slow on the device; when step m is dispatched, every step up to
  m - 1 - max_steps_in_flight must have finished (unbounded dispatch would queue them all)."""
  in_flight = 2
  slow = jax.jit(lambda x: jax.lax.fori_loop(0, 150, lambda i, a: jnp.tanh(a @ a), x)[0, 0] * 0)
  seed = jnp.ones((256, 256), jnp.float32) / 256
  outputs, violations = [], []
  real_make_train_step = train.make_train_step

  def make_slow_train_step(stage, config, mesh):
    real_step = real_make_train_step(stage, config, mesh)

    def step(state, frozen, batch, rng):
      m = len(outputs) + 1
      for i, metrics in enumerate(outputs[:max(0, m - 1 - in_flight)], start=1):
        if not all(leaf.is_ready() for leaf in jax.tree.leaves(metrics)):
          violations.append((m, i))
      state, metrics = real_step(state, frozen, batch, rng)
      metrics = dict(metrics, slow=slow(seed))
      outputs.append(metrics)
      return state, metrics

    return step

  monkeypatch.setattr(train, "make_train_step", make_slow_train_step)
  config = toy_config(num_train_steps=10, log_every_steps=100, eval_every_steps=0,
                      checkpoint_every_steps=0, max_steps_in_flight=in_flight)
  train.train_and_evaluate(config, tmp_path / "w")
  assert len(outputs) == 10
  assert not violations, f"(dispatched step, unfinished earlier step): {violations}"


def test_max_steps_in_flight_below_one_is_refused(tmp_path):
  with pytest.raises(errors.TficError, match="max_steps_in_flight"):
    train.train_and_evaluate(toy_config(max_steps_in_flight=0), tmp_path / "w")
