"""Stage 2's robustness options (issue 27): EOT between decoder and judge, several judges."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import codec_common
from configs import codec_mse_tiny
from tfic_jax import errors
from tfic_jax.train import eot
from tfic_jax.train import stages


def _image(seed=0, shape=(2, 32, 48, 3)):
  return jnp.asarray(np.random.default_rng(seed).uniform(0.2, 0.8, shape), jnp.float32)


def test_identity_affine_and_zero_blur_change_nothing():
  image = _image()[0]
  same = eot._affine(image, jnp.float32(1.0), jnp.float32(0.0), jnp.zeros(2))
  np.testing.assert_allclose(same, image, atol=1e-5)
  np.testing.assert_allclose(eot._blur(_image(), jnp.zeros(2), 3), _image(), atol=1e-6)


def test_shift_moves_pixels_and_blur_keeps_the_mean_of_a_flat_image():
  image = _image()[0]
  moved = eot._affine(image, jnp.float32(1.0), jnp.float32(0.0), jnp.array([0.0, 2.0]))
  np.testing.assert_allclose(moved[:, 2:], image[:, :-2], atol=1e-5)  # Two pixels right.
  flat = jnp.full((1, 16, 16, 1), 0.3)
  np.testing.assert_allclose(eot._blur(flat, jnp.array([1.5]), 5), flat, atol=1e-6)
  sharp = jnp.zeros((1, 15, 15, 1)).at[0, 7, 7, 0].set(1.0)
  blurred = eot._blur(sharp, jnp.array([1.0]), 3)
  assert float(blurred[0, 7, 7, 0]) < 0.2 and float(jnp.sum(blurred)) == pytest.approx(1.0)


def test_transform_is_seeded_static_bounded_and_differentiable():
  config = eot.EotConfig(scale=0.1, rotate=2.0, shift=1.5, blur=1.0, noise=0.05, contrast=0.2)
  images, key = _image(), jax.random.PRNGKey(3)
  first = jax.jit(lambda x, k: eot.transform(x, k, config))(images, key)
  np.testing.assert_allclose(first, eot.transform(images, key, config), atol=1e-5)  # jit vs eager
  other = eot.transform(images, jax.random.PRNGKey(4), config)
  assert first.shape == images.shape and not np.allclose(first, other)
  assert 0.0 <= float(first.min()) and float(first.max()) <= 1.0
  grad = jax.grad(lambda x: jnp.sum(eot.transform(x, key, config) ** 2))(images)
  assert np.isfinite(np.asarray(grad)).all() and float(jnp.abs(grad).max()) > 0


@pytest.mark.parametrize("section, match", [({"blur": -1.0}, ">= 0"), ({"scale": 1.0}, "< 1"),
                                            ({"sheer": 0.1}, "unknown loss.eot")])
def test_bad_eot_settings_raise(section, match):
  with pytest.raises(ValueError, match=match):
    eot.from_config(section)
  assert not eot.from_config(None).enabled


def _config(judges="ocr_default", **strengths):
  config = codec_common.stage2(codec_mse_tiny.get_config(), 1)
  config.init_from = ""
  config.frozen.ocr = judges
  for name, value in strengths.items():
    config.loss.eot[name] = value
  return config


def _batch(stage):
  examples = []
  for text in ("Hello", "world42"):
    image = np.full((64, 128, 3), 255, np.uint8)
    image[24:40, 20:100] = 30
    examples.append(stage.preprocess_eval({"image": image, "text": text.encode()}))
  return {k: np.stack([e[k] for e in examples]) for k in examples[0] if k != "text"}


def test_two_judges_each_get_their_labels_and_the_loss_is_their_mean():
  stage = stages.get_stage(_config("ocr_default,ocr_32x128"))
  batch = _batch(stage)
  assert {"label", "label_1", "label_weight_1"} <= set(batch)
  params = stage.init_variables(jax.random.PRNGKey(0), batch)["params"]
  frozen = stage.load_frozen()
  assert set(frozen) == {"ocr", "ocr_1"}
  key = jax.random.PRNGKey(1)
  both = float(stage.loss_fn(params, {}, frozen, batch, key, True)[1][0]["ocr_loss"])
  singles = []
  for judges in ("ocr_default", "ocr_32x128"):
    single = stages.get_stage(_config(judges))
    single_batch = _batch(single)
    singles.append(float(single.loss_fn(params, {}, single.load_frozen(), single_batch, key,
                                         True)[1][0]["ocr_loss"]))
  assert both == pytest.approx(np.mean(singles), rel=1e-4)


def test_eot_changes_the_training_loss_only():
  plain, robust = stages.get_stage(_config()), stages.get_stage(_config(blur=1.5, rotate=3.0))
  batch = _batch(plain)
  variables = plain.init_variables(jax.random.PRNGKey(0), batch)
  frozen, key = plain.load_frozen(), jax.random.PRNGKey(1)
  train = [float(s.loss_fn(variables["params"], {}, frozen, batch, key, True)[1][0]["ocr_loss"])
           for s in (plain, robust)]
  assert train[0] != pytest.approx(train[1], rel=1e-4)
  evals = [s.eval_step(variables, frozen, batch)["pred_ids"] for s in (plain, robust)]
  np.testing.assert_array_equal(evals[0], evals[1])


def test_eot_without_a_judge_is_refused():
  config = codec_mse_tiny.get_config()
  config.loss.eot.blur = 1.0
  with pytest.raises(errors.TficError, match="needs loss.gamma"):
    stages.get_stage(config)
