"""CodecStage against the Stage contract, parameter counts, and a tiny overfit."""

import jax
import numpy as np
import optax

from configs import codec_mse
from configs import codec_mse_small
from configs import codec_mse_tiny
from tfic_jax.codec import api
from tfic_jax.train import stages
from tfic_jax.train.stages import codec as stage_lib


def _examples(n=4, height=64, width=128):
  rng = np.random.default_rng(0)
  out = []
  for i in range(n):
    image = np.full((height, width, 3), 255, np.uint8)
    image[20:40, 10 + 5 * i:100] = rng.integers(0, 80, (20, 90 - 5 * i, 3))
    out.append({"image": image, "text": f"word{i}".encode()})
  return out


def _batch(items):
  return {k: np.stack([it[k] for it in items]) for k in items[0] if k != "text"}


def test_parameter_counts_of_each_config():
  # Reference (TinyLIC widths, mean-scale hyperprior), CPU-sized, test-sized.
  assert api.build(codec_mse.get_config()).num_params() == 17_737_171
  assert api.build(codec_mse_small.get_config()).num_params() == 1_854_251
  assert api.build(codec_mse_tiny.get_config()).num_params() == 22_817


def test_latent_shapes_follow_the_paper():
  model = api.build(codec_mse_tiny.get_config())
  variables = model.init(jax.random.PRNGKey(0), 64, 128)
  x = np.zeros((2, 128, 192, 3), np.float32)
  out = api.forward(model, variables, x)
  assert out["y"].shape == (2, 8, 12, 16)  # 1/16
  assert out["z_hat"].shape == (2, 2, 3, 8)  # 1/64
  assert out["x_hat"].shape == x.shape and out["bpp"].shape == (2,)


def test_stage_preprocess_loss_and_eval():
  config = codec_mse_tiny.get_config()
  stage = stages.get_stage(config)
  assert isinstance(stage, stage_lib.CodecStage)
  items = [stage.preprocess_train(e, np.random.default_rng(i)) for i, e in enumerate(_examples())]
  assert items[0]["image"].shape == (64, 128, 3) and items[1]["text"] == "word1"
  batch = _batch(items)
  variables = stage.init_variables(jax.random.PRNGKey(0), batch)
  loss, (metrics, state) = jax.jit(stage.loss_fn, static_argnums=5)(
      variables["params"], {}, {}, batch, jax.random.PRNGKey(1), True)
  assert np.isfinite(float(loss)) and {"mse", "bpp", "psnr", "bpp_z"} <= set(metrics)
  assert state == {}
  outputs = jax.jit(stage.eval_step)(variables, {}, batch)
  host_batch = {**batch, "text": [it["text"] for it in items],
                "mask": np.array([True, True, True, False])}
  summary = stage.eval_summary([jax.tree.map(np.asarray, outputs)], [host_batch])
  assert summary["num_examples"] == 3 and summary["bpp"] > 0 and summary["psnr"] > 0


def test_a_few_steps_reduce_the_rate_distortion_loss():
  config = codec_mse_tiny.get_config()
  stage = stages.get_stage(config)
  batch = _batch([stage.preprocess_eval(e) for e in _examples()])
  params = stage.init_variables(jax.random.PRNGKey(0), batch)["params"]
  optimizer = optax.adam(3e-3)
  opt_state = optimizer.init(params)

  @jax.jit
  def step(params, opt_state, rng):
    (loss, _), grads = jax.value_and_grad(stage.loss_fn, has_aux=True)(
        params, {}, {}, batch, rng, True)
    updates, opt_state = optimizer.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state, loss

  losses = []
  for i in range(30):
    params, opt_state, loss = step(params, opt_state, jax.random.PRNGKey(i))
    losses.append(float(loss))
  assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])


def test_bfloat16_compute_gives_float32_rates_and_finite_gradients():
  config = codec_mse_tiny.get_config()
  config.compute_dtype = "bfloat16"
  stage = stages.get_stage(config)
  batch = _batch([stage.preprocess_eval(e) for e in _examples(2)])
  params = stage.init_variables(jax.random.PRNGKey(0), batch)["params"]
  assert all(p.dtype == np.float32 for p in jax.tree.leaves(params))  # params stay float32
  (loss, (metrics, _)), grads = jax.jit(jax.value_and_grad(
      lambda p: stage.loss_fn(p, {}, {}, batch, jax.random.PRNGKey(1), True), has_aux=True))(
          params)
  assert loss.dtype == np.float32 and np.isfinite(float(loss))
  assert all(np.all(np.isfinite(np.asarray(g))) for g in jax.tree.leaves(grads))
