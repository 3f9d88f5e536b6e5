"""Tiny frozen models for the OCR-guided tests, saved as model directories."""

import jax
import numpy as np

from configs import craft_tiny
from configs import dncnn_tiny
from configs import ocr_crnn_tiny
from tfic_jax import zoo
from tfic_jax.dequant import api
from tfic_jax.detect import api as detect_api
from tfic_jax.ocr import api as ocr_api


def save_model(directory, config, variables):
  directory.mkdir(parents=True)  # A fresh directory: a name reused by mistake fails here.
  return zoo.write_model_dir(directory, config, variables)


def tiny_d1(seed=0):
  config = dncnn_tiny.get_config()
  model = api.build(config)
  return config, model, jax.tree.map(np.asarray, model.init(jax.random.key(seed)))


def whole_image_detector():
  """A tiny CRAFT reporting region 1, affinity 0 everywhere: the whole image is one word."""
  config = craft_tiny.get_config()
  detector = detect_api.build(config)
  variables = jax.tree.map(np.asarray, detector.init(jax.random.key(0)))
  last = sorted(variables["params"], key=lambda n: int(n.split("_")[-1]))[-1]
  variables["params"][last]["kernel"] = np.zeros_like(variables["params"][last]["kernel"])
  variables["params"][last]["bias"] = np.float32([1.0, 0.0])
  return config, detector, variables


def tiny_ocr():
  config = ocr_crnn_tiny.get_config()
  model = ocr_api.build(config)
  return config, model, jax.tree.map(np.asarray, model.init(jax.random.key(0)))


def frozen_dirs(root) -> dict:
  """{"d1", "craft", "ocr"}: paths of tiny model directories under `root`."""
  d1_config, _, d1_variables = tiny_d1()
  craft_config, _, craft_variables = whole_image_detector()
  ocr_config, _, ocr_variables = tiny_ocr()
  return {"d1": str(save_model(root / "d1", d1_config, d1_variables)),
          "craft": str(save_model(root / "craft", craft_config, craft_variables)),
          "ocr": str(save_model(root / "ocr", ocr_config, ocr_variables))}
