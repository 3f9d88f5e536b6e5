"""Measurement: OCR accuracy (paper §3.3), PSNR, bits per pixel, and JPEG's blockwise DCT (§4.4).

Text metrics follow the paper's definition of OCR accuracy,

  acc(G, T) = 1 - lev(G, T) / max(|G|, |T|),

where lev is the Levenshtein distance and |.| counts alphanumeric characters. Both strings are
first reduced to their alphanumeric characters (`normalize_text`), so spaces, punctuation and
other symbols neither count nor cost anything.

The DCT functions implement JPEG's 8×8 type-II DCT (ITU-T T.81, A.3.3) in `jax.numpy`; they are
differentiable and jit-able, and `dct_loss` is the paper's thresholded blockwise DCT loss.
"""

from collections.abc import Sequence
import math
import re
import unicodedata

import jax
import jax.numpy as jnp
import Levenshtein
import numpy as np

from tfic_jax import errors
from tfic_jax import imageio

BLOCK_SIZE = 8  # JPEG's DCT block size.

_NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")


# ----------------------------------------------------------------------------------------------
# OCR accuracy (paper §3.3).


def _check_text(text, name: str) -> str:
  if text is None:
    raise TypeError(f"{name} is None; expected a str (use '' for an empty reading).")
  if not isinstance(text, str):
    raise TypeError(f"{name} must be a str, got {type(text).__name__}: {text!r:.80}.")
  return text


def normalize_text(text: str, case_sensitive: bool = False) -> str:
  """Reduces `text` to the characters the paper's accuracy counts: ASCII [A-Za-z0-9].

  The text is first NFKD-normalized, so that accented letters count as their base letter
  ("é" -> "e") and compatibility forms are expanded (the ligature "ﬁ" -> "fi", full-width
  "Ａ" -> "A"); every character that is still not an ASCII letter or digit (spaces,
  punctuation, combining marks, other scripts) is dropped. Unless `case_sensitive`, the
  result is lower-cased.
  """
  _check_text(text, "text")
  folded = _NOT_ALPHANUMERIC.sub("", unicodedata.normalize("NFKD", text))
  return folded if case_sensitive else folded.lower()


def ocr_accuracy(gt: str, pred: str, case_sensitive: bool = False) -> float:
  """The paper's OCR accuracy 1 - lev(G, T) / max(|G|, |T|) over alphanumerics (§3.3).

  Args:
    gt: ground-truth text G.
    pred: recognized text T.
    case_sensitive: whether "A" and "a" differ (the paper does not say; default: they don't).

  Returns:
    A value in [0, 1]. Spaces and punctuation are ignored (see `normalize_text`); when both
    strings have no alphanumeric character the accuracy is 1.0, when only one has none it is 0.0.

  Raises:
    TypeError: if `gt` or `pred` is not a str (e.g. None).
  """
  gt_chars = normalize_text(_check_text(gt, "gt"), case_sensitive)
  pred_chars = normalize_text(_check_text(pred, "pred"), case_sensitive)
  longest = max(len(gt_chars), len(pred_chars))
  if longest == 0:
    return 1.0
  return 1.0 - Levenshtein.distance(gt_chars, pred_chars) / longest


def _check_pairs(gts: Sequence[str], preds: Sequence[str]) -> None:
  for name, texts in (("gts", gts), ("preds", preds)):
    if isinstance(texts, str) or texts is None:
      raise TypeError(f"{name} must be a sequence of str, got {type(texts).__name__}.")
  if len(gts) != len(preds):
    raise ValueError(f"gts and preds differ in length: {len(gts)} vs {len(preds)}.")
  if not gts:
    raise ValueError("gts and preds are empty; a mean over no texts is undefined.")


def mean_ocr_accuracy(
    gts: Sequence[str], preds: Sequence[str], case_sensitive: bool = False
) -> float:
  """Mean of `ocr_accuracy` over aligned lists of ground truths and predictions."""
  _check_pairs(gts, preds)
  return float(np.mean([ocr_accuracy(g, p, case_sensitive) for g, p in zip(gts, preds)]))


def word_accuracy(gts: Sequence[str], preds: Sequence[str], case_sensitive: bool = False) -> float:
  """Fraction of texts read exactly, after the same normalization as `ocr_accuracy`."""
  _check_pairs(gts, preds)
  exact = [
      normalize_text(_check_text(g, "gt"), case_sensitive)
      == normalize_text(_check_text(p, "pred"), case_sensitive)
      for g, p in zip(gts, preds)
  ]
  return float(np.mean(exact))


# ----------------------------------------------------------------------------------------------
# Rate and distortion.


def psnr(reference: np.ndarray, test: np.ndarray, max_value: float = 255.0) -> float:
  """Peak signal-to-noise ratio in dB, 10 log10(max_value² / MSE), computed in float64.

  Args:
    reference: image [H, W] or [H, W, C], uint8 or float.
    test: image of the same shape.
    max_value: the peak value: 255 for uint8 (or 0..255 floats), 1.0 for images in [0, 1].

  Returns:
    The PSNR; `math.inf` when the images are identical (MSE = 0).
  """
  reference = imageio.check_image_array(reference, name="reference", channels=None)
  test = imageio.check_image_array(test, name="test", channels=None)
  if reference.shape != test.shape:
    raise errors.ImageInputError(
        f"psnr: reference and test differ in shape: {reference.shape} vs {test.shape}."
    )
  if not max_value > 0:
    raise ValueError(f"psnr: max_value must be positive, got {max_value}.")
  mse = np.mean((reference.astype(np.float64) - test.astype(np.float64)) ** 2)
  if mse == 0:
    return math.inf
  return float(10.0 * np.log10(max_value**2 / mse))


def psnr_from_sse(sse: float, num_pixels: int) -> float:
  """PSNR (dB) of 0..255 images from a sum of squared errors over `num_pixels` samples."""
  mse = sse / num_pixels
  return float("inf") if mse == 0 else float(10.0 * np.log10(255.0 ** 2 / mse))


def bpp(num_bytes: int, height: int, width: int) -> float:
  """Bits per pixel of a `num_bytes` stream for an image of `height` × `width` pixels."""
  for name, value in (("num_bytes", num_bytes), ("height", height), ("width", width)):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
      raise TypeError(f"bpp: {name} must be an int, got {type(value).__name__}.")
  if num_bytes < 0:
    raise ValueError(f"bpp: num_bytes must be >= 0, got {num_bytes}.")
  if height <= 0 or width <= 0:
    raise ValueError(f"bpp: height and width must be positive, got {height} × {width}.")
  return 8.0 * int(num_bytes) / (int(height) * int(width))


# ----------------------------------------------------------------------------------------------
# JPEG's 8×8 DCT (ITU-T T.81, A.3.3) and the paper's DCT loss (§4.4).


def _dct_matrix() -> np.ndarray:
  """D[u, x] = C(u)/2 cos((2x+1)uπ/16), C(0) = 1/√2, else 1: F = D f Dᵀ is JPEG's FDCT."""
  u = np.arange(BLOCK_SIZE)[:, None]
  x = np.arange(BLOCK_SIZE)[None, :]
  scale = np.where(u == 0, 1.0 / np.sqrt(2.0), 1.0) / 2.0
  return (scale * np.cos((2 * x + 1) * u * np.pi / (2 * BLOCK_SIZE))).astype(np.float32)


_DCT = _dct_matrix()  # Orthonormal: D Dᵀ = I.
_LEVEL_SHIFT = 128.0  # JPEG's level shift for 8-bit samples (0..255 -> -128..127).


def _check_blockable(shape: tuple[int, ...], fn_name: str) -> None:
  if len(shape) < 2:
    raise errors.ImageInputError(f"{fn_name}: expected an array [..., H, W], got shape {shape}.")
  height, width = shape[-2:]
  if height == 0 or width == 0 or height % BLOCK_SIZE or width % BLOCK_SIZE:
    raise errors.ImageInputError(
        f"{fn_name}: H and W must be positive multiples of {BLOCK_SIZE}, got H={height}, "
        f"W={width} (shape {shape}); crop or pad the image first."
    )


def dct_8x8(x: jax.Array, level_shift: bool = False) -> jax.Array:
  """JPEG's forward DCT of every non-overlapping 8×8 block.

  F(u, v) = 1/4 C(u) C(v) Σ_x Σ_y f(x, y) cos((2x+1)uπ/16) cos((2y+1)vπ/16), C(0) = 1/√2,
  with x, u along rows (vertical) and y, v along columns (horizontal), so each output block is
  laid out like a JPEG quantization table in natural (not zig-zag) order: [0, 0] is DC.

  Args:
    x: samples [..., H, W], H and W multiples of 8 (checked at trace time; shapes are static).
    level_shift: subtract 128 first, as JPEG does for samples on the 0..255 scale.

  Returns:
    Coefficients [..., H/8, W/8, 8, 8] (float32 or wider, following `x`).
  """
  x = jnp.asarray(x)
  _check_blockable(x.shape, "dct_8x8")
  if not jnp.issubdtype(x.dtype, jnp.floating):
    x = x.astype(jnp.float32)
  if level_shift:
    x = x - _LEVEL_SHIFT
  *batch, height, width = x.shape
  blocks = x.reshape(*batch, height // BLOCK_SIZE, BLOCK_SIZE, width // BLOCK_SIZE, BLOCK_SIZE)
  dct = jnp.asarray(_DCT, dtype=x.dtype)
  # HIGHEST keeps float32 accuracy on accelerators that would otherwise use TF32/bf16 passes.
  return jnp.einsum(
      "...ixjy,ux,vy->...ijuv", blocks, dct, dct, precision=jax.lax.Precision.HIGHEST
  )


def idct_8x8(coefficients: jax.Array, level_shift: bool = False) -> jax.Array:
  """Inverse of `dct_8x8`: coefficients [..., H/8, W/8, 8, 8] -> samples [..., H, W].

  Args:
    coefficients: per-block DCT coefficients as returned by `dct_8x8`.
    level_shift: add 128 back (use the same value as in `dct_8x8`).
  """
  coefficients = jnp.asarray(coefficients)
  shape = coefficients.shape
  if len(shape) < 4 or shape[-2:] != (BLOCK_SIZE, BLOCK_SIZE):
    raise errors.ImageInputError(
        f"idct_8x8: expected coefficients [..., H/8, W/8, 8, 8], got shape {shape}."
    )
  if not jnp.issubdtype(coefficients.dtype, jnp.floating):
    coefficients = coefficients.astype(jnp.float32)
  dct = jnp.asarray(_DCT, dtype=coefficients.dtype)
  blocks = jnp.einsum(
      "...ijuv,ux,vy->...ixjy", coefficients, dct, dct, precision=jax.lax.Precision.HIGHEST
  )
  *batch, rows, _, cols, _ = blocks.shape
  samples = blocks.reshape(*batch, rows * BLOCK_SIZE, cols * BLOCK_SIZE)
  return samples + _LEVEL_SHIFT if level_shift else samples


def dct_loss(
    a: jax.Array,
    b: jax.Array,
    tau: float = 0.5,
    scale: float = 255.0,
    channels_last: bool = True,
) -> jax.Array:
  """The paper's blockwise DCT loss (§4.4): E_b[max(|DCT(a_b) - DCT(b_b)| - τ, 0)].

  The mean runs over every 8×8 block, every one of its 64 coefficients, every channel and every
  batch element. The paper leaves the units of τ open; here the images are given in [0, 1] and
  multiplied by `scale` (255) before the transform, so coefficients, and therefore τ, are in
  JPEG coefficient units: the units in which JPEG quantization tables are expressed (a step
  q quantizes a coefficient to within ±q/2, and q ≥ 1). τ = 0.5 thus ignores differences
  smaller than half the finest possible quantization step. The level shift cancels in the
  difference and is not applied. Pass `scale=1.0` for images already on the 0..255 scale.

  Args:
    a: images [..., H, W, C] if `channels_last` (Flax's NHWC convention; C is moved before
      H, W), else [..., H, W]. H and W must be multiples of 8.
    b: images of the same shape.
    tau: the margin τ, in coefficient units.
    scale: factor taking the images to the 0..255 scale.
    channels_last: whether the last axis holds channels.

  Returns:
    A scalar; differentiable in `a` and `b` and jit-able.
  """
  a = jnp.asarray(a)
  b = jnp.asarray(b)
  if a.shape != b.shape:
    raise errors.ImageInputError(f"dct_loss: a and b differ in shape: {a.shape} vs {b.shape}.")
  if channels_last:
    if a.ndim < 3:
      raise errors.ImageInputError(
          f"dct_loss: channels_last=True expects [..., H, W, C], got shape {a.shape}; "
          "pass channels_last=False for [..., H, W]."
      )
    a = jnp.moveaxis(a, -1, -3)
    b = jnp.moveaxis(b, -1, -3)
  difference = dct_8x8(a * scale) - dct_8x8(b * scale)  # Linear: one transform would do too.
  return jnp.mean(jax.nn.relu(jnp.abs(difference) - tau))


# --- Boxes (word detection, ICDAR-style matching). ---------------------------------------------


def box_area(boxes: np.ndarray) -> np.ndarray:
  """Areas [N] of axis-aligned boxes [N, 4] (x0, y0, x1, y1); inverted boxes count 0."""
  boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
  return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def box_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Pairwise intersection areas [N, M] of boxes [N, 4] and [M, 4]."""
  a = np.asarray(a, np.float32).reshape(-1, 4)
  b = np.asarray(b, np.float32).reshape(-1, 4)
  width = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
  height = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
  return np.clip(width, 0, None) * np.clip(height, 0, None)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Pairwise IoU [N, M] of axis-aligned boxes (x0, y0, x1, y1)."""
  inter = box_intersection(a, b)
  union = box_area(a)[:, None] + box_area(b)[None, :] - inter
  return inter / np.maximum(union, 1e-9)
