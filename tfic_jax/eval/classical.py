"""Classical codecs, each given its best shot at low rates: Pillow's four, and the document codecs.

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

Document codecs (`DOCUMENT_CODECS`, issue 26: what a user would pick for a scanned page), each
a real file of its format, decoded by its own decoder:
- "jxl": JPEG XL (libjxl through imagecodecs), effort 7 (libjxl's default). Quality 0..100 is
  libjxl's quality (mapped to its butteraugli distance); below ~10 the distance passes 15 and
  files grow again, so the grid starts at 10.
- "heif": HEIF with HEVC intra (libheif + x265 through pillow-heif), 4:2:0 for RGB, monochrome
  for grayscale. Quality 0..100.
- "djvu_iw44": DjVu IW44 wavelets (DjVuLibre's `c44`, grey from a PGM, colour from a PPM;
  decoded by `ddjvu`). Like "jpeg2000", its quality is the *target bits per pixel of the
  original image* (c44 `-bpp`).
- "djvu_jb2": DjVu JB2 bilevel (`cjb2 -losslevel`, i.e. `-lossy`) of the page binarized at
  gray level `JB2_THRESHOLD`; decoded by `ddjvu` to black and white. Its quality is the
  fidelity 200 − loss level (100 = cjb2's `-lossy` default, 200 = lossless JB2 with `-clean`).
  The DjVu tools run as subprocesses (`DJVU_TIMEOUT_S`) in a temporary directory that is
  removed afterwards; a missing binary raises `DependencyError` naming the package.

Every codec can also run on a downscaled image (`downscale` 2 or 4): the image is reduced with
Lanczos (Pillow's Lanczos reduction is antialiased), coded, decoded and brought back to the
original size with Lanczos. The bytes count the stream of the small image only; rates are per
pixel of the original image.
"""

from collections.abc import Callable, Iterable, Sequence
import dataclasses
import io
import math
import os
import shutil
import subprocess
import tempfile

import imagecodecs
import numpy as np
from PIL import Image
import pillow_heif

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
    pillow_format: Pillow's format name (for decoding and error messages); for a codec
      Pillow cannot read, the format's name.
    extension: the file extension of a stream written to disk.
    decoder: bytes -> PIL image, for a format Pillow cannot open (None: Pillow decodes it).
    is_stream: bytes -> whether they are a stream of this format (lets `decode` find the
      decoder of a file whose codec it is not told); None for Pillow's formats.
  """

  name: str
  encode: Callable[..., bytes]
  qualities: tuple[float, ...]
  quick_qualities: tuple[float, ...]
  quality_range: tuple[float, float]
  integer_quality: bool
  pillow_format: str
  extension: str  # of a file holding the stream
  decoder: Callable[[bytes], Image.Image] | None = None
  is_stream: Callable[[bytes], bool] | None = None


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


# ------------------------------------------------------------------ document codecs (issue 26)

JXL_EFFORT = 7
JB2_THRESHOLD = 128  # Gray level below which a pixel is ink for the JB2 (bilevel) codec.
JB2_MAX_LOSS = 200  # cjb2's largest loss level.
DJVU_TIMEOUT_S = 120  # A 4000×4000 page codes in a few seconds; this only stops a hung tool.
DJVU_INSTALL_HINT = "install DjVuLibre with: apt-get install djvulibre-bin"
_DJVU_MAGIC = b"AT&TFORM"
_JXL_MAGICS = (b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\x0a")


def _is_jxl(stream: bytes) -> bool:
  return stream.startswith(_JXL_MAGICS)


def _is_heif(stream: bytes) -> bool:
  return stream[4:8] == b"ftyp" and stream[8:12] in (b"heic", b"heix", b"mif1", b"msf1")


def _is_djvu(stream: bytes) -> bool:
  return stream.startswith(_DJVU_MAGIC)


def _encode_jxl(image: Image.Image, quality: float, original_pixels: int, **options) -> bytes:
  del original_pixels
  return bytes(imagecodecs.jpegxl_encode(np.asarray(image), **{
      "level": int(quality), "effort": JXL_EFFORT, "numthreads": 1, **options}))


def _decode_jxl(stream: bytes) -> Image.Image:
  pixels = np.asarray(imagecodecs.jpegxl_decode(stream))
  return Image.fromarray(pixels[:, :, 0] if pixels.ndim == 3 and pixels.shape[2] == 1
                         else pixels)


def _encode_heif(image: Image.Image, quality: float, original_pixels: int, **options) -> bytes:
  del original_pixels
  buffer = io.BytesIO()
  pillow_heif.from_pillow(image).save(buffer, **{"quality": int(quality), **options})
  return buffer.getvalue()


def _decode_heif(stream: bytes) -> Image.Image:
  return pillow_heif.open_heif(stream, convert_hdr_to_8bit=True).to_pillow()


def djvu_tool(name: str) -> str:
  """The path of a DjVuLibre binary (c44, cjb2, ddjvu); DependencyError if it is missing."""
  path = shutil.which(name)
  if path is None:
    raise errors.DependencyError(f"The DjVu tool {name!r} was not found; {DJVU_INSTALL_HINT}.")
  return path


def _run_tool(arguments: list[str]) -> None:
  try:
    result = subprocess.run(arguments, capture_output=True, timeout=DJVU_TIMEOUT_S, check=False)
  except subprocess.TimeoutExpired:
    raise RuntimeError(f"{os.path.basename(arguments[0])} took over {DJVU_TIMEOUT_S} s") from None
  if result.returncode != 0:
    message = result.stderr.decode(errors="replace").strip() or f"exit {result.returncode}"
    raise RuntimeError(f"{os.path.basename(arguments[0])} failed: {message}")


def _djvu_encode(tool: str, image: Image.Image, suffix: str, options: list[str]) -> bytes:
  """Writes `image` as PNM, runs `tool options in.pnm out.djvu` in a temporary directory."""
  binary = djvu_tool(tool)
  with tempfile.TemporaryDirectory(prefix="tfic_djvu_") as tmp_dir:
    source, target = os.path.join(tmp_dir, f"page{suffix}"), os.path.join(tmp_dir, "page.djvu")
    image.save(source)
    _run_tool([binary, *options, source, target])
    with open(target, "rb") as f:
      return f.read()


def _decode_djvu(stream: bytes) -> Image.Image:
  """`ddjvu` to a PNM (grey for grey and bilevel pages, colour for colour ones)."""
  if not _is_djvu(stream):
    raise errors.BitstreamError(f"not a DjVu file ({len(stream)} bytes)")
  binary = djvu_tool("ddjvu")
  with tempfile.TemporaryDirectory(prefix="tfic_djvu_") as tmp_dir:
    source, target = os.path.join(tmp_dir, "page.djvu"), os.path.join(tmp_dir, "page.pnm")
    with open(source, "wb") as f:
      f.write(stream)
    _run_tool([binary, "-format=pnm", source, target])
    with Image.open(target) as decoded:
      decoded.load()
      return decoded.convert("L") if decoded.mode == "1" else decoded.copy()


def _encode_djvu_iw44(
    image: Image.Image, target_bpp: float, original_pixels: int, **options
) -> bytes:
  del options
  # c44's -bpp counts pixels of the coded (possibly downscaled) image.
  coded_bpp = target_bpp * original_pixels / (image.width * image.height)
  grey = image.mode == "L"
  return _djvu_encode("c44", image, ".pgm" if grey else ".ppm", ["-bpp", f"{coded_bpp:.6g}"])


def _encode_djvu_jb2(image: Image.Image, fidelity: float, original_pixels: int,
                     threshold: int = JB2_THRESHOLD, **options) -> bytes:
  del original_pixels, options
  paper = np.asarray(image.convert("L")) >= threshold  # Pillow's bilevel "1": True = white.
  loss = JB2_MAX_LOSS - int(fidelity)
  return _djvu_encode("cjb2", Image.fromarray(paper), ".pbm", ["-losslevel", str(loss)])


DOCUMENT_CODECS: dict[str, Codec] = {
    "jxl": Codec(
        name="jxl",
        encode=_encode_jxl,
        qualities=(10, 15, 20, 30, 40, 50, 65, 80, 95),
        quick_qualities=(10, 20, 40, 65),
        quality_range=(0, 100),
        integer_quality=True,
        pillow_format="JPEG XL",
        extension=".jxl",
        decoder=_decode_jxl,
        is_stream=_is_jxl,
    ),
    "heif": Codec(
        name="heif",
        encode=_encode_heif,
        qualities=(0, 5, 10, 20, 30, 40, 50, 65, 80, 95),
        quick_qualities=(0, 10, 20, 40),
        quality_range=(0, 100),
        integer_quality=True,
        pillow_format="HEIF",
        extension=".heic",
        decoder=_decode_heif,
        is_stream=_is_heif,
    ),
    "djvu_iw44": Codec(
        name="djvu_iw44",
        encode=_encode_djvu_iw44,
        qualities=(0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0),
        quick_qualities=(0.05, 0.1, 0.2, 0.4),
        quality_range=(0.001, 24.0),
        integer_quality=False,
        pillow_format="DjVu (IW44)",
        extension=".djvu",
        decoder=_decode_djvu,
        is_stream=_is_djvu,
    ),
    "djvu_jb2": Codec(
        name="djvu_jb2",
        encode=_encode_djvu_jb2,
        qualities=(0, 100, 150, 200),
        quick_qualities=(100, 200),
        quality_range=(0, JB2_MAX_LOSS),
        integer_quality=True,
        pillow_format="DjVu (JB2)",
        extension=".djvu",
        decoder=_decode_djvu,
        is_stream=_is_djvu,
    ),
}
# Every codec `get_codec` knows. `CODECS` (Pillow's four) stays what the text-line evaluations
# sweep by default; the page-level evaluation (eval/documents.py) uses both.
ALL_CODECS: dict[str, Codec] = {**CODECS, **DOCUMENT_CODECS}


def get_codec(name: str) -> Codec:
  """The registered codec called `name`; ValueError listing the known names otherwise."""
  if name not in ALL_CODECS:
    raise ValueError(f"Unknown codec {name!r}; known codecs: {', '.join(ALL_CODECS)}.")
  return ALL_CODECS[name]


def _check_quality(codec: Codec, quality: float) -> None:
  low, high = codec.quality_range
  if isinstance(quality, bool) or not isinstance(quality, (int, float, np.number)):
    raise TypeError(f"{codec.name}: quality must be a number, got {type(quality).__name__}.")
  if not low <= quality <= high:
    raise ValueError(f"{codec.name}: quality {quality} is outside [{low}, {high}].")
  if codec.integer_quality and quality != int(quality):
    raise ValueError(f"{codec.name}: quality must be an integer, got {quality}.")


def check_quality(codec: str, quality: float) -> None:
  """ValueError (TypeError) if `quality` is not a valid quality of the codec called `codec`."""
  _check_quality(get_codec(codec), quality)


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
    codec: a name in `ALL_CODECS` ("jpeg", "webp", "avif", "jpeg2000", "jxl", "heif",
      "djvu_iw44", "djvu_jb2").
    quality: the codec's quality (see the module docstring; for "jpeg2000" and "djvu_iw44" a
      target bpp).
    downscale: code the image reduced by this factor (1, 2, 4, ...); `decode` upscales back.
    **encoder_options: Pillow save options overriding this module's settings (e.g. `speed=0`
      for AVIF, `subsampling=0` for JPEG). Pillow ignores options a format does not know;
      "jxl" and "heif" pass them to their encoder, "djvu_jb2" takes `threshold`.

  Raises:
    DependencyError: a DjVu tool is not installed.
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


def _own_decoder(stream: bytes, codec: str | None) -> Callable[[bytes], Image.Image] | None:
  """The decoder of `codec`, or of the document format `stream` is in; None: Pillow's."""
  if codec is not None:
    return get_codec(codec).decoder
  for coder in DOCUMENT_CODECS.values():
    if coder.is_stream(stream):
      return coder.decoder
  return None


def decode(stream: bytes, shape: tuple[int, ...], codec: str | None = None) -> np.ndarray:
  """Decodes a classical stream to a uint8 array of `shape` (upscaled if it was downscaled).

  `codec` names the codec that made it; without it, the format is recognised from the stream.
  """
  height, width = shape[:2]
  channels = 1 if len(shape) == 2 else shape[2]
  decoder = _own_decoder(stream, codec)
  try:
    if decoder is not None:
      decoded_image = decoder(stream).convert("L" if channels == 1 else "RGB")
    else:
      with Image.open(io.BytesIO(stream)) as decoded_image:
        decoded_image.load()
        decoded_image = decoded_image.convert("L" if channels == 1 else "RGB")
  except errors.TficError:
    raise
  except (OSError, SyntaxError, ValueError, RuntimeError) as e:
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
  return decode(stream, np.asarray(image).shape, codec), len(stream)


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
  decoded = decode(stream, np.asarray(image).shape, codec)
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
    codec: a name in `ALL_CODECS`.
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
