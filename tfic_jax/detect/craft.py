"""CRAFT (Baek et al. 2019, the paper's word detector [15]) in Flax Linen.

Our own code after reading clovaai/CRAFT-pytorch (`craft.py`, `basenet/vgg16_bn.py`; MIT, see
third_party/craft_pytorch.md). Layout NHWC; input grayscale (our pages are black on white)
normalised to about [-2, 2]; output [B, H/2, W/2, 2]: channel 0 the region score, channel 1
the affinity score (raw, no sigmoid, trained with MSE against Gaussian heatmaps as the
reference does).

Backbone: VGG16-BN up to conv5_2 (the reference's `slice1`..`slice4`: conv5_3 is not used),
then the fc6/fc7 head: 3×3 max-pool with stride 1, a 3×3 convolution with dilation 6 and a 1×1
convolution, with no activation in between. Decoder: four "upconv" double convolutions (1×1 to
`2 * out`, BN, ReLU, 3×3 to `out`, BN, ReLU), each after a bilinear upsampling to the skip
feature's size and a concatenation with it, then the classifier head (three 3×3 + one 1×1
convolutions with ReLU, and a 1×1 to the two maps). All widths are fields so that a CPU-sized
variant is the same network, narrower.

Input sizes must be multiples of 16 (four 2× poolings); `api.detect` pads images to that.
"""

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from tfic_jax import layers

# The reference's widths (VGG16-BN, fc6/fc7 1024, upconv outputs, classifier).
REFERENCE_WIDTHS = dict(
    vgg_widths=(64, 128, 256, 512, 512),
    fc_width=1024,
    decoder_widths=(256, 128, 64, 32),
    head_widths=(32, 32, 16, 16),
)
_INPUT_MEAN, _INPUT_STD = 0.5, 0.25  # Grayscale in [0, 1] → roughly [-2, 2].

_conv_init = nn.initializers.xavier_uniform()  # The reference's `init_weights`.


class ConvBNReLU(nn.Module):
  """Conv (bias) + BatchNorm (+ ReLU); PyTorch's BN momentum 0.1 is Flax's 0.9."""
  features: int
  kernel_size: int = 3
  relu: bool = True
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool):
    x = layers.Conv(self.features, (self.kernel_size,) * 2, padding="SAME", dtype=self.dtype,
                    kernel_init=_conv_init)(x)
    x = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                     dtype=self.dtype)(x)
    return nn.relu(x) if self.relu else x


def _max_pool_2x2(x):
  return layers.max_pool(x, (2, 2), strides=(2, 2))


class VGG16BN(nn.Module):
  """VGG16-BN to conv5_2 + dilated fc6/fc7; returns the five features the decoder uses.

  Like the reference's slices, each returned stage feature is taken after the BatchNorm of its
  last convolution and *before* its ReLU (the ReLU opens the next slice).
  """
  widths: Sequence[int] = REFERENCE_WIDTHS["vgg_widths"]
  fc_width: int = REFERENCE_WIDTHS["fc_width"]
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool):
    w1, w2, w3, w4, w5 = self.widths
    block = lambda f, relu=True: ConvBNReLU(f, relu=relu, dtype=self.dtype)
    # slice1: conv1_1, conv1_2, pool, conv2_1, conv2_2 (BN, no ReLU).        [H/2]
    x = block(w1)(x, train)
    x = block(w1)(x, train)
    x = _max_pool_2x2(x)
    x = block(w2)(x, train)
    relu2_2 = block(w2, relu=False)(x, train)
    # slice2: ReLU, pool, conv3_1, conv3_2 (BN, no ReLU).                     [H/4]
    x = _max_pool_2x2(nn.relu(relu2_2))
    x = block(w3)(x, train)
    relu3_2 = block(w3, relu=False)(x, train)
    # slice3: ReLU, conv3_3, pool, conv4_1, conv4_2 (BN, no ReLU).            [H/8]
    x = block(w3)(nn.relu(relu3_2), train)
    x = _max_pool_2x2(x)
    x = block(w4)(x, train)
    relu4_3 = block(w4, relu=False)(x, train)
    # slice4: ReLU, conv4_3, pool, conv5_1, conv5_2 (BN, no ReLU).            [H/16]
    x = block(w4)(nn.relu(relu4_3), train)
    x = _max_pool_2x2(x)
    x = block(w5)(x, train)
    relu5_3 = block(w5, relu=False)(x, train)
    # slice5 (fc6, fc7): max-pool 3×3 stride 1, conv 3×3 dilation 6, conv 1×1.  [H/16]
    x = layers.max_pool(relu5_3, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)))
    x = layers.Conv(self.fc_width, (3, 3), padding=((6, 6), (6, 6)), kernel_dilation=(6, 6),
                    dtype=self.dtype, kernel_init=_conv_init)(x)
    fc7 = layers.Conv(self.fc_width, (1, 1), dtype=self.dtype, kernel_init=_conv_init)(x)
    return fc7, relu5_3, relu4_3, relu3_2, relu2_2


class UpConv(nn.Module):
  """The reference's `double_conv(in, mid, out)`: 1×1 to mid = 2·out, then 3×3 to out."""
  features: int
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool):
    x = ConvBNReLU(2 * self.features, kernel_size=1, dtype=self.dtype)(x, train)
    return ConvBNReLU(self.features, kernel_size=3, dtype=self.dtype)(x, train)


def _upsample_to(x, like):
  """Bilinear resize of x [B, h, w, C] to like's spatial size (half-pixel centres, as
  PyTorch's `interpolate(..., align_corners=False)`)."""
  shape = (x.shape[0], like.shape[1], like.shape[2], x.shape[3])
  return jax.image.resize(x, shape, "bilinear").astype(x.dtype)


class CRAFT(nn.Module):
  """images [B, H, W, 1] float in [0, 1] (H, W multiples of 16) → maps [B, H/2, W/2, 2]
  (float32): region score, affinity score."""
  vgg_widths: Sequence[int] = REFERENCE_WIDTHS["vgg_widths"]
  fc_width: int = REFERENCE_WIDTHS["fc_width"]
  decoder_widths: Sequence[int] = REFERENCE_WIDTHS["decoder_widths"]
  head_widths: Sequence[int] = REFERENCE_WIDTHS["head_widths"]
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, images, train: bool = False):
    x = ((images.astype(jnp.float32) - _INPUT_MEAN) / _INPUT_STD).astype(self.dtype)
    fc7, relu5_3, relu4_3, relu3_2, relu2_2 = VGG16BN(
        tuple(self.vgg_widths), self.fc_width, dtype=self.dtype)(x, train)
    up1, up2, up3, up4 = self.decoder_widths
    y = UpConv(up1, dtype=self.dtype)(jnp.concatenate([fc7, relu5_3], -1), train)  # [H/16]
    y = jnp.concatenate([_upsample_to(y, relu4_3), relu4_3], -1)
    y = UpConv(up2, dtype=self.dtype)(y, train)                                      # [H/8]
    y = jnp.concatenate([_upsample_to(y, relu3_2), relu3_2], -1)
    y = UpConv(up3, dtype=self.dtype)(y, train)                                      # [H/4]
    y = jnp.concatenate([_upsample_to(y, relu2_2), relu2_2], -1)
    y = UpConv(up4, dtype=self.dtype)(y, train)                                      # [H/2]
    h1, h2, h3, h4 = self.head_widths
    conv = lambda f, k: layers.Conv(f, (k, k), padding="SAME", dtype=self.dtype,
                                    kernel_init=_conv_init)
    y = nn.relu(conv(h1, 3)(y))
    y = nn.relu(conv(h2, 3)(y))
    y = nn.relu(conv(h3, 3)(y))
    y = nn.relu(conv(h4, 1)(y))
    return conv(2, 1)(y).astype(jnp.float32)  # [B, H/2, W/2, 2]
