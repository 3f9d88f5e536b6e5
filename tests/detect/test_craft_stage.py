"""CraftStage (tfic_jax/train/stages/craft.py) against the Stage contract, on a rendered page."""

import jax
import numpy as np
import optax
import pytest

from configs import craft_tiny
from tfic_jax import errors
from tfic_jax.data import pipeline
from tfic_jax.dequant import pages as restored_pages
from tfic_jax.train import stages
from tfic_jax.train.stages import craft as stage_lib


def _stage(**data):
  config = craft_tiny.get_config()
  config.data.update(data)
  return stages.get_stage(config)


def test_registry_finds_the_craft_stage():
  assert isinstance(_stage(), stage_lib.CraftStage)


def test_unknown_input_is_a_clear_error():
  with pytest.raises(errors.TficError, match="data.input"):
    _stage(input="blurred")
  with pytest.raises(errors.TficError, match="eval_kinds"):
    _stage(eval_kinds=("clean", "blurred"))
  with pytest.raises(errors.TficError, match="restored_fraction"):
    _stage(input="mix", degraded_fraction=0.6, restored_fraction=0.6)


@pytest.fixture(scope="module")
def brightening_d1(tmp_path_factory):
  """A tiny DnCNN whose output is exactly its input + 0.1 (r̂ = −0.1): easy to recognise."""
  from configs import dncnn_tiny  # pylint: disable=g-import-not-at-top
  from tfic_jax import zoo  # pylint: disable=g-import-not-at-top
  from tfic_jax.dequant import api as dequant_api  # pylint: disable=g-import-not-at-top
  config = dncnn_tiny.get_config()
  variables = jax.tree.map(np.asarray, dequant_api.build(config).init(jax.random.key(0)))
  variables["params"]["conv_out"]["kernel"] = np.zeros_like(
      variables["params"]["conv_out"]["kernel"])
  variables["params"]["conv_out"]["bias"] = np.array([-0.1], np.float32)
  return str(zoo.write_model_dir(tmp_path_factory.mktemp("d1"), config, variables))


def test_restored_input_crops_the_page_that_d1_restored(brightening_d1):
  stage = _stage(input="restored", restorer=brightening_d1)
  page = stage.train_source(None)[0]["page"]
  restored = restored_pages.page_image(page, "restored", brightening_d1)
  expected = np.clip(page.degraded.astype(np.int32) + 26, 0, 255)  # +0.1·255, rounded
  assert np.abs(restored.astype(np.int32) - expected).max() <= 1
  assert restored_pages.page_image(page, "restored", brightening_d1) is restored  # one restoration per page
  with pytest.raises(errors.TficError, match="needs a restorer"):
    restored_pages.page_image(page, "restored")
  with pytest.raises(errors.TficError, match="needs a restorer"):
    page.image("restored")
  example = {"page": page}
  from_restored = stage.preprocess_train(example, np.random.default_rng(3))
  from_degraded = _stage(input="degraded").preprocess_train(example, np.random.default_rng(3))
  np.testing.assert_array_equal(from_restored["targets"], from_degraded["targets"])
  assert from_restored["image"].mean() > from_degraded["image"].mean() + 10


def test_mix_draws_all_three_kinds_in_proportion(brightening_d1):
  stage = _stage(input="mix", degraded_fraction=0.3, restored_fraction=0.3,
                 restorer=brightening_d1)
  kinds = [stage._kind(np.random.default_rng(i)) for i in range(2000)]  # pylint: disable=protected-access
  shares = {kind: kinds.count(kind) / len(kinds) for kind in ("clean", "degraded", "restored")}
  assert abs(shares["degraded"] - 0.3) < 0.04 and abs(shares["restored"] - 0.3) < 0.04
  assert abs(shares["clean"] - 0.4) < 0.04


def test_a_missing_restorer_fails_when_the_stage_is_built(tmp_path):
  with pytest.raises(errors.TficError):
    _stage(input="restored", restorer=str(tmp_path / "no_such_dncnn"))
  with pytest.raises(errors.TficError, match="restorer"):
    _stage(eval_kinds=("clean", "restored"), restorer="")


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
