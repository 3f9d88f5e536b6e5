"""The shipped codecs (models/codec_*_q*) load, match their cards and code a text line."""


import pytest

from tfic_jax import metrics
from tfic_jax import zoo
from tfic_jax.codec import api
from tfic_jax.codec import bitstream
from tfic_jax.data import synth_text

SHIPPED = [(kind, q) for kind in api.KINDS for q in api.shipped_qualities(kind)]


def test_at_least_four_mse_rate_points_ship():
  assert api.shipped_qualities("mse") == [1, 2, 3, 4]


@pytest.mark.parametrize("kind,quality", SHIPPED)
def test_card_checksum_matches_the_shipped_variables(kind, quality):
  directory = zoo.MODELS_DIR / api.shipped_name(kind, quality)
  recorded, actual = zoo.card_checksums(directory)
  assert actual == recorded


def test_lowest_rate_codec_round_trips_a_rendered_line():
  codec = api.load(api.resolve(None, "mse", 1))
  assert codec.name == "codec_mse_q1"
  spec = synth_text.SynthTextSpec(height=128, width=256)
  image = synth_text.render_example(spec, 1, 0)["image"]
  data = bitstream.compress(codec, image)
  assert data[:4] == b"TFIC" and bitstream.parse_header(data)[0].name == "codec_mse_q1"
  decoded = bitstream.decompress(bitstream.load_for(data), data)
  # A trained codec, not noise: well above the ~10 dB of an untrained one (docs/results.md).
  assert metrics.psnr(image, decoded) > 20.0
  assert bitstream.bits_per_pixel(data, 128, 256) < 2.0


@pytest.mark.parametrize("quality", api.shipped_qualities("tfic"))
def test_tfic_codecs_name_the_judge_they_were_trained_against(quality):
  """The card records the frozen judge's bytes; the name in config.json must still resolve to
  them (a new default judge means retraining stage 2, or naming the old judge)."""
  directory = zoo.MODELS_DIR / api.shipped_name("tfic", quality)
  judge = zoo.load_config(directory).frozen.ocr
  card = (directory / zoo.MODEL_CARD_FILE).read_text()
  assert (f"- frozen `ocr`: `{judge}`, variables.msgpack sha256 "
          f"`{zoo.model_identity(judge)}`") in card
