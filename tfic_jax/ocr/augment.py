"""Host-side (numpy / Pillow) augmentation for training the OCR judge.

The judge must read degraded images (codec reconstructions, JPEG at low rates), so training
sees noise, blur, JPEG at random qualities, contrast/brightness changes and small scale /
translation jitter. Deterministic in the `np.random.Generator` it is given (the pipeline
derives it from (seed, step, index)), so resumed runs see the same augmented batches.
"""

import io
from typing import Any, Mapping

import numpy as np
from PIL import Image, ImageFilter

DEFAULTS = dict(
    p_geometry=0.5,
    scale_range=(0.85, 1.0),  # ≤ 1: text spans up to 95 % of the width, never clip it
    max_translate=0.03,  # fraction of H / W
    p_contrast=0.5,
    contrast_range=(0.5, 1.3),
    brightness_range=(-0.15, 0.15),  # fraction of 255, added
    p_blur=0.3,
    blur_sigma_range=(0.3, 1.5),  # pixels at the canvas resolution
    p_noise=0.3,
    noise_std_range=(2.0, 12.0),  # in 0..255
    p_jpeg=0.4,
    jpeg_quality_range=(5, 60),
)


def _get(config: Mapping[str, Any] | None, name: str):
  if config is not None and name in config:
    return config[name]
  return DEFAULTS[name]


def _border_fill(image: np.ndarray) -> tuple:
  border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]], axis=0)  # [n, C]
  return tuple(int(v) for v in np.median(border, axis=0))


def augment_image(image: np.ndarray, rng: np.random.Generator,
                  config: Mapping[str, Any] | None = None) -> np.ndarray:
  """Augments one uint8 image [H, W, C] (C = 1 or 3); returns uint8 of the same shape.

  `config` overrides DEFAULTS (e.g. `config.augment` of an OCR config); a probability of 0
  disables an augmentation.
  """
  image = np.asarray(image)
  if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] not in (1, 3):
    raise ValueError(f"augment_image expects uint8 [H, W, 1|3], got {image.dtype} {image.shape}")
  height, width, channels = image.shape
  pil_mode = "L" if channels == 1 else "RGB"
  pil = Image.fromarray(image[..., 0] if channels == 1 else image, pil_mode)

  # Draw every random number in a fixed order, whether or not an augmentation applies, so the
  # stream does not depend on earlier outcomes.
  u = rng.uniform(size=5)
  scale = rng.uniform(*_get(config, "scale_range"))
  shift = rng.uniform(-1.0, 1.0, size=2) * _get(config, "max_translate")
  contrast = rng.uniform(*_get(config, "contrast_range"))
  brightness = rng.uniform(*_get(config, "brightness_range"))
  sigma = rng.uniform(*_get(config, "blur_sigma_range"))
  noise_std = rng.uniform(*_get(config, "noise_std_range"))
  quality_lo, quality_hi = _get(config, "jpeg_quality_range")
  quality = int(rng.integers(quality_lo, quality_hi + 1))
  noise_seed = int(rng.integers(2**31))

  if u[0] < _get(config, "p_geometry"):
    # Scale about the centre, then translate; inverse affine map output → input for PIL.
    fill = _border_fill(image)
    cx, cy = width / 2.0, height / 2.0
    tx, ty = shift[0] * width, shift[1] * height
    inv = 1.0 / scale
    coeffs = (inv, 0.0, cx - inv * (cx + tx), 0.0, inv, cy - inv * (cy + ty))
    pil = pil.transform((width, height), Image.AFFINE, coeffs, resample=Image.BILINEAR,
                        fillcolor=fill[0] if channels == 1 else fill)

  if u[1] < _get(config, "p_blur"):
    pil = pil.filter(ImageFilter.GaussianBlur(radius=sigma))

  out = np.asarray(pil, np.float32)
  if u[2] < _get(config, "p_contrast"):
    mean = out.mean()
    out = (out - mean) * contrast + mean + brightness * 255.0
  if u[3] < _get(config, "p_noise"):
    out = out + np.random.default_rng(noise_seed).normal(0.0, noise_std, out.shape)
  out = np.clip(np.round(out), 0, 255).astype(np.uint8)

  if u[4] < _get(config, "p_jpeg"):
    buffer = io.BytesIO()
    Image.fromarray(out, pil_mode).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
      out = np.asarray(decoded.convert(pil_mode), np.uint8)
  return out.reshape(height, width, channels)
