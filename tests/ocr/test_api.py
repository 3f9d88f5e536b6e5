"""The frozen-judge API (tfic_jax/ocr/api.py): losses, gradients, decoding, BN mode."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from tfic_jax.ocr import api

TINY = dict(output_channel=16, hidden_size=16, resnet_layers=(1, 1, 1, 1),
            tps_channels=(4, 8, 8, 16), tps_fc_features=16, input_size=(32, 64), max_length=6)
TINY_TRBA = dict(TINY)
TINY_CRNN = dict(TINY, prediction="ctc", transformation="none", feature_extractor="vgg")
TEXTS = ["ab1", "z9", "cab", "7"]


def _images(num, seed=0):
  """Distinct random uint8 'canvases' (64×128 RGB): overfitting only needs them to differ."""
  return np.random.default_rng(seed).integers(0, 256, (num, 64, 128, 3), dtype=np.uint8)


@functools.lru_cache(maxsize=None)
def _trained(kind):
  """A tiny model overfit on 4 images through the module in training mode (BN updates)."""
  model = api.build(TINY_TRBA if kind == "attn" else TINY_CRNN)
  variables = model.init(jax.random.key(0))
  labels, lengths = model.encode(TEXTS)
  images = _images(4)
  tx = optax.adam(1e-2)

  def loss_fn(params, batch_stats):
    x = model.adapt(images)
    decoder_inputs = targets = mask = None
    if model.prediction == "attn":
      decoder_inputs, targets, mask = api.attention_targets(labels, lengths)
    logits, new_state = model.module.apply(
        {"params": params, "batch_stats": batch_stats}, x, decoder_inputs, train=True,
        mutable=["batch_stats"])
    total, count = api.loss_from_logits(model, logits, labels, lengths, targets, mask)
    return api.weighted_mean(model, total, count), new_state["batch_stats"]

  @jax.jit
  def step(params, batch_stats, opt_state):
    (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, batch_stats)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), batch_stats, opt_state, loss

  params, batch_stats = variables["params"], variables["batch_stats"]
  opt_state = tx.init(params)
  losses = []
  for _ in range(40):
    params, batch_stats, opt_state, loss = step(params, batch_stats, opt_state)
    losses.append(float(loss))
  return model, {"params": params, "batch_stats": batch_stats}, losses


@pytest.mark.parametrize("kind", ["ctc", "attn"])
def test_loss_decreases_when_overfitting_a_tiny_batch(kind):
  _, _, losses = _trained(kind)
  assert np.all(np.isfinite(losses))
  assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:3])


@pytest.mark.parametrize("kind", ["ctc", "attn"])
def test_ocr_loss_gradient_wrt_pixels_is_finite_and_nonzero(kind):
  model, variables, _ = _trained(kind)
  labels, lengths = model.encode(TEXTS)
  images = _images(4).astype(np.float32) / 255.0
  loss, grad = jax.jit(jax.value_and_grad(
      lambda x: api.ocr_loss(model, variables, x, labels, lengths)))(jnp.asarray(images))
  assert np.isfinite(float(loss))
  assert grad.shape == images.shape and np.all(np.isfinite(grad)) and np.abs(grad).max() > 0


def test_frozen_use_is_inference_mode_batchnorm():
  model, variables, _ = _trained("attn")
  images = _images(4)
  # Inference-mode BN: an example's reading does not depend on the rest of the batch.
  logits = jax.jit(lambda v, x: api.logits(model, v, x))
  alone = logits(variables, images[:1])
  batched = logits(variables, images)
  np.testing.assert_allclose(alone[0], batched[0], atol=1e-4)
  # And nothing is mutated: running statistics differ from batch statistics.
  stats = jax.tree.leaves(variables["batch_stats"])
  assert any(np.abs(np.asarray(s)).sum() > 0 for s in stats)


def test_recognize_is_jittable_and_decodes():
  model, variables, _ = _trained("ctc")
  ids = jax.jit(lambda v, x: api.recognize(model, v, x))(variables, _images(4))
  assert ids.dtype == jnp.int32 and ids.shape[0] == 4
  texts = api.decode(model, ids)
  assert len(texts) == 4 and all(isinstance(t, str) for t in texts)


def test_ctc_greedy_decoding_collapses_repeats_and_drops_blanks():
  model = api.build(TINY_CRNN)
  a, b = 11, 12  # label ids of "a", "b" (digits come first)
  best = np.array([[a, a, 0, a, b, b, 0, 0]])  # a a _ a b b _ _ -> "aab"
  logits = jax.nn.one_hot(best, model.num_classes)
  assert api.decode(model, api.ids_from_logits(model, logits)) == ["aab"]


def test_attention_targets_and_decoding_stop_at_end_token():
  labels = jnp.array([[11, 12, 0], [0, 0, 0]], jnp.int32)
  lengths = jnp.array([2, 0], jnp.int32)
  inputs, targets, mask = api.attention_targets(labels, lengths)
  assert inputs.tolist() == [[0, 12, 13, 0], [0, 0, 0, 0]]  # [GO] then label + 1
  assert targets.tolist() == [[12, 13, 1, 0], [1, 0, 0, 0]]  # then [s] = 1
  assert mask.tolist() == [[True, True, True, False], [True, False, False, False]]
  model = api.build(TINY_TRBA)
  logits = jax.nn.one_hot(jnp.array([[12, 13, 1, 14], [1, 12, 12, 12]]), model.num_classes)
  assert api.decode(model, api.ids_from_logits(model, logits)) == ["ab", ""]


def test_read_words_crops_boxes_and_joins_with_spaces():
  model, variables, _ = _trained("ctc")
  patch = np.full((64, 256), 255, np.uint8)
  boxes = [[2, 10, 60, 22], [70, 10, 120, 22]]
  text = api.read_words(model, variables, patch, boxes)
  assert isinstance(text, str) and text.count(" ") <= 1
  crops = api.crop_words(model, patch, np.asarray(boxes, np.float32))
  assert crops.shape == (2, 32, 64, 1)
  assert api.read_words(model, variables, patch, []) == ""


def test_word_resize_mode_comes_from_the_model_and_is_checked():
  patch = np.full((64, 256), 255, np.uint8)
  patch[20:32, 30:70] = 0
  boxes = np.asarray([[30, 20, 70, 32]], np.float32)
  legacy = api.build(TINY_CRNN)  # No word_resize_mode: the reference's "pad".
  canvas = api.build(dict(TINY_CRNN, word_resize_mode="canvas"))
  assert legacy.word_resize_mode == "pad" and canvas.word_resize_mode == "canvas"
  np.testing.assert_array_equal(api.crop_words(legacy, patch, boxes),
                                api.crop_words(canvas, patch, boxes, "pad"))
  crop = np.asarray(api.crop_words(canvas, patch, boxes))[0, :, :, 0]
  assert crop[0].min() == 1.0 and crop[:, 0].min() == 1.0  # white margins around the word
  assert crop.min() == -1.0  # the word itself, black
  with pytest.raises(ValueError, match="resize_mode"):
    api.crop_words(canvas, patch, boxes, "squash")
  with pytest.raises(Exception, match="word_resize_mode"):
    api.build(dict(TINY_CRNN, word_resize_mode="squash"))
