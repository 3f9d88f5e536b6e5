"""DnCNN: the residual dequantizer of Part B (paper §4.3, Fig. 7).

x → conv 3×3 (F) + ReLU → (D − 2) × [conv 3×3 (F) + BatchNorm + ReLU] → conv 3×3 (C) = r̂,
and the restored image is x̂ = x − r̂. The paper's network has D = 17, F = 64 on 64×256 patches;
every layer is a "same"-padded 3×3 convolution, so the module takes any H × W (whole pages too).

`unshuffle` = s > 1 (an option, not the paper's network) runs the same layers on the s × s
space-to-depth rearrangement of x (FFDNet's sub-images, Zhang et al. 2018) and turns the
s²·C output channels back into a full-resolution residual: the receptive field grows from
2D + 1 to s·(2D + 1) pixels at 1/s² of the convolution cost per layer. H and W must then be
multiples of s (the API pads images to multiples of 8; s ∈ {1, 2, 4, 8}).
"""

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from tfic_jax import layers


class DnCNN(nn.Module):
  """Predicts the quantization residual r̂ of x and returns x̂ = x − r̂ (§4.3).

  Attributes:
    depth: D, the number of convolutions (first + D − 2 BN blocks + last); D ≥ 2.
    features: F, channels of the hidden convolutions.
    channels: C, image channels (1: Part B is grayscale).
    bn_momentum: BatchNorm running-average momentum.
    unshuffle: s, the space-to-depth factor of the input (1: the paper's full-resolution net).
    dtype: compute dtype (activations); parameters stay float32.
  """
  depth: int = 17
  features: int = 64
  channels: int = 1
  bn_momentum: float = 0.9
  unshuffle: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = False):
    """x: float [B, H, W, C] in [0, 1] → x̂ [B, H, W, C] float32 (not clipped)."""
    x = jnp.asarray(x, jnp.float32)
    scale = self.unshuffle
    if x.shape[1] % scale or x.shape[2] % scale:
      raise ValueError(f"DnCNN with unshuffle={scale} needs H and W multiples of {scale}, "
                       f"got {x.shape[1]}×{x.shape[2]}")
    h = layers.Conv(self.features, (3, 3), dtype=self.dtype, name="conv_in")(
        space_to_depth(x, scale))
    h = nn.relu(h)
    for index in range(self.depth - 2):
      # The bias of a convolution followed by BatchNorm is redundant (BN's shift replaces it).
      h = layers.Conv(self.features, (3, 3), use_bias=False, dtype=self.dtype,
                      name=f"conv_{index + 1}")(h)
      h = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                       dtype=self.dtype, name=f"bn_{index + 1}")(h)
      h = nn.relu(h)
    residual = layers.Conv(self.channels * scale * scale, (3, 3), dtype=self.dtype,
                           name="conv_out")(h)
    return x - depth_to_space(residual.astype(jnp.float32), scale)  # x̂ = x − r̂


def space_to_depth(x: jnp.ndarray, scale: int) -> jnp.ndarray:
  """[B, H, W, C] → [B, H/s, W/s, s·s·C]: each s × s block of pixels becomes channels."""
  if scale == 1:
    return x
  b, h, w, c = x.shape
  x = x.reshape(b, h // scale, scale, w // scale, scale, c).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(b, h // scale, w // scale, scale * scale * c)


def depth_to_space(x: jnp.ndarray, scale: int) -> jnp.ndarray:
  """The inverse of `space_to_depth`: [B, h, w, s·s·C] → [B, h·s, w·s, C]."""
  if scale == 1:
    return x
  b, h, w, c = x.shape
  x = x.reshape(b, h, w, scale, scale, c // (scale * scale)).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(b, h * scale, w * scale, c // (scale * scale))
