r"""Where a CPU train step's time goes: each part's forward and gradient, and the convolutions'.

  python scripts/bench_step_parts.py --model=codec [--conv_transpose=lax]
  python scripts/bench_step_parts.py --model=dncnn
  python scripts/bench_step_parts.py --model=crnn
  python scripts/bench_step_parts.py --model=codec_inference [--codec=codec_mse_q1]

Times (median ms, jitted, one compute thread, the batch and crop of scripts/bench_vs_torch.py):
- codec: g_a, g_s, h_a, h_s and the whole loss, forward and gradient (w.r.t. the parameters,
  and the part's input where training needs it), with `config.model.conv_transpose` as given
  and the CPU layers of `tfic_jax.layers` as `$TFIC_JAX_CPU_LAYERS` says (auto | on | off);
- dncnn / crnn: the feature extractor and (crnn) the BiLSTMs;
- codec_inference: a shipped codec's g_a, h_a, h_s, g_s forward on one 256×512 line (what
  `launch.compress` / `launch.decompress` run per image), with XLA's FLOP count and GFLOP/s,
  and each distinct convolution's forward;
- for every distinct convolution shape of the model: forward, input gradient (dx) and kernel
  gradient (dk), and `tfic_jax.layers`' row-chunked dk ("dk rows"). XLA's CPU dk of a 3×3
  convolution costs 4–6× its forward (one contraction over batch × height × width at once).
"""

import argparse
import os
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("XLA_FLAGS",
                      "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import jax  # pylint: disable=g-import-not-at-top,wrong-import-position
import jax.numpy as jnp  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

from tfic_jax import layers  # pylint: disable=g-import-not-at-top,wrong-import-position


def median_ms(fn, *args, repeats: int = 7) -> float:
  jax.block_until_ready(fn(*args))
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append(time.perf_counter() - start)
  return 1000 * float(np.median(times))


def part_row(name, apply, params, inputs, input_grad: bool) -> str:
  loss = lambda p, x: jnp.sum(apply(p, x) ** 2)
  grad = jax.grad(loss, argnums=(0, 1) if input_grad else 0)
  return (f"{name:34s} fwd {median_ms(jax.jit(apply), params, inputs):8.1f}   "
          f"grad {median_ms(jax.jit(grad), params, inputs):8.1f}")


def conv_row(batch, height, width, cin, cout, kernel=3, stride=1) -> str:
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.standard_normal((batch, height, width, cin)), jnp.float32)
  k = jnp.asarray(rng.standard_normal((kernel, kernel, cin, cout)), jnp.float32)
  conv = lambda x, k: jax.lax.conv_general_dilated(
      x, k, (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
  dy = conv(x, k)
  dx = jax.jit(lambda x, k, dy: jax.vjp(lambda x: conv(x, k), x)[1](dy))
  dk = jax.jit(lambda x, k, dy: jax.vjp(lambda k: conv(x, k), k)[1](dy))
  fwd_ms = median_ms(jax.jit(conv), x, k)
  dk_ms = median_ms(dk, x, k, dy)
  row = (f"conv {kernel}x{kernel}/{stride} {batch}x{height}x{width} {cin:>3}->{cout:<3}  "
         f"fwd {fwd_ms:7.1f}  dx {median_ms(dx, x, k, dy):7.1f}  dk {dk_ms:7.1f} "
         f"(dk/fwd {dk_ms / fwd_ms:4.1f})")
  if stride == 1:  # The row-chunked kernel gradient of tfic_jax.layers (used on the CPU).
    pad = ((kernel // 2, kernel // 2),) * 2
    rows = jax.jit(lambda x, dy: layers.kernel_grad_rows(x, dy, k.shape, pad))
    row += f"  dk rows {median_ms(rows, x, dy):7.1f}"
  return row


def conv_transpose_row(batch, height, width, cin, cout, kernel) -> str:
  """A g_s / h_s transposed convolution: forward and gradient, flax's and the sub-pixel form."""
  from flax import linen as nn  # pylint: disable=g-import-not-at-top
  from tfic_jax.codec import model as model_lib  # pylint: disable=g-import-not-at-top
  x = jax.random.normal(jax.random.key(0), (batch, height, width, cin))
  row = f"conv_transpose {kernel}x{kernel}/2 {batch}x{height}x{width} {cin:>3}->{cout:<3}"
  for name, module in (("lax", nn.ConvTranspose(cout, (kernel, kernel), strides=(2, 2))),
                       ("subpixel", model_lib.SubpixelConvTranspose(cout, kernel))):
    params = module.init(jax.random.key(0), x)
    apply = lambda p, x, module=module: module.apply(p, x)
    grad = jax.grad(lambda p, x: jnp.sum(apply(p, x) ** 2), argnums=(0, 1))
    row += (f"  {name} fwd {median_ms(jax.jit(apply), params, x):6.1f} "
            f"grad {median_ms(jax.jit(grad), params, x):6.1f}")
  return row


def pool_row(shape, window) -> str:
  """A non-overlapping max-pool: forward and gradient, flax's and `layers.max_pool`."""
  from flax import linen as nn  # pylint: disable=g-import-not-at-top
  x = jax.nn.relu(jax.random.normal(jax.random.key(0), shape))
  row = f"max_pool {window} {'x'.join(map(str, shape))}"
  for name, pool in (("flax", nn.max_pool), ("layers", layers.max_pool)):
    apply = lambda x, pool=pool: pool(x, window, strides=window)
    grad = jax.grad(lambda x: jnp.sum(apply(x) ** 2))
    row += f"  {name} fwd {median_ms(jax.jit(apply), x):6.1f} grad {median_ms(jax.jit(grad), x):6.1f}"
  return row


def codec(conv_transpose: str) -> None:
  from configs import codec_mse_small  # pylint: disable=g-import-not-at-top
  from tfic_jax.codec import model as model_lib  # pylint: disable=g-import-not-at-top
  config = codec_mse_small.get_config()
  config.model.conv_transpose = conv_transpose
  module = model_lib.Codec(model_lib.model_fields(config.model))
  height, width = config.data.crop_size
  x = jax.random.uniform(jax.random.key(0), (8, height, width, 3))
  params = module.init(jax.random.key(0), x)["params"]
  y = module.apply({"params": params}, x, method=module.analysis)
  z = module.apply({"params": params}, y, method=module.hyper_analysis)
  print(f"codec_mse_small, batch 8, {height}x{width}, conv_transpose={conv_transpose} "
        f"({model_lib.conv_transpose_impl(conv_transpose)})")
  for name, method, inputs, input_grad in (
      ("g_a", module.analysis, x, False), ("h_a", module.hyper_analysis, y, True),
      ("h_s", module.hyper_synthesis, z, True), ("g_s", module.synthesis, y, True)):
    apply = lambda p, i, method=method: module.apply({"params": p}, i, method=method)
    print(part_row(name, apply, params, inputs, input_grad))

  def loss(p, x):
    out = module.apply({"params": p}, x, jax.random.key(1), train=True)
    mse = jnp.mean((out["x_hat"] - x) ** 2)
    return config.loss.lmbda * 255 ** 2 * mse + jnp.mean(model_lib.bits_per_pixel(
        out, height * width))
  print(f"{'whole loss':34s} fwd {median_ms(jax.jit(loss), params, x):8.1f}   "
        f"grad {median_ms(jax.jit(jax.grad(loss)), params, x):8.1f}")
  channels = config.model.channels
  for i, (cin, cout) in enumerate(zip((3,) + tuple(channels[:-1]), channels)):
    print(conv_row(8, height >> i, width >> i, cin, cout, 5 if i == 0 else 3, stride=2))
  for i in (1, 2):
    print(conv_row(8, height >> i, width >> i, channels[i - 1], channels[i - 1]))
  for i in reversed(range(4)):  # g_s: 1/16 → 1/8 → ... → the image
    cout = channels[i - 1] if i else 3
    print(conv_transpose_row(8, height >> (i + 1), width >> (i + 1), channels[i], cout,
                             3 if i else 5))


def flops(fn, *args) -> float:
  cost = jax.jit(fn).lower(*args).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  return float((cost or {}).get("flops", float("nan")))


def conv_fwd_row(batch, height, width, cin, cout, kernel, stride) -> str:
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.standard_normal((batch, height, width, cin)), jnp.float32)
  k = jnp.asarray(rng.standard_normal((kernel, kernel, cin, cout)), jnp.float32)
  conv = lambda x, k: jax.lax.conv_general_dilated(
      x, k, (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
  ms = median_ms(jax.jit(conv), x, k)
  gflop = 2 * batch * (height // stride) * (width // stride) * kernel * kernel * cin * cout / 1e9
  return (f"conv {kernel}x{kernel}/{stride} {batch}x{height}x{width} {cin:>3}->{cout:<3}  "
          f"fwd {ms:7.2f} ms  {gflop / ms * 1e3:6.1f} GFLOP/s")


def codec_inference(name: str) -> None:
  from tfic_jax.codec import api  # pylint: disable=g-import-not-at-top
  codec = api.load(name)
  module, variables = codec.model.module, codec.variables
  fields = codec.model.field_dict
  x = jax.random.uniform(jax.random.key(0), (1, 256, 512, 3))
  y = module.apply(variables, x, method=module.analysis)
  z = module.apply(variables, y, method=module.hyper_analysis)
  print(f"{name} inference, batch 1, 256x512 (fields: {fields})")
  total = 0.0
  for part, method, inputs in (("g_a", module.analysis, x), ("h_a", module.hyper_analysis, y),
                               ("h_s", module.hyper_synthesis, z),
                               ("g_s", module.synthesis, y)):
    apply = lambda v, i, method=method: module.apply(v, i, method=method)
    ms, gflop = median_ms(jax.jit(apply), variables, inputs), flops(apply, variables, inputs) / 1e9
    total += ms
    print(f"{part:4s} fwd {ms:8.2f} ms  {gflop:6.2f} GFLOP  {gflop / ms * 1e3:6.1f} GFLOP/s")
  print(f"sum  {total:8.2f} ms")
  channels = tuple(fields["channels"])
  for i, (cin, cout) in enumerate(zip((3,) + channels[:-1], channels)):
    print(conv_fwd_row(1, 256 >> i, 512 >> i, cin, cout, 5 if i == 0 else 3, 2))
  for i in (1, 2):
    print(conv_fwd_row(1, 256 >> i, 512 >> i, channels[i - 1], channels[i - 1], 3, 1))
  for i in reversed(range(4)):  # g_s in the sub-pixel form: one stride-1 conv to 4·C_out.
    cout = channels[i - 1] if i else 3
    print(conv_fwd_row(1, 256 >> (i + 1), 512 >> (i + 1), channels[i], 4 * cout,
                       3 if i else 5, 1) + "   (g_s sub-pixel)")


def dncnn() -> None:
  from tfic_jax.dequant import models  # pylint: disable=g-import-not-at-top
  net = models.DnCNN()
  x = jax.random.uniform(jax.random.key(0), (4, 64, 256, 1))
  variables = net.init(jax.random.key(0), x)
  print("DnCNN 17x64, batch 4, 64x256 (BatchNorm in training mode)")
  apply = lambda p, x: net.apply({"params": p, "batch_stats": variables["batch_stats"]}, x,
                                 train=True, mutable=["batch_stats"])[0]
  print(part_row("DnCNN", apply, variables["params"], x, False))
  print(conv_row(4, 64, 256, 1, 64))
  print(conv_row(4, 64, 256, 64, 64) + "   x15")
  print(conv_row(4, 64, 256, 64, 1))


def crnn() -> None:
  from flax import linen as nn  # pylint: disable=g-import-not-at-top
  from tfic_jax.ocr import models  # pylint: disable=g-import-not-at-top
  batch = 32
  x = jax.random.normal(jax.random.key(0), (batch, 64, 256, 1))
  features = models.VGGFeatureExtractor(128)
  variables = features.init(jax.random.key(0), x)
  print(f"CRNN of ocr_crnn_small (VGG /4, BiLSTM 128), batch {batch}, 64x256")
  apply = lambda p, x: features.apply({"params": p, "batch_stats": variables["batch_stats"]},
                                      x, train=True, mutable=["batch_stats"])[0]
  print(part_row("VGG feature extractor", apply, variables["params"], x, False))

  class Sequence(nn.Module):
    @nn.compact
    def __call__(self, s):
      return models.BidirectionalLSTM(128, 128)(models.BidirectionalLSTM(128, 128)(s))
  sequence = Sequence()
  s = jax.random.normal(jax.random.key(0), (batch, 63, 128))
  seq_params = sequence.init(jax.random.key(0), s)["params"]
  print(part_row("2 BiLSTMs (63 steps)", lambda p, s: sequence.apply({"params": p}, s),
                 seq_params, s, True))
  for shape in ((64, 256, 1, 16), (32, 128, 16, 32), (16, 64, 32, 64), (16, 64, 64, 64),
                (8, 64, 64, 128), (8, 64, 128, 128)):
    print(conv_row(batch, *shape))
  for shape, window in (((batch, 64, 256, 16), (2, 2)), ((batch, 32, 128, 32), (2, 2)),
                        ((batch, 16, 64, 64), (2, 1)), ((batch, 8, 64, 128), (2, 1))):
    print(pool_row(shape, window))


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--model", choices=("codec", "codec_inference", "dncnn", "crnn"),
                      default="codec")
  parser.add_argument("--codec", default="codec_mse_q1", help="codec_inference: which codec")
  parser.add_argument("--conv_transpose", default="auto", help="codec: auto | lax | subpixel")
  args = parser.parse_args()
  if args.model == "codec":
    codec(args.conv_transpose)
  elif args.model == "codec_inference":
    codec_inference(args.codec)
  elif args.model == "dncnn":
    dncnn()
  else:
    crnn()


if __name__ == "__main__":
  main()
