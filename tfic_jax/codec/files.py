"""File-level compress/decompress used by `launch.compress` / `launch.decompress` (and the demo).

Each returns a report dict (bpp of the real file, PSNR when the original is known, times), so
the launchers only parse flags and print. `expand_inputs` and `plan_outputs` turn files,
folders and globs into (input, output) pairs for a batch.
"""

import dataclasses
import glob
from pathlib import Path
import time
from typing import Sequence

from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax import metrics
from tfic_jax.codec import api
from tfic_jax.codec import bitstream

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
                    ".pbm", ".gif")
BITSTREAM_EXTENSION = ".tfic"


@dataclasses.dataclass(frozen=True)
class Job:
  input: Path
  output: Path


def expand_inputs(specs: Sequence[str], extensions: Sequence[str]) -> list[tuple[Path, Path]]:
  """(path, path relative to what was given) of every input: a file, a folder (its files with
  one of `extensions`, recursively, sorted) or a glob. TficError for a spec matching nothing."""
  found = []
  for spec in specs:
    path = Path(spec)
    if path.is_dir():
      files = sorted(p for p in path.rglob("*")
                     if p.is_file() and p.suffix.lower() in extensions)
      if not files:
        raise errors.TficError(f"{spec}: a folder with no {'/'.join(extensions)} files")
      found += [(p, p.relative_to(path)) for p in files]
    elif path.exists():
      found.append((path, Path(path.name)))
    elif any(c in spec for c in "*?["):
      files = sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
      if not files:
        raise errors.TficError(f"{spec}: the pattern matches no file")
      found += [(p, Path(p.name)) for p in files]
    else:
      raise errors.TficError(f"{spec}: no such file, folder or pattern")
  return found


def plan_outputs(inputs: list[tuple[Path, Path]], output: str | None, output_dir: str | None,
                 suffix: str) -> list[Job]:
  """One Job per input: `output` for a single input, else `output_dir`/<relative path> with
  `suffix`. TficError when the outputs are ambiguous or two inputs would share one."""
  if not inputs:
    raise errors.TficError("no input given: name files, folders or patterns")
  if output and output_dir:
    raise errors.TficError("give --output (one input) or --output_dir, not both")
  if output:
    if len(inputs) > 1:
      raise errors.TficError(f"--output names one file but {len(inputs)} inputs were given; "
                             "use --output_dir")
    return [Job(inputs[0][0], Path(output))]
  if not output_dir:
    raise errors.TficError("where should the results go? give --output (one input) or "
                           "--output_dir")
  jobs = [Job(path, Path(output_dir) / relative.with_suffix(suffix)) for path, relative in inputs]
  seen = {}
  for job in jobs:
    if job.output in seen:
      raise errors.TficError(f"{seen[job.output]} and {job.input} would both be written to "
                             f"{job.output}")
    seen[job.output] = job.input
  return jobs


def compress_file(codec: api.LoadedCodec, input_path, output_path, progress=None) -> dict:
  """Encodes an image file to a .tfic file; returns {bpp, bytes, height, width, seconds}.

  `progress(done, total)` is called after each tile (large images are coded in tiles)."""
  image = imageio.load_image(input_path, "RGB")
  start = time.perf_counter()
  data = bitstream.compress(codec, image, progress=progress)
  seconds = time.perf_counter() - start
  imageio.write_file(output_path, data)
  height, width = image.shape[:2]
  return {"model": codec.name, "bytes": len(data), "height": height, "width": width,
          "bpp": bitstream.bits_per_pixel(data, height, width), "seconds": seconds}


def read_bitstream(input_path) -> bytes:
  path = Path(input_path)
  if path.is_dir():
    raise errors.BitstreamError(f"{path}: is a directory, expected a .tfic file (for a "
                                "folder of them, give it with --output_dir)")
  if not path.is_file():
    raise errors.BitstreamError(f"{path}: no such file")
  try:
    return path.read_bytes()
  except OSError as e:
    raise errors.BitstreamError(f"{path}: cannot read: {e.strerror or e}") from None


def decompress_file(input_path, output_path, workdir: str | None = None,
                    original_path=None, codecs: dict | None = None, progress=None) -> dict:
  """Decodes a .tfic file (with the model its header names, or `workdir`) to an image file.

  `codecs` caches loaded models by name across calls (a batch loads each model once).
  Returns {model, bpp, height, width, seconds[, psnr]}.
  """
  data = read_bitstream(input_path)
  name = workdir or bitstream.parse_header(data)[0].name  # The model that made the file.
  codecs = {} if codecs is None else codecs
  if name not in codecs:
    codecs[name] = api.load(name)
  codec = codecs[name]
  start = time.perf_counter()
  image = bitstream.decompress(codec, data, progress=progress)
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
