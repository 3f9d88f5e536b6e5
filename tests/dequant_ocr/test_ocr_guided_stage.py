"""OCRGuidedStage ("dequant_ocr", tfic_jax/train/stages/ocr_guided.py): fixed-shape word
targets, IoU-matched detections, and that training changes D2 only."""

import json

import jax
import numpy as np
from ocr_guided_testlib import frozen_dirs
import pytest

from configs import dequant_ocr_tiny
from tfic_jax import errors
from tfic_jax import zoo
from tfic_jax.chains import ocr_guided
from tfic_jax.data import pipeline
from tfic_jax.train import stages
from tfic_jax.train import train
from tfic_jax.train.stages import ocr_guided as ocr_guided_stage


@pytest.fixture(scope="module")
def frozen(tmp_path_factory):
  return frozen_dirs(tmp_path_factory.mktemp("frozen"))


def _config(frozen, **data):
  config = dequant_ocr_tiny.get_config()
  config.frozen.update(frozen)
  config.data.update(data)
  return config


@pytest.fixture(scope="module")
def example():
  return pipeline.load_split("book_patches", "train", "data", builder_config="tiny")[0]


def test_registry_finds_the_stage_and_bad_configs_are_refused(frozen):
  assert isinstance(stages.get_stage(_config(frozen)), ocr_guided_stage.OCRGuidedStage)
  with pytest.raises(errors.TficError, match="data.word_boxes"):
    stages.get_stage(_config(frozen, word_boxes="oracle"))
  config = _config(frozen)
  config.frozen.craft = ""
  with pytest.raises(errors.TficError, match="config.frozen must name craft"):
    stages.get_stage(config)


def test_ground_truth_words_become_fixed_shape_targets(frozen, example):
  stage = stages.get_stage(_config(frozen, max_words=40))
  item = stage.preprocess_eval(example)
  words, _, line_boxes = ocr_guided.ground_truth_words(example["text"], example["char_boxes"])
  n = len(words)
  assert item["degraded"].shape == (64, 256, 1) and item["labels"].shape == (40, 25)
  assert item["corners"].shape == (40, 2) and item["boxes"].shape == (40, 4)
  assert 0 < n < 40 and not item["weights"][n:].any()
  readable = [i for i, w in enumerate(words) if any(c.isalnum() for c in w)]
  np.testing.assert_array_equal(np.flatnonzero(item["weights"]), readable)
  decoded = stage.ocr_model.charset.decode(item["labels"][:n])
  assert decoded == [stage.ocr_model.charset.normalize(w) for w in words]
  # Boxes in window pixels: the window's corner puts them back on the patch.
  np.testing.assert_allclose(item["boxes"][:n] + np.tile(item["corners"][:n, ::-1], 2),
                             line_boxes)
  # Training keeps a random subset of max_words words.
  small = stages.get_stage(_config(frozen, max_words=3))
  item = small.preprocess_train(example, np.random.default_rng(0))
  assert item["labels"].shape == (3, 25)


def test_detected_boxes_are_read_with_the_word_they_overlap(frozen, example, monkeypatch):
  stage = stages.get_stage(_config(frozen, word_boxes="detected"))
  words, tight, _ = ocr_guided.ground_truth_words(example["text"], example["char_boxes"])
  largest = np.argsort(-(tight[:, 2] - tight[:, 0]) * (tight[:, 3] - tight[:, 1]))[:2]
  detected = np.concatenate([tight[largest[::-1]] + np.float32([-1, -1, 1, 1]),  # IoU > 0.5
                             tight[largest[:1]] + np.float32([0, 0, 200, 0]),  # IoU < 0.5
                             np.float32([[300, 0, 310, 10]])])  # Nothing there.
  monkeypatch.setattr(stage, "detected_boxes", lambda degraded: detected)
  boxes, texts = stage.words(example)
  np.testing.assert_array_equal(boxes, detected[:2])
  assert texts == [words[largest[1]], words[largest[0]]]


def test_detected_boxes_come_from_craft_on_d1_output_and_are_cached(frozen, example):
  stage = stages.get_stage(_config(frozen, word_boxes="detected"))
  boxes = stage.detected_boxes(example["degraded"])
  np.testing.assert_allclose(boxes, [[0, 0, 256, 64]])  # This detector: one whole-image word.
  assert stage.detected_boxes(example["degraded"]) is boxes


def test_training_changes_d2_only_and_evaluates_with_and_without_it(frozen, tmp_path):
  config = _config(frozen)
  config.init_from = frozen["d1"]  # D2 starts as D1 (paper §4.5).
  config.optimizer.learning_rate = 0.01
  before = {name: zoo.load_variables(path) for name, path in frozen.items()}
  train.train_and_evaluate(config, tmp_path / "run")
  d2_model, d2 = ocr_guided.load_d2(tmp_path / "run")
  d1 = before["d1"]
  changed = jax.tree.map(lambda a, b: not np.array_equal(a, b), d2["params"], d1["params"])
  assert all(jax.tree.leaves(changed))  # Every D2 parameter moved away from D1's...
  same = jax.tree.map(np.array_equal, d2["batch_stats"], d1["batch_stats"])
  assert all(jax.tree.leaves(same))  # ...but its BatchNorm statistics stay D1's.
  for name, path in frozen.items():  # The frozen models are untouched.
    after = zoo.load_variables(path)
    assert all(jax.tree.leaves(jax.tree.map(np.array_equal, after, before[name]))), name
  records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
  test = [r for r in records if r["split"] == "test"][-1]
  assert test["num_words"] > 0 and np.isfinite(test["ocr_loss_d2"])
  assert test["ocr_loss_d1"] != test["ocr_loss_d2"]
  assert 0.0 <= test["word_accuracy_d2"] <= 1.0
  assert d2_model.depth == 3


def test_frozen_variables_get_no_update_in_a_step(frozen):
  """One jitted loss + gradient: the gradient reaches D2's parameters through the recognizer,
  and the frozen pytree passed in is returned bit-identical."""
  stage = stages.get_stage(_config(frozen))
  item = stage.preprocess_eval(
      pipeline.load_split("book_patches", "train", "data", builder_config="tiny")[1])
  batch = {k: np.stack([item[k]] * 2) for k in item}
  variables = stage.init_variables(jax.random.key(0), batch)
  frozen_vars = stage.load_frozen()
  snapshot = jax.tree.map(np.array, frozen_vars)

  @jax.jit
  def step(params, frozen_vars):
    def loss(p):
      return stage.loss_fn(p, {"batch_stats": variables["batch_stats"]}, frozen_vars, batch,
                           None, True)[0]
    return jax.grad(loss)(params), frozen_vars

  grads, returned = step(variables["params"], frozen_vars)
  assert sum(float(np.abs(g).sum()) for g in jax.tree.leaves(grads)) > 0
  assert all(jax.tree.leaves(jax.tree.map(np.array_equal, returned, snapshot)))
  assert all(jax.tree.leaves(jax.tree.map(np.array_equal, frozen_vars, snapshot)))


def test_eval_summary_scores_the_words_read_with_the_papers_accuracy(frozen):
  stage = stages.get_stage(_config(frozen))
  model = stage.ocr_model
  labels, _ = model.encode(["hello", "world", "ab", "zz"])  # "zz": padding, weight 0
  read_d1, _ = model.encode(["hellp", "", "ab", "zz"])
  read_d2, _ = model.encode(["hello", "word", "ab", "q"])
  batch = {"labels": labels.reshape(2, 2, -1), "weights": np.float32([[1, 1], [1, 0]]),
           "mask": np.array([True, True])}
  zeros = np.zeros((2,), np.float32)
  outputs = {"words": np.float32([2, 1]), "loss_d1": zeros, "loss_d2": zeros,
             "exact_d1": np.float32([0, 1]), "exact_d2": np.float32([1, 1]),
             "ids_d1": read_d1.reshape(2, 2, -1), "ids_d2": read_d2.reshape(2, 2, -1)}
  summary = stage.eval_summary([outputs], [batch])
  # d1: hellp 0.8, "" 0.0, ab 1.0; d2: hello 1.0, word 0.8, ab 1.0 (the padded word is skipped).
  assert summary["ocr_accuracy_d1"] == pytest.approx((0.8 + 0.0 + 1.0) / 3)
  assert summary["ocr_accuracy_d2"] == pytest.approx((1.0 + 0.8 + 1.0) / 3)
  assert summary["word_accuracy_d2"] == pytest.approx(2 / 3)
  # A patch the evaluation padded (mask False) does not count.
  batch["mask"] = np.array([True, False])
  assert stage.eval_summary([outputs], [batch])["ocr_accuracy_d1"] == pytest.approx(0.4)


def test_the_fidelity_term_adds_the_mse_of_the_counted_windows_to_the_clean_ones(frozen):
  config = _config(frozen)
  config.loss.fidelity_weight = 2.0
  stage = stages.get_stage(config)
  item = stage.preprocess_eval(
      pipeline.load_split("book_patches", "train", "data", builder_config="tiny")[1])
  batch = {k: np.stack([item[k]] * 2) for k in item}
  assert batch["weights"].sum() > 0
  variables = stage.init_variables(jax.random.key(0), batch)
  state = {"batch_stats": variables["batch_stats"]}
  frozen_vars = stage.load_frozen()
  loss, (metrics, _) = stage.loss_fn(variables["params"], state, frozen_vars, batch, None, True)
  assert float(loss) == pytest.approx(float(metrics["ocr_loss"] + 2.0 * metrics["fidelity_mse"]),
                                      rel=1e-5)
  refined = np.asarray(stage._refined_windows({"params": variables["params"], **state},
                                              frozen_vars, batch, True))
  clean = np.asarray(ocr_guided.extract_windows(batch["clean"], batch["corners"],
                                                stage.window)).reshape(refined.shape)
  weights = batch["weights"].reshape(-1)
  expected = np.sum(np.mean((refined - clean) ** 2, (1, 2, 3)) * weights) / weights.sum()
  assert float(metrics["fidelity_mse"]) == pytest.approx(expected, rel=1e-4)
  # The paper's loss by default: the term is reported but not added.
  default = stages.get_stage(_config(frozen))
  loss0, (metrics0, _) = default.loss_fn(variables["params"], state, frozen_vars, batch, None,
                                         True)
  assert float(loss0) == pytest.approx(float(metrics0["ocr_loss"]))
  config.loss.fidelity_weight = -1.0
  with pytest.raises(errors.TficError, match="fidelity_weight"):
    stages.get_stage(config)
