"""The input adapter every caller of the recognizers goes through.

Any image batch → grayscale float in the model's range [-1, 1] at the recognizer's input size,
with `jax.image.resize` (antialiased) so that gradients reach the pixels of the image being
recognized (e.g. a codec's reconstruction x̂ in TFIC, paper §3.1).

Accepted (checked on the host from shapes and dtypes only, so it also works under `jit`):
  * layout [B, H, W, C] or [H, W, C] (a batch of one), or [H, W] (one grayscale image);
  * C = 1 (grayscale) or 3 (RGB → gray with ITU-R 601 weights, as Pillow's "L");
  * dtype uint8 (0..255) or floating ([0, 1], values are not clipped so gradients stay intact).
Anything else (C = 2 or 4, 5-D arrays, integer types other than uint8, empty images) raises
`tfic_jax.errors.ImageInputError`. Every size is accepted and resized:
  * `resize_mode="stretch"` (default): to (h, w) regardless of aspect (the reference's resize);
  * `resize_mode="pad"`: to height h keeping the aspect ratio (squeezed if wider than w), then
    the right side is padded by repeating the last column (the reference's `NormalizePAD`).
"""

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from tfic_jax import errors

RESIZE_MODES = ("stretch", "pad")
_GRAY_WEIGHTS = (0.299, 0.587, 0.114)


def check_images(images: Any) -> tuple[int, ...]:
  """Validates shape and dtype; returns the [B, H, W, C] shape. Raises ImageInputError."""
  shape = tuple(getattr(images, "shape", ()))
  dtype = getattr(images, "dtype", None)
  if dtype is None:
    raise errors.ImageInputError(
        f"expected an image array, got {type(images).__name__}")
  if len(shape) == 2:
    shape = (1,) + shape + (1,)
  elif len(shape) == 3:
    shape = (1,) + shape
  if len(shape) != 4:
    raise errors.ImageInputError(
        f"expected images [B, H, W, C], [H, W, C] or [H, W], got shape {tuple(images.shape)}")
  if shape[-1] not in (1, 3):
    raise errors.ImageInputError(
        f"expected 1 (grayscale) or 3 (RGB) channels, got {shape[-1]} in shape "
        f"{tuple(images.shape)}" + (" (drop the alpha channel first)" if shape[-1] == 4 else ""))
  if min(shape) == 0:
    raise errors.ImageInputError(f"empty image array of shape {tuple(images.shape)}")
  if not (dtype == np.uint8 or jnp.issubdtype(dtype, jnp.floating)):
    raise errors.ImageInputError(
        f"expected uint8 (0..255) or float ([0, 1]) images, got dtype {dtype}")
  return shape


def to_gray(images: Any) -> jnp.ndarray:
  """Checked images → [B, H, W, 1] float32 gray in [0, 1] (no resizing)."""
  shape = check_images(images)
  x = jnp.asarray(images).reshape(shape).astype(jnp.float32)
  if images.dtype == np.uint8:
    x = x / 255.0
  if shape[-1] == 3:
    x = jnp.tensordot(x, jnp.asarray(_GRAY_WEIGHTS, jnp.float32), axes=([-1], [0]))[..., None]
  return x


def adapt(images: Any, input_size: Sequence[int] = (32, 100),
          resize_mode: str = "stretch") -> jnp.ndarray:
  """Images (see module docstring) → [B, h, w, 1] float32 in [-1, 1]."""
  if resize_mode not in RESIZE_MODES:
    raise ValueError(f"resize_mode must be one of {RESIZE_MODES}, got {resize_mode!r}")
  x = to_gray(images)
  batch, height, width, _ = x.shape
  out_h, out_w = (int(s) for s in input_size)

  if resize_mode == "stretch":
    resized_w = out_w
  else:
    resized_w = int(min(out_w, max(1, round(out_h * width / height))))
  if (height, width) != (out_h, resized_w):
    x = jax.image.resize(x, (batch, out_h, resized_w, 1), method="linear", antialias=True)
  if resized_w < out_w:
    x = jnp.pad(x, ((0, 0), (0, 0), (0, out_w - resized_w), (0, 0)), mode="edge")
  return x * 2.0 - 1.0
