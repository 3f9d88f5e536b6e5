"""DnCNNStage (tfic_jax/train/stages/dncnn.py) against the Stage contract, and that it learns."""

import jax
import numpy as np
import optax
import pytest

from configs import dncnn_tiny
from tfic_jax import errors
from tfic_jax.data import book
from tfic_jax.train import stages
from tfic_jax.train.stages import dncnn as stage_lib


def _examples(num=4, seed=0):
  """Clean patches of dark strokes on white, degraded by the builder's degradation."""
  rng = np.random.default_rng(seed)
  examples = []
  for _ in range(num):
    clean = np.full((book.PATCH_HEIGHT, book.PATCH_WIDTH, 1), 255, np.uint8)
    for _ in range(12):
      top, left = rng.integers(4, 52), rng.integers(4, 240)
      clean[top:top + 10, left:left + 2] = 0
      clean[top + 8:top + 10, left:left + 8] = 0
    examples.append({"clean": clean, "degraded": book.degrade(clean), "text": "t"})
  return examples


def _batch(items):
  return {k: np.stack([it[k] for it in items]) for k in items[0]}


def _stage(**model):
  config = dncnn_tiny.get_config()
  config.model.update(model)
  return stages.get_stage(config)


def test_registry_finds_the_dncnn_stage():
  assert isinstance(_stage(), stage_lib.DnCNNStage)


def test_train_crops_align_degraded_and_clean_and_are_deterministic():
  stage = _stage()
  example = _examples(1)[0]
  a = stage.preprocess_train(example, np.random.default_rng(3))
  b = stage.preprocess_train(example, np.random.default_rng(3))
  assert a["degraded"].shape == a["clean"].shape == (32, 64, 1)
  np.testing.assert_array_equal(a["clean"], b["clean"])
  # The same window of both: find the clean crop in the clean patch, compare the degraded.
  clean = example["clean"].astype(np.float32) / 255.0
  degraded = example["degraded"].astype(np.float32) / 255.0
  matches = [(t, l) for t in range(33) for l in range(193)
             if np.array_equal(clean[t:t + 32, l:l + 64], a["clean"])
             and np.array_equal(degraded[t:t + 32, l:l + 64], a["degraded"])]
  assert matches
  evaluated = stage.preprocess_eval(example)
  assert evaluated["clean"].shape == (64, 256, 1) and evaluated["clean"].max() <= 1.0


@pytest.mark.parametrize("crop", [(30, 64), (64, 300), (0, 64)])
def test_crop_that_the_dct_loss_cannot_take_is_a_clear_error(crop):
  config = dncnn_tiny.get_config()
  config.data.crop = crop
  with pytest.raises(errors.TficError, match="multiples of 8"):
    stages.get_stage(config)


def test_loss_eval_and_summary_run_under_jit():
  stage = _stage()
  batch = _batch([stage.preprocess_eval(e) for e in _examples(4)])
  variables = dict(stage.init_variables(jax.random.key(0), batch))
  params = variables.pop("params")
  loss_fn = jax.jit(stage.loss_fn, static_argnums=(5,))
  loss, (metrics, new_state) = loss_fn(params, variables, {}, batch, jax.random.key(1), True)
  assert np.isfinite(float(loss)) and set(metrics) == {"mse", "dct"}
  assert jax.tree.structure(new_state) == jax.tree.structure(variables)
  outputs = jax.tree.map(np.asarray, jax.jit(stage.eval_step)(
      {"params": params, **variables}, {}, batch))
  batch["mask"] = np.array([True, True, True, False])
  summary = stage.eval_summary([outputs], [batch])
  assert summary["num_examples"] == 3
  sse = float(np.sum((255.0 * (batch["degraded"][:3] - batch["clean"][:3])) ** 2))
  np.testing.assert_allclose(summary["psnr_degraded"],
                             10 * np.log10(255.0 ** 2 / (sse / (3 * 64 * 256))), rtol=1e-5)


def test_a_few_training_steps_reduce_the_loss_on_a_tiny_set():
  stage = _stage(features=16)
  rng = np.random.default_rng(0)
  batch = _batch([stage.preprocess_train(e, rng) for e in _examples(4)])
  variables = dict(stage.init_variables(jax.random.key(0), batch))
  params = variables.pop("params")
  optimizer = optax.adam(3e-3)
  opt_state = optimizer.init(params)

  @jax.jit
  def step(params, model_state, opt_state):
    (loss, (_, model_state)), grads = jax.value_and_grad(stage.loss_fn, has_aux=True)(
        params, model_state, {}, batch, jax.random.key(0), True)
    updates, opt_state = optimizer.update(grads, opt_state)
    return optax.apply_updates(params, updates), model_state, opt_state, loss

  losses = []
  for _ in range(30):
    params, variables, opt_state, loss = step(params, variables, opt_state)
    losses.append(float(loss))
  assert losses[-1] < 0.5 * losses[0], losses
