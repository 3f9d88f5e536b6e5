"""DnCNN: the residual dequantizer of Part B (paper §4.3, Fig. 7).

x → conv 3×3 (F) + ReLU → (D − 2) × [conv 3×3 (F) + BatchNorm + ReLU] → conv 3×3 (C) = r̂,
and the restored image is x̂ = x − r̂. The paper's network has D = 17, F = 64 on 64×256 patches;
every layer is a "same"-padded 3×3 convolution, so the module takes any H × W (whole pages too).
"""

from typing import Any

import flax.linen as nn
import jax.numpy as jnp


class DnCNN(nn.Module):
  """Predicts the quantization residual r̂ of x and returns x̂ = x − r̂ (§4.3).

  Attributes:
    depth: D, the number of convolutions (first + D − 2 BN blocks + last); D ≥ 2.
    features: F, channels of the hidden convolutions.
    channels: C, image channels (1: Part B is grayscale).
    bn_momentum: BatchNorm running-average momentum.
    dtype: compute dtype (activations); parameters stay float32.
  """
  depth: int = 17
  features: int = 64
  channels: int = 1
  bn_momentum: float = 0.9
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = False):
    """x: float [B, H, W, C] in [0, 1] → x̂ [B, H, W, C] float32 (not clipped)."""
    x = jnp.asarray(x, jnp.float32)
    h = nn.Conv(self.features, (3, 3), dtype=self.dtype, name="conv_in")(x)
    h = nn.relu(h)
    for index in range(self.depth - 2):
      # The bias of a convolution followed by BatchNorm is redundant (BN's shift replaces it).
      h = nn.Conv(self.features, (3, 3), use_bias=False, dtype=self.dtype,
                  name=f"conv_{index + 1}")(h)
      h = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                       dtype=self.dtype, name=f"bn_{index + 1}")(h)
      h = nn.relu(h)
    residual = nn.Conv(self.channels, (3, 3), dtype=self.dtype, name="conv_out")(h)
    return x - residual.astype(jnp.float32)  # x̂ = x − r̂
