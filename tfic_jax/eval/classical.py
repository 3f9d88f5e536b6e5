"""Classical codecs through Pillow, each given its best shot at low rates.

Codecs (`CODECS`), with the settings that give each its smallest files for a given quality:
- "jpeg": libjpeg-turbo, `optimize=True` (optimal Huffman tables); every image is encoded both
  baseline and progressive and the smaller stream is kept (on text lines baseline wins at low
  qualities, where the extra scan headers of progressive cost 100–250 bytes, and progressive
  wins near quality 90). Quality 1..95 (1 and 2 give the same tables); Pillow's default
  chroma subsampling (4:2:0) for RGB.
- "webp": libwebp lossy, `method=6` (slowest, best). Quality 0..100. WebP has no grayscale mode:
  grayscale input is coded as RGB with constant chroma and decoded back to one channel.
- "avif": libavif + aom, `speed=AVIF_SPEED` (see there), 4:2:0 for RGB, 4:0:0 for grayscale.
  Quality 0..100.
- "jpeg2000": OpenJPEG, irreversible 9/7 wavelet, `quality_mode="rates"`. Its quality is the
  *target bits per pixel of the original image* (higher = more bytes, as for the other codecs);
  it is turned into OpenJPEG's compression ratio (raw bits of the coded image / target bits).
  The bare codestream (.j2k, no JP2 boxes) is stored. Headers make the real rate a little
  higher than the target at the lowest targets.

Every codec can also run on a downscaled image (`downscale` 2 or 4): the image is reduced with
Lanczos (Pillow's Lanczos reduction is antialiased), coded, decoded and brought back to the
original size with Lanczos. The bytes count the stream of the small image only; rates are per
pixel of the original image.
"""

from collections.abc import Callable, Iterable, Sequence
import dataclasses
import io
import math

import numpy as np
from PIL import Image

from tfic_jax import errors
from tfic_jax import imageio
from tfic_jax import metrics

# aom's speed 0 is the slowest/best but takes 1–3 s per 256×512 image on one CPU core; speed 2
# gave files within ~0–3 % of it at a third of the time, speed 4 within ~2–5 %, speed 6 ~10 %
# larger (measured on a rendered text line, qualities 10/30/60).
AVIF_SPEED = 2
DOWNSCALE_FILTER = Image.Resampling.LANCZOS
UPSCALE_FILTER = Image.Resampling.LANCZOS
DOWNSCALES = (1, 2, 4)

_JPEG2000_MAX_RESOLUTIONS = 6  # OpenJPEG's default number of wavelet levels + 1.


@dataclasses.dataclass(frozen=True)
class Codec:
  """A classical codec: how to encode a PIL image, and the qualities that make sense.

  Attributes:
    name: registry name.
    encode: (PIL image, quality, original pixel count, **Pillow save options) -> bytes.
    qualities: an ascending grid (more bytes as quality grows) reaching the lowest rates.
    quick_qualities: a 5-point subset around where Tesseract starts failing on 256×512 text
      lines (0.02–0.3 bpp), for quick sweeps.
    quality_range: the smallest and largest valid quality.
    integer_quality: whether qualities are integers.
    pillow_format: Pillow's format name (for decoding and error messages).
    extension: the file extension of a stream written to disk.
  """

  name: str
  encode: Callable[..., bytes]
  qualities: tuple[float, ...]
  quick_qualities: tuple[float, ...]
  quality_range: tuple[float, float]
  integer_quality: bool
  pillow_format: str
  extension: str  # of a file holding the stream


def _save(image: Image.Image, pillow_format: str, **options) -> bytes:
  buffer = io.BytesIO()
  image.save(buffer, format=pillow_format, **options)
  return buffer.getvalue()


def _encode_jpeg(image: Image.Image, quality: float, original_pixels: int, **options) -> bytes:
  del original_pixels
  streams = [
      _save(image, "JPEG", **{"quality": int(quality), "optimize": True,
                              "progressive": progressive, **options})
      for progressive in (False, True)
  ]
  return min(streams, key=len)


def _encode_webp(image: Image.Image, quality: float, original_pixels: int, **options) -> bytes:
  del original_pixels
  return _save(image, "WEBP", **{"quality": int(quality), "method": 6, "lossless": False,
                                 **options})


def _encode_avif(image: Image.Image, quality: float, original_pixels: int, **options) -> bytes:
  del original_pixels
  # One thread by default: aom's threads help little at these sizes, and sweeps run other
  # work (tesseract) beside the encoder.
  return _save(image, "AVIF", **{"quality": int(quality), "speed": AVIF_SPEED, "max_threads": 1,
                                 **options})


def _encode_jpeg2000(
    image: Image.Image, target_bpp: float, original_pixels: int, **options
) -> bytes:
  raw_bits = image.width * image.height * len(image.getbands()) * 8
  ratio = max(1.0, raw_bits / (target_bpp * original_pixels))
  # Fewer wavelet levels for small (e.g. 4× downscaled patch) images: OpenJPEG needs
  # 2^(levels) <= the smaller side.
  num_resolutions = min(_JPEG2000_MAX_RESOLUTIONS, int(math.log2(min(image.size))) + 1)
  return _save(
      image,
      "JPEG2000",
      **{
          "quality_mode": "rates",
          "quality_layers": [ratio],
          "irreversible": True,
          "num_resolutions": num_resolutions,
          "no_jp2": True,  # The bare codestream: the JP2 boxes cost ~85 bytes, a lot at 0.01 bpp.
          **options,
      },
  )


CODECS: dict[str, Codec] = {
    "jpeg": Codec(
        name="jpeg",
        encode=_encode_jpeg,
        qualities=(1, 3, 5, 8, 10, 15, 20, 30, 40, 50, 65, 80, 95),
        quick_qualities=(1, 5, 10, 20, 40),
        quality_range=(1, 95),
        integer_quality=True,
        pillow_format="JPEG",
        extension=".jpg",
    ),
    "webp": Codec(
        name="webp",
        encode=_encode_webp,
        qualities=(0, 2, 5, 10, 15, 20, 30, 40, 50, 65, 80, 95),
        quick_qualities=(0, 5, 10, 20, 40),
        quality_range=(0, 100),
        integer_quality=True,
        pillow_format="WEBP",
        extension=".webp",
    ),
    "avif": Codec(
        name="avif",
        encode=_encode_avif,
        qualities=(0, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90),
        quick_qualities=(0, 10, 20, 30, 50),
        quality_range=(0, 100),
        integer_quality=True,
        pillow_format="AVIF",
        extension=".avif",
    ),
    "jpeg2000": Codec(
        name="jpeg2000",
        encode=_encode_jpeg2000,
        qualities=(0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0),
        quick_qualities=(0.02, 0.05, 0.1, 0.15, 0.3),
        quality_range=(0.001, 24.0),
        integer_quality=False,
        pillow_format="JPEG2000",
        extension=".j2k",
    ),
}


def get_codec(name: str) -> Codec:
  """The registered codec called `name`; ValueError listing the known names otherwise."""
  if name not in CODECS:
    raise ValueError(f"Unknown codec {name!r}; known codecs: {', '.join(CODECS)}.")
  return CODECS[name]


def _check_quality(codec: Codec, quality: float) -> None:
  low, high = codec.quality_range
  if isinstance(quality, bool) or not isinstance(quality, (int, float, np.number)):
    raise TypeError(f"{codec.name}: quality must be a number, got {type(quality).__name__}.")
  if not low <= quality <= high:
    raise ValueError(f"{codec.name}: quality {quality} is outside [{low}, {high}].")
  if codec.integer_quality and quality != int(quality):
    raise ValueError(f"{codec.name}: quality must be an integer, got {quality}.")


def _check_downscale(downscale: int, height: int, width: int) -> None:
  if isinstance(downscale, bool) or not isinstance(downscale, (int, np.integer)) or downscale < 1:
    raise ValueError(f"downscale must be a positive int, got {downscale!r}.")
  if height < downscale or width < downscale:
    raise errors.ImageInputError(
        f"image {height}×{width} is too small for a {downscale}× downscale."
    )


def encode(image: np.ndarray, codec: str, quality: float, downscale: int = 1,
           **encoder_options) -> bytes:
  """Codes `image` with a classical codec: the bytes of a real file in the codec's format.

  Args:
    image: uint8 [H, W, 3] (RGB), [H, W, 1] or [H, W] (grayscale).
    codec: a name in `CODECS` ("jpeg", "webp", "avif", "jpeg2000").
    quality: the codec's quality (see the module docstring; for "jpeg2000" a target bpp).
    downscale: code the image reduced by this factor (1, 2, 4, ...); `decode` upscales back.
    **encoder_options: Pillow save options overriding this module's settings (e.g. `speed=0`
      for AVIF, `subsampling=0` for JPEG). Pillow ignores options a format does not know.
  """
  coder = get_codec(codec)
  _check_quality(coder, quality)
  pixels = imageio.check_image_array(np.asarray(image), channels=(1, 3), name=f"{codec} input")
  if pixels.dtype != np.uint8:
    raise errors.ImageInputError(f"{codec} input: expected uint8, got {pixels.dtype}.")
  height, width, channels = pixels.shape
  _check_downscale(downscale, height, width)
  pil_image = Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels)
  if downscale > 1:
    small_size = (max(1, round(width / downscale)), max(1, round(height / downscale)))
    pil_image = pil_image.resize(small_size, DOWNSCALE_FILTER)
  return coder.encode(pil_image, quality, height * width, **encoder_options)


def decode(stream: bytes, shape: tuple[int, ...]) -> np.ndarray:
  """Decodes a classical stream to a uint8 array of `shape` (upscaled if it was downscaled)."""
  height, width = shape[:2]
  channels = 1 if len(shape) == 2 else shape[2]
  try:
    with Image.open(io.BytesIO(stream)) as decoded_image:
      decoded_image.load()
      decoded_image = decoded_image.convert("L" if channels == 1 else "RGB")
  except (OSError, SyntaxError, ValueError) as e:
    raise errors.BitstreamError(f"cannot decode a {len(stream)}-byte classical stream: {e}") from e
  if decoded_image.size != (width, height):
    decoded_image = decoded_image.resize((width, height), UPSCALE_FILTER)
  return np.asarray(decoded_image, dtype=np.uint8).reshape(shape)


def encode_decode(
    image: np.ndarray, codec: str, quality: float, downscale: int = 1, **encoder_options
) -> tuple[np.ndarray, int]:
  """Codes `image` (see `encode`) and decodes it again.

  Returns:
    (decoded uint8 array of the same shape as `image`, number of bytes of the stream).
  """
  stream = encode(image, codec, quality, downscale, **encoder_options)
  return decode(stream, np.asarray(image).shape), len(stream)


@dataclasses.dataclass(frozen=True)
class RatePoint:
  """One codec setting applied to one image."""

  codec: str
  quality: float
  downscale: int
  num_bytes: int
  bpp: float
  psnr: float
  decoded: np.ndarray = dataclasses.field(repr=False)
  stream: bytes = dataclasses.field(repr=False)  # the file's bytes (a caller may write them)


def _rate_point(
    image: np.ndarray, codec: str, quality: float, downscale: int, **encoder_options
) -> RatePoint:
  stream = encode(image, codec, quality, downscale, **encoder_options)
  decoded = decode(stream, np.asarray(image).shape)
  height, width = image.shape[:2]
  return RatePoint(
      codec=codec,
      quality=quality,
      downscale=downscale,
      num_bytes=len(stream),
      bpp=metrics.bpp(len(stream), height, width),
      psnr=metrics.psnr(image, decoded),
      decoded=decoded,
      stream=stream,
  )


def sweep(
    image: np.ndarray,
    codec: str,
    qualities: Iterable[float] | None = None,
    downscales: Sequence[int] = DOWNSCALES,
    **encoder_options,
) -> list[RatePoint]:
  """Codes `image` at every (downscale, quality); qualities default to the codec's grid."""
  coder = get_codec(codec)
  qualities = coder.qualities if qualities is None else tuple(qualities)
  return [
      _rate_point(image, codec, quality, downscale, **encoder_options)
      for downscale in downscales
      for quality in qualities
  ]


def _highest_quality_within(
    image: np.ndarray, coder: Codec, downscale: int, target_bpp: float, steps: int
) -> RatePoint | None:
  """Bisects for the highest quality whose rate is <= target_bpp (rate ~ monotone in quality)."""
  low, high = coder.quality_range
  best = _rate_point(image, coder.name, low, downscale)
  if best.bpp > target_bpp:
    return None
  highest = _rate_point(image, coder.name, high, downscale)
  if highest.bpp <= target_bpp:
    return highest
  for _ in range(steps):
    if coder.integer_quality:
      if high - low <= 1:
        break
      middle = (low + high) // 2
    else:
      middle = math.sqrt(low * high)  # Rates span decades: bisect on a log scale.
    point = _rate_point(image, coder.name, middle, downscale)
    if point.bpp <= target_bpp:
      low, best = middle, point
    else:
      high = middle
  return best


def best_at_rate(
    image: np.ndarray,
    codec: str,
    target_bpp: float,
    downscales: Sequence[int] = DOWNSCALES,
    score_fn: Callable[[np.ndarray], float] | None = None,
    steps: int = 12,
) -> RatePoint | None:
  """The best setting of `codec` at a rate <= `target_bpp` for this image.

  For each downscale, bisects for the highest quality whose rate fits (assuming the rate grows
  with quality, which holds for these codecs up to a few bytes), then keeps the downscale whose
  decoded image scores highest.

  Args:
    image: uint8 [H, W, C] or [H, W].
    codec: a name in `CODECS`.
    target_bpp: the rate budget, bits per pixel of `image`.
    downscales: the downscale factors to try.
    score_fn: decoded image -> score to maximize (e.g. an OCR accuracy); default: PSNR.
    steps: bisection steps per downscale.

  Returns:
    The best `RatePoint`, or None if even the lowest quality exceeds the budget.
  """
  coder = get_codec(codec)
  if not target_bpp > 0:
    raise ValueError(f"target_bpp must be positive, got {target_bpp}.")
  candidates = [
      point
      for downscale in downscales
      if (point := _highest_quality_within(image, coder, downscale, target_bpp, steps))
  ]
  if not candidates:
    return None
  score = score_fn or (lambda decoded: metrics.psnr(image, decoded))
  return max(candidates, key=lambda point: score(point.decoded))
