"""TFIC stage 2: the codec stage with the frozen judge's OCR loss (λ = 0, γ = 0.1)."""

import jax
import numpy as np
import optax
import pytest

from configs import codec_common
from configs import codec_mse_lowrate_small
from configs import codec_mse_tiny
from configs import tfic
from configs import tfic_small
from tfic_jax import errors
from tfic_jax.train import stages


def _stage2_config():
  config = codec_common.stage2(codec_mse_tiny.get_config(), 1)
  config.init_from = ""  # The tiny test codec starts from scratch.
  return config


def _batch(stage):
  rng = np.random.default_rng(0)
  examples = []
  for i, text in enumerate(["Hello", "world42"]):
    image = np.full((64, 128, 3), 255, np.uint8)
    image[24:40, 20:100] = rng.integers(0, 60, (16, 80, 3))
    examples.append(stage.preprocess_eval({"image": image, "text": text.encode()}))
  return {k: np.stack([e[k] for e in examples]) for k in examples[0] if k != "text"}


def test_stage2_config_is_the_papers():
  config = tfic_small.get_config("2")
  assert config.loss.lmbda == 0.0 and config.loss.gamma == 0.1
  assert config.frozen.ocr == "ocr_default" and config.init_from == "codec_mse_q2"


@pytest.mark.parametrize("quality", ["1", "3", "8"])
def test_full_size_stage2_config_is_the_papers(quality):
  config = tfic.get_config(quality)
  assert config.loss.lmbda == 0.0 and config.loss.gamma == 0.1  # "0.1 for all rate points".
  assert config.frozen.ocr == "ocr_default"
  assert config.init_from == f"workdirs/codec_mse_q{quality}"  # configs/codec_mse.py's run.
  reference = codec_common.base_config(quality)
  assert config.model.to_dict() == reference.model.to_dict()  # TinyLIC widths.
  assert config.data.builder_config == "default" and tuple(config.data.crop_size) == (256, 512)
  stage = stages.get_stage(config)  # Whole 256×512 canvases pass the whole-line check.
  example = stage.preprocess_train({"image": np.full((256, 512, 3), 255, np.uint8),
                                    "text": b"Hello"}, np.random.default_rng(0))
  assert example["image"].shape == (256, 512, 3) and example["label_weight"] == 1.0


def test_wide_gamma_option_changes_only_gamma():
  paper, wide = _flat(tfic_small.get_config("3")), _flat(tfic_small.get_config("3,wide"))
  assert {key for key in paper if paper[key] != wide[key]} == {"loss.gamma"}
  gammas = [tfic_small.get_config(f"{q},wide").loss.gamma for q in (1, 2, 3)]
  assert gammas == [0.1, 0.3, 0.9]
  assert tfic.get_config("2,wide").loss.gamma == pytest.approx(0.3)
  with pytest.raises(ValueError, match="γ mode"):
    tfic_small.get_config("2,steep")
  with pytest.raises(ValueError, match="quality must be"):
    tfic.get_config("9")
  with pytest.raises(ValueError, match="wide γ is defined for qualities 1..3"):
    tfic.get_config("4,wide")


def _flat(config):
  out = {}
  def walk(d, prefix):
    for key, value in d.items():
      if isinstance(value, dict):
        walk(value, f"{prefix}{key}.")
      else:
        out[prefix + key] = value
  walk(config.to_dict(), "")
  return out


def test_mse_control_differs_from_stage2_only_in_the_loss():
  # The MSE points at TFIC's rates: the same start, data, optimizer and steps as stage 2.
  tfic, low_rate = _flat(tfic_small.get_config("1")), _flat(codec_mse_lowrate_small.get_config("1"))
  differing = {key for key in tfic.keys() | low_rate.keys() if tfic.get(key) != low_rate.get(key)}
  assert differing == {"loss.lmbda", "loss.gamma", "frozen.ocr"}
  assert low_rate["loss.gamma"] == 0.0 and 0 < low_rate["loss.lmbda"] < codec_common.LAMBDAS[0]
  lambdas = [codec_mse_lowrate_small.get_config(str(level)).loss.lmbda
             for level in range(1, len(codec_mse_lowrate_small.LEVELS) + 1)]
  assert lambdas == sorted(lambdas)  # Level 1 = the lowest rate, as every shipped family.
  assert codec_mse_lowrate_small.get_config("2").quality == 2
  with pytest.raises(ValueError, match="level must be"):
    codec_mse_lowrate_small.get_config("9")


def test_stage2_step_changes_only_the_codec():
  stage = stages.get_stage(_stage2_config())
  batch = _batch(stage)
  assert batch["label"].shape[0] == 2 and batch["label_weight"].tolist() == [1.0, 1.0]
  params = stage.init_variables(jax.random.PRNGKey(0), batch)["params"]
  frozen = stage.load_frozen()
  frozen_before = jax.tree.map(np.array, frozen)
  grad_fn = jax.jit(jax.grad(lambda p, f: stage.loss_fn(p, {}, f, batch, jax.random.PRNGKey(1),
                                                         True)[0], argnums=(0, 1)))
  codec_grads, judge_grads = grad_fn(params, frozen)
  # The OCR loss reaches the codec ...
  assert any(float(np.abs(np.asarray(g)).max()) > 0 for g in jax.tree.leaves(codec_grads))
  # ... through the judge (it is differentiable), but only the codec's params are updated:
  assert any(float(np.abs(np.asarray(g)).max()) > 0 for g in jax.tree.leaves(judge_grads))
  optimizer = optax.adam(1e-3)
  updates, _ = optimizer.update(codec_grads, optimizer.init(params))
  new_params = optax.apply_updates(params, updates)
  assert any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(params),
                                                      jax.tree.leaves(new_params)))
  _, (metrics, _) = stage.loss_fn(new_params, {}, frozen, batch, jax.random.PRNGKey(2), True)
  assert np.isfinite(float(metrics["ocr_loss"]))
  for a, b in zip(jax.tree.leaves(frozen_before), jax.tree.leaves(frozen)):
    np.testing.assert_array_equal(a, b)


def test_stage2_eval_reports_ocr_accuracy():
  stage = stages.get_stage(_stage2_config())
  batch = _batch(stage)
  variables = stage.init_variables(jax.random.PRNGKey(0), batch)
  outputs = jax.jit(stage.eval_step)(variables, stage.load_frozen(), batch)
  host = {**batch, "text": np.array(["Hello", "world42"], object),
          "mask": np.array([True, True])}
  summary = stage.eval_summary([jax.tree.map(np.asarray, outputs)], [host])
  assert 0.0 <= summary["ocr_accuracy"] <= 1.0 and summary["num_examples"] == 2


def test_stage2_refuses_crops_that_cut_the_labelled_line():
  config = _stage2_config()
  config.data.crop_size = (64, 64)
  stage = stages.get_stage(config)
  example = {"image": np.full((64, 128, 3), 255, np.uint8), "text": b"Hello"}
  with pytest.raises(errors.TficError, match="whole line"):
    stage.preprocess_train(example, np.random.default_rng(0))
