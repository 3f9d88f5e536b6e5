"""The one training loop for every stage (flax examples/imagenet shape, big_vision sharding).

`train_and_evaluate(config, workdir)` builds the stage named by `config.stage`, a 1-D 'data'
mesh over all devices, the optimizer from `config.optimizer`, and trains with a jitted step
that donates the train state. Batches come from `tfic_jax.data.pipeline.train_batches`
(deterministic in (seed, step)), so a run resumed from the latest Orbax checkpoint in the
workdir sees exactly the batches an uninterrupted run would.

Non-finite loss or gradients: the jitted step checks `isfinite(loss) & isfinite(grad_norm)`
and, if false, leaves the train state unchanged (the update is skipped). The host fetches
the per-step metrics at every log, eval and checkpoint step (before saving), and on the first
non-finite step it stops the run with `NonFiniteError` naming the step and the metrics. Since
the check precedes every save, no checkpoint ever holds a state touched by a bad step.
"""

import contextlib
import functools
import json
from pathlib import Path
import signal
import threading
import time
from typing import Any
from typing import Mapping

from absl import logging
from flax import struct
from flax.training import train_state
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import tqdm

from tfic_jax import errors
from tfic_jax import zoo
from tfic_jax.data import pipeline
from tfic_jax.train import checkpoint
from tfic_jax.train import optim
from tfic_jax.train import sharding
from tfic_jax.train import stages
from tfic_jax.train import writer as writer_lib

COMPUTE_DTYPES = ("float32", "bfloat16", "float16")


class Preempted(Exception):
  """Raised after a preemption request (SIGTERM, or JAX's multi-host preemption notice) once the
  state at `step` is saved: relaunching the same command resumes there."""

  def __init__(self, step: int, workdir):
    super().__init__(f"Preempted at step {step}: checkpoint saved in {workdir}; relaunch the "
                     "same command to resume.")
    self.step = step


class _PreemptionWatch:
  """Notices a preemption request. One process: SIGTERM sets a flag (checked between steps).
  Several processes: Orbax's sync point (JAX's distributed preemption notice), on which all
  processes agree for the same step, so they save together."""

  def __init__(self, manager):
    self._manager = manager
    self._requested = False
    self._previous = None
    if jax.process_count() == 1 and threading.current_thread() is threading.main_thread():
      self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)

  def _on_sigterm(self, signum, frame):
    del signum, frame
    logging.warning("SIGTERM: saving a checkpoint after the current step, then stopping.")
    self._requested = True

  def requested(self, step: int) -> bool:
    if jax.process_count() == 1:
      return self._requested
    return self._manager.reached_preemption(step)

  def close(self):
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)
      self._previous = None


class NonFiniteError(errors.TficError):
  """Loss, gradients or a stage metric became NaN/Inf during training."""


class TrainState(train_state.TrainState):
  """params + opt_state + the trainable model's non-trainable collections (batch_stats)."""
  model_state: Any = struct.field(default_factory=dict)


def _pipeline():
  # Imported lazily: the data module may pull in heavy dependencies (tfds, grain).
  return pipeline


def check_config(config: ml_collections.ConfigDict) -> None:
  """Host-side checks of the loop's own config fields (before anything reaches JAX)."""
  for field in ("stage", "seed", "global_batch_size", "num_train_steps", "optimizer"):
    if field not in config:
      raise errors.TficError(f"The config has no `{field}` field (see docs/design.md).")
  dtype = config.get("compute_dtype", "float32")
  if dtype not in COMPUTE_DTYPES:
    raise errors.TficError(
        f"config.compute_dtype={dtype!r}: use one of {', '.join(COMPUTE_DTYPES)}.")
  if int(config.num_train_steps) < 0:
    raise errors.TficError("config.num_train_steps must be >= 0.")
  if _max_steps_in_flight(config) < 1:
    raise errors.TficError("config.max_steps_in_flight must be >= 1 (steps the host may "
                           "dispatch ahead of the device).")
  sharding.check_batch_size(int(config.global_batch_size))
  if _eval_enabled(config):
    sharding.check_batch_size(int(config.eval.batch_size), "config.eval.batch_size")


def _max_steps_in_flight(config) -> int:
  return int(config.get("max_steps_in_flight", 2))


def _eval_enabled(config) -> bool:
  return ("eval" in config and config.eval.get("batch_size")
          and config.eval.get("num_examples", 1) != 0)


def create_learning_rate_fn(config):
  return optim.create_learning_rate_fn(config)


def create_train_state(stage, config, rng, local_batch, mesh) -> TrainState:
  """Initializes the trainable model and optimizer, replicated over the mesh."""
  tx = optim.create_optimizer(config, create_learning_rate_fn(config))
  # Initialization depends on shapes only; zeros keep every process identical.
  init_batch = {k: np.zeros_like(v) for k, v in sharding.device_arrays_only(local_batch).items()}

  def init(rng):
    variables = dict(stage.init_variables(jax.random.wrap_key_data(rng), init_batch))
    params = variables.pop("params")
    return TrainState.create(apply_fn=None, params=params, tx=tx, model_state=variables)

  state = jax.jit(init, out_shardings=sharding.replicated_sharding(mesh))(rng)
  bad = {jax.tree_util.keystr(path): str(x.dtype)
         for path, x in jax.tree_util.tree_leaves_with_path(state.params)
         if jnp.issubdtype(x.dtype, jnp.floating) and x.dtype != jnp.float32}
  if bad:
    raise errors.TficError(
        f"Stage {config.stage!r} creates non-float32 parameters {bad}: parameters must stay "
        "float32 (use Flax `param_dtype=jnp.float32`, `dtype=compute_dtype`).")
  return state


def warm_start(state: TrainState, init_from: str, mesh) -> TrainState:
  """Starts from another run's weights (`config.init_from`: a workdir, model dir or shipped name).

  Parameters and model state (BatchNorm statistics) are copied; the optimizer and the step
  start afresh. Used e.g. by TFIC stage 2 (from a stage-1 codec) and D2 (from D1). A resumed
  run ignores it: its own checkpoint wins.
  """
  variables = dict(zoo.load_variables(init_from))
  expected = {"params": state.params, **state.model_state}
  zoo.check_same_structure(variables, expected, f"init_from={init_from!r}")
  params = sharding.replicate(variables.pop("params"), mesh)
  model_state = sharding.replicate(variables, mesh)
  logging.info("Initialized from %s.", init_from)
  return state.replace(params=params, model_state=model_state)


def train_step(state: TrainState, frozen, batch, rng, *, stage, learning_rate_fn):
  """One optimizer step; skips the update if the loss or gradients are not finite.

  `rng` is raw key data (uint32), folded with the step: deterministic in (seed, step).
  """
  step_rng = jax.random.fold_in(jax.random.wrap_key_data(rng), state.step)

  def loss_fn(params):
    loss, (metrics, new_model_state) = stage.loss_fn(
        params, state.model_state, frozen, batch, step_rng, True)
    return loss.astype(jnp.float32), (metrics, new_model_state)

  (loss, (metrics, new_model_state)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(state.params)
  grad_norm = optax.global_norm(grads)
  is_finite = jnp.isfinite(loss) & jnp.isfinite(grad_norm)
  new_state = state.apply_gradients(grads=grads, model_state=new_model_state)
  new_state = jax.tree.map(lambda new, old: jnp.where(is_finite, new, old), new_state, state)
  metrics = {k: jnp.asarray(v, jnp.float32) for k, v in metrics.items()}
  metrics.update(loss=loss, grad_norm=grad_norm.astype(jnp.float32),
                 lr=jnp.asarray(learning_rate_fn(state.step), jnp.float32),
                 is_finite=is_finite)
  return new_state, metrics


def make_train_step(stage, config, mesh):
  repl, data = sharding.replicated_sharding(mesh), sharding.data_sharding(mesh)
  step_fn = functools.partial(
      train_step, stage=stage, learning_rate_fn=create_learning_rate_fn(config))
  return jax.jit(step_fn, donate_argnums=(0,), in_shardings=(repl, repl, data, repl),
                 out_shardings=(repl, repl))


def make_eval_step(stage, mesh):
  repl, data = sharding.replicated_sharding(mesh), sharding.data_sharding(mesh)
  return jax.jit(stage.eval_step, in_shardings=(repl, repl, data), out_shardings=repl)


def pipeline_options(config) -> dict:
  """Optional host-pipeline knobs (config.data.num_threads / prefetch), passed when set."""
  data = config.get("data", {})
  return {k: int(data[k]) for k in ("num_threads", "prefetch", "num_workers") if data.get(k)}


def eval_sources(stage, config) -> dict:
  """split name -> source; a stage may return one source or a mapping of them."""
  sources = stage.eval_source(config.data.get("data_dir") if "data" in config else None)
  if isinstance(sources, Mapping):
    return dict(sources)
  name = config.data.get("eval_split", "eval") if "data" in config else "eval"
  return {name: sources}


def evaluate(stage, p_eval_step, state, frozen, sources, config, mesh) -> dict:
  """Runs `eval_step` over each eval split and reduces with `eval_summary` on the host."""
  variables = {"params": state.params, **state.model_state}
  summaries = {}
  for split, source in sources.items():
    outputs, host_batches = [], []
    for host_batch in _pipeline().eval_batches(
        source, int(config.eval.batch_size), stage.preprocess_eval,
        num_examples=config.eval.get("num_examples", None)):
      outputs.append(p_eval_step(variables, frozen, sharding.shard_global_batch(host_batch, mesh)))
      host_batches.append(host_batch)
    outputs = [jax.tree.map(np.asarray, o) for o in jax.device_get(outputs)]
    summaries[split] = dict(stage.eval_summary(outputs, host_batches))
  return summaries


def _nonfinite_names(metrics: Mapping[str, Any]) -> list[str]:
  """"loss=nan", "grad_norm=inf", ... (loss and grad_norm first) for non-finite metrics."""
  keys = ["loss", "grad_norm"] + sorted(k for k in metrics if k not in ("loss", "grad_norm"))
  return [f"{k}={float(metrics[k])}" for k in keys
          if k in metrics and k != "is_finite" and np.size(metrics[k]) == 1
          and not np.isfinite(float(metrics[k]))]


def _truncate_metrics(workdir: Path, step: int) -> None:
  """Drops records of steps after `step` (a killed run's, about to be recomputed)."""
  path = workdir / writer_lib.METRICS_FILE
  if jax.process_index() != 0 or not path.exists():
    return
  lines = [l for l in path.read_text().splitlines()
           if l.strip() and json.loads(l).get("step", 0) <= step]
  path.write_text("".join(l + "\n" for l in lines))


def train_and_evaluate(config: ml_collections.ConfigDict, workdir) -> TrainState:
  """Trains `config.stage` in `workdir`, resuming from its latest checkpoint.

  Returns the final train state (replicated jax arrays).
  """
  workdir = Path(workdir)
  check_config(config)
  stage = stages.get_stage(config)
  mesh = sharding.create_mesh()
  logging.info("Stage %r on %d device(s) (%d process(es), backend %s), mesh %s.",
               config.stage, jax.device_count(), jax.process_count(), jax.default_backend(),
               dict(mesh.shape))

  with contextlib.ExitStack() as cleanup:
    return _train_loop(stage, config, workdir, mesh, cleanup)


def _train_loop(stage, config, workdir: Path, mesh, cleanup: contextlib.ExitStack) -> TrainState:
  """The body of `train_and_evaluate`; `cleanup` closes what it opens, also on errors."""
  num_steps = int(config.num_train_steps)
  global_batch = int(config.global_batch_size)
  log_every = int(config.get("log_every_steps", 50) or num_steps or 1)
  eval_every = int(config.get("eval_every_steps", 0) or 0)
  ckpt_every = int(config.get("checkpoint_every_steps", 0) or 0)
  # JAX dispatches steps asynchronously, and without a bound the host runs ahead of the device
  # by as many steps as it can feed: the progress bar then counts dispatched steps, not done
  # ones, and a SIGTERM waits for the whole queue (minutes on a loaded CPU, past a preemption's
  # grace period). Waiting for step k - max_in_flight before dispatching more keeps the device
  # fed and the host at most that many steps ahead.
  max_in_flight = _max_steps_in_flight(config)
  is_main = jax.process_index() == 0

  manager = checkpoint.create_manager(workdir, config.get("keep_checkpoints", 3))
  cleanup.callback(manager.close)
  cleanup.callback(manager.wait_until_finished)  # Runs first: pending async saves complete.
  watch = _PreemptionWatch(manager)
  cleanup.callback(watch.close)
  latest_step = manager.latest_step()
  architecture = stage.architecture_config()
  if latest_step is not None:
    meta = checkpoint.restore_meta(manager, latest_step)
    checkpoint.check_architecture(meta["architecture"], architecture, workdir)
  checkpoint.write_config_json(workdir, config)
  start_step = latest_step or 0

  data_dir = config.data.get("data_dir") if "data" in config else None
  batches = _pipeline().train_batches(
      stage.train_source(data_dir), global_batch, seed=int(config.seed),
      start_step=start_step, preprocess=stage.preprocess_train, **pipeline_options(config))
  if hasattr(batches, "close"):
    cleanup.callback(batches.close)  # Stops the pipeline's prefetch threads.
  first_batch = next(batches)

  # Raw key data (numpy) so that every process passes identical host values to jit.
  init_rng, step_rng = (np.asarray(jax.random.key_data(k)) for k in
                        jax.random.split(jax.random.key(int(config.seed))))
  state = create_train_state(stage, config, init_rng, first_batch, mesh)
  num_params = sum(int(np.size(x)) for x in jax.tree.leaves(state.params))
  logging.info("Trainable parameters: %s.", f"{num_params:,}")
  frozen = sharding.replicate(stage.load_frozen(), mesh)
  step_rng = sharding.replicate(step_rng, mesh)

  if latest_step is None and config.get("init_from"):
    state = warm_start(state, config.init_from, mesh)
  if latest_step is not None:
    restored = checkpoint.restore_state(manager, latest_step, {
        "params": state.params, "opt_state": state.opt_state,
        "model_state": state.model_state})
    state = state.replace(step=sharding.replicate(np.asarray(latest_step, np.int32), mesh),
                          **restored)
    logging.info("Resumed from %s at step %d.", workdir / zoo.CHECKPOINT_DIR,
                 latest_step)
  _truncate_metrics(workdir, start_step)

  if start_step >= num_steps:
    logging.info("Nothing to do: the checkpoint is at step %d >= num_train_steps=%d.",
                 start_step, num_steps)
    return state

  p_train_step = make_train_step(stage, config, mesh)
  p_eval_step = make_eval_step(stage, mesh) if _eval_enabled(config) else None
  sources = None
  writer = writer_lib.MetricWriter(workdir, tensorboard=config.get("tensorboard", True))
  cleanup.callback(writer.close)
  config_dict = zoo.config_to_dict(config)
  progress = tqdm.tqdm(total=num_steps, initial=start_step, unit="step", dynamic_ncols=True,
                       disable=not is_main, desc=str(config.stage))
  cleanup.callback(progress.close)
  pending = []  # (step, device metrics) not yet fetched
  interval_start, interval_steps = time.perf_counter(), 0
  last_saved = latest_step
  host_batch = first_batch
  for step in range(start_step, num_steps):
    if step > start_step:
      host_batch = next(batches)
    state, metrics = p_train_step(state, frozen, sharding.shard_local_batch(host_batch, mesh),
                                  step_rng)
    done = step + 1
    pending.append((done, metrics))
    if len(pending) > max_in_flight:
      jax.block_until_ready(pending[-1 - max_in_flight][1])
    interval_steps += 1
    progress.update(1)
    is_last = done == num_steps
    do_log = done % log_every == 0 or is_last
    do_eval = p_eval_step is not None and ((eval_every and done % eval_every == 0) or is_last)
    preempted = watch.requested(done)
    do_eval = do_eval and not preempted
    do_save = (ckpt_every and done % ckpt_every == 0) or is_last or preempted
    if not (do_log or do_eval or do_save):
      continue

    # Fetch and check every step's metrics before anything is logged or saved.
    fetched = [(s, jax.device_get(m)) for s, m in pending]
    pending = []
    for s, m in fetched:
      if not bool(m["is_finite"]) or _nonfinite_names(m):
        writer.write(s, "train", {k: v for k, v in m.items() if k != "is_finite"})
        skipped = ("that step's update was skipped" if not bool(m["is_finite"]) else
                   "loss and gradients were finite but a stage metric was not")
        raise NonFiniteError(
            f"Non-finite values at step {s}: {', '.join(_nonfinite_names(m))}. Training "
            f"stopped ({skipped}); nothing after step {last_saved} was saved. The "
            f"last good checkpoint is step {last_saved} in {workdir / 'checkpoints'}. Lower "
            "config.optimizer.learning_rate, set config.optimizer.grad_clip_norm, or check "
            "the data.")
    if do_log:
      elapsed = time.perf_counter() - interval_start
      mean = {k: float(np.mean([m[k] for _, m in fetched]))
              for k in fetched[-1][1] if k != "is_finite"}
      mean["lr"] = float(fetched[-1][1]["lr"])
      mean["steps_per_sec"] = interval_steps / elapsed
      mean["images_per_sec"] = interval_steps * global_batch / elapsed
      writer.write(done, "train", mean)
      progress.set_postfix(loss=f"{mean['loss']:.4g}",
                           img_s=f"{mean['images_per_sec']:.1f}", refresh=False)
      logging.info("step %d: %s", done,
                   ", ".join(f"{k}={v:.5g}" for k, v in sorted(mean.items())))
    if do_eval:
      if sources is None:
        sources = eval_sources(stage, config)
      t0 = time.perf_counter()
      for split, summary in evaluate(stage, p_eval_step, state, frozen, sources, config,
                                     mesh).items():
        writer.write(done, split, summary)
        logging.info("eval %s @ %d (%.1fs): %s", split, done, time.perf_counter() - t0,
                     ", ".join(f"{k}={v:.5g}" for k, v in sorted(summary.items())
                               if np.size(v) == 1))
    if do_save:
      checkpoint.save_state(
          manager, done,
          {"params": state.params, "opt_state": state.opt_state,
           "model_state": state.model_state},
          {"step": done, "config": config_dict, "architecture": architecture})
      last_saved = done
    writer.flush()
    if preempted:
      logging.warning("Preempted: saved step %d in %s.", done, workdir)
      raise Preempted(done, workdir)
    interval_start, interval_steps = time.perf_counter(), 0
  return state
