"""CraftStage (tfic_jax/detect/stage.py) against the Stage contract, on a rendered page."""

import jax
import numpy as np
import optax
import pytest

from configs import craft_tiny
from tfic_jax import errors
from tfic_jax.data import pipeline
from tfic_jax.detect import stage as stage_lib
from tfic_jax.train import stages


def _stage(**data):
  config = craft_tiny.get_config()
  config.data.update(data)
  return stages.get_stage(config)


def test_registry_finds_the_craft_stage():
  assert isinstance(_stage(), stage_lib.CraftStage)


def test_unknown_input_is_a_clear_error():
  with pytest.raises(errors.TficError, match="data.input"):
    _stage(input="restored")


def test_preprocess_is_deterministic_fixed_shape_and_follows_the_input_choice():
  stage = _stage(input="mix", degraded_fraction=0.5)
  page = stage.train_source(None)[0]
  a = [stage.preprocess_train(page, np.random.default_rng(i)) for i in range(6)]
  b = [stage.preprocess_train(page, np.random.default_rng(i)) for i in range(6)]
  for x, y in zip(a, b):
    np.testing.assert_array_equal(x["image"], y["image"])
    assert x["image"].shape == (64, 64, 1) and x["image"].dtype == np.uint8
    assert x["targets"].shape == (32, 32, 2) and x["targets"].max() <= 1.0
  assert max(x["targets"][..., 0].max() for x in a) > 0.5  # crops are centred on text
  # The input choice changes the pixels, never the targets.
  clean = _stage(input="clean").preprocess_train(page, np.random.default_rng(0))
  degraded = _stage(input="degraded").preprocess_train(page, np.random.default_rng(0))
  np.testing.assert_array_equal(clean["targets"], degraded["targets"])
  assert not np.array_equal(clean["image"], degraded["image"])


def test_a_few_training_steps_reduce_the_loss():
  stage = _stage()
  page = stage.train_source(None)[0]
  batch = pipeline.collate([stage.preprocess_train(page, np.random.default_rng(i))
                            for i in range(4)])
  variables = dict(stage.init_variables(jax.random.key(0), batch))
  params = variables.pop("params")
  optimizer = optax.adam(1e-2)
  opt_state = optimizer.init(params)

  @jax.jit
  def step(params, model_state, opt_state):
    (loss, (_, model_state)), grads = jax.value_and_grad(stage.loss_fn, has_aux=True)(
        params, model_state, {}, batch, None, True)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), model_state, opt_state, loss

  losses = []
  for _ in range(12):
    params, variables, opt_state, loss = step(params, variables, opt_state)
    losses.append(float(loss))
  assert np.isfinite(losses).all() and losses[-1] < 0.7 * losses[0]


def test_ohem_weighs_hard_negatives():
  target = np.zeros((1, 8, 8, 1), np.float32)
  target[0, :2, :2] = 1.0  # 4 positive pixels
  predicted = target.copy()
  predicted[0, 7, 7] = 1.0  # one wrong negative among 60
  plain = float(stage_lib.map_losses(predicted, target, ohem=False, neg_ratio=3)[0])
  mined = float(stage_lib.map_losses(predicted, target, ohem=True, neg_ratio=3)[0])
  assert plain == pytest.approx(1 / 64)
  assert mined == pytest.approx(1 / 12)  # the hardest 12 negatives hold the one error


def test_eval_of_exact_maps_finds_every_word():
  config = craft_tiny.get_config()
  config.eval.crop_size = 256  # a 128² page window: whole words to find
  stage = stages.get_stage(config)
  source = stage.eval_source(None)["clean"]
  examples = [stage.preprocess_eval(source[i]) for i in range(len(source))]
  batch = pipeline.collate(examples)
  outputs = {"maps": batch["targets"], "mse": np.zeros(len(examples), np.float32)}
  summary = stage.eval_summary([outputs], [batch])
  assert summary["num_words"] > 10
  assert summary["hmean"] > 0.95 and summary["map_mse"] == 0.0
