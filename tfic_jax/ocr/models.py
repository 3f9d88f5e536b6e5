"""Scene-text recognizers of Baek et al. 2019 ("What is wrong with scene text recognition model
comparisons?", clovaai/deep-text-recognition-benchmark), ported to Flax Linen.

Two reference configurations (paper §2.2 describes the four stages):
  * TRBA: TPS rectification → ResNet features → 2×BiLSTM → attention decoder (≈ 49.6M params).
  * CRNN: VGG features → 2×BiLSTM → CTC (≈ 8.5M params).
Widths and depths are fields, so CPU-sized variants share the code. Inputs are NHWC grayscale in
[-1, 1] (see `tfic_jax.ocr.adapter`); parameters are float32, `dtype` is the compute dtype.
See third_party/deep_text_recognition_benchmark.md for the licence of the reference.
"""

from typing import Any, Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from tfic_jax import layers
from tfic_jax.ocr import sampling

# PyTorch BatchNorm2d defaults (momentum 0.1 there is 0.9 here).
_BN_MOMENTUM = 0.9
_BN_EPSILON = 1e-5


def _batch_norm(train: bool, dtype: Any, name: Optional[str] = None) -> nn.BatchNorm:
  return nn.BatchNorm(use_running_average=not train, momentum=_BN_MOMENTUM,
                      epsilon=_BN_EPSILON, dtype=dtype, name=name)


class TPS(nn.Module):
  """TPS spatial transformer (RARE): localization net → fiducial points → grid → sampling."""
  output_size: Sequence[int] = (32, 100)
  num_fiducial: int = 20
  channels: Sequence[int] = (64, 128, 256, 512)
  fc_features: int = 256
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, images: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    # images: [B, H, W, 1] float32.
    x = images.astype(self.dtype)
    for i, features in enumerate(self.channels):
      x = layers.Conv(features, (3, 3), padding=1, use_bias=False, dtype=self.dtype,
                      name=f"conv{i}")(x)
      x = nn.relu(_batch_norm(train, self.dtype, name=f"bn{i}")(x))
      if i < len(self.channels) - 1:
        x = layers.max_pool(x, (2, 2), strides=(2, 2))
    x = jnp.mean(x, axis=(1, 2))  # [B, C_last]
    x = nn.relu(nn.Dense(self.fc_features, dtype=self.dtype, name="fc1")(x))
    initial = sampling.initial_fiducial_points(self.num_fiducial).reshape(-1)
    c_prime = nn.Dense(
        2 * self.num_fiducial, dtype=jnp.float32, name="fc2",
        kernel_init=nn.initializers.zeros,
        bias_init=lambda *_: jnp.asarray(initial, jnp.float32))(x.astype(jnp.float32))
    c_prime = c_prime.reshape(-1, self.num_fiducial, 2)  # [B, F, 2]
    inv_delta_c, p_hat = sampling.tps_matrices(self.num_fiducial, self.output_size)
    grid = sampling.tps_grid(c_prime, inv_delta_c, p_hat, self.output_size)
    return sampling.grid_sample(images.astype(jnp.float32), grid)  # [B, Ho, Wo, 1]


class BasicBlock(nn.Module):
  """ResNet basic block (two 3×3 convs), 1×1 projection when the width changes."""
  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    residual = x
    y = layers.Conv(self.features, (3, 3), padding=1, use_bias=False, dtype=self.dtype,
                    name="conv1")(x)
    y = nn.relu(_batch_norm(train, self.dtype, name="bn1")(y))
    y = layers.Conv(self.features, (3, 3), padding=1, use_bias=False, dtype=self.dtype,
                    name="conv2")(y)
    y = _batch_norm(train, self.dtype, name="bn2")(y)
    if x.shape[-1] != self.features:
      residual = layers.Conv(self.features, (1, 1), use_bias=False, dtype=self.dtype,
                             name="downsample_conv")(x)
      residual = _batch_norm(train, self.dtype, name="downsample_bn")(residual)
    return nn.relu(y + residual)


class ResNetFeatureExtractor(nn.Module):
  """The reference's ResNet_FeatureExtractor (from FAN): [B, 32, W, 1] → [B, 1, W/4 + 1, C]."""
  output_channel: int = 512
  layers: Sequence[int] = (1, 2, 5, 3)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    oc = self.output_channel
    block_widths = (oc // 4, oc // 2, oc, oc)

    def conv_bn_relu(x, features, kernel, name, strides=1, padding=1):
      x = layers.Conv(features, kernel, strides=strides, padding=padding, use_bias=False,
                      dtype=self.dtype, name=f"conv{name}")(x)
      return nn.relu(_batch_norm(train, self.dtype, name=f"bn{name}")(x))

    def stage(x, index):
      for j in range(self.layers[index]):
        x = BasicBlock(block_widths[index], dtype=self.dtype,
                       name=f"layer{index + 1}_{j}")(x, train)
      return x

    x = x.astype(self.dtype)
    x = conv_bn_relu(x, oc // 16, (3, 3), "0_1")
    x = conv_bn_relu(x, oc // 8, (3, 3), "0_2")
    x = layers.max_pool(x, (2, 2), strides=(2, 2))  # [B, H/2, W/2, .]
    x = conv_bn_relu(stage(x, 0), block_widths[0], (3, 3), "1")
    x = layers.max_pool(x, (2, 2), strides=(2, 2))  # [B, H/4, W/4, .]
    x = conv_bn_relu(stage(x, 1), block_widths[1], (3, 3), "2")
    x = layers.max_pool(x, (2, 2), strides=(2, 1), padding=((0, 0), (1, 1)))  # [B, H/8, W/4+1, .]
    x = conv_bn_relu(stage(x, 2), block_widths[2], (3, 3), "3")
    x = stage(x, 3)
    x = conv_bn_relu(x, block_widths[3], (2, 2), "4_1", strides=(2, 1),
                     padding=((0, 0), (1, 1)))  # [B, H/16, W/4+2, .]
    x = conv_bn_relu(x, block_widths[3], (2, 2), "4_2", padding=0)  # [B, H/16-1, W/4+1, C]
    return x


class VGGFeatureExtractor(nn.Module):
  """The reference's VGG_FeatureExtractor (CRNN): [B, 32, W, 1] → [B, 1, W/4 - 1, C]."""
  output_channel: int = 512
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    oc = self.output_channel
    widths = (oc // 8, oc // 4, oc // 2, oc)
    x = x.astype(self.dtype)

    def conv(x, features, name, use_bias=True, kernel=(3, 3), padding=1):
      return layers.Conv(features, kernel, padding=padding, use_bias=use_bias, dtype=self.dtype,
                         name=name)(x)

    x = nn.relu(conv(x, widths[0], "conv0"))
    x = layers.max_pool(x, (2, 2), strides=(2, 2))  # [B, H/2, W/2, .]
    x = nn.relu(conv(x, widths[1], "conv1"))
    x = layers.max_pool(x, (2, 2), strides=(2, 2))  # [B, H/4, W/4, .]
    x = nn.relu(conv(x, widths[2], "conv2"))
    x = nn.relu(conv(x, widths[2], "conv3"))
    x = layers.max_pool(x, (2, 1), strides=(2, 1))  # [B, H/8, W/4, .]
    x = conv(x, widths[3], "conv4", use_bias=False)
    x = nn.relu(_batch_norm(train, self.dtype, name="bn4")(x))
    x = conv(x, widths[3], "conv5", use_bias=False)
    x = nn.relu(_batch_norm(train, self.dtype, name="bn5")(x))
    x = layers.max_pool(x, (2, 1), strides=(2, 1))  # [B, H/16, W/4, .]
    x = nn.relu(conv(x, widths[3], "conv6", kernel=(2, 2), padding=0))  # [B, H/16-1, W/4-1, C]
    return x


class BidirectionalLSTM(nn.Module):
  """BiLSTM followed by a linear projection of the concatenated directions."""
  hidden_size: int
  output_size: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    # x: [B, T, D] → [B, T, output_size]
    def lstm(name):
      return nn.RNN(nn.OptimizedLSTMCell(self.hidden_size, dtype=self.dtype), name=name)
    y = nn.Bidirectional(lstm("forward"), lstm("backward"), name="bilstm")(x)
    return nn.Dense(self.output_size, dtype=self.dtype, name="linear")(y)


class AttentionCell(nn.Module):
  """One step of the Bahdanau attention decoder (the reference's AttentionCell)."""
  hidden_size: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, carry, char_onehot, encoded, encoded_proj):
    # carry: LSTM (c, h) [B, hidden]; char_onehot: [B, num_classes]; encoded: [B, T, D];
    # encoded_proj: i2h(encoded) [B, T, hidden], computed once outside the loop.
    hidden = carry[1]
    hidden_proj = nn.Dense(self.hidden_size, dtype=self.dtype, name="h2h")(hidden)[:, None]
    scores = nn.Dense(1, use_bias=False, dtype=self.dtype, name="score")(
        jnp.tanh(encoded_proj + hidden_proj))  # [B, T, 1]
    alpha = jax.nn.softmax(scores.astype(jnp.float32), axis=1)
    context = jnp.sum(alpha * encoded.astype(jnp.float32), axis=1)  # [B, D]
    inputs = jnp.concatenate([context, char_onehot.astype(jnp.float32)], axis=-1)
    carry, hidden = nn.OptimizedLSTMCell(self.hidden_size, dtype=self.dtype, name="rnn")(
        carry, inputs.astype(self.dtype))
    return carry, hidden


class AttentionDecoder(nn.Module):
  """Attention decoder: teacher forcing when `decoder_inputs` are given, else greedy.

  Class ids follow the reference: 0 = [GO], 1 = [s] (end of sequence), 2.. = characters. Both
  modes run `max_length + 1` steps (+1 for [s]).
  """
  hidden_size: int
  num_classes: int
  max_length: int = 25
  dtype: Any = jnp.float32

  def setup(self):
    self.i2h = nn.Dense(self.hidden_size, use_bias=False, dtype=self.dtype)
    self.cell = AttentionCell(self.hidden_size, dtype=self.dtype)
    self.generator = nn.Dense(self.num_classes, dtype=self.dtype)

  def __call__(self, encoded: jnp.ndarray,
               decoder_inputs: Optional[jnp.ndarray] = None) -> jnp.ndarray:
    # encoded: [B, T, D]; decoder_inputs: [B, max_length + 1] class ids starting with [GO].
    # Returns logits [B, max_length + 1, num_classes] (float32).
    batch = encoded.shape[0]
    num_steps = self.max_length + 1
    encoded_proj = self.i2h(encoded)  # [B, T, hidden]
    carry = (jnp.zeros((batch, self.hidden_size), self.dtype),
             jnp.zeros((batch, self.hidden_size), self.dtype))

    if decoder_inputs is not None:
      onehots = jax.nn.one_hot(decoder_inputs[:, :num_steps], self.num_classes,
                               dtype=self.dtype)  # [B, S, C]

      def teacher_step(module, carry, onehot):
        return module.cell(carry, onehot, encoded, encoded_proj)

      scan = nn.scan(teacher_step, variable_broadcast="params", split_rngs={"params": False},
                     in_axes=1, out_axes=1)
      _, hiddens = scan(self, carry, onehots)  # [B, S, hidden]
      return self.generator(hiddens).astype(jnp.float32)

    def greedy_step(module, state, _):
      carry, previous = state
      onehot = jax.nn.one_hot(previous, module.num_classes, dtype=module.dtype)
      carry, hidden = module.cell(carry, onehot, encoded, encoded_proj)
      logits = module.generator(hidden).astype(jnp.float32)  # [B, C]
      return (carry, jnp.argmax(logits, axis=-1).astype(jnp.int32)), logits

    scan = nn.scan(greedy_step, variable_broadcast="params", split_rngs={"params": False},
                   length=num_steps, out_axes=1)
    go = jnp.zeros((batch,), jnp.int32)
    _, logits = scan(self, (carry, go), None)
    return logits  # [B, S, C]


class Recognizer(nn.Module):
  """Transformation → feature extraction → sequence modelling → prediction (paper §2.2).

  TRBA: transformation="tps", feature_extractor="resnet", prediction="attn".
  CRNN: transformation="none", feature_extractor="vgg", prediction="ctc".
  """
  num_classes: int
  prediction: str = "attn"  # "attn" | "ctc"
  transformation: str = "tps"  # "tps" | "none"
  feature_extractor: str = "resnet"  # "resnet" | "vgg"
  sequence_model: str = "bilstm"  # "bilstm" | "none"
  input_size: Sequence[int] = (32, 100)  # (H, W) of the rectified image (TPS grid)
  output_channel: int = 512
  hidden_size: int = 256
  resnet_layers: Sequence[int] = (1, 2, 5, 3)
  num_fiducial: int = 20
  tps_channels: Sequence[int] = (64, 128, 256, 512)
  tps_fc_features: int = 256
  max_length: int = 25
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, images: jnp.ndarray, decoder_inputs: Optional[jnp.ndarray] = None,
               train: bool = False) -> jnp.ndarray:
    """Logits: CTC [B, T, C] per feature column; attention [B, max_length + 1, C].

    Args:
      images: [B, H, W, 1] float in [-1, 1].
      decoder_inputs: attention only: teacher-forcing inputs [B, max_length + 1] ([GO] first);
        None for greedy decoding. Ignored by CTC.
      train: BatchNorm uses batch statistics (and updates `batch_stats`) when True.
    """
    x = images
    if self.transformation == "tps":
      x = TPS(output_size=tuple(self.input_size), num_fiducial=self.num_fiducial,
              channels=tuple(self.tps_channels), fc_features=self.tps_fc_features,
              dtype=self.dtype, name="transformation")(x, train)
    elif self.transformation != "none":
      raise ValueError(f"unknown transformation {self.transformation!r}")

    if self.feature_extractor == "resnet":
      features = ResNetFeatureExtractor(self.output_channel, tuple(self.resnet_layers),
                                        dtype=self.dtype, name="feature_extraction")(x, train)
    elif self.feature_extractor == "vgg":
      features = VGGFeatureExtractor(self.output_channel, dtype=self.dtype,
                                     name="feature_extraction")(x, train)
    else:
      raise ValueError(f"unknown feature_extractor {self.feature_extractor!r}")
    # AdaptiveAvgPool((None, 1)) over the height: [B, h, T, C] → [B, T, C].
    sequence = jnp.mean(features, axis=1)

    if self.sequence_model == "bilstm":
      sequence = BidirectionalLSTM(self.hidden_size, self.hidden_size, dtype=self.dtype,
                                   name="sequence_0")(sequence)
      sequence = BidirectionalLSTM(self.hidden_size, self.hidden_size, dtype=self.dtype,
                                   name="sequence_1")(sequence)
    elif self.sequence_model != "none":
      raise ValueError(f"unknown sequence_model {self.sequence_model!r}")

    if self.prediction == "ctc":
      return nn.Dense(self.num_classes, dtype=self.dtype, name="prediction")(
          sequence).astype(jnp.float32)
    if self.prediction == "attn":
      return AttentionDecoder(self.hidden_size, self.num_classes, self.max_length,
                              dtype=self.dtype, name="prediction")(sequence, decoder_inputs)
    raise ValueError(f"unknown prediction {self.prediction!r}")
