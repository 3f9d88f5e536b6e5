"""A tiny randomly initialised codec shared by the codec tests (built once per module)."""

import json

import flax
import jax
import pytest

from configs import codec_mse_tiny
from tfic_jax import zoo
from tfic_jax.codec import api


def tiny_codec(num_slices: int = 1, seed: int = 0, name: str = "tiny") -> api.LoadedCodec:
  config = codec_mse_tiny.get_config()
  config.model.num_slices = num_slices
  config.model.slice_hidden = (8,)
  model = api.build(config)
  variables = model.init(jax.random.PRNGKey(seed), 64, 64)
  return api.LoadedCodec(model, variables, name, api.identity(variables))


@pytest.fixture(scope="session")
def make_codec():
  return tiny_codec


@pytest.fixture(scope="module")
def codec():
  return tiny_codec()


@pytest.fixture(scope="module")
def sliced_codec():
  return tiny_codec(num_slices=2)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
  """The tiny codec saved as a model directory (variables.msgpack + config.json)."""
  directory = tmp_path_factory.mktemp("codec_tiny")
  codec = tiny_codec()
  (directory / zoo.VARIABLES_FILE).write_bytes(
      flax.serialization.msgpack_serialize(codec.variables))
  (directory / zoo.CONFIG_FILE).write_text(
      json.dumps(zoo.config_to_dict(codec_mse_tiny.get_config())))
  return directory
