"""tfic_jax.zoo: resolving names, refusing a model of the wrong kind."""

import pytest

from tfic_jax import errors
from tfic_jax import zoo


def test_a_model_of_another_stage_is_refused_by_name():
  assert zoo.load_config("codec_mse_q1", ("codec",)).stage == "codec"
  with pytest.raises(errors.CheckpointError, match="is a 'codec' model, not 'ocr'"):
    zoo.load_config("codec_mse_q1", ("ocr",))


def test_an_unknown_name_lists_the_shipped_models_only(tmp_path):
  with pytest.raises(errors.CheckpointError) as raised:
    zoo.resolve("no_such_model")
  assert "ocr_default" in str(raised.value) and "README.md" not in str(raised.value)
