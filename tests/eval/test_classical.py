"""Tests for tfic_jax.eval.classical: codecs round trip; lower quality spends fewer bytes."""

import numpy as np
from PIL import Image
from PIL import ImageDraw
import pytest

from tfic_jax import errors
from tfic_jax.eval import classical


def _text_image(height=48, width=128, channels=3):
  """A dark word on a light, slightly textured background."""
  rng = np.random.default_rng(0)
  background = (220 + rng.integers(0, 12, (height, width, 3))).astype(np.uint8)
  image = Image.fromarray(background)
  ImageDraw.Draw(image).text((8, height // 3), "Hello 42", fill=(20, 20, 60), font_size=20)
  pixels = np.asarray(image)
  return pixels if channels == 3 else np.asarray(image.convert("L"))[:, :, None]


@pytest.mark.parametrize("codec", list(classical.CODECS))
@pytest.mark.parametrize("channels", [3, 1])
def test_round_trip_keeps_shape_and_dtype(codec, channels):
  image = _text_image(channels=channels)
  quality = classical.CODECS[codec].qualities[-3]
  decoded, num_bytes = classical.encode_decode(image, codec, quality)
  assert decoded.shape == image.shape and decoded.dtype == np.uint8
  assert num_bytes > 0
  # A high quality keeps the image close.
  assert np.mean(np.abs(decoded.astype(float) - image)) < 20


def test_round_trip_of_2d_grayscale_returns_2d():
  image = _text_image(channels=1)[:, :, 0]
  decoded, _ = classical.encode_decode(image, "jpeg", 50)
  assert decoded.shape == image.shape


@pytest.mark.parametrize("codec", list(classical.CODECS))
def test_bytes_decrease_with_lower_quality(codec):
  image = _text_image()
  qualities = classical.CODECS[codec].qualities
  low, high = qualities[1], qualities[-3]
  _, low_bytes = classical.encode_decode(image, codec, low)
  _, high_bytes = classical.encode_decode(image, codec, high)
  assert low_bytes < high_bytes


@pytest.mark.parametrize("codec", list(classical.CODECS))
@pytest.mark.parametrize("downscale", [2, 4])
def test_downscaled_variant_restores_size_and_spends_fewer_bytes(codec, downscale):
  image = _text_image()
  quality = classical.CODECS[codec].qualities[-4]
  decoded, small_bytes = classical.encode_decode(image, codec, quality, downscale=downscale)
  _, full_bytes = classical.encode_decode(image, codec, quality)
  assert decoded.shape == image.shape and decoded.dtype == np.uint8
  if codec != "jpeg2000":  # Its quality is a target rate: bytes ~ equal by design.
    assert small_bytes < full_bytes


def test_jpeg2000_quality_is_a_target_bpp():
  image = _text_image(96, 256)
  for target_bpp in (0.25, 1.0):
    _, num_bytes = classical.encode_decode(image, "jpeg2000", target_bpp)
    assert 8 * num_bytes / image[..., 0].size == pytest.approx(target_bpp, rel=0.15)


def test_unknown_codec_lists_known_names():
  with pytest.raises(ValueError, match="Unknown codec 'heic'.*jpeg"):
    classical.encode_decode(_text_image(), "heic", 50)


def test_bad_quality_downscale_and_input_are_rejected():
  image = _text_image()
  with pytest.raises(ValueError, match="outside"):
    classical.encode_decode(image, "jpeg", 0)
  with pytest.raises(ValueError, match="integer"):
    classical.encode_decode(image, "webp", 2.5)
  with pytest.raises(ValueError, match="downscale"):
    classical.encode_decode(image, "jpeg", 50, downscale=0)
  with pytest.raises(errors.ImageInputError, match="uint8"):
    classical.encode_decode(image.astype(np.float32), "jpeg", 50)
  with pytest.raises(errors.ImageInputError, match="channels"):
    classical.encode_decode(np.zeros((8, 8, 4), np.uint8), "jpeg", 50)


def test_sweep_covers_every_downscale_and_quality():
  points = classical.sweep(_text_image(), "jpeg", qualities=(5, 50), downscales=(1, 2))
  assert [(p.downscale, p.quality) for p in points] == [(1, 5), (1, 50), (2, 5), (2, 50)]
  assert all(p.bpp > 0 and p.decoded.shape == (48, 128, 3) for p in points)


def test_best_at_rate_respects_the_budget_and_returns_none_below_reach():
  image = _text_image()
  target_bpp = 2.0
  best = classical.best_at_rate(image, "jpeg", target_bpp, downscales=(1, 2))
  assert best is not None and best.bpp <= target_bpp
  # No finer quality at the same downscale fits the budget.
  if best.quality < 95:
    _, next_bytes = classical.encode_decode(image, "jpeg", best.quality + 1, best.downscale)
    assert 8 * next_bytes / (48 * 128) > target_bpp
  assert classical.best_at_rate(image, "jpeg", 0.01, downscales=(1,)) is None


@pytest.mark.parametrize("stream", [b"", b"not an image at all", None])
def test_corrupt_or_truncated_stream_is_a_bitstream_error(stream):
  image = np.full((32, 64, 3), 200, np.uint8)
  if stream is None:  # a real file, truncated
    stream = classical.encode(image, "jpeg", 50)[:40]
  with pytest.raises(errors.BitstreamError, match="cannot decode"):
    classical.decode(stream, image.shape)
