"""Real bitstreams: `compress(codec, image) -> bytes`, `decompress(codec, bytes) -> image`.

Entropy coding is constriction's range coder (one queue, z first, then y slice by slice):
z with a per-channel categorical table tabulated from the factorized prior, y with quantized
Gaussians whose scale is one of `entropy.SCALE_TABLE`'s 64 levels.

File format (version 1), big-endian header then the payload:

    b"TFIC" | version u8 | name length u8 | model name (utf-8) | model fingerprint 8 bytes
    | height u16 | width u16 | scale-index CRC32 u32 | payload CRC32 u32 | payload bytes u32
    | payload (constriction's uint32 words, little-endian)

Cross-hardware decoding (CompressAI's best-known failure: entropy parameters computed on two
machines differ in their last bits, the decoder picks another CDF and decodes garbage). Here:

1. The entropy parameters (h_s and the slice transforms) are computed on BOTH sides by the same
   network in float64 on the CPU backend, from integer inputs (ẑ, and ŷ of earlier slices),
   whatever device runs g_a / g_s. The CDF choice is a comparison of σ against the geometric
   midpoints of a fixed table (`sqrt`, correctly rounded in IEEE 754). Two conforming CPUs can
   only disagree if σ lies within float64 rounding (~1e-16 relative) of a threshold.
2. That remaining case is detected, never decoded silently: the header carries a CRC32 of all
   the encoder's scale indices; the decoder recomputes it and refuses the file on a mismatch.
3. Guaranteed: the decoded integer symbols are exactly the encoder's, on any machine; ŷ = s + μ
   is bit-identical to the encoder's on the same platform and equal to float64 rounding of μ
   across platforms (the tests check both: encode/decode in one process, and decode in another
   process with a different XLA CPU configuration).
A truncated, corrupted, foreign or other-model file is refused with `BitstreamError`.
"""

import contextlib
import dataclasses
import functools
import struct
import time
import zlib

import constriction
import jax
import jax.numpy as jnp
import numpy as np

from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax.codec import api
from tfic_jax.codec import entropy

MAGIC = b"TFIC"
VERSION = 1
_FIXED = struct.Struct(">HHIII")  # height, width, index CRC, payload CRC, payload bytes.
Y_RANGE = 255  # y symbols s = round(y − μ) are clipped to [−255, 255] (ŷ uses the clipped s).
Z_RANGE = 127  # z symbols round(z) are clipped to [−127, 127].
# Geometric midpoints between table levels: σ ≥ threshold[i] selects level i + 1.
_THRESHOLDS = np.sqrt(entropy.SCALE_TABLE[:-1] * entropy.SCALE_TABLE[1:])


def scale_levels(scales: np.ndarray) -> np.ndarray:
  """Index of the table level nearest to σ in log scale (int32), from float64 σ."""
  return np.searchsorted(_THRESHOLDS, np.asarray(scales, np.float64), side="right").astype(
      np.int32)


@dataclasses.dataclass(frozen=True)
class Header:
  name: str
  fingerprint: bytes
  height: int
  width: int
  index_crc: int
  payload_crc: int
  payload_size: int

  def pack(self) -> bytes:
    name = self.name.encode("utf-8")
    if len(name) > 255:
      raise errors.BitstreamError(f"model name too long for the header: {self.name!r}")
    return (MAGIC + bytes([VERSION, len(name)]) + name + self.fingerprint
            + _FIXED.pack(self.height, self.width, self.index_crc, self.payload_crc,
                          self.payload_size))


def parse_header(data: bytes) -> tuple[Header, bytes]:
  """(header, payload) of a .tfic file; BitstreamError if it is not a complete, intact one."""
  if not isinstance(data, (bytes, bytearray)):
    raise errors.BitstreamError(f"expected bytes, got {type(data).__name__}")
  if data[:4] != MAGIC:
    raise errors.BitstreamError("not a tfic bitstream (bad magic; expected a .tfic file "
                                "written by launch.compress)")
  if len(data) < 6:
    raise errors.BitstreamError("truncated tfic bitstream (header incomplete)")
  if data[4] != VERSION:
    raise errors.BitstreamError(f"tfic bitstream format version {data[4]}; this version of "
                                f"tfic-jax reads version {VERSION}")
  name_end = 6 + data[5]
  fixed_end = name_end + 8 + _FIXED.size
  if len(data) < fixed_end:
    raise errors.BitstreamError("truncated tfic bitstream (header incomplete)")
  try:
    name = bytes(data[6:name_end]).decode("utf-8")
  except UnicodeDecodeError as e:
    raise errors.BitstreamError("corrupt tfic header (model name)") from e
  fingerprint = bytes(data[name_end:name_end + 8])
  height, width, index_crc, payload_crc, payload_size = _FIXED.unpack(
      data[name_end + 8:fixed_end])
  payload = bytes(data[fixed_end:])
  if len(payload) < payload_size:
    raise errors.BitstreamError(
        f"truncated tfic bitstream: payload has {len(payload)} of {payload_size} bytes")
  if len(payload) > payload_size:
    raise errors.BitstreamError(
        f"corrupt tfic bitstream: {len(payload) - payload_size} bytes after the payload")
  if zlib.crc32(payload) != payload_crc:
    raise errors.BitstreamError("corrupt tfic bitstream: payload checksum mismatch")
  if height == 0 or width == 0 or payload_size % 4:
    raise errors.BitstreamError("corrupt tfic header (size fields)")
  return Header(name, fingerprint, height, width, index_crc, payload_crc, payload_size), payload


# --- The two sides' computations. ------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _device_fns(model: api.CodecModel):
  module = model.module

  @jax.jit
  def analyze(variables, x):
    y = module.apply(variables, x, method=module.analysis)
    return y, module.apply(variables, y, method=module.hyper_analysis)

  @jax.jit
  def synthesize(variables, y_hat):
    return module.apply(variables, y_hat, method=module.synthesis)

  return analyze, synthesize


@functools.lru_cache(maxsize=8)
def _host_fns(model: api.CodecModel):
  """float64 CPU functions of the entropy path (jitted under x64)."""
  module = model.host_module

  def hyper(variables, z_hat):
    return module.apply(variables, z_hat, method=module.hyper_synthesis)

  def slice_params(variables, hyper_params, y_hat_before, index):
    return module.apply(variables, hyper_params, y_hat_before, index,
                        method=module.slice_parameters)

  def z_cdf_logits(variables, values):
    return module.apply(variables, values, method=module.z_logits_cumulative)

  return (jax.jit(hyper), jax.jit(slice_params, static_argnums=3), jax.jit(z_cdf_logits))


@contextlib.contextmanager
def _host_context():
  """x64 + CPU default device for the entropy-parameter computations."""
  with jax.enable_x64(True), jax.default_device(jax.devices("cpu")[0]):
    yield


_HOST_VARIABLES: dict = {}
_Z_TABLES: dict = {}


def _host_variables(codec: api.LoadedCodec):
  """The codec's variables in float64 (numpy), converted once per model fingerprint."""
  key = (codec.model, codec.fingerprint)
  if key not in _HOST_VARIABLES:
    _HOST_VARIABLES[key] = jax.tree.map(lambda a: np.asarray(a, np.float64), codec.variables)
  return _HOST_VARIABLES[key]


def z_tables(codec: api.LoadedCodec) -> np.ndarray:
  """(C_z, 2·Z_RANGE + 1) float64 pmf of each channel of z over [−Z_RANGE, Z_RANGE].

  CDF differences of the factorized prior (float64, CPU); the two outermost bins carry the
  tail masses. Cached per model fingerprint.
  """
  key = (codec.model, codec.fingerprint)
  if key not in _Z_TABLES:
    channels = codec.model.field_dict["hyper_channels"][-1]
    values = np.arange(-Z_RANGE, Z_RANGE + 1, dtype=np.float64)
    edges = np.concatenate([values - 0.5, [Z_RANGE + 0.5]])
    with _host_context():
      _, _, cdf_logits = _host_fns(codec.model)
      grid = np.repeat(edges[:, None], channels, axis=1)  # (bins + 1, C)
      logits = np.asarray(cdf_logits(_host_variables(codec), grid), np.float64)
    cdf = 1.0 / (1.0 + np.exp(-logits))
    pmf = np.diff(cdf, axis=0).T  # (C, bins)
    pmf[:, 0] += cdf[0]
    pmf[:, -1] += 1.0 - cdf[-1]
    pmf = np.maximum(pmf, 1e-12)
    _Z_TABLES[key] = pmf / pmf.sum(axis=1, keepdims=True)
  return _Z_TABLES[key]


def _check_codec(codec) -> api.LoadedCodec:
  if not isinstance(codec, api.LoadedCodec):
    raise errors.TficError("compress/decompress take a codec from tfic_jax.codec.api.load()")
  return codec


def _entropy_parameters(codec: api.LoadedCodec, z_symbols: np.ndarray, decode_slice):
  """Runs the host entropy path slice by slice.

  `decode_slice(index, mean, levels) -> symbols` returns slice `index`'s integer symbols
  (the encoder computes them from y, the decoder reads them from the stream).
  Returns (ŷ float64 (1, h, w, M), all scale levels int32).
  """
  hyper_fn, slice_fn, _ = _host_fns(codec.model)
  host_vars = _host_variables(codec)
  y_hat_slices, levels_all = [], []
  with _host_context():
    hyper = hyper_fn(host_vars, z_symbols.astype(np.float64))
    for index in range(codec.model.num_slices):
      before = (np.concatenate(y_hat_slices, -1) if y_hat_slices
                else np.zeros(hyper.shape[:-1] + (0,), np.float64))
      mean, scale = slice_fn(host_vars, hyper, before, index)
      mean, scale = np.asarray(mean, np.float64), np.asarray(scale, np.float64)
      levels = scale_levels(scale)
      symbols = decode_slice(index, mean, levels)
      y_hat_slices.append(symbols.astype(np.float64) + mean)
      levels_all.append(levels)
  return np.concatenate(y_hat_slices, -1), np.concatenate([lv.ravel() for lv in levels_all])


_GAUSSIAN = constriction.stream.model.QuantizedGaussian(-Y_RANGE, Y_RANGE)
_CATEGORICAL = constriction.stream.model.Categorical(perfect=False)


def _gaussian_args(levels: np.ndarray):
  stds = entropy.SCALE_TABLE[levels.ravel()].astype(np.float64)
  return np.zeros_like(stds), stds


def compress(codec: api.LoadedCodec, image: np.ndarray, return_latents: bool = False,
             timings: dict | None = None):
  """Encodes an RGB uint8 image (H, W, 3), any size up to 65535², into .tfic bytes.

  The image is edge-padded to multiples of 64 and cropped back by the decoder.
  With `return_latents`, returns (bytes, {"y_hat", "symbols", "levels", "z_symbols"}).
  `timings`, if given, receives seconds spent in "transforms" (g_a + h_a, on the default
  device, synchronised) and "entropy" (entropy parameters + range coding, host), and the
  number of coded "symbols".
  """
  codec = _check_codec(codec)
  image = imageio.check_image_array(image, name="image", channels=3)
  if image.dtype != np.uint8:
    raise errors.ImageInputError(f"compress expects a uint8 RGB image, got {image.dtype}")
  height, width = image.shape[:2]
  if height > 65535 or width > 65535:
    raise errors.ImageInputError(f"image of {height}×{width}: sides must be ≤ 65535")
  padded = api.pad_to_multiple(image)
  analyze, _ = _device_fns(codec.model)
  start = time.perf_counter()
  y, z = analyze(codec.variables, jnp.asarray(padded, jnp.float32)[None] / 255.0)
  y = np.asarray(y, np.float64)
  middle = time.perf_counter()
  z_symbols = np.clip(np.round(np.asarray(z, np.float32)), -Z_RANGE, Z_RANGE).astype(np.int32)

  encoder = constriction.stream.queue.RangeEncoder()
  tables = z_tables(codec)
  channels = z_symbols.shape[-1]
  encoder.encode((z_symbols.reshape(-1, channels) + Z_RANGE).ravel(), _CATEGORICAL,
                 np.tile(tables, (z_symbols.size // channels, 1)))
  y_slices = np.split(y, codec.model.num_slices, axis=-1)
  symbols_all = []

  def encode_slice(index, mean, levels):
    symbols = np.clip(np.round(y_slices[index] - mean), -Y_RANGE, Y_RANGE).astype(np.int32)
    encoder.encode(symbols.ravel(), _GAUSSIAN, *_gaussian_args(levels))
    symbols_all.append(symbols)
    return symbols

  y_hat, levels = _entropy_parameters(codec, z_symbols, encode_slice)
  payload = encoder.get_compressed().astype("<u4").tobytes()
  if timings is not None:
    timings.update(transforms=middle - start, entropy=time.perf_counter() - middle,
                   symbols=int(z_symbols.size + y.size))
  header = Header(codec.name, codec.fingerprint, height, width,
                  zlib.crc32(levels.astype("<i4").tobytes()), zlib.crc32(payload), len(payload))
  data = header.pack() + payload
  if return_latents:
    return data, {"y_hat": y_hat, "symbols": np.concatenate(symbols_all, -1),
                  "levels": levels, "z_symbols": z_symbols}
  return data


def load_for(data: bytes, workdir: str | None = None) -> api.LoadedCodec:
  """The codec that made `data`: `workdir` if given, else the shipped model its header names."""
  header, _ = parse_header(data)
  return api.load(workdir or header.name)


def decompress(codec: api.LoadedCodec, data: bytes, return_latents: bool = False,
               timings: dict | None = None):
  """Decodes .tfic bytes into an RGB uint8 image of the original size.

  Raises BitstreamError for a truncated, corrupt or foreign file, or one made by another model.
  `timings` as in `compress` ("entropy" = parsing + entropy decoding, "transforms" = g_s).
  """
  codec = _check_codec(codec)
  header, payload = parse_header(data)
  if header.fingerprint != codec.fingerprint:
    raise errors.BitstreamError(
        f"this file was made by model {header.name!r} (fingerprint "
        f"{header.fingerprint.hex()}), not by the loaded model {codec.name!r} "
        f"({codec.fingerprint.hex()}); decode it with that model")
  start = time.perf_counter()
  words = np.frombuffer(payload, dtype="<u4").astype(np.uint32)
  decoder = constriction.stream.queue.RangeDecoder(words)
  shapes = codec.model.shapes(-(-header.height // api.PAD_MULTIPLE) * api.PAD_MULTIPLE,
                              -(-header.width // api.PAD_MULTIPLE) * api.PAD_MULTIPLE)
  tables = z_tables(codec)
  num_z = int(np.prod(shapes.z))
  try:
    z_symbols = decoder.decode(_CATEGORICAL, np.tile(tables, (num_z // shapes.z[-1], 1)))
  except Exception as e:  # constriction raises plain exceptions on exhausted input.
    raise errors.BitstreamError(f"corrupt tfic bitstream (z): {e}") from e
  z_symbols = (np.asarray(z_symbols, np.int32) - Z_RANGE).reshape((1,) + shapes.z)
  symbols_all = []

  def decode_slice(index, mean, levels):
    del index
    try:
      symbols = decoder.decode(_GAUSSIAN, *_gaussian_args(levels))
    except Exception as e:
      raise errors.BitstreamError(f"corrupt tfic bitstream (y): {e}") from e
    symbols = np.asarray(symbols, np.int32).reshape(mean.shape)
    symbols_all.append(symbols)
    return symbols

  y_hat, levels = _entropy_parameters(codec, z_symbols, decode_slice)
  if zlib.crc32(levels.astype("<i4").tobytes()) != header.index_crc:
    raise errors.BitstreamError(
        "the entropy parameters computed here differ from the encoder's (scale-index checksum "
        "mismatch): the file cannot be decoded faithfully on this machine")
  _, synthesize = _device_fns(codec.model)
  middle = time.perf_counter()
  x_hat = synthesize(codec.variables, jnp.asarray(y_hat, jnp.float32))
  image = np.asarray(jnp.round(jnp.clip(x_hat[0], 0.0, 1.0) * 255.0), np.uint8)
  if timings is not None:
    timings.update(entropy=middle - start, transforms=time.perf_counter() - middle,
                   symbols=int(z_symbols.size + y_hat.size))
  image = image[:header.height, :header.width]
  if return_latents:
    return image, {"y_hat": y_hat, "symbols": np.concatenate(symbols_all, -1),
                   "levels": levels, "z_symbols": z_symbols}
  return image


def bits_per_pixel(data: bytes, height: int, width: int) -> float:
  """The real rate of a file: all its bytes, header included."""
  return 8.0 * len(data) / (height * width)
