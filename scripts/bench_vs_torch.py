r"""Training-step time, ours against the same network in PyTorch, side by side on this CPU.

  python scripts/bench_vs_torch.py --model=codec      # configs/codec_mse_small.py, batch 8, 64×128
  python scripts/bench_vs_torch.py --model=dncnn      # configs/dncnn.py (17×64), 64×256 patches
  python scripts/bench_vs_torch.py --model=crnn       # configs/ocr_crnn_small.py (the judge), 64×256
  # Without the CPU formulations (XLA's own layers: what GPUs and TPUs run), for a before/after:
  TFIC_JAX_CPU_LAYERS=off python scripts/bench_vs_torch.py --model=codec --config.model.conv_transpose=lax

Ours is exactly what `launch.train` runs: the stage's jitted, donated train step
(`train.make_train_step`, Adam as configured) on one device. The PyTorch side is the same
architecture, widths, batch, crop, loss and optimizer written as a small reference here:
- codec: g_a / g_s with residual conv blocks at 1/2, 1/4 and neighbourhood-attention blocks at
  1/8, 1/16, h_a / h_s with attention blocks, the factorized prior of z and the Gaussian
  conditional of y from CompressAI, loss λ·255²·MSE + bpp. Its attention attends to the zero-
  padded k×k window around each pixel (the same cost as NA's shifted border windows).
- dncnn: the paper's DnCNN (17 conv 3×3, BatchNorm, ReLU), loss 0.8·MSE + 0.2·blockwise-DCT.
- crnn: the reference VGG feature extractor, 2 BiLSTMs, CTC loss.
Both run in long-lived worker processes, each pinned to its own core with one compute thread,
asked in turn step after step; the medians are compared and the last line is
`ratio ours/torch: X.XX` (< 1: ours is faster). Inputs are random tensors of the training
shapes (a step's time does not depend on pixel values). torch lives in the throwaway venv of
`bench_common.make_venv`; it never enters requirements.txt or CI.
"""

import argparse
import json
import math
import os
from pathlib import Path
import sys
import time

import bench_common

MODELS = ("codec", "dncnn", "crnn")
CONFIGS = {"codec": "configs/codec_mse_small.py", "dncnn": "configs/dncnn.py",
           "crnn": "configs/ocr_crnn_small.py"}
# Batch sizes for one CPU core (the configs' are for GPUs, except the codec's).
DEFAULT_BATCH = {"codec": 8, "dncnn": 4, "crnn": 32}


# ---------------------------------------------------------------------------------------- ours


def _our_batch(model: str, config, batch: int, rng):
  import numpy as np  # pylint: disable=g-import-not-at-top
  if model == "codec":
    height, width = config.data.crop_size
    return {"image": rng.integers(0, 256, (batch, height, width, 3), dtype=np.uint8)}
  if model == "dncnn":
    height, width = config.data.crop
    clean = rng.random((batch, height, width, 1), dtype=np.float32)
    return {"clean": clean, "degraded": np.clip(clean + 0.05 * rng.standard_normal(
        clean.shape, dtype=np.float32), 0, 1)}
  height, width = config.model.input_size
  max_length = int(config.model.max_length)
  lengths = rng.integers(4, 12, batch).astype(np.int32)
  labels = np.zeros((batch, max_length), np.int32)
  for i, length in enumerate(lengths):
    labels[i, :length] = rng.integers(1, 37, length)
  return {"image": rng.integers(0, 256, (batch, height, width, 3), dtype=np.uint8),
          "label": labels, "label_length": lengths,
          "label_weight": np.ones(batch, np.float32)}


def our_step(model: str, overrides: list[str], batch: int):
  """The stage's compiled train step on one device and a callable that runs one step."""
  sys.path.insert(0, str(bench_common.REPO))
  import jax  # pylint: disable=g-import-not-at-top
  from ml_collections import config_flags  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from absl import flags  # pylint: disable=g-import-not-at-top
  from tfic_jax.train import sharding  # pylint: disable=g-import-not-at-top
  from tfic_jax.train import benchmark  # pylint: disable=g-import-not-at-top
  from tfic_jax.train import stages  # pylint: disable=g-import-not-at-top

  config_flags.DEFINE_config_file("config", str(bench_common.REPO / CONFIGS[model]))
  flags.FLAGS(["bench"] + overrides)
  config = flags.FLAGS.config
  config.global_batch_size = batch
  stage = stages.get_stage(config)
  host_batch = _our_batch(model, config, batch, np.random.default_rng(0))
  run, compile_s, params, _, _ = benchmark.prepare_train_step(
      stage, config, host_batch, sharding.create_mesh())
  step = lambda: jax.block_until_ready(run())
  summary = {"params": params, "compile_s": compile_s,
             "config": {"model": config.model.to_dict(), "batch": batch}}
  return step, summary


# --------------------------------------------------------------------------------------- torch


def torch_step(model: str, config: dict, batch: int):
  """The same network, loss and optimizer in PyTorch, and a callable that runs one step."""
  exec(bench_common.STUBS, {})  # pylint: disable=exec-used
  import torch  # pylint: disable=g-import-not-at-top
  from torch import nn  # pylint: disable=g-import-not-at-top
  import torch.nn.functional as F  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(1)
  torch.manual_seed(0)
  fields = config["model"]
  gelu = lambda x: F.gelu(x, approximate="tanh")  # flax's nn.gelu default

  class ResidualConv(nn.Module):
    def __init__(self, dim):
      super().__init__()
      self.conv1, self.conv2 = nn.Conv2d(dim, dim, 3, padding=1), nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x):
      return x + self.conv2(gelu(self.conv1(x)))

  class RNAB(nn.Module):
    """x + attention over the k×k window of each pixel (LN first) ; x + MLP(LN(x)), NCHW."""

    def __init__(self, dim, heads, kernel, mlp_ratio):
      super().__init__()
      self.heads, self.kernel = heads, kernel
      self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
      self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
      self.rpb = nn.Parameter(torch.zeros(heads, 2 * kernel - 1, 2 * kernel - 1))
      self.fc1 = nn.Linear(dim, int(dim * mlp_ratio))
      self.fc2 = nn.Linear(int(dim * mlp_ratio), dim)

    def forward(self, x):
      b, c, h, w = x.shape
      k, heads = self.kernel, self.heads
      t = x.permute(0, 2, 3, 1)
      q, key, v = self.qkv(self.norm1(t)).chunk(3, dim=-1)  # [B, H, W, C] each
      q = q.reshape(b, h * w, heads, c // heads).permute(0, 2, 1, 3) * (c // heads) ** -0.5
      windows = lambda a: F.unfold(a.permute(0, 3, 1, 2), k, padding=k // 2).reshape(
          b, heads, c // heads, k * k, h * w)
      key, v = windows(key), windows(v)
      bias = self.rpb[:, :k, :k].reshape(heads, 1, k * k)
      logits = torch.einsum("bnpd,bndkp->bnpk", q, key) + bias
      out = torch.einsum("bnpk,bndkp->bnpd", logits.softmax(-1), v)
      t = t + self.proj(out.permute(0, 2, 1, 3).reshape(b, h, w, c))
      t = t + self.fc2(gelu(self.fc1(self.norm2(t))))
      return t.permute(0, 3, 1, 2)

  def blocks(kind, dim, depth, heads, kernel):
    if kind == "conv":
      return [ResidualConv(dim) for _ in range(depth)]
    return [RNAB(dim, heads, kernel, fields["mlp_ratio"]) for _ in range(depth)]

  def up(cin, cout, kernel):
    return nn.ConvTranspose2d(cin, cout, kernel, 2, padding=kernel // 2, output_padding=1)

  if model == "codec":
    from compressai.entropy_models import EntropyBottleneck  # pylint: disable=g-import-not-at-top
    from compressai.entropy_models import GaussianConditional  # pylint: disable=g-import-not-at-top
    channels, depths, heads, kinds = (fields[k] for k in ("channels", "depths", "heads",
                                                          "blocks"))
    hyper, hyper_heads = fields["hyper_channels"], fields["hyper_heads"]
    kernel, hyper_kernel = fields["kernel_size"], fields["hyper_kernel_size"]
    g_a, cin = [], 3
    for i in range(4):
      g_a += [nn.Conv2d(cin, channels[i], 5 if i == 0 else 3, 2, padding=2 if i == 0 else 1)]
      g_a += blocks(kinds[i], channels[i], depths[i], heads[i], kernel)
      cin = channels[i]
    g_s = []
    for i in reversed(range(4)):
      g_s += blocks(kinds[i], channels[i], depths[i], heads[i], kernel)
      g_s += [up(channels[i], channels[i - 1] if i else 3, 3 if i else 5)]
    h_a, cin = [], channels[-1]
    for i in range(2):
      h_a += [nn.Conv2d(cin, hyper[i], 3, 2, padding=1)]
      h_a += blocks("nat", hyper[i], fields["hyper_depths"][i], hyper_heads[i], hyper_kernel)
      cin = hyper[i]
    h_s = []
    for i in reversed(range(2)):
      h_s += blocks("nat", hyper[i], fields["hyper_depths"][i], hyper_heads[i], hyper_kernel)
      h_s += [up(hyper[i], hyper[i - 1] if i else 2 * channels[-1], 3)]

    class Codec(nn.Module):
      def __init__(self):
        super().__init__()
        self.g_a, self.g_s = nn.Sequential(*g_a), nn.Sequential(*g_s)
        self.h_a, self.h_s = nn.Sequential(*h_a), nn.Sequential(*h_s)
        self.z_prior, self.y_prior = EntropyBottleneck(hyper[-1]), GaussianConditional(None)

      def forward(self, x):
        y = self.g_a(x)
        z_hat, z_likelihoods = self.z_prior(self.h_a(y))
        means, raw_scales = self.h_s(z_hat).chunk(2, 1)
        scales = 0.11 + F.softplus(raw_scales)
        _, y_likelihoods = self.y_prior(y, scales, means=means)
        y_hat = torch.round(y - means).detach() + (y - means) - (y - means).detach() + means
        return self.g_s(y_hat), y_likelihoods, z_likelihoods

    net = Codec()
    height, width = config["crop"]
    x = torch.rand(batch, 3, height, width)
    lmbda = config["lmbda"]

    def loss_fn():
      x_hat, y_lik, z_lik = net(x)
      bits = -(torch.log2(y_lik).sum() + torch.log2(z_lik).sum())
      return lmbda * 255 ** 2 * F.mse_loss(x_hat, x) + bits / (batch * height * width)
  elif model == "dncnn":
    depth, features = fields["depth"], fields["features"]
    layers = [nn.Conv2d(1, features, 3, padding=1), nn.ReLU()]
    for _ in range(depth - 2):
      layers += [nn.Conv2d(features, features, 3, padding=1, bias=False),
                 nn.BatchNorm2d(features, momentum=0.1), nn.ReLU()]
    layers += [nn.Conv2d(features, 1, 3, padding=1)]
    net = nn.Sequential(*layers)
    height, width = config["crop"]
    clean = torch.rand(batch, 1, height, width)
    degraded = (clean + 0.05 * torch.randn_like(clean)).clamp(0, 1)
    n = torch.arange(8, dtype=torch.float32)
    dct = torch.cos(math.pi * (2 * n[None] + 1) * n[:, None] / 16) * 0.5
    dct[0] /= math.sqrt(2)

    def blocks_dct(a):  # [B, 1, H, W] -> DCT of every 8×8 block
      a = a.reshape(batch, 1, height // 8, 8, width // 8, 8).transpose(3, 4)
      return dct @ a @ dct.T

    def loss_fn():
      restored = degraded - net(degraded)
      mse = F.mse_loss(restored, clean)
      dct_term = F.relu((blocks_dct(clean * 255) - blocks_dct(restored * 255)).abs()
                        - config["tau"]).mean()
      return 0.8 * mse + 0.2 * dct_term
  else:
    oc = fields["output_channel"]
    widths = (oc // 8, oc // 4, oc // 2, oc)
    hidden, num_classes = fields["hidden_size"], config["num_classes"]
    features = nn.Sequential(
        nn.Conv2d(1, widths[0], 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(widths[0], widths[1], 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(widths[1], widths[2], 3, padding=1), nn.ReLU(),
        nn.Conv2d(widths[2], widths[2], 3, padding=1), nn.ReLU(), nn.MaxPool2d((2, 1), (2, 1)),
        nn.Conv2d(widths[2], widths[3], 3, padding=1, bias=False), nn.BatchNorm2d(widths[3]),
        nn.ReLU(),
        nn.Conv2d(widths[3], widths[3], 3, padding=1, bias=False), nn.BatchNorm2d(widths[3]),
        nn.ReLU(), nn.MaxPool2d((2, 1), (2, 1)),
        nn.Conv2d(widths[3], widths[3], 2), nn.ReLU())

    class BiLSTM(nn.Module):
      def __init__(self, cin):
        super().__init__()
        self.rnn = nn.LSTM(cin, hidden, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(2 * hidden, hidden)

      def forward(self, x):
        return self.linear(self.rnn(x)[0])

    class CRNN(nn.Module):
      def __init__(self):
        super().__init__()
        self.features = features
        self.sequence = nn.Sequential(BiLSTM(widths[3]), BiLSTM(hidden))
        self.prediction = nn.Linear(hidden, num_classes)

      def forward(self, x):
        f = self.features(x).mean(2).transpose(1, 2)  # [B, T, C]
        return self.prediction(self.sequence(f))

    net = CRNN()
    height, width = config["input_size"]
    images = torch.rand(batch, 1, height, width) * 2 - 1
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(4, 12, (batch,), generator=generator)
    labels = torch.randint(1, num_classes, (batch, int(lengths.max())), generator=generator)

    def loss_fn():
      log_probs = net(images).log_softmax(-1).transpose(0, 1)  # [T, B, C]
      steps = torch.full((batch,), log_probs.shape[0], dtype=torch.long)
      return F.ctc_loss(log_probs, labels, steps, lengths, blank=0, zero_infinity=True)

  net.train()
  optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)

  def step():
    optimizer.zero_grad(set_to_none=True)
    loss_fn().backward()
    optimizer.step()

  params = sum(p.numel() for name, p in net.named_parameters() if "quantiles" not in name)
  return step, {"params": params, "compile_s": 0.0}


# ------------------------------------------------------------------------------------- workers


def worker(kind: str, core: int, model: str, overrides: list[str], batch: int) -> None:
  bench_common.pin_worker(core)
  if kind == "ours":
    step, summary = our_step(model, overrides, batch)
  else:
    step, summary = torch_step(model, json.loads(os.environ["BENCH_TORCH_CONFIG"]), batch)

  def handle(request):
    if request["op"] == "summary":
      return summary
    start = time.perf_counter()
    step()
    return {"ms": 1000 * (time.perf_counter() - start)}

  bench_common.serve(handle)


def torch_config(model: str, ours: dict) -> dict:
  """What the PyTorch side needs of our config (architecture fields, crop, loss constants)."""
  sys.path.insert(0, str(bench_common.REPO))
  from tfic_jax.ocr import charset  # pylint: disable=g-import-not-at-top
  import importlib.util  # pylint: disable=g-import-not-at-top
  spec = importlib.util.spec_from_file_location("bench_config", bench_common.REPO / CONFIGS[model])
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config()
  out = {"model": ours["model"]}
  if model == "codec":
    from tfic_jax.codec import model as codec_model  # pylint: disable=g-import-not-at-top
    out["model"] = codec_model.model_fields(ours["model"])
    out["crop"], out["lmbda"] = tuple(config.data.crop_size), float(config.loss.lmbda)
  elif model == "dncnn":
    out["crop"], out["tau"] = tuple(config.data.crop), float(config.loss.tau)
  else:
    out["input_size"] = tuple(ours["model"]["input_size"])
    out["num_classes"] = 1 + charset.get_charset(  # CTC: blank + the characters
        ours["model"]["charset"], ours["model"]["include_space"]).size
  return out


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--model", choices=MODELS, default="codec")
  parser.add_argument("--batch", type=int, default=0, help="0: the model's default (see top).")
  parser.add_argument("--steps", type=int, default=10, help="Timed steps of each side.")
  parser.add_argument("--warmup", type=int, default=2)
  parser.add_argument("--venv", default=str(bench_common.DEFAULT_VENV))
  parser.add_argument("--worker", choices=["ours", "torch"], help=argparse.SUPPRESS)
  parser.add_argument("--core", type=int, default=0, help=argparse.SUPPRESS)
  args, overrides = parser.parse_known_args()
  bad = [o for o in overrides if not o.startswith("--config.")]
  if bad:
    parser.error(f"unknown arguments {bad} (config overrides are --config.FIELD=VALUE)")
  batch = args.batch or DEFAULT_BATCH[args.model]
  if args.worker:
    worker(args.worker, args.core, args.model, overrides, batch)
    return
  import numpy as np  # pylint: disable=g-import-not-at-top
  torch_python = bench_common.make_venv(Path(args.venv))
  common = [f"--model={args.model}", f"--batch={batch}"] + overrides
  ours = bench_common.start_worker(sys.executable, __file__, ["--worker=ours"] + common, 0)
  our_summary = bench_common.ask(ours, {"op": "summary"})
  torch_env = {"BENCH_TORCH_CONFIG": json.dumps(torch_config(args.model,
                                                             our_summary["config"]))}
  theirs = bench_common.start_worker(str(torch_python), __file__, ["--worker=torch"] + common,
                                     1, env=torch_env)
  workers = {"ours": ours, "torch": theirs}
  summaries = {"ours": our_summary, "torch": bench_common.ask(theirs, {"op": "summary"})}
  for _ in range(args.warmup):
    for process in workers.values():
      bench_common.ask(process, {"op": "step"})
  times = {kind: [] for kind in workers}
  for _ in range(args.steps):
    for kind, process in workers.items():
      times[kind].append(bench_common.ask(process, {"op": "step"})["ms"])
  for process in workers.values():
    process.stdin.close()
    process.wait()
  medians = {kind: float(np.median(value)) for kind, value in times.items()}
  print(f"model={args.model} batch={batch} config={CONFIGS[args.model]} {' '.join(overrides)}")
  for kind in workers:
    print(f"{kind:6s} params {summaries[kind]['params']:>10,}  compile "
          f"{summaries[kind]['compile_s']:6.1f} s  train step median {medians[kind]:8.1f} ms  "
          f"{1000 * batch / medians[kind]:7.1f} images/s  ({len(times[kind])} steps)")
  print(f"ratio ours/torch: {medians['ours'] / medians['torch']:.2f}")


if __name__ == "__main__":
  main()
