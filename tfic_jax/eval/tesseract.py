"""Tesseract, the independent OCR reader used to score images that no model of ours was trained on.

Uses pytesseract when it is installed and the `tesseract` binary directly otherwise. Page
segmentation mode 7 treats the image as a single text line (Part A); 6 as a block of lines;
3 (`PAGE_PSM`, Tesseract's default) segments a whole page into blocks, columns and lines
(`read_page`, the page-level evaluation).
"""

from collections.abc import Sequence
import concurrent.futures
import io
import math
import os
import shutil
import subprocess
import tempfile

import numpy as np
from PIL import Image

from tfic_jax import errors
from tfic_jax import imageio

try:
  import pytesseract  # pylint: disable=g-import-not-at-top  (deferred: tesseract, optional)
except ImportError:  # pragma: no cover - exercised only where pytesseract is absent.
  pytesseract = None

BINARY = "tesseract"
INSTALL_HINT = "install it with: apt-get install tesseract-ocr tesseract-ocr-eng"
_TIMEOUT_S = 60  # A single line takes ~0.15 s; this only stops a hung process.
PAGE_PSM = 3  # Fully automatic page segmentation: a whole page, any layout.
_PAGE_SEPARATOR = "\f"  # What tesseract writes between the pages of a list of images.


def _binary_path() -> str | None:
  if pytesseract is not None:
    return shutil.which(pytesseract.pytesseract.tesseract_cmd)
  return shutil.which(BINARY)


def available() -> bool:
  """Whether the tesseract binary can be found (on PATH, or pytesseract's `tesseract_cmd`)."""
  return _binary_path() is not None


def _missing_binary_error() -> errors.DependencyError:
  return errors.DependencyError(f"The tesseract binary was not found; {INSTALL_HINT}.")


def _check_psm(psm: int) -> None:
  if isinstance(psm, bool) or not isinstance(psm, int) or not 0 <= psm <= 13:
    raise ValueError(f"psm must be an int in 0..13 (7 = one text line), got {psm!r}.")


def _check_uint8_image(image: np.ndarray, name: str) -> np.ndarray:
  pixels = imageio.check_image_array(image, channels=(1, 3), name=name)
  if pixels.dtype != np.uint8:
    raise errors.ImageInputError(f"{name}: expected uint8, got {pixels.dtype}.")
  return pixels


def _to_pil(image: np.ndarray, name: str = "tesseract input") -> Image.Image:
  pixels = _check_uint8_image(image, name)
  return Image.fromarray(pixels[:, :, 0] if pixels.shape[-1] == 1 else pixels)


def _read_with_pytesseract(image: Image.Image, psm: int, lang: str) -> str:
  try:
    return pytesseract.image_to_string(image, lang=lang, config=f"--psm {psm}", timeout=_TIMEOUT_S)
  except pytesseract.TesseractNotFoundError as e:
    raise _missing_binary_error() from e
  except pytesseract.TesseractError as e:
    raise _tesseract_failure(lang, str(e)) from e


def _read_with_subprocess(image: Image.Image, psm: int, lang: str) -> str:
  binary = shutil.which(BINARY)
  if binary is None:
    raise _missing_binary_error()
  png = io.BytesIO()
  image.save(png, format="PNG")
  result = subprocess.run(
      [binary, "stdin", "stdout", "--psm", str(psm), "-l", lang],
      input=png.getvalue(),
      capture_output=True,
      timeout=_TIMEOUT_S,
      check=False,
  )
  if result.returncode != 0:
    raise _tesseract_failure(lang, result.stderr.decode(errors="replace"))
  return result.stdout.decode("utf-8", errors="replace")


def _tesseract_failure(lang: str, message: str) -> Exception:
  if "Failed loading language" in message or "traineddata" in message:
    return errors.DependencyError(
        f"tesseract has no data for language {lang!r}; install it with: "
        f"apt-get install tesseract-ocr-{lang}. ({message.strip()})"
    )
  return RuntimeError(f"tesseract failed: {message.strip()}")


def read(image: np.ndarray, psm: int = 7, lang: str = "eng") -> str:
  """Reads the text in `image` with Tesseract.

  Args:
    image: uint8 [H, W, 3] (RGB), [H, W, 1] or [H, W].
    psm: Tesseract's page segmentation mode (7: a single text line, 6: a block).
    lang: Tesseract language code.

  Returns:
    The text read, with surrounding whitespace stripped.

  Raises:
    DependencyError: the binary (or the language's data) is not installed.
    ImageInputError: `image` is not a uint8 image.
  """
  _check_psm(psm)
  pil_image = _to_pil(image)
  if not available():
    raise _missing_binary_error()
  if pytesseract is not None:
    text = _read_with_pytesseract(pil_image, psm, lang)
  else:
    text = _read_with_subprocess(pil_image, psm, lang)
  return text.strip()


def read_page(image: np.ndarray, psm: int = PAGE_PSM, lang: str = "eng") -> str:
  """Reads a whole page (`read` in page mode: lines come back separated by newlines)."""
  return read(image, psm=psm, lang=lang)


def _binary_or_raise() -> str:
  binary = _binary_path()
  if binary is None:
    raise _missing_binary_error()
  return binary


def _read_batch(images: Sequence[np.ndarray], psm: int, lang: str) -> list[str]:
  """Reads several images with one tesseract process (a list file of PNGs).

  Starting tesseract and loading its model costs ~0.2 s, reading a line ~0.04 s, so one
  process per batch is ~5× faster than one per image. Pages come back separated by form feeds;
  if their count does not match (a reading containing a form feed), falls back to `read`.
  """
  pil_images = [_to_pil(image) for image in images]
  with tempfile.TemporaryDirectory(prefix="tfic_tesseract_") as tmp_dir:
    paths = []
    for index, pil_image in enumerate(pil_images):
      path = os.path.join(tmp_dir, f"{index:06d}.png")
      pil_image.save(path, compress_level=1)
      paths.append(path)
    list_path = os.path.join(tmp_dir, "images.txt")
    with open(list_path, "w") as f:
      f.write("\n".join(paths) + "\n")
    result = subprocess.run(
        [_binary_or_raise(), list_path, "stdout", "--psm", str(psm), "-l", lang],
        capture_output=True,
        timeout=_TIMEOUT_S * len(paths),
        check=False,
    )
  if result.returncode != 0:
    raise _tesseract_failure(lang, result.stderr.decode(errors="replace"))
  pages = result.stdout.decode("utf-8", errors="replace").split(_PAGE_SEPARATOR)
  if len(pages) != len(images):
    return [read(image, psm=psm, lang=lang) for image in images]
  return [page.strip() for page in pages]


def read_many(
    images: Sequence[np.ndarray],
    psm: int = 7,
    lang: str = "eng",
    num_workers: int | None = None,
    batch_size: int = 32,
) -> list[str]:
  """`read` for many images: batches of images per tesseract process, processes in parallel.

  Gives the same readings as `read` on each image (tesseract's LSTM engine keeps no state
  between pages).

  Args:
    images: uint8 images (see `read`).
    psm: page segmentation mode.
    lang: language code.
    num_workers: concurrent tesseract processes; default: the number of CPU cores.
    batch_size: most images per tesseract process (smaller batches balance the load better).

  Returns:
    The texts, in the order of `images`, with surrounding whitespace stripped.
  """
  _check_psm(psm)
  images = list(images)
  for index, image in enumerate(images):  # Fail on a bad image before starting any process.
    _check_uint8_image(image, f"images[{index}]")
  if not available():
    raise _missing_binary_error()
  if not images:
    return []
  num_workers = num_workers or os.cpu_count() or 1
  # Enough batches to keep every worker busy, each at most `batch_size` images.
  num_batches = max(num_workers, math.ceil(len(images) / batch_size))
  size = math.ceil(len(images) / min(num_batches, len(images)))
  batches = [images[start : start + size] for start in range(0, len(images), size)]
  # One OpenMP thread per tesseract process: the parallelism is across processes.
  os.environ.setdefault("OMP_THREAD_LIMIT", "1")
  with concurrent.futures.ThreadPoolExecutor(max_workers=num_workers) as pool:
    readings = pool.map(lambda batch: _read_batch(batch, psm, lang), batches)
    return [text for batch_readings in readings for text in batch_readings]
