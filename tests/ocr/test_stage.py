"""OCRStage (tfic_jax/train/stages/ocr.py) against the Stage contract, without building a dataset."""

import jax
import numpy as np

from configs import ocr_crnn_tiny
from tfic_jax.train import stages
from tfic_jax.train.stages import ocr as stage_lib


def _stage():
  config = ocr_crnn_tiny.get_config()
  config.model.input_size = (32, 64)
  return stages.get_stage(config)


def _examples():
  rng = np.random.default_rng(0)
  texts = ["Hello", b"world", "x" * 40, ""]  # bytes as tfds gives them; an over-long label
  return [{"image": rng.integers(0, 256, (64, 128, 3), dtype=np.uint8), "text": t}
          for t in texts]


def _batch(items):
  return {k: (np.stack([it[k] for it in items]) if k != "text" else [it[k] for it in items])
          for k in items[0]}


def test_registry_finds_the_ocr_stage():
  assert isinstance(_stage(), stage_lib.OCRStage)


def test_preprocess_is_deterministic_and_fixed_shape():
  stage = _stage()
  a = [stage.preprocess_train(e, np.random.default_rng(i)) for i, e in enumerate(_examples())]
  b = [stage.preprocess_train(e, np.random.default_rng(i)) for i, e in enumerate(_examples())]
  for x, y in zip(a, b):
    np.testing.assert_array_equal(x["image"], y["image"])
    assert x["image"].shape == (64, 128, 3) and x["label"].shape == (25,)
  assert [x["label_weight"] for x in a] == [1.0, 1.0, 0.0, 1.0]  # over-long: not trained on
  assert a[1]["text"] == "world"


def test_loss_eval_and_summary_run_under_jit():
  stage = _stage()
  batch = _batch([stage.preprocess_eval(e) for e in _examples()])
  device_batch = {k: v for k, v in batch.items() if k != "text"}
  variables = dict(stage.init_variables(jax.random.key(0), device_batch))
  params = variables.pop("params")
  loss_fn = jax.jit(stage.loss_fn, static_argnums=(5,))
  loss, (metrics, new_state) = loss_fn(params, variables, {}, device_batch, jax.random.key(1),
                                       True)
  assert np.isfinite(float(loss)) and "ocr_loss" in metrics
  assert jax.tree.structure(new_state) == jax.tree.structure(variables)
  outputs = jax.jit(stage.eval_step)({"params": params, **variables}, {}, device_batch)
  batch["mask"] = np.array([True, True, True, False])
  summary = stage.eval_summary([jax.tree.map(np.asarray, outputs)], [batch])
  assert summary["num_examples"] == 3
  assert 0.0 <= summary["ocr_accuracy"] <= 1.0 and 0.0 <= summary["word_accuracy"] <= 1.0
