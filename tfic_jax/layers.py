"""Layer formulations for the CPU, shared by every model (they import it, not each other).

`conv_general_dilated` is `jax.lax.conv_general_dilated` with one change on the CPU: the kernel
gradient of a stride-1 convolution is computed in row chunks. XLA's CPU backend computes it as
one convolution whose window is the whole image (the contraction runs over batch × height ×
width at once), which takes 4–6× the forward's time (`scripts/bench_step_parts.py`); here a
`lax.scan` over chunks of output rows gathers each chunk's k×k neighbourhoods (im2col, a few MB)
and accumulates `dyᵀ · columns` with one matmul per chunk, which runs 2–5× faster on the same
CPU. The forward pass and the input gradient are XLA's own.

Every model builds its convolutions with `layers.Conv`, which is `nn.Conv` given this function
(`conv_general_dilated=`), so parameters, initializers and padding are flax's; it computes the
same function with the same gradients (tests/test_layers.py: outputs and both gradients equal
to float tolerance).

`max_pool` is flax's `nn.max_pool`, except that non-overlapping windows (strides = window, no
padding) pool by a reshape and a max, with a gradient that goes, as XLA's `select_and_scatter`
sends it, to the first maximal element of each window (row-major order): XLA's CPU backward of
`reduce_window` max takes 10–40× its forward, this one 2–6× (`scripts/bench_step_parts.py
--model=crnn`).

Whether these formulations run is `cpu_layers()`: `$TFIC_JAX_CPU_LAYERS` = "auto" (default:
on for a single-device CPU backend; off everywhere else, GPU and TPU included), "on" or "off".
It is read when a function is traced.
"""

import functools
import os

import flax.linen as nn
import jax
from jax import lax
import jax.numpy as jnp

SWITCH_VALUES = ("auto", "on", "off")
ENV_VAR = "TFIC_JAX_CPU_LAYERS"
# Output pixels (batch × rows × width) per chunk: the chunk's columns stay in cache.
CHUNK_PIXELS = 2048

_NHWC = ("NHWC", "HWIO", "NHWC")


def cpu_layers() -> bool:
  """Whether the CPU formulations of this module run (when a function is traced now)."""
  requested = os.environ.get(ENV_VAR, "auto") or "auto"
  if requested not in SWITCH_VALUES:
    raise ValueError(f"${ENV_VAR} must be one of {SWITCH_VALUES}, got {requested!r}")
  if requested == "auto":
    return jax.default_backend() == "cpu" and jax.device_count() == 1
  return requested == "on"


def _is_nhwc(dimension_numbers) -> bool:
  if dimension_numbers is None:
    return False
  if isinstance(dimension_numbers, lax.ConvDimensionNumbers):
    return dimension_numbers == lax.conv_dimension_numbers((1, 1, 1, 1), (1, 1, 1, 1), _NHWC)
  return tuple(dimension_numbers) == _NHWC


def _chunk_rows(batch: int, out_height: int, out_width: int) -> int:
  """The largest divisor of the output height whose chunk has ≤ CHUNK_PIXELS pixels (≥ 1)."""
  rows = 1
  for r in range(1, out_height + 1):
    if out_height % r == 0 and batch * r * out_width <= CHUNK_PIXELS:
      rows = r
  return rows


def kernel_grad_rows(x, dy, kernel_shape, padding):
  """∂L/∂kernel of a stride-1 NHWC convolution with explicit `padding`, in row chunks.

  x: [B, H, W, C]; dy: [B, Ho, Wo, O]; kernel_shape (kh, kw, C, O); padding ((top, bottom),
  (left, right)), non-negative. Accumulates in float32; returns the kernel's dtype.
  """
  kh, kw, channels, features = kernel_shape
  batch, out_height, out_width, _ = dy.shape
  padded = jnp.pad(x, ((0, 0),) + tuple(padding) + ((0, 0),))
  rows = _chunk_rows(batch, out_height, out_width)

  def body(acc, index):
    window = lax.dynamic_slice_in_dim(padded, index * rows, rows + kh - 1, axis=1)
    columns = jnp.concatenate([window[:, i:i + rows, j:j + out_width]
                               for i in range(kh) for j in range(kw)], axis=-1)
    columns = columns.reshape(-1, kh * kw * channels)
    grads = lax.dynamic_slice_in_dim(dy, index * rows, rows, axis=1).reshape(-1, features)
    return acc + jnp.matmul(grads.T, columns, preferred_element_type=jnp.float32), None

  acc = jnp.zeros((features, kh * kw * channels), jnp.float32)
  acc, _ = lax.scan(body, acc, jnp.arange(out_height // rows))
  return acc.T.reshape(kernel_shape)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _conv_rows(x, kernel, padding, precision):
  return lax.conv_general_dilated(x, kernel, (1, 1), padding, dimension_numbers=_NHWC,
                                  precision=precision)


def _conv_rows_fwd(x, kernel, padding, precision):
  return _conv_rows(x, kernel, padding, precision), (x, kernel)


def _conv_rows_bwd(padding, precision, residuals, dy):
  x, kernel = residuals
  _, input_vjp = jax.vjp(lambda x: lax.conv_general_dilated(
      x, kernel, (1, 1), padding, dimension_numbers=_NHWC, precision=precision), x)
  (dx,) = input_vjp(dy)
  dk = kernel_grad_rows(x, dy, kernel.shape, padding).astype(kernel.dtype)
  return dx, dk


_conv_rows.defvjp(_conv_rows_fwd, _conv_rows_bwd)


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                         rhs_dilation=None, dimension_numbers=None, feature_group_count=1,
                         batch_group_count=1, precision=None, preferred_element_type=None):
  """`lax.conv_general_dilated`, with the chunked kernel gradient where it applies: 2-D NHWC,
  stride 1, no dilation, no groups, non-negative padding, when `cpu_layers()`."""
  kwargs = dict(lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
                dimension_numbers=dimension_numbers, feature_group_count=feature_group_count,
                batch_group_count=batch_group_count, precision=precision,
                preferred_element_type=preferred_element_type)
  plain = (lhs.ndim == 4 and _is_nhwc(dimension_numbers) and tuple(window_strides) == (1, 1)
           and all(d in (None, 1) for d in tuple(lhs_dilation or ()) + tuple(rhs_dilation or ()))
           and feature_group_count == 1 and batch_group_count == 1
           and preferred_element_type is None)
  if not plain or not cpu_layers():
    return lax.conv_general_dilated(lhs, rhs, window_strides, padding, **kwargs)
  if isinstance(padding, str):
    padding = lax.padtype_to_pads(lhs.shape[1:3], rhs.shape[:2], (1, 1), padding)
  padding = tuple((int(lo), int(hi)) for lo, hi in padding)
  out_height = lhs.shape[1] + sum(padding[0]) - rhs.shape[0] + 1
  out_width = lhs.shape[2] + sum(padding[1]) - rhs.shape[1] + 1
  if (min(min(p) for p in padding) < 0 or out_height < 1 or out_width < 1
      or lhs.shape[0] * out_height * out_width <= 2 * CHUNK_PIXELS):  # Small: XLA's is as fast.
    return lax.conv_general_dilated(lhs, rhs, window_strides, padding, **kwargs)
  return _conv_rows(lhs, rhs, padding, precision)


# nn.Conv computing its kernel gradient as above where that applies; everything else is nn.Conv.
Conv = functools.partial(nn.Conv, conv_general_dilated=conv_general_dilated)


def _windows(x, window):
  """[B, H, W, C] (H, W multiples of the window (a, b)) → [B, H/a, a, W/b, b, C] (a view)."""
  batch, height, width, channels = x.shape
  a, b = window
  return x.reshape(batch, height // a, a, width // b, b, channels)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _max_pool_tiles(x, window):
  return jnp.max(_windows(x, window), axis=(2, 4))


def _max_pool_tiles_fwd(x, window):
  pooled = _max_pool_tiles(x, window)
  return pooled, (x, pooled)


def _max_pool_tiles_bwd(window, residuals, dy):
  x, pooled = residuals
  windows = _windows(x, window)
  taken = jnp.zeros(pooled.shape, bool)
  rows = []
  for i in range(window[0]):  # Row-major in the window: XLA's select_and_scatter takes the first.
    row = []
    for j in range(window[1]):
      hit = (windows[:, :, i, :, j, :] == pooled) & ~taken
      taken = taken | hit
      row.append(jnp.where(hit, dy, jnp.zeros((), dy.dtype)))
    rows.append(jnp.stack(row, axis=3))  # [B, H/a, W/b, b, C]
  return (jnp.stack(rows, axis=2).reshape(x.shape),)  # [B, H/a, a, W/b, b, C]


_max_pool_tiles.defvjp(_max_pool_tiles_fwd, _max_pool_tiles_bwd)


def max_pool(x, window_shape, strides=None, padding="VALID"):
  """`nn.max_pool`; non-overlapping NHWC windows by `_max_pool_tiles` when `cpu_layers()`."""
  window = tuple(window_shape)
  if (x.ndim != 4 or len(window) != 2 or strides is None or tuple(strides) != window
      or padding != "VALID" or not cpu_layers()):
    return nn.max_pool(x, window_shape, strides=strides, padding=padding)
  height, width = (x.shape[1] // window[0]) * window[0], (x.shape[2] // window[1]) * window[1]
  if height == 0 or width == 0:
    return nn.max_pool(x, window_shape, strides=strides, padding=padding)
  return _max_pool_tiles(x[:, :height, :width], window)  # VALID drops what does not fill one.
