"""TinyLIC-style hyperprior codec (Lu et al. 2022, the paper's ref [24]) in Flax Linen.

    x ─g_a─▶ y ─h_a─▶ z ─Q─▶ ẑ ─h_s─▶ hyper ─(slices)─▶ (μ, σ) of y;  ŷ = Q(y − μ) + μ ─g_s─▶ x̂

- g_a: conv 5×5 s2 (3→C0) + blocks, then three conv 3×3 s2 + blocks, to y = C3 = M channels at
  1/16 resolution. g_s mirrors it with transposed convs. Blocks are RNABs (residual
  neighbourhood-attention blocks: pre-LayerNorm NA with relative position bias + MLP ratio 2,
  GELU), or, per stage, residual conv blocks ("conv") for CPU-sized variants where NA at high
  resolution is too costly.
- h_a: two conv 3×3 s2 + RNAB (3×3 windows) to z at 1/64; h_s mirrors it to `2M` channels of
  hyper-parameters.
- Entropy parameters: with `num_slices = 1`, (μ, raw σ) = split(hyper) (mean-scale hyperprior);
  with S > 1 slices, channel-wise context (Minnen & Singh 2020): slice i's (μ, σ) come from a
  small conv net on [hyper, ŷ of slices < i]. σ = 0.11 + softplus(raw).

All sizes come from `config.model` (see `MODEL_DEFAULTS`). Shapes are static under jit; any
input whose sides are multiples of 64 works (`api.py` pads and crops).
"""

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from tfic_jax import layers
from tfic_jax.codec import attention
from tfic_jax.codec import entropy

# Reference widths (TinyLIC); CPU-sized configs override some.
MODEL_DEFAULTS = dict(
    channels=(128, 192, 256, 320),  # g_a stages; the last is M, the channels of y.
    depths=(2, 2, 6, 2),
    heads=(8, 12, 16, 20),
    blocks=("nat", "nat", "nat", "nat"),  # Per stage: "nat" (RNAB) or "conv" (residual conv).
    kernel_size=7,
    hyper_channels=(192, 192),  # h_a stages; the last is the channels of z.
    hyper_depths=(1, 1),
    hyper_heads=(12, 12),
    hyper_kernel_size=3,
    mlp_ratio=2.0,
    tile=4,
    num_slices=1,  # 1: mean-scale hyperprior; > 1: channel-wise context with that many slices.
    slice_hidden=(224, 128),
    # How g_s and h_s compute their stride-2 transposed convolutions (same parameters, same
    # function): "lax" (`nn.ConvTranspose`), "subpixel" (one stride-1 convolution to 4× the
    # channels, then depth-to-space) or "auto": "subpixel" on the CPU, where XLA's gradient of a
    # transposed convolution is 20–50× its forward, "lax" elsewhere. See `SubpixelConvTranspose`.
    conv_transpose="auto",
)
CONV_TRANSPOSE_IMPLS = ("auto", "lax", "subpixel")


def model_fields(model_config) -> dict:
  """`MODEL_DEFAULTS` updated by a config's `model` section (unknown fields refused)."""
  fields = dict(MODEL_DEFAULTS)
  given = dict(model_config or {})
  unknown = set(given) - set(fields)
  if unknown:
    raise ValueError(f"Unknown codec model fields {sorted(unknown)}; known: {sorted(fields)}.")
  fields.update(given)
  for name in ("channels", "depths", "heads", "blocks"):
    if len(fields[name]) != 4:
      raise ValueError(f"config.model.{name} needs 4 entries (one per g_a stage): {fields[name]}")
  if fields["conv_transpose"] not in CONV_TRANSPOSE_IMPLS:
    raise ValueError(f"config.model.conv_transpose must be one of {CONV_TRANSPOSE_IMPLS}, got "
                     f"{fields['conv_transpose']!r}")
  if fields["channels"][-1] % fields["num_slices"]:
    raise ValueError(f"M={fields['channels'][-1]} is not divisible by num_slices="
                     f"{fields['num_slices']}.")
  return {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}


class NeighborhoodAttentionLayer(nn.Module):
  dim: int
  num_heads: int
  kernel_size: int
  tile: int = 4
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    batch, height, width, _ = x.shape
    head_dim = self.dim // self.num_heads
    qkv = nn.Dense(3 * self.dim, dtype=self.dtype, name="qkv")(x)
    qkv = qkv.reshape(batch, height, width, 3, self.num_heads, head_dim)
    q, k, v = qkv[..., 0, :, :] * head_dim ** -0.5, qkv[..., 1, :, :], qkv[..., 2, :, :]
    rpb = self.param("rpb", nn.initializers.truncated_normal(0.02),
                     (self.num_heads, 2 * self.kernel_size - 1, 2 * self.kernel_size - 1))
    out = attention.neighborhood_attention(q, k, v, rpb, self.kernel_size, self.tile)
    out = out.reshape(batch, height, width, self.dim)
    return nn.Dense(self.dim, dtype=self.dtype, name="proj")(out)


class RNAB(nn.Module):
  """Residual neighbourhood-attention block: x + NA(LN(x)); x + MLP(LN(x))."""
  dim: int
  num_heads: int
  kernel_size: int
  mlp_ratio: float = 2.0
  tile: int = 4
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    y = nn.LayerNorm(dtype=self.dtype, name="norm1")(x)
    x = x + NeighborhoodAttentionLayer(self.dim, self.num_heads, self.kernel_size, self.tile,
                                       self.dtype, name="attn")(y)
    y = nn.LayerNorm(dtype=self.dtype, name="norm2")(x)
    y = nn.Dense(int(self.dim * self.mlp_ratio), dtype=self.dtype, name="fc1")(y)
    y = nn.Dense(self.dim, dtype=self.dtype, name="fc2")(nn.gelu(y))
    return x + y


class ResidualConvBlock(nn.Module):
  """x + conv3×3(GELU(conv3×3(x))): the cheap block for high-resolution CPU-sized stages."""
  dim: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    y = layers.Conv(self.dim, (3, 3), dtype=self.dtype, name="conv1")(x)
    return x + layers.Conv(self.dim, (3, 3), dtype=self.dtype, name="conv2")(nn.gelu(y))


class MatmulConvTranspose(nn.Module):
  """`nn.ConvTranspose(features, (3, 3), strides=(2, 2))` ('SAME') as slices and one matmul.

  The same parameters (`kernel` [3, 3, C_in, C_out], `bias`) and, to float rounding, the same
  output (tested to 1e-12 in float64). The codec's host path uses it for h_s in float64, where
  XLA's CPU transposed convolution is many times slower than a matmul: the input is dilated by
  2 (zeros between samples), padded as `lax.conv_transpose`'s 'SAME' (2 before, 1 after for
  k = 3, s = 2), and each output pixel gathers its 3×3 neighbourhood into one 9·C_in vector.
  """
  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    batch, height, width, channels = x.shape
    kernel = self.param("kernel", nn.initializers.lecun_normal(),
                        (3, 3, channels, self.features), jnp.float32)
    bias = self.param("bias", nn.initializers.zeros_init(), (self.features,), jnp.float32)
    x = x.astype(self.dtype)
    dilated = jnp.zeros((batch, 2 * height - 1, 2 * width - 1, channels), self.dtype)
    dilated = dilated.at[:, ::2, ::2].set(x)
    padded = jnp.pad(dilated, ((0, 0), (2, 1), (2, 1), (0, 0)))
    columns = jnp.concatenate([padded[:, i:i + 2 * height, j:j + 2 * width]
                               for i in range(3) for j in range(3)], axis=-1)
    weights = kernel.astype(self.dtype).reshape(9 * channels, self.features)
    return columns @ weights + bias.astype(self.dtype)


def _subpixel_taps(kernel_size: int) -> tuple[int, dict[tuple[int, int], int]]:
  """Where each tap of a stride-2 'SAME' transposed convolution lands in the sub-pixel form.

  `lax.conv_transpose` dilates the input by 2 and pads it by (a, b) (a = 2 for k = 3, 3 for
  k = 5); output row 2m + r then sums kernel taps t ≡ a − r (mod 2) over input rows
  m + (r + t − a) / 2. Returns (d_min, {(phase r, offset d − d_min): tap t}).
  """
  pad_before = conv_transpose_pad_before(kernel_size)
  taps = {(r, (r + t - pad_before) // 2): t for r in range(2) for t in range(kernel_size)
          if (r + t - pad_before) % 2 == 0}
  d_min = min(d for _, d in taps)
  return d_min, {(r, d - d_min): t for (r, d), t in taps.items()}


def conv_transpose_pad_before(kernel_size: int, stride: int = 2) -> int:
  """`jax.lax.conv_transpose`'s 'SAME' padding before the dilated input (the tests check it
  against lax's own `_conv_transpose_padding` and the sub-pixel form against ConvTranspose)."""
  if stride > kernel_size - 1:
    return kernel_size - 1
  return -(-(kernel_size + stride - 2) // 2)


class SubpixelConvTranspose(nn.Module):
  """`nn.ConvTranspose(features, (k, k), strides=(2, 2))` ('SAME') as a sub-pixel convolution.

  The same parameters (`kernel` [k, k, C_in, C_out], `bias`) and the same function (tested to
  float tolerance, outputs and gradients): the four output phases (row, column parity) are
  four small kernels over the undilated input, stacked into one stride-1 convolution to
  4·C_out channels and interleaved by depth-to-space (Shi et al. 2016). On the CPU this is
  what makes g_s train fast: XLA's gradient of `conv_transpose` runs 20–50× slower than its
  forward (140 ms vs 2.6 ms at 8×16×32, 64 → 48), the sub-pixel form's takes 15 ms
  (`scripts/bench_step_parts.py --model=codec`, docs/training.md).
  It spends 16/9 of the useful multiply-adds (k = 3) on taps that are zero.
  """
  features: int
  kernel_size: int = 3
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    k = self.kernel_size
    channels = x.shape[-1]
    kernel = self.param("kernel", nn.initializers.lecun_normal(),
                        (k, k, channels, self.features), jnp.float32)
    bias = self.param("bias", nn.initializers.zeros_init(), (self.features,), jnp.float32)
    d_min, taps = _subpixel_taps(k)
    size = 1 + max(d for _, d in taps)
    kernel = kernel.astype(self.dtype)
    zero = jnp.zeros((channels, self.features), self.dtype)
    # combined[a, b, C_in, (r_h, r_w, C_out)]: phase (r_h, r_w)'s tap at input offset (a, b).
    combined = jnp.stack([
        jnp.stack([
            jnp.stack([kernel[taps[rh, a], taps[rw, b]]
                       if (rh, a) in taps and (rw, b) in taps else zero
                       for rh in range(2) for rw in range(2)], axis=1)
            for b in range(size)])
        for a in range(size)])
    combined = combined.reshape(size, size, channels, 4 * self.features)
    pad = ((-d_min, size - 1 + d_min),) * 2
    y = layers.conv_general_dilated(x.astype(self.dtype), combined, (1, 1), pad,
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))
    batch, height, width, _ = y.shape
    y = y.reshape(batch, height, width, 2, 2, self.features).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(batch, 2 * height, 2 * width, self.features) + bias.astype(self.dtype)


def conv_transpose_impl(requested: str) -> str:
  """"auto" → "subpixel" on the CPU backend, "lax" on GPU/TPU; others as given."""
  if requested == "auto":
    return "subpixel" if jax.default_backend() == "cpu" else "lax"
  return requested


def _conv_transpose(features: int, kernel_size: int, impl: str, dtype, name: str) -> nn.Module:
  if conv_transpose_impl(impl) == "subpixel":
    return SubpixelConvTranspose(features, kernel_size, dtype, name=name)
  return nn.ConvTranspose(features, (kernel_size, kernel_size), strides=(2, 2), dtype=dtype,
                          name=name)


def _blocks(kind: str, dim: int, depth: int, heads: int, kernel: int, fields: dict, dtype,
            prefix: str) -> list[nn.Module]:
  if kind == "conv":
    return [ResidualConvBlock(dim, dtype, name=f"{prefix}_{i}") for i in range(depth)]
  if kind != "nat":
    raise ValueError(f"Unknown block kind {kind!r} (expected 'nat' or 'conv').")
  return [RNAB(dim, heads, kernel, fields["mlp_ratio"], fields["tile"], dtype,
               name=f"{prefix}_{i}") for i in range(depth)]


class Codec(nn.Module):
  """The hyperprior codec. `fields` is `model_fields(config.model)` as a frozen dict."""
  fields: Any
  dtype: Any = jnp.float32

  def setup(self):
    f = dict(self.fields)
    channels, depths, heads, blocks = f["channels"], f["depths"], f["heads"], f["blocks"]
    kernel, dtype = f["kernel_size"], self.dtype
    # g_a.
    self.ga_convs = [layers.Conv(c, (5, 5) if i == 0 else (3, 3), strides=2, dtype=dtype,
                                 name=f"ga_conv{i}") for i, c in enumerate(channels)]
    self.ga_blocks = [_blocks(blocks[i], channels[i], depths[i], heads[i], kernel, f, dtype,
                              f"ga_block{i}") for i in range(4)]
    # g_s (stages in reverse order).
    out_channels = tuple(reversed(channels[:-1])) + (3,)
    self.gs_blocks = [_blocks(blocks[3 - i], channels[3 - i], depths[3 - i], heads[3 - i],
                              kernel, f, dtype, f"gs_block{i}") for i in range(4)]
    impl = f["conv_transpose"]
    self.gs_convs = [_conv_transpose(c, 5 if i == 3 else 3, impl, dtype, f"gs_conv{i}")
                     for i, c in enumerate(out_channels)]
    # h_a / h_s.
    hyper, hyper_kernel = f["hyper_channels"], f["hyper_kernel_size"]
    m = channels[-1]
    self.ha_convs = [layers.Conv(c, (3, 3), strides=2, dtype=dtype, name=f"ha_conv{i}")
                     for i, c in enumerate(hyper)]
    self.ha_blocks = [_blocks("nat", hyper[i], f["hyper_depths"][i], f["hyper_heads"][i],
                              hyper_kernel, f, dtype, f"ha_block{i}") for i in range(2)]
    self.hs_blocks = [_blocks("nat", hyper[1 - i], f["hyper_depths"][1 - i],
                              f["hyper_heads"][1 - i], hyper_kernel, f, dtype, f"hs_block{i}")
                      for i in range(2)]
    if dtype == jnp.float64:  # The host entropy path (bitstream.py): matmuls, not float64 convs.
      self.hs_convs = [MatmulConvTranspose(c, dtype, name=f"hs_conv{i}")
                       for i, c in enumerate((hyper[0], 2 * m))]
    else:
      self.hs_convs = [_conv_transpose(c, 3, impl, dtype, f"hs_conv{i}")
                       for i, c in enumerate((hyper[0], 2 * m))]
    # Channel-wise context (only with num_slices > 1).
    self.num_slices = f["num_slices"]
    self.slice_channels = m // self.num_slices
    if self.num_slices > 1:
      self.slice_nets = [
          [layers.Conv(c, (3, 3), dtype=dtype, name=f"slice{i}_conv{j}")
           for j, c in enumerate(tuple(f["slice_hidden"]) + (2 * self.slice_channels,))]
          for i in range(self.num_slices)]
    self.z_density = entropy.FactorizedDensity(hyper[-1])

  # --- The four transforms. ------------------------------------------------------------------

  def analysis(self, x):
    """g_a: images (B, H, W, 3) in [0, 1] -> y (B, H/16, W/16, M), float32."""
    h = x.astype(self.dtype)
    for conv, blocks in zip(self.ga_convs, self.ga_blocks):
      h = conv(h)
      for block in blocks:
        h = block(h)
    return h.astype(jnp.float32)

  def synthesis(self, y_hat):
    """g_s: ŷ -> x̂ (B, H, W, 3), float32, not clipped."""
    h = y_hat.astype(self.dtype)
    for blocks, conv in zip(self.gs_blocks, self.gs_convs):
      for block in blocks:
        h = block(h)
      h = conv(h)
    return h.astype(jnp.float32)

  def hyper_analysis(self, y):
    h = y.astype(self.dtype)
    for conv, blocks in zip(self.ha_convs, self.ha_blocks):
      h = conv(h)
      for block in blocks:
        h = block(h)
    return h.astype(jnp.float32)

  def hyper_synthesis(self, z_hat):
    """h_s: ẑ -> hyper-parameters (B, H/16, W/16, 2M), in the module's dtype.

    (bitstream.py runs this and `slice_parameters` in float64 on the CPU.)
    """
    h = z_hat.astype(self.dtype)
    for blocks, conv in zip(self.hs_blocks, self.hs_convs):
      for block in blocks:
        h = block(h)
      h = conv(h)
    return h

  # --- Entropy parameters. -------------------------------------------------------------------

  def slice_parameters(self, hyper, y_hat_before, index: int):
    """(μ, σ) of slice `index` from the hyper-parameters and ŷ of the earlier slices.

    `y_hat_before` is (B, h, w, index · M/S) (ignored for slice 0 / a single slice).
    """
    if self.num_slices == 1:
      mean, raw_scale = jnp.split(hyper, 2, axis=-1)
    else:
      h = hyper if index == 0 else jnp.concatenate([hyper, y_hat_before.astype(hyper.dtype)], -1)
      nets = self.slice_nets[index]
      for conv in nets[:-1]:
        h = nn.gelu(conv(h))
      mean, raw_scale = jnp.split(nets[-1](h), 2, axis=-1)
    scale = entropy.SCALE_BOUND + jax.nn.softplus(raw_scale)
    return mean, scale

  def z_likelihood(self, z_values):
    return self.z_density(z_values)

  def z_logits_cumulative(self, values):
    return self.z_density.logits_cumulative(values)

  # --- Training / evaluation forward pass. ---------------------------------------------------

  def __call__(self, x, rng=None, train: bool = False):
    """Forward pass with rate terms.

    Training (`train=True`, `rng` given): likelihoods of y + U(−½, ½) and z + U(−½, ½); the
    decoder input ŷ = ste_round(y − μ) + μ and h_s's input ste_round(z). Evaluation: the
    likelihoods of the rounded values (what the coder spends).

    Returns a dict: x_hat, y, y_hat, z_hat, means, scales, y_likelihoods, z_likelihoods.
    """
    y = self.analysis(x)
    z = self.hyper_analysis(y)
    if train:
      rng_z, rng_y = jax.random.split(rng)
      z_rate = entropy.add_uniform_noise(z, rng_z)
    else:
      z_rate = jnp.round(z)
    z_hat = entropy.ste_round(z)
    z_likelihoods = self.z_likelihood(z_rate)
    hyper = self.hyper_synthesis(z_hat).astype(jnp.float32)
    y_slices = jnp.split(y, self.num_slices, axis=-1)
    y_hat_slices, means, scales, y_likelihoods = [], [], [], []
    for i, y_slice in enumerate(y_slices):
      before = jnp.concatenate(y_hat_slices, -1) if y_hat_slices else None
      mean, scale = self.slice_parameters(hyper, before, i)
      mean, scale = mean.astype(jnp.float32), scale.astype(jnp.float32)
      if train:
        y_rate = entropy.add_uniform_noise(y_slice, jax.random.fold_in(rng_y, i))
      else:
        y_rate = jnp.round(y_slice - mean) + mean
      y_likelihoods.append(entropy.gaussian_likelihood(y_rate, mean, scale))
      y_hat_slices.append(entropy.ste_round(y_slice - mean) + mean)
      means.append(mean)
      scales.append(scale)
    y_hat = jnp.concatenate(y_hat_slices, -1)
    return dict(
        x_hat=self.synthesis(y_hat), y=y, y_hat=y_hat, z_hat=z_hat,
        means=jnp.concatenate(means, -1), scales=jnp.concatenate(scales, -1),
        y_likelihoods=jnp.concatenate(y_likelihoods, -1), z_likelihoods=z_likelihoods)


def bits(likelihoods: jnp.ndarray) -> jnp.ndarray:
  """Total information content, in bits, per example: sum of −log2 p over all but axis 0."""
  return -jnp.sum(jnp.log2(likelihoods.astype(jnp.float32)),
                  axis=tuple(range(1, likelihoods.ndim)))


def bits_per_pixel(outputs: dict, num_pixels: int) -> jnp.ndarray:
  """Estimated bpp per example (y + z)."""
  return (bits(outputs["y_likelihoods"]) + bits(outputs["z_likelihoods"])) / num_pixels


@dataclasses.dataclass(frozen=True)
class Shapes:
  """Latent shapes of a padded image of `height × width` (multiples of 64)."""
  height: int
  width: int
  y_channels: int
  z_channels: int

  @property
  def y(self) -> tuple[int, int, int]:
    return (self.height // 16, self.width // 16, self.y_channels)

  @property
  def z(self) -> tuple[int, int, int]:
    return (self.height // 64, self.width // 64, self.z_channels)


def shapes(fields: dict, height: int, width: int) -> Shapes:
  return Shapes(height, width, fields["channels"][-1], fields["hyper_channels"][-1])


def count_params(tree) -> int:
  return sum(int(x.size) for x in jax.tree.leaves(tree))
