"""File-level compress/decompress used by `launch.compress` / `launch.decompress` (and the demo).

Each returns a report dict (bpp of the real file, PSNR when the original is known, times), so
the launchers only parse flags and print.
"""

import time
from pathlib import Path

from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax import metrics
from tfic_jax.codec import api
from tfic_jax.codec import bitstream


def compress_file(codec: api.LoadedCodec, input_path, output_path) -> dict:
  """Encodes an image file to a .tfic file; returns {bpp, bytes, height, width, seconds}."""
  image = imageio.load_image(input_path, "RGB")
  start = time.perf_counter()
  data = bitstream.compress(codec, image)
  seconds = time.perf_counter() - start
  output_path = Path(output_path)
  output_path.parent.mkdir(parents=True, exist_ok=True)
  output_path.write_bytes(data)
  height, width = image.shape[:2]
  return {"model": codec.name, "bytes": len(data), "height": height, "width": width,
          "bpp": bitstream.bits_per_pixel(data, height, width), "seconds": seconds}


def read_bitstream(input_path) -> bytes:
  path = Path(input_path)
  if not path.is_file():
    raise errors.BitstreamError(f"{path}: no such file")
  return path.read_bytes()


def decompress_file(input_path, output_path, workdir: str | None = None,
                    original_path=None) -> dict:
  """Decodes a .tfic file (with the model its header names, or `workdir`) to an image file.

  Returns {model, bpp, height, width, seconds[, psnr]}.
  """
  data = read_bitstream(input_path)
  codec = bitstream.load_for(data, workdir)
  start = time.perf_counter()
  image = bitstream.decompress(codec, data)
  seconds = time.perf_counter() - start
  imageio.save_image(output_path, image)
  height, width = image.shape[:2]
  report = {"model": codec.name, "height": height, "width": width, "seconds": seconds,
            "bpp": bitstream.bits_per_pixel(data, height, width)}
  if original_path:
    original = imageio.load_image(original_path, "RGB")
    if original.shape != image.shape:
      raise errors.ImageInputError(f"--original {original_path} is {original.shape[:2]}, the "
                                   f"decoded image is {image.shape[:2]}")
    report["psnr"] = metrics.psnr(original, image)
  return report


def format_report(report: dict) -> str:
  parts = [f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in report.items()]
  return " ".join(parts)
