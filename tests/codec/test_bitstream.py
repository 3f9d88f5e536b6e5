"""Real bitstreams: round trips, exact latents, determinism, refusal of bad files."""

import dataclasses
import os
from pathlib import Path
import subprocess
import sys
import textwrap

import constriction
import jax.numpy as jnp
import numpy as np
from PIL import Image
import pytest

from tfic_jax import errors
from tfic_jax.codec import api
from tfic_jax.codec import bitstream
from tfic_jax.codec import entropy

DATA = Path(__file__).with_name("data")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _image(height, width, seed=0):
  rng = np.random.default_rng(seed)
  image = np.full((height, width, 3), 230, np.uint8)
  image[height // 3: height // 2, width // 5: 4 * width // 5] = rng.integers(
      0, 120, (height // 2 - height // 3, 4 * width // 5 - width // 5, 3))
  return image


def test_random_latents_round_trip_through_the_coder():
  rng = np.random.default_rng(0)
  levels = rng.integers(0, 64, 5000).astype(np.int32)
  stds = entropy.SCALE_TABLE[levels]
  symbols = np.clip(np.round(rng.normal(size=5000) * stds), -bitstream.Y_RANGE,
                    bitstream.Y_RANGE).astype(np.int32)
  model = constriction.stream.model.QuantizedGaussian(-bitstream.Y_RANGE, bitstream.Y_RANGE)
  encoder = constriction.stream.queue.RangeEncoder()
  encoder.encode(symbols, model, np.zeros(5000), stds)
  decoder = constriction.stream.queue.RangeDecoder(encoder.get_compressed())
  np.testing.assert_array_equal(decoder.decode(model, np.zeros(5000), stds), symbols)


@pytest.mark.parametrize("height,width", [(70, 45), (64, 64), (1, 1), (130, 200)])
def test_odd_sizes_round_trip_with_bit_exact_latents(codec, height, width):
  image = _image(height, width)
  data, enc = bitstream.compress(codec, image, return_latents=True)
  decoded, dec = bitstream.decompress(codec, data, return_latents=True)
  assert decoded.shape == image.shape and decoded.dtype == np.uint8
  np.testing.assert_array_equal(enc["z_symbols"], dec["z_symbols"])
  np.testing.assert_array_equal(enc["symbols"], dec["symbols"])
  np.testing.assert_array_equal(enc["levels"], dec["levels"])
  assert enc["y_hat"].tobytes() == dec["y_hat"].tobytes()  # bit-exact ŷ


def test_channel_slices_round_trip(sliced_codec):
  data, enc = bitstream.compress(sliced_codec, _image(64, 128), return_latents=True)
  _, dec = bitstream.decompress(sliced_codec, data, return_latents=True)
  assert enc["y_hat"].tobytes() == dec["y_hat"].tobytes()


def test_decoded_image_is_the_models_reconstruction(codec):
  image = _image(64, 128)
  decoded = bitstream.decompress(codec, bitstream.compress(codec, image))
  out = api.forward(codec.model, codec.variables, jnp.asarray(image, jnp.float32)[None] / 255.0)
  expected = np.asarray(jnp.round(jnp.clip(out["x_hat"][0], 0, 1) * 255), np.uint8)
  # The forward pass rounds ŷ in float32, the coder in float64: allow a 1-level difference.
  assert np.abs(decoded.astype(int) - expected.astype(int)).max() <= 1


def test_bitstream_is_deterministic(codec):
  image = _image(96, 150, seed=3)
  assert bitstream.compress(codec, image) == bitstream.compress(codec, image)


def test_real_rate_matches_the_estimate(codec):
  image = _image(128, 256, seed=1)
  data = bitstream.compress(codec, image)
  out = api.forward(codec.model, codec.variables, jnp.asarray(image, jnp.float32)[None] / 255.0)
  estimated_bits = float(out["bpp"][0]) * 128 * 256
  header, payload = bitstream.parse_header(data)
  header_bits = 8 * (len(data) - len(payload))
  assert 8 * len(data) <= estimated_bits * 1.05 + header_bits + 64
  assert 8 * len(data) >= estimated_bits * 0.95


def test_truncated_corrupt_and_foreign_files_are_refused(codec, make_codec):
  data = bitstream.compress(codec, _image(64, 64))
  with pytest.raises(errors.BitstreamError, match="truncated"):
    bitstream.decompress(codec, data[:-3])
  with pytest.raises(errors.BitstreamError, match="truncated"):
    bitstream.decompress(codec, data[:10])
  corrupt = bytearray(data)
  corrupt[-1] ^= 0xFF
  with pytest.raises(errors.BitstreamError, match="checksum"):
    bitstream.decompress(codec, bytes(corrupt))
  header_flip = bytearray(data)
  header_flip[6 + len("tiny") + 8] ^= 0x01  # the height: covered by the file checksum
  with pytest.raises(errors.BitstreamError, match="checksum|truncated|corrupt"):
    bitstream.decompress(codec, bytes(header_flip))
  with pytest.raises(errors.BitstreamError, match="not a tfic"):
    bitstream.decompress(codec, b"\x89PNG\r\n\x1a\n" + data[8:])
  future = bytearray(data)
  future[4] = 99
  with pytest.raises(errors.BitstreamError, match="version"):
    bitstream.decompress(codec, bytes(future))
  other = make_codec(seed=1, name="other")
  with pytest.raises(errors.BitstreamError, match="made by model"):
    bitstream.decompress(other, data)


def test_index_checksum_mismatch_is_refused(codec):
  data = bytearray(bitstream.compress(codec, _image(64, 64)))
  header, payload = bitstream.parse_header(bytes(data))
  tampered = dataclasses.replace(header, index_crc=header.index_crc ^ 1)
  with pytest.raises(errors.BitstreamError, match="entropy parameters"):
    bitstream.decompress(codec, tampered.pack(payload))


def test_bad_images_are_refused(codec):
  with pytest.raises(errors.ImageInputError):
    bitstream.compress(codec, np.zeros((8, 8), np.float32))
  with pytest.raises(errors.ImageInputError):
    bitstream.compress(codec, np.zeros((8, 8, 4), np.uint8))


_DECODE_ELSEWHERE = textwrap.dedent("""
    import sys, numpy as np
    sys.path.insert(0, sys.argv[1])
    sys.path.insert(0, sys.argv[1] + "/tests/codec")
    from conftest import tiny_codec
    from tfic_jax.codec import bitstream
    codec = tiny_codec()
    image, latents = bitstream.decompress(codec, open(sys.argv[2], "rb").read(),
                                          return_latents=True)
    np.savez(sys.argv[3], image=image, symbols=latents["symbols"], y_hat=latents["y_hat"])
""")


def test_decode_in_another_process_with_another_xla_cpu_configuration(codec, tmp_path):
  """Encode here; decode in a fresh process with single-threaded Eigen and fast math off/on.

  The decoded symbols must be identical, ŷ equal to float64 rounding (bit-identical on the
  same CPU), and the image identical.
  """
  image = _image(96, 160, seed=5)
  data, enc = bitstream.compress(codec, image, return_latents=True)
  (tmp_path / "a.tfic").write_bytes(data)
  env = dict(os.environ, JAX_PLATFORMS="cpu",
             XLA_FLAGS="--xla_cpu_multi_thread_eigen=false --xla_force_host_platform_device_count=3")
  subprocess.run([sys.executable, "-c", _DECODE_ELSEWHERE, ROOT, str(tmp_path / "a.tfic"),
                  str(tmp_path / "out.npz")], check=True, env=env, cwd=ROOT, timeout=300)
  out = np.load(tmp_path / "out.npz")
  np.testing.assert_array_equal(out["symbols"], enc["symbols"])
  np.testing.assert_allclose(out["y_hat"], enc["y_hat"], rtol=0, atol=1e-12)
  np.testing.assert_array_equal(out["image"], bitstream.decompress(codec, data))


def test_entropy_parameters_are_computed_in_float64(sliced_codec):
  _, enc = bitstream.compress(sliced_codec, _image(64, 64), return_latents=True)
  assert enc["y_hat"].dtype == np.float64
  # ŷ − s is the float64 mean: it is not representable in float32 in general.
  means = enc["y_hat"] - enc["symbols"]
  assert not np.array_equal(means, means.astype(np.float32).astype(np.float64))


def test_version_1_files_still_decode(codec):
  # Written and decoded by tfic-jax at 10b74a1 (format 1) with this tiny codec.
  data = (DATA / "v1_tiny_64x96.tfic").read_bytes()
  expected = np.asarray(Image.open(DATA / "v1_tiny_64x96_decoded.png"))
  header, _ = bitstream.parse_header(data)
  assert header.version == 1 and header.fingerprint == codec.fingerprint
  decoded = bitstream.decompress(codec, data)
  # The same symbols; ŷ = s + μ can differ by float64 rounding of μ (h_s is now a matmul).
  assert decoded.shape == expected.shape
  assert np.abs(decoded.astype(int) - expected.astype(int)).max() <= 1
  truncated = data[:-4]
  with pytest.raises(errors.BitstreamError, match="truncated"):
    bitstream.decompress(codec, truncated)


def test_stored_gaussian_tables_are_what_the_generator_makes():
  np.testing.assert_array_equal(bitstream.gaussian_frequencies(),
                                bitstream.make_gaussian_frequencies())
  assert (bitstream.gaussian_frequencies().sum(axis=1) == 1 << bitstream.TABLE_PRECISION).all()


def test_large_images_are_coded_in_tiles_that_round_trip(codec):
  image = _image(100, 150, seed=6)
  data, latents = bitstream.compress(codec, image, tile=64, return_latents=True)
  header, _ = bitstream.parse_header(data)
  assert header.tile == 64 and len(header.tile_words) == 2 * 3 == len(latents)
  done = []
  decoded, decoded_latents = bitstream.decompress(codec, data, return_latents=True,
                                                  progress=lambda i, n: done.append((i, n)))
  assert decoded.shape == image.shape and done[-1] == (6, 6)
  for encoded, got in zip(latents, decoded_latents):
    np.testing.assert_array_equal(got["symbols"], encoded["symbols"])
    np.testing.assert_array_equal(got["y_hat"], encoded["y_hat"])
  # Each tile decodes to what the model makes of that tile alone.
  top_left = bitstream.decompress(codec, bitstream.compress(codec, image[:64, :64]))
  np.testing.assert_array_equal(decoded[:64, :64], top_left)


# Crafting headers needs the format's own helpers.  pylint: disable=protected-access
_varint, _CRC, _with_crc = bitstream._varint, bitstream._CRC, bitstream.seal


def test_crafted_sizes_are_refused_before_any_allocation(codec):
  data = bitstream.compress(codec, _image(64, 64))
  header, payload = bitstream.parse_header(data)
  name = header.name.encode()
  prefix = bitstream.MAGIC + bytes([2, len(name)]) + name + header.fingerprint
  crc = _CRC.pack(header.index_crc)
  # 16384² in tiles of 1024 is 256 tiles: a short file cannot hold their lengths.
  huge = _with_crc(prefix + _varint(16384) + _varint(16384) + bytes([16]) + _varint(1) + crc,
                   payload[:4])
  with pytest.raises(errors.BitstreamError, match="needs 256 tile lengths"):
    bitstream.decompress(codec, huge)
  too_big = _with_crc(prefix + _varint(40000) + _varint(8) + bytes([1]) + crc, b"")
  with pytest.raises(errors.BitstreamError, match="sides must lie in"):
    bitstream.decompress(codec, too_big)
  zero = _with_crc(prefix + _varint(0) + _varint(8) + bytes([1]) + crc, b"")
  with pytest.raises(errors.BitstreamError, match="sides must lie in"):
    bitstream.decompress(codec, zero)
