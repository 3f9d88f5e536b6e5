"""Step-time benchmark of a stage on the current backend (`python -m launch.benchmark`).

Times exactly what `train.train_and_evaluate` runs: the jitted, donated train step on a
sharded global batch, and the jitted `eval_step` (forward only, inference mode). The same
device batch is reused, so the numbers exclude the host data pipeline, which is timed
separately (seconds per process-local batch, preprocessing included).
"""

import statistics
import time

import jax
import numpy as np

from tfic_jax.train import sharding
from tfic_jax.train import stages
from tfic_jax.train import train as train_lib


def _time_calls(fn, num_steps, num_warmup):
  for _ in range(num_warmup):
    jax.block_until_ready(fn())
  times = []
  for _ in range(num_steps):
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    times.append(time.perf_counter() - t0)
  return statistics.median(times)


def prepare_train_step(stage, config, host_batch, mesh):
  """What `train.train_and_evaluate` runs, ready to time on one fixed batch.

  Returns (run, compile_s, num_params, holder, frozen): `run()` takes one step (the jitted,
  donated train step; `holder["state"]` is the state it updates) and returns its loss.
  """
  init_rng, step_rng = (np.asarray(jax.random.key_data(k)) for k in
                        jax.random.split(jax.random.key(int(config.seed))))
  state = train_lib.create_train_state(stage, config, init_rng, host_batch, mesh)
  frozen = sharding.replicate(stage.load_frozen(), mesh)
  step_rng = sharding.replicate(step_rng, mesh)
  batch = sharding.shard_local_batch(host_batch, mesh)
  num_params = sum(int(np.size(x)) for x in jax.tree.leaves(state.params))
  t0 = time.perf_counter()
  compiled = train_lib.make_train_step(stage, config, mesh).lower(
      state, frozen, batch, step_rng).compile()
  compile_s = time.perf_counter() - t0
  holder = {"state": state}

  def run():
    holder["state"], metrics = compiled(holder["state"], frozen, batch, step_rng)
    return metrics["loss"]

  return run, compile_s, num_params, holder, frozen


def benchmark(config, num_steps: int = 20, num_warmup: int = 2) -> list[dict]:
  """Returns rows {"what", "batch", "compile_s", "step_ms", "images_per_sec"}."""
  train_lib.check_config(config)
  stage = stages.get_stage(config)
  mesh = sharding.create_mesh()
  pipeline = train_lib._pipeline()  # pylint: disable=protected-access
  global_batch = int(config.global_batch_size)
  data_dir = config.data.get("data_dir") if "data" in config else None
  batches = pipeline.train_batches(stage.train_source(data_dir), global_batch,
                                   seed=int(config.seed), start_step=0,
                                   preprocess=stage.preprocess_train,
                                   **train_lib.pipeline_options(config))
  host_batch = next(batches)  # Starts the pipeline's threads; steady state is timed below.
  num_data = max(3, min(num_steps, 10))
  t0 = time.perf_counter()
  for _ in range(num_data):
    next(batches)
  data_s = (time.perf_counter() - t0) / num_data
  if hasattr(batches, "close"):
    batches.close()

  run_train_step, compile_s, num_params, holder, frozen = prepare_train_step(
      stage, config, host_batch, mesh)
  step_s = _time_calls(run_train_step, num_steps, num_warmup)
  rows = [{"what": "train step", "batch": global_batch, "compile_s": compile_s,
           "step_ms": 1e3 * step_s, "images_per_sec": global_batch / step_s,
           "params": num_params},
          {"what": "host data (per process)", "batch": global_batch // jax.process_count(),
           "compile_s": float("nan"), "step_ms": 1e3 * data_s,
           "images_per_sec": global_batch // jax.process_count() / data_s}]

  if train_lib._eval_enabled(config):  # pylint: disable=protected-access
    eval_batch_size = int(config.eval.batch_size)
    source = next(iter(train_lib.eval_sources(stage, config).values()))
    host_eval = next(iter(pipeline.eval_batches(source, eval_batch_size,
                                                stage.preprocess_eval)))
    eval_batch = sharding.shard_global_batch(host_eval, mesh)
    state = holder["state"]
    variables = {"params": state.params, **state.model_state}
    t0 = time.perf_counter()
    compiled_eval = train_lib.make_eval_step(stage, mesh).lower(
        variables, frozen, eval_batch).compile()
    eval_compile_s = time.perf_counter() - t0
    eval_s = _time_calls(lambda: compiled_eval(variables, frozen, eval_batch),
                         num_steps, num_warmup)
    rows.append({"what": "forward (eval_step)", "batch": eval_batch_size,
                 "compile_s": eval_compile_s, "step_ms": 1e3 * eval_s,
                 "images_per_sec": eval_batch_size / eval_s})
  return rows


def format_table(rows, config) -> str:
  header = (f"stage={config.stage} backend={jax.default_backend()} "
            f"devices={jax.device_count()} ({jax.devices()[0].device_kind}) "
            f"compute_dtype={config.get('compute_dtype', 'float32')}")
  if rows and "params" in rows[0]:
    header += f" params={rows[0]['params']:,}"
  lines = [header,
           f"{'what':<26}{'batch':>7}{'compile s':>11}{'median ms':>11}{'images/s':>11}"]
  for row in rows:
    compile_s = "-" if np.isnan(row["compile_s"]) else f"{row['compile_s']:.2f}"
    lines.append(f"{row['what']:<26}{row['batch']:>7}{compile_s:>11}"
                 f"{row['step_ms']:>11.2f}{row['images_per_sec']:>11.1f}")
  return "\n".join(lines)
