"""Seeded fuzzing of the .tfic decoder: 1,200 damaged, crafted and foreign files.

Every case must end in `BitstreamError`, or — only where the payload was edited and the file
checksum recomputed — in an image of the size the header states. Any other exception fails
the test (it would be a traceback for the user), and so does a decoder that grows the peak
memory of the process by more than `MEMORY_BOUND` (the files here state at most 16 tiles of
64², so an honest decoder needs a few MB).
"""

import collections
from pathlib import Path
import resource

import numpy as np
import pytest

from tfic_jax import errors
from tfic_jax.codec import bitstream

CASES = 1200
MEMORY_BOUND = 200 * 2**20  # bytes of peak-RSS growth
# Crafting headers needs the format's own helpers.  pylint: disable=protected-access
_varint, _CRC, _seal = bitstream._varint, bitstream._CRC, bitstream.seal


def _image(height, width, seed):
  rng = np.random.default_rng(seed)
  return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _split(data: bytes):
  """(head up to and including the index CRC, payload) of a version-2 file."""
  header, payload = bitstream.parse_header(data)
  return data[:len(data) - len(payload) - _CRC.size], payload, header


def _flip(rng, data, start=0):
  data = bytearray(data)
  for _ in range(rng.integers(1, 4)):
    position = int(rng.integers(start, len(data)))
    data[position] ^= 1 << int(rng.integers(0, 8))
  return bytes(data), False


def _truncate(rng, data):
  return data[:int(rng.integers(0, len(data)))], False


def _crafted_size(rng, data, header):
  """A header stating another size and tiling, with a valid file checksum."""
  name = header.name.encode()
  height = int(rng.choice([0, 1, 7, 63, 64, 65, 200, 4000, 16384, 40000, 2**35]))
  width = int(rng.choice([0, 1, 9, 64, 130, 256, 8192, 16384, 70000]))
  tile_code = int(rng.choice([0, 1, 2, 16, 255]))
  lengths = [int(rng.integers(0, 4)) for _ in range(int(rng.integers(0, 20)))]
  payload = rng.integers(0, 2**32, size=sum(lengths), dtype=np.uint32).astype("<u4").tobytes()
  if rng.random() < 0.5:
    payload = payload[:max(0, len(payload) - 4 * int(rng.integers(0, 3)))]
  head = (bitstream.MAGIC + bytes([2, len(name)]) + name + header.fingerprint + _varint(height)
          + _varint(width) + bytes([tile_code]) + b"".join(_varint(n) for n in lengths)
          + _CRC.pack(header.index_crc))
  return _seal(head, payload), False


def _edited_payload(rng, data):
  """Payload words changed, the file checksum recomputed: may decode, to the stated size."""
  head, payload, _ = _split(data)
  words = bytearray(payload)
  for _ in range(rng.integers(1, 4)):
    position = int(rng.integers(0, len(words)))
    words[position] = int(rng.integers(0, 256))
  return _seal(head, bytes(words)), True


def _foreign(rng, data):
  del data
  choices = [b"", b"TFIC", b"TFIC\x02", b"\x89PNG\r\n\x1a\n" + bytes(40),
             rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8).tobytes(),
             b"TFIC" + rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8).tobytes()]
  return choices[int(rng.integers(0, len(choices)))], False


def _edited_header_field(rng, data, header):
  """Version, name or fingerprint edited with a valid checksum: refused, except a name edit
  (the name only says which shipped model to load; the fingerprint is what is checked)."""
  head, payload, _ = _split(data)
  head = bytearray(head)
  position = int(rng.integers(4, 6 + len(header.name) + 8))
  head[position] = int(rng.integers(0, 256))
  return _seal(bytes(head), payload), 6 <= position < 6 + len(header.name)


def _peak_rss() -> int:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


@pytest.fixture(scope="module")
def files(codec):
  one_tile = bitstream.compress(codec, _image(64, 64, 0))
  tiled = bitstream.compress(codec, _image(100, 150, 1), tile=64)
  version_1 = (Path(__file__).with_name("data") / "v1_tiny_64x96.tfic").read_bytes()
  for data in (one_tile, tiled, version_1):  # Compile every shape before measuring memory.
    bitstream.decompress(codec, data)
  return [one_tile, tiled, version_1]


def test_damaged_crafted_and_foreign_files_are_refused_or_decoded_to_size(codec, files):
  rng = np.random.default_rng(20261203)
  counts = collections.Counter()
  start_rss = _peak_rss()
  for case in range(CASES):
    source = files[case % len(files)]
    kind = ("flip", "truncate", "crafted size", "edited payload", "foreign",
            "edited header field")[(case // len(files)) % 6]
    header, payload = bitstream.parse_header(source)
    # Version 1 has no header checksum (why version 2 exists): a flipped height that keeps the
    # padded size decodes to the wrong size. Its files are fuzzed in the payload only.
    v1_payload = len(source) - len(payload) if source[4] == 1 else 0
    if v1_payload and kind in ("crafted size", "edited payload", "edited header field"):
      kind = "flip"
    data, may_decode = {
        "flip": lambda: _flip(rng, source, v1_payload),
        "truncate": lambda: _truncate(rng, source),
        "crafted size": lambda: _crafted_size(rng, source, header),
        "edited payload": lambda: _edited_payload(rng, source),
        "foreign": lambda: _foreign(rng, source),
        "edited header field": lambda: _edited_header_field(rng, source, header),
    }[kind]()
    try:
      image = bitstream.decompress(codec, data)
    except errors.BitstreamError:
      counts["refused"] += 1
      counts[f"refused: {kind}"] += 1
      continue
    assert may_decode or data == source, f"case {case} ({kind}) decoded a damaged file"
    stated = bitstream.parse_header(data)[0]
    assert image.shape == (stated.height, stated.width, 3)
    counts["decoded"] += 1
  growth = _peak_rss() - start_rss
  print(f"\nfuzz: {CASES} cases, {counts['refused']} refused, {counts['decoded']} decoded, "
        f"0 other exceptions, peak RSS growth {growth / 2**20:.1f} MiB; "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k.startswith("refused:")))
  assert counts["refused"] + counts["decoded"] == CASES
  assert counts["refused"] > 0.8 * CASES
  assert growth < MEMORY_BOUND
