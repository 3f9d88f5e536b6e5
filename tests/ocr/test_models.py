"""Architectures (tfic_jax/ocr/models.py): reference parameter counts, shapes, dtypes."""

import importlib

import jax
import jax.numpy as jnp
import pytest

from tfic_jax.ocr import api


def _config(name):
  return importlib.import_module(f"configs.{name}").get_config()


@pytest.mark.parametrize("name,reference", [("ocr_trba", 49.6e6), ("ocr_crnn", 8.5e6)])
def test_full_size_parameter_counts_match_the_reference(name, reference):
  # Counted with jax.eval_shape: nothing is materialized. Flax LSTMs have one bias per gate
  # where PyTorch has two, hence a few thousand parameters fewer.
  model = api.build(_config(name))
  assert abs(model.num_params() - reference) / reference < 0.02


def test_full_size_output_shapes():
  trba = api.build(dict(input_size=(32, 100)))
  x = jax.ShapeDtypeStruct((2, 32, 100, 1), jnp.float32)
  variables = trba.abstract_variables()
  out = jax.eval_shape(lambda v, x: trba.module.apply(v, x), variables, x)
  assert out.shape == (2, 26, 38)  # max_length + 1 steps, [GO] + [s] + 36
  crnn = api.build(_config("ocr_crnn"))
  x = jax.ShapeDtypeStruct((2, 32, 128, 1), jnp.float32)
  out = jax.eval_shape(lambda v, x: crnn.module.apply(v, x), crnn.abstract_variables(), x)
  assert out.shape == (2, 31, 37)  # W/4 - 1 time steps, blank + 36


def test_small_configs_are_small():
  assert api.build(_config("ocr_crnn_small")).num_params() < 5_000_000  # < 20 MB float32
  assert api.build(_config("ocr_crnn_tiny")).num_params() < 200_000
  assert api.build(_config("ocr_trba_tiny")).num_params() < 200_000


def test_bfloat16_compute_keeps_float32_params():
  config = _config("ocr_trba_tiny")
  config.compute_dtype = "bfloat16"
  model = api.build(config)
  variables = model.abstract_variables()
  assert {x.dtype for x in jax.tree.leaves(variables)} == {jnp.dtype(jnp.float32)}
  x = jax.ShapeDtypeStruct((2, 32, 128, 1), jnp.float32)
  out = jax.eval_shape(lambda v, x: model.module.apply(v, x), variables, x)
  assert out.dtype == jnp.float32 and out.shape == (2, 26, 38)
