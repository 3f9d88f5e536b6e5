"""Real bitstreams: `compress(codec, image) -> bytes`, `decompress(codec, bytes) -> image`.

Entropy coding is constriction's range coder (one queue per tile, z first, then y slice by
slice), every symbol with an integer table (2^24 total): z's per channel, quantized from the
factorized prior; y's per scale level (`entropy.SCALE_TABLE`'s 64 levels), stored in
gaussian_frequencies.npy. Symbols are coded grouped by table (see "Entropy models" below).
Version 1 coded z with per-symbol float tables and y with per-symbol quantized Gaussians.

File format, version 2 (written), then the payload:

    b"TFIC" | version u8 = 2 | name length u8 | model name (utf-8) | model fingerprint 8 bytes
    | height varint | width varint | tile side / 64 u8
    | per tile, in raster order: its coded length in 32-bit words, varint
    | scale-index CRC32 u32 | file CRC32 u32 (of every byte before it and of the payload)
    | payload: the tiles' range-coder streams (constriction's uint32 words, little-endian)

Varints are LEB128 (7 bits a byte, at most 5 bytes). An image larger than one tile (`TILE`,
1024 pixels a side by default) is cut into tiles coded independently, each with its own
hyperprior: memory is bounded by one tile's working set plus the image, whatever its size. A
decoder checks, before it allocates anything for the image: the magic, the version, the file
CRC (every header field and the payload), the sides (1 ≤ side ≤ `MAX_SIDE`, at most
`MAX_PIXELS` pixels), that the number of tile lengths is the number of tiles of that size, and
that they add up to the payload. The image it then allocates is the size the checked header
states (≤ 3·`MAX_PIXELS` bytes); a tile whose symbols decode to other scale indices than the
encoder's is refused. Version 1 files (one tile; fixed u16 sides and u32 CRCs, below) still
decode:

    b"TFIC" | version u8 = 1 | name length u8 | model name | fingerprint 8 bytes
    | height u16 | width u16 | scale-index CRC32 u32 | payload CRC32 u32 | payload bytes u32
    | payload

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
import math
from pathlib import Path
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
VERSION = 2
READABLE_VERSIONS = (1, 2)
_V1_FIXED = struct.Struct(">HHIII")  # height, width, index CRC, payload CRC, payload bytes.
_CRC = struct.Struct(">I")
TILE = 1024  # Default tile side (pixels, a multiple of 64): bounds the working memory.
MAX_SIDE = 32768  # Largest side a file may state.
MAX_PIXELS = 1 << 28  # Largest image a file may state: 268 M pixels (16384²), 805 MB decoded.
_MAX_VARINT_BYTES = 5
Y_RANGE = 255  # y symbols s = round(y − μ) are clipped to [−255, 255] (ŷ uses the clipped s).
Z_RANGE = 127  # z symbols round(z) are clipped to [−127, 127].
# Geometric midpoints between table levels: σ ≥ threshold[i] selects level i + 1.
_THRESHOLDS = np.sqrt(entropy.SCALE_TABLE[:-1] * entropy.SCALE_TABLE[1:])


def scale_levels(scales: np.ndarray) -> np.ndarray:
  """Index of the table level nearest to σ in log scale (int32), from float64 σ."""
  return np.searchsorted(_THRESHOLDS, np.asarray(scales, np.float64), side="right").astype(
      np.int32)


def tile_grid(height: int, width: int, tile: int) -> list[tuple[int, int, int, int]]:
  """(top, left, bottom, right) of each tile of an image, in raster order."""
  return [(top, left, min(top + tile, height), min(left + tile, width))
          for top in range(0, height, tile) for left in range(0, width, tile)]


def _varint(value: int) -> bytes:
  out = bytearray()
  while True:
    byte, value = value & 0x7F, value >> 7
    out.append(byte | (0x80 if value else 0))
    if not value:
      return bytes(out)


def _read_varint(data: bytes, position: int, what: str) -> tuple[int, int]:
  value = 0
  for shift in range(_MAX_VARINT_BYTES):
    if position >= len(data):
      raise errors.BitstreamError(f"truncated tfic bitstream (header incomplete: {what})")
    byte = data[position]
    position += 1
    value |= (byte & 0x7F) << (7 * shift)
    if not byte & 0x80:
      return value, position
  raise errors.BitstreamError(f"corrupt tfic header ({what})")


@dataclasses.dataclass(frozen=True)
class Header:
  """A .tfic header; `tile_words[i]` is tile i's coded length in 32-bit words."""
  name: str
  fingerprint: bytes
  height: int
  width: int
  tile: int
  tile_words: tuple[int, ...]
  index_crc: int
  version: int = VERSION

  def pack(self, payload: bytes) -> bytes:
    """The whole file: this header, its file CRC, then `payload`."""
    name = self.name.encode("utf-8")
    if len(name) > 255:
      raise errors.BitstreamError(f"model name too long for the header: {self.name!r}")
    head = (MAGIC + bytes([VERSION, len(name)]) + name + self.fingerprint
            + _varint(self.height) + _varint(self.width) + bytes([self.tile // 64])
            + b"".join(_varint(w) for w in self.tile_words) + _CRC.pack(self.index_crc))
    return seal(head, payload)


def seal(head: bytes, payload: bytes) -> bytes:
  """A version-2 file: the header bytes up to the index CRC, the file CRC of both, the payload."""
  return head + _CRC.pack(zlib.crc32(payload, zlib.crc32(head))) + payload


def _check_size(height: int, width: int) -> None:
  if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE) or height * width > MAX_PIXELS:
    raise errors.BitstreamError(
        f"tfic header states a {height}×{width} image: sides must lie in 1..{MAX_SIDE} and "
        f"the image hold at most {MAX_PIXELS} pixels")


def parse_header(data: bytes) -> tuple[Header, bytes]:
  """(header, payload) of a .tfic file; BitstreamError if it is not a complete, intact one.

  Everything is checked against the bytes at hand before anything is allocated for the image.
  """
  if not isinstance(data, (bytes, bytearray)):
    raise errors.BitstreamError(f"expected bytes, got {type(data).__name__}")
  data = bytes(data)
  if data[:4] != MAGIC:
    raise errors.BitstreamError("not a tfic bitstream (bad magic; expected a .tfic file "
                                "written by launch.compress)")
  if len(data) < 6:
    raise errors.BitstreamError("truncated tfic bitstream (header incomplete)")
  if data[4] not in READABLE_VERSIONS:
    raise errors.BitstreamError(f"tfic bitstream format version {data[4]}; this version of "
                                f"tfic-jax reads versions {READABLE_VERSIONS}")
  name_end = 6 + data[5]
  if len(data) < name_end + 8:
    raise errors.BitstreamError("truncated tfic bitstream (header incomplete)")
  try:
    name = data[6:name_end].decode("utf-8")
  except UnicodeDecodeError as e:
    raise errors.BitstreamError("corrupt tfic header (model name)") from e
  fingerprint = data[name_end:name_end + 8]
  if data[4] == 1:
    return _parse_v1(data, name, fingerprint, name_end + 8)
  position = name_end + 8
  height, position = _read_varint(data, position, "height")
  width, position = _read_varint(data, position, "width")
  if position >= len(data):
    raise errors.BitstreamError("truncated tfic bitstream (header incomplete: tile)")
  tile = 64 * data[position]
  position += 1
  _check_size(height, width)
  if not tile:
    raise errors.BitstreamError("corrupt tfic header (tile size 0)")
  num_tiles = -(-height // tile) * -(-width // tile)
  if len(data) < position + num_tiles + 2 * _CRC.size:  # Each length takes ≥ 1 byte.
    raise errors.BitstreamError(
        f"truncated tfic bitstream: a {height}×{width} image in tiles of {tile} needs "
        f"{num_tiles} tile lengths")
  tile_words = []
  for _ in range(num_tiles):
    words, position = _read_varint(data, position, "tile length")
    tile_words.append(words)
  if len(data) < position + 2 * _CRC.size:
    raise errors.BitstreamError("truncated tfic bitstream (header incomplete)")
  (index_crc,) = _CRC.unpack_from(data, position)
  (file_crc,) = _CRC.unpack_from(data, position + _CRC.size)
  payload = data[position + 2 * _CRC.size:]
  payload_size = 4 * sum(tile_words)
  if len(payload) < payload_size:
    raise errors.BitstreamError(
        f"truncated tfic bitstream: payload has {len(payload)} of {payload_size} bytes")
  if zlib.crc32(payload, zlib.crc32(data[:position + _CRC.size])) != file_crc:
    raise errors.BitstreamError("corrupt tfic bitstream: file checksum mismatch")
  if len(payload) > payload_size:
    raise errors.BitstreamError(
        f"corrupt tfic bitstream: {len(payload) - payload_size} bytes after the payload")
  if not all(tile_words):
    raise errors.BitstreamError("corrupt tfic header (a tile of 0 words)")
  return Header(name, fingerprint, height, width, tile, tuple(tile_words), index_crc), payload


def _parse_v1(data: bytes, name: str, fingerprint: bytes, start: int) -> tuple[Header, bytes]:
  fixed_end = start + _V1_FIXED.size
  if len(data) < fixed_end:
    raise errors.BitstreamError("truncated tfic bitstream (header incomplete)")
  height, width, index_crc, payload_crc, payload_size = _V1_FIXED.unpack(data[start:fixed_end])
  payload = data[fixed_end:]
  if len(payload) < payload_size:
    raise errors.BitstreamError(
        f"truncated tfic bitstream: payload has {len(payload)} of {payload_size} bytes")
  if len(payload) > payload_size:
    raise errors.BitstreamError(
        f"corrupt tfic bitstream: {len(payload) - payload_size} bytes after the payload")
  if zlib.crc32(payload) != payload_crc:
    raise errors.BitstreamError("corrupt tfic bitstream: payload checksum mismatch")
  if height == 0 or width == 0 or payload_size % 4 or not payload_size:
    raise errors.BitstreamError("corrupt tfic header (size fields)")
  if height * width > _V1_MAX_PIXELS:  # Version 1 is one tile: its memory grows with the image.
    raise errors.BitstreamError(
        f"version-1 tfic file of {height}×{width}: version 1 is decoded up to "
        f"{_V1_MAX_PIXELS} pixels (4096²); re-encode the image with this version")
  # Version 1 is one tile: the whole image, padded to a multiple of 64.
  tile = 64 * -(-max(height, width) // 64)
  return Header(name, fingerprint, height, width, tile, (payload_size // 4,), index_crc,
                version=1), payload


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


# --- Entropy models. ---------------------------------------------------------------------------
# Format 2 codes every symbol with a tabulated model chosen by a small integer: y by its scale
# level (one table per level of SCALE_TABLE), z by its channel. Symbols are grouped by table
# (ascending table index, raster order inside a group), so each group is one call into the
# coder with one fixed model. The tables are integer frequencies summing to 2^24:
# `gaussian_frequencies()` is stored in the repository (gaussian_frequencies.npy), identical on
# every platform; z's are quantized from the model's float64 prior once per model.
TABLE_PRECISION = 24
_GAUSSIAN_FILE = Path(__file__).with_name("gaussian_frequencies.npy")
# Version 1: a quantized Gaussian per y symbol, z's per-symbol tables (decoding only).
_GAUSSIAN = constriction.stream.model.QuantizedGaussian(-Y_RANGE, Y_RANGE)
_CATEGORICAL = constriction.stream.model.Categorical(perfect=False)
_V1_MAX_PIXELS = 4096 * 4096
_V1_Z_CHUNK = 1 << 14  # z symbols decoded per call in version 1 (bounds the tiled tables).


def quantize_pmf(pmf: np.ndarray, precision: int = TABLE_PRECISION) -> np.ndarray:
  """Integer frequencies (int64, last axis) ≥ 1 that sum to 2^precision, nearest to `pmf`."""
  pmf = np.asarray(pmf, np.float64)
  pmf = pmf / pmf.sum(axis=-1, keepdims=True)
  total, bins = 1 << precision, pmf.shape[-1]
  freq = np.floor(pmf * (total - bins)).astype(np.int64) + 1
  # The remainder goes to each row's most probable bin: deterministic, and where it costs least.
  rows = freq.reshape(-1, bins)
  rows[np.arange(len(rows)), np.argmax(pmf.reshape(-1, bins), axis=-1)] += (
      total - rows.sum(axis=-1))
  return rows.reshape(pmf.shape)


def make_gaussian_frequencies() -> np.ndarray:
  """(64, 2·Y_RANGE + 1) frequencies of s = round(y − μ) ~ N(0, σ_level) over [−255, 255],
  the outer bins holding the tails: how gaussian_frequencies.npy was made (math.erfc)."""
  values = np.arange(-Y_RANGE, Y_RANGE + 1, dtype=np.float64)
  upper = np.vectorize(lambda v, s: 0.5 * math.erfc(-(v + 0.5) / (s * math.sqrt(2.0))))
  pmf = []
  for scale in entropy.SCALE_TABLE:
    cdf = upper(values, scale)  # P(s ≤ v)
    row = np.diff(np.concatenate([[0.0], cdf]))
    row[-1] += 1.0 - cdf[-1]
    pmf.append(np.maximum(row, 0.0))
  return quantize_pmf(np.asarray(pmf)).astype(np.uint32)


@functools.lru_cache(maxsize=None)
def gaussian_frequencies() -> np.ndarray:
  return np.load(_GAUSSIAN_FILE)


def _categorical(frequencies: np.ndarray):
  """A fixed constriction model of integer frequencies (exact dyadic probabilities)."""
  return constriction.stream.model.Categorical(
      np.asarray(frequencies, np.float64) / (1 << TABLE_PRECISION), perfect=False)


@functools.lru_cache(maxsize=None)
def _y_models() -> tuple:
  return tuple(_categorical(row) for row in gaussian_frequencies())


_Z_MODELS: dict = {}


def _z_models(codec: api.LoadedCodec) -> tuple:
  key = (codec.model, codec.fingerprint)
  if key not in _Z_MODELS:
    _Z_MODELS[key] = tuple(_categorical(row) for row in quantize_pmf(z_tables(codec)))
  return _Z_MODELS[key]


def _group_order(groups: np.ndarray) -> tuple[np.ndarray, list[tuple[int, slice]]]:
  """(order, [(table index, slice of order)]): symbols sorted by table, raster order kept."""
  order = np.argsort(groups, kind="stable")
  sorted_groups = groups[order]
  starts = np.flatnonzero(np.diff(sorted_groups)) + 1
  bounds = np.concatenate([[0], starts, [len(order)]])
  return order, [(int(sorted_groups[a]), slice(a, b)) for a, b in zip(bounds[:-1], bounds[1:])
                 if b > a]


def _encode_grouped(encoder, symbols: np.ndarray, groups: np.ndarray, models, offset: int):
  flat = (symbols.ravel() + offset).astype(np.int32)
  order, segments = _group_order(groups.ravel())
  for table, segment in segments:
    encoder.encode(flat[order[segment]], models[table])


def _decode_grouped(decoder, groups: np.ndarray, models, offset: int, what: str) -> np.ndarray:
  flat = np.empty(groups.size, np.int32)
  order, segments = _group_order(groups.ravel())
  try:
    for table, segment in segments:
      flat[order[segment]] = decoder.decode(models[table], segment.stop - segment.start)
  except Exception as e:  # constriction raises plain exceptions on exhausted input.
    raise errors.BitstreamError(f"corrupt tfic bitstream ({what}): {e}") from e
  return (flat - offset).reshape(groups.shape)


def _gaussian_args(levels: np.ndarray):
  stds = entropy.SCALE_TABLE[levels.ravel()].astype(np.float64)
  return np.zeros_like(stds), stds


def _encode_tile(codec: api.LoadedCodec, tile_image: np.ndarray, timings: dict) -> tuple:
  """Range-codes one tile (edge-padded to multiples of 64): (words, levels, latents)."""
  padded = api.pad_to_multiple(tile_image)
  analyze, _ = _device_fns(codec.model)
  start = time.perf_counter()
  y, z = analyze(codec.variables, jnp.asarray(padded, jnp.float32)[None] / 255.0)
  y = np.asarray(y, np.float64)
  middle = time.perf_counter()
  z_symbols = np.clip(np.round(np.asarray(z, np.float32)), -Z_RANGE, Z_RANGE).astype(np.int32)

  encoder = constriction.stream.queue.RangeEncoder()
  channel = np.broadcast_to(np.arange(z_symbols.shape[-1]), z_symbols.shape)
  _encode_grouped(encoder, z_symbols, channel, _z_models(codec), Z_RANGE)
  y_slices = np.split(y, codec.model.num_slices, axis=-1)
  symbols_all = []

  def encode_slice(index, mean, levels):
    symbols = np.clip(np.round(y_slices[index] - mean), -Y_RANGE, Y_RANGE).astype(np.int32)
    _encode_grouped(encoder, symbols, levels, _y_models(), Y_RANGE)
    symbols_all.append(symbols)
    return symbols

  y_hat, levels = _entropy_parameters(codec, z_symbols, encode_slice)
  words = encoder.get_compressed().astype("<u4")
  timings["transforms"] = timings.get("transforms", 0.0) + middle - start
  timings["entropy"] = timings.get("entropy", 0.0) + time.perf_counter() - middle
  timings["symbols"] = timings.get("symbols", 0) + int(z_symbols.size + y.size)
  latents = {"y_hat": y_hat, "symbols": np.concatenate(symbols_all, -1), "levels": levels,
             "z_symbols": z_symbols}
  return words, levels, latents


def compress(codec: api.LoadedCodec, image: np.ndarray, return_latents: bool = False,
             timings: dict | None = None, tile: int = TILE, progress=None):
  """Encodes an RGB uint8 image (H, W, 3) into .tfic bytes (format version 2).

  Any size up to `MAX_SIDE` a side and `MAX_PIXELS` pixels: an image larger than `tile`
  (pixels, a multiple of 64) is coded as independent tiles, so the working memory is one tile's.
  Each tile is edge-padded to multiples of 64 and cropped back by the decoder. With
  `return_latents`, returns (bytes, latents): {"y_hat", "symbols", "levels", "z_symbols"} of a
  one-tile image, a list of those per tile otherwise. `timings`, if given, receives seconds
  spent in "transforms" (g_a + h_a, on the default device, synchronised) and "entropy" (entropy
  parameters + range coding, host), and the number of coded "symbols". `progress(done, total)`
  is called after each tile.
  """
  codec = _check_codec(codec)
  image = imageio.check_image_array(image, name="image", channels=3)
  if image.dtype != np.uint8:
    raise errors.ImageInputError(f"compress expects a uint8 RGB image, got {image.dtype}")
  height, width = image.shape[:2]
  try:
    _check_size(height, width)
  except errors.BitstreamError as e:
    raise errors.ImageInputError(f"image of {height}×{width}: {e}") from None
  if tile % 64 or not 64 <= tile <= 64 * 255:
    raise errors.TficError(f"tile={tile}: a multiple of 64 from 64 to {64 * 255}")
  if height <= tile and width <= tile:
    tile = 64 * -(-max(height, width) // 64)  # One tile: the whole image, as version 1 did.
  grid = tile_grid(height, width, tile)
  timings = {} if timings is None else timings
  chunks, all_levels, all_latents = [], [], []
  for done, (top, left, bottom, right) in enumerate(grid, 1):
    words, levels, latents = _encode_tile(codec, image[top:bottom, left:right], timings)
    chunks.append(words)
    all_levels.append(levels)
    if return_latents:
      all_latents.append(latents)
    if progress is not None:
      progress(done, len(grid))
  payload = b"".join(words.tobytes() for words in chunks)
  index_crc = zlib.crc32(np.concatenate(all_levels).astype("<i4").tobytes())
  header = Header(codec.name, codec.fingerprint, height, width, tile,
                  tuple(len(words) for words in chunks), index_crc)
  data = header.pack(payload)
  if return_latents:
    return data, (all_latents[0] if len(grid) == 1 else all_latents)
  return data


def load_for(data: bytes, workdir: str | None = None) -> api.LoadedCodec:
  """The codec that made `data`: `workdir` if given, else the shipped model its header names."""
  header, _ = parse_header(data)
  return api.load(workdir or header.name)


def _decode_z_v1(codec: api.LoadedCodec, decoder, z_shape) -> np.ndarray:
  """Version 1's z: one categorical per symbol, raster order, decoded in bounded chunks."""
  tables = z_tables(codec)
  channels = z_shape[-1]
  total, decoded = int(np.prod(z_shape)), []
  chunk = max(channels, _V1_Z_CHUNK // channels * channels)
  try:
    for first in range(0, total, chunk):
      count = min(chunk, total - first)
      decoded.append(np.asarray(decoder.decode(
          _CATEGORICAL, np.tile(tables, (count // channels, 1))), np.int32))
  except Exception as e:  # constriction raises plain exceptions on exhausted input.
    raise errors.BitstreamError(f"corrupt tfic bitstream (z): {e}") from e
  return (np.concatenate(decoded) - Z_RANGE).reshape((1,) + tuple(z_shape))


def _decode_tile(codec: api.LoadedCodec, words: np.ndarray, height: int, width: int,
                 timings: dict, version: int = VERSION) -> tuple:
  """(image uint8 (height, width, 3), levels, latents) of one tile's words."""
  start = time.perf_counter()
  decoder = constriction.stream.queue.RangeDecoder(words)
  shapes = codec.model.shapes(-(-height // api.PAD_MULTIPLE) * api.PAD_MULTIPLE,
                              -(-width // api.PAD_MULTIPLE) * api.PAD_MULTIPLE)
  if version == 1:
    z_symbols = _decode_z_v1(codec, decoder, shapes.z)
  else:
    channel = np.broadcast_to(np.arange(shapes.z[-1]), (1,) + shapes.z)
    z_symbols = _decode_grouped(decoder, channel, _z_models(codec), Z_RANGE, "z")
  symbols_all = []

  def decode_slice(index, mean, levels):
    del index
    if version == 1:
      try:
        symbols = decoder.decode(_GAUSSIAN, *_gaussian_args(levels))
      except Exception as e:
        raise errors.BitstreamError(f"corrupt tfic bitstream (y): {e}") from e
      symbols = np.asarray(symbols, np.int32).reshape(mean.shape)
    else:
      symbols = _decode_grouped(decoder, levels.reshape(mean.shape), _y_models(), Y_RANGE, "y")
    symbols_all.append(symbols)
    return symbols

  y_hat, levels = _entropy_parameters(codec, z_symbols, decode_slice)
  _, synthesize = _device_fns(codec.model)
  middle = time.perf_counter()
  x_hat = synthesize(codec.variables, jnp.asarray(y_hat, jnp.float32))
  image = np.asarray(jnp.round(jnp.clip(x_hat[0], 0.0, 1.0) * 255.0), np.uint8)
  timings["entropy"] = timings.get("entropy", 0.0) + middle - start
  timings["transforms"] = timings.get("transforms", 0.0) + time.perf_counter() - middle
  timings["symbols"] = timings.get("symbols", 0) + int(z_symbols.size + y_hat.size)
  latents = {"y_hat": y_hat, "symbols": np.concatenate(symbols_all, -1), "levels": levels,
             "z_symbols": z_symbols}
  return image[:height, :width], levels, latents


def decompress(codec: api.LoadedCodec, data: bytes, return_latents: bool = False,
               timings: dict | None = None, progress=None):
  """Decodes .tfic bytes (version 1 or 2) into an RGB uint8 image of the original size.

  Raises BitstreamError for a truncated, corrupt or foreign file, or one made by another model.
  `timings` as in `compress` ("entropy" = parsing + entropy decoding, "transforms" = g_s);
  `progress(done, total)` is called after each tile.
  """
  codec = _check_codec(codec)
  header, payload = parse_header(data)
  if header.fingerprint != codec.fingerprint:
    raise errors.BitstreamError(
        f"this file was made by model {header.name!r} (fingerprint "
        f"{header.fingerprint.hex()}), not by the loaded model {codec.name!r} "
        f"({codec.fingerprint.hex()}); decode it with that model")
  words = np.frombuffer(payload, dtype="<u4").astype(np.uint32)
  grid = tile_grid(header.height, header.width, header.tile)
  image = np.empty((header.height, header.width, 3), np.uint8)  # Checked: ≤ 3·MAX_PIXELS.
  timings = {} if timings is None else timings
  offsets = np.concatenate([[0], np.cumsum(header.tile_words)])
  all_levels, all_latents = [], []
  for index, (top, left, bottom, right) in enumerate(grid):
    tile_image, levels, latents = _decode_tile(
        codec, words[offsets[index]:offsets[index + 1]], bottom - top, right - left, timings,
        header.version)
    image[top:bottom, left:right] = tile_image
    all_levels.append(levels)
    if return_latents:
      all_latents.append(latents)
    if progress is not None:
      progress(index + 1, len(grid))
  if zlib.crc32(np.concatenate(all_levels).astype("<i4").tobytes()) != header.index_crc:
    raise errors.BitstreamError(
        "the entropy parameters computed here differ from the encoder's (scale-index checksum "
        "mismatch): the file cannot be decoded faithfully on this machine")
  if return_latents:
    return image, (all_latents[0] if len(grid) == 1 else all_latents)
  return image


def bits_per_pixel(data: bytes, height: int, width: int) -> float:
  """The real rate of a file: all its bytes, header included."""
  return 8.0 * len(data) / (height * width)
