"""Reading, writing and checking host images, with `ImageInputError`s that say what went wrong.

Host images are numpy arrays [H, W, C]: uint8 (0..255) or float in [0, 1] (see docs/design.md).
`check_image_array` is the one gate that every public entry point taking an image array uses.
"""

from collections.abc import Sequence
import contextlib
import os
import pathlib

import numpy as np
from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError

from tfic_jax import errors

MODES = ("RGB", "L")

# Pillow modes holding more than 8 bits per sample: rescaled to 8 bits (full 16-bit range).
_HIGH_BIT_DEPTH_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
# Pillow modes Pillow itself converts to RGB / L faithfully.
_CONVERTIBLE_MODES = ("1", "L", "P", "RGB", "RGBA", "RGBX", "LA", "La", "PA", "CMYK", "YCbCr",
                      "LAB", "HSV", "RGBa")
_BACKGROUND = 255  # Transparent pixels are composited on white (text is dark on light).


def check_image_array(
    arr,
    *,
    channels: int | Sequence[int] | None = None,
    min_size: int | tuple[int, int] | None = None,
    multiple_of: int | None = None,
    name: str = "image",
) -> np.ndarray:
  """Checks that `arr` is an image array and returns it as numpy [H, W, C].

  Args:
    arr: a numpy (or jax) array [H, W] or [H, W, C]; uint8, or floating point without NaN/inf.
      A 2-D array is returned with a channel axis added ([H, W, 1]). Float values are not
      range-checked (both [0, 1] and 0..255 floats are in use); callers that need a range
      check it.
    channels: the allowed channel counts (an int or a sequence), or None for any.
    min_size: the smallest allowed size: an int for both H and W, or (min_h, min_w).
    multiple_of: H and W must be multiples of this (e.g. 8 for the DCT, 16 for a codec).
    name: what to call the array in error messages (e.g. a path or an argument name).

  Returns:
    The array, as np.ndarray [H, W, C] (no copy when none is needed).

  Raises:
    ImageInputError: wrong type, ndim, dtype, channel count or size; empty; NaN or inf.
  """
  if arr is None:
    raise errors.ImageInputError(f"{name}: expected an image array, got None.")
  try:
    image = np.asarray(arr)
  except Exception as e:  # pylint: disable=broad-except
    raise errors.ImageInputError(f"{name}: cannot be read as an array: {e}") from e
  if image.dtype == object or not (
      image.dtype == np.uint8 or np.issubdtype(image.dtype, np.floating)
  ):
    raise errors.ImageInputError(
        f"{name}: dtype {image.dtype} is not supported; expected uint8 (0..255) or float."
    )
  if image.ndim == 2:
    image = image[:, :, None]
  if image.ndim != 3:
    raise errors.ImageInputError(
        f"{name}: expected an image [H, W] or [H, W, C], got shape {image.shape}."
    )
  height, width, num_channels = image.shape
  if image.size == 0:
    raise errors.ImageInputError(f"{name}: the image is empty (shape {image.shape}).")
  if channels is not None:
    allowed = (channels,) if isinstance(channels, int) else tuple(channels)
    if num_channels not in allowed:
      raise errors.ImageInputError(
          f"{name}: has {num_channels} channels (shape {image.shape}); expected "
          f"{' or '.join(map(str, allowed))}."
      )
  if np.issubdtype(image.dtype, np.floating) and not np.all(np.isfinite(image)):
    raise errors.ImageInputError(f"{name}: contains NaN or infinite values.")
  if min_size is not None:
    min_h, min_w = (min_size, min_size) if isinstance(min_size, int) else min_size
    if height < min_h or width < min_w:
      raise errors.ImageInputError(
          f"{name}: {height}×{width} is smaller than the minimum {min_h}×{min_w}."
      )
  if multiple_of is not None and (height % multiple_of or width % multiple_of):
    raise errors.ImageInputError(
        f"{name}: {height}×{width} is not a multiple of {multiple_of} in both dimensions; "
        "crop or pad it first."
    )
  return image


def _to_8bit(image: Image.Image) -> Image.Image:
  """Maps a 16/32-bit integer grayscale image to 8 bits over the full 16-bit range."""
  samples = np.asarray(image, dtype=np.float64)
  samples = np.clip(samples, 0, 65535) / 257.0  # 65535 -> 255.
  return Image.fromarray(np.round(samples).astype(np.uint8))


def _flatten_alpha(image: Image.Image) -> Image.Image:
  """Composites an image with transparency on a white background."""
  rgba = image.convert("RGBA")
  background = Image.new("RGBA", rgba.size, (_BACKGROUND,) * 4)
  return Image.alpha_composite(background, rgba).convert("RGB")


def load_image(path: str | os.PathLike, mode: str = "RGB") -> np.ndarray:
  """Reads an image file as uint8 [H, W, C]: C = 3 for mode "RGB", C = 1 for mode "L".

  Conversions: the EXIF orientation is applied; palette images are expanded; transparency
  (RGBA, LA, palette with transparency) is composited on white; 16-bit (and 32-bit integer)
  grayscale is rescaled to 8 bits (v / 257, i.e. 65535 -> 255); bilevel, CMYK, YCbCr, LAB and
  HSV go through Pillow's conversion; RGB -> L uses Pillow's ITU-R 601-2 luma. Floating-point
  files (mode "F") are refused: their range is unknown.

  Raises:
    ImageInputError: unsupported `mode`, missing path, a directory, a file that is not a
      readable image, or an empty image; the message names the path.
  """
  if mode not in MODES:
    raise errors.ImageInputError(f"load_image: mode must be one of {MODES}, got {mode!r}.")
  path = pathlib.Path(path)
  if not path.exists():
    raise errors.ImageInputError(f"{path}: no such file.")
  if path.is_dir():
    raise errors.ImageInputError(f"{path}: is a directory, expected an image file.")
  try:
    with Image.open(path) as opened:
      opened.load()
      image = ImageOps.exif_transpose(opened)
  except UnidentifiedImageError as e:
    raise errors.ImageInputError(f"{path}: not an image file Pillow can identify.") from e
  except Image.DecompressionBombError as e:  # Pillow's limit on pixels (179 M by default).
    raise errors.ImageInputError(f"{path}: {e}") from e
  except (OSError, SyntaxError, ValueError) as e:  # Truncated or corrupt data.
    raise errors.ImageInputError(f"{path}: cannot decode the image: {e}") from e
  if image.width == 0 or image.height == 0:
    raise errors.ImageInputError(f"{path}: the image is empty ({image.width}×{image.height}).")

  if image.mode in _HIGH_BIT_DEPTH_MODES:
    image = _to_8bit(image)
  elif image.mode not in _CONVERTIBLE_MODES:
    raise errors.ImageInputError(
        f"{path}: image mode {image.mode!r} is not supported (expected 8- or 16-bit grayscale, "
        "palette, RGB(A) or CMYK)."
    )
  if image.mode in ("RGBA", "LA", "La", "PA", "RGBa") or (
      image.mode == "P" and "transparency" in image.info
  ):
    image = _flatten_alpha(image)
  image = image.convert(mode)
  return check_image_array(np.asarray(image, dtype=np.uint8), name=str(path))


def save_image(path: str | os.PathLike, array) -> pathlib.Path:
  """Writes an image [H, W], [H, W, 1] or [H, W, 3] to `path` (format from the extension).

  `array` is uint8, or float in [0, 1] (scaled by 255 and rounded). Parent directories are
  created. Lossy formats (e.g. .jpg) use Pillow's defaults; use PNG for exact storage.

  Returns:
    The path written.

  Raises:
    ImageInputError: bad array (see `check_image_array`), floats outside [0, 1], or an
      extension Pillow cannot write.
    OutputError: `path` is a directory, lies under a file, or cannot be written.
  """
  path = pathlib.Path(path)
  if path.is_dir():
    raise errors.OutputError(f"{path}: is a directory; give a file name to write to")
  image = check_image_array(array, channels=(1, 3), name=f"save_image({path})")
  if np.issubdtype(image.dtype, np.floating):
    if image.min() < 0.0 or image.max() > 1.0:
      raise errors.ImageInputError(
          f"save_image({path}): float images must lie in [0, 1], got "
          f"[{image.min():.4g}, {image.max():.4g}]."
      )
    image = np.round(image * 255.0).astype(np.uint8)
  extension = path.suffix.lower()
  Image.init()
  if extension not in Image.EXTENSION or Image.EXTENSION[extension] not in Image.SAVE:
    raise errors.ImageInputError(
        f"save_image({path}): cannot write {extension or 'files without an extension'!r}; "
        "use e.g. .png."
    )
  pil_image = Image.fromarray(image[:, :, 0] if image.shape[-1] == 1 else image)
  with _writing(path):
    pil_image.save(path)
  return path


def write_file(path: str | os.PathLike, data: bytes) -> pathlib.Path:
  """Writes `data` to `path` (parent directories created); OutputError if it cannot."""
  path = pathlib.Path(path)
  with _writing(path):
    path.write_bytes(data)
  return path


@contextlib.contextmanager
def _writing(path: pathlib.Path):
  """Creates `path`'s parents and turns any failure to write it into one OutputError."""
  if path.is_dir():
    raise errors.OutputError(f"{path}: is a directory; give a file name to write to")
  try:
    path.parent.mkdir(parents=True, exist_ok=True)
    yield
  except (FileExistsError, NotADirectoryError):
    raise errors.OutputError(
        f"{path}: cannot write: a part of its directory is a file, not a directory") from None
  except PermissionError:
    raise errors.OutputError(f"{path}: cannot write: permission denied") from None
  except OSError as e:
    raise errors.OutputError(f"{path}: cannot write: {e.strerror or e}") from None
