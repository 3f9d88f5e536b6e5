"""The DnCNN training objective (paper §4.4): λ·MSE(x, x̂) + (1 − λ)·L_DCT(·, x̂).

Scales. Images are float in [0, 1] inside the model (docs/design.md). The MSE term is computed
on `mse_scale` × the images: 1.0 (default) gives the MSE of [0, 1] images. The DCT term is
`tfic_jax.metrics.dct_loss` with τ = 0.5 and scale = 255: the images are taken to the 0..255
scale before JPEG's 8×8 DCT, so coefficients and τ are in 8-bit JPEG coefficient units (a
quantization step q ≥ 1 bins a coefficient to within ±q/2). On these scales the DCT term is
several hundred times larger than the MSE term (docs/dequant.md gives measured values), so it
drives training; the paper does not state its scales.

The DCT target. The paper writes L_DCT(x, x̂) but describes it as keeping x̂ consistent with the
spectrum of the *quantized input*: `dct_target="degraded"` compares x̂ with the degraded input,
`dct_target="clean"` with the clean image (the same x as the MSE). docs/dequant.md reports
which trains better.
"""

import jax.numpy as jnp

from tfic_jax import errors
from tfic_jax import metrics

DCT_TARGETS = ("degraded", "clean")
MSE_WEIGHT = 0.8  # λ (§4.4: "best reconstruction quality ... λ = 0.8").
TAU = 0.5  # τ, in JPEG coefficient units of 0..255 images.
DCT_SCALE = 255.0  # [0, 1] images → 0..255 before the DCT.


def check_dct_target(dct_target: str) -> str:
  if dct_target not in DCT_TARGETS:
    raise errors.TficError(
        f"loss.dct_target must be one of {DCT_TARGETS}, got {dct_target!r}.")
  return dct_target


def dequant_loss(restored, clean, degraded, mse_weight: float = MSE_WEIGHT, tau: float = TAU,
                 dct_target: str = "degraded", mse_scale: float = 1.0):
  """λ·MSE(clean, x̂) + (1 − λ)·L_DCT(target, x̂), jit-able.

  Args:
    restored: x̂, float [B, H, W, C] (the model's output, unclipped), H and W multiples of 8.
    clean: the clean images x, float [B, H, W, C] in [0, 1].
    degraded: the degraded inputs, float [B, H, W, C] in [0, 1].
    mse_weight: λ.
    tau: τ of the DCT term, in JPEG coefficient units (0..255 images).
    dct_target: "degraded" (the quantized input) or "clean".
    mse_scale: the images are multiplied by this before the MSE (1.0: [0, 1] images).

  Returns:
    (total, {"mse": MSE term, "dct": L_DCT term}), float32 scalars (unweighted terms).
  """
  check_dct_target(dct_target)
  restored = jnp.asarray(restored, jnp.float32)
  clean = jnp.asarray(clean, jnp.float32)
  target = clean if dct_target == "clean" else jnp.asarray(degraded, jnp.float32)
  mse = jnp.mean(jnp.square(mse_scale * (restored - clean)))
  dct = metrics.dct_loss(target, restored, tau=tau, scale=DCT_SCALE)
  total = mse_weight * mse + (1.0 - mse_weight) * dct
  return total, {"mse": mse, "dct": dct}
