r"""Encode / decode time per text line, ours against CompressAI's `bmshj2018_hyperprior`.

  python scripts/bench_vs_compressai.py            # 20 lines of 256×512, 5 rounds
  python scripts/bench_vs_compressai.py --lines=5 --rounds=2

Two long-lived worker processes, each pinned to its own core with one compute thread: ours
(`codec_mse_q1`, real .tfic bytes through `bitstream.compress` / `decompress`) and CompressAI's
`bmshj2018_hyperprior` (quality 1, N=128, M=192, untrained weights: `pretrained=False`, since
nothing can be downloaded here; its time does not depend on the weights' values beyond the
number of symbols). The parent sends the same lines to both, interleaved round after round, and
prints the median ms per line of each and, last, `ratio ours/compressai: X.XX` (encode) and
the same for decode. CompressAI and torch (the CPU build on disk) live in a throwaway venv
(--venv, made on first use); they never enter requirements.txt.
"""

import argparse
import json
import os
from pathlib import Path
import subprocess
import sys
import time

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VENV = Path.home() / ".cache" / "tfic-jax" / "compressai-venv"
# compressai 1.2.8 imports torchvision and torch_geometric only to list their transforms in its
# registry; stand-in modules let it import without them (their CUDA builds do not load here).
_STUBS = """
import importlib.abc, importlib.machinery, sys, types

class _Anything:
  def __init__(self, *args, **kwargs):
    pass
  def __call__(self, *args, **kwargs):  # a decorator returns what it decorates
    return args[0] if len(args) == 1 and callable(args[0]) else _Anything()
  def __getattr__(self, name):
    if name.startswith("__"):
      raise AttributeError(name)
    return _Anything()
  def __mro_entries__(self, bases):  # usable as a base class
    return (object,)

class _Stub(types.ModuleType):
  __path__ = []
  def __getattr__(self, name):
    if name.startswith("__"):
      raise AttributeError(name)
    return _Anything()

class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
  def find_spec(self, name, path, target=None):
    if name.split(".")[0] in ("torchvision", "torch_geometric"):
      return importlib.machinery.ModuleSpec(name, self, is_package=True)
    return None
  def create_module(self, spec):
    return _Stub(spec.name)
  def exec_module(self, module):
    pass

sys.meta_path.insert(0, _StubFinder())
"""


def make_venv(venv: Path) -> Path:
  python = venv / "bin" / "python"
  if not python.exists():
    print(f"making the throwaway venv {venv} (torch 2.13.0 CPU, compressai 1.2.8) ...",
          file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(pip + ["torch==2.13.0", "numpy", "scipy", "einops", "pytorch-msssim",
                          "tqdm", "matplotlib", "requests", "pandas"], check=True)
    subprocess.run(pip + ["--no-deps", "compressai==1.2.8"], check=True)
  return python


def worker(kind: str, core: int) -> None:
  """Answers {"op": "encode"|"decode", "index": i} with {"ms": ...}, one JSON line each."""
  os.sched_setaffinity(0, {core})
  import numpy as np  # pylint: disable=g-import-not-at-top
  lines = np.load(os.environ["BENCH_LINES"])
  if kind == "ours":
    sys.path.insert(0, str(REPO))
    from tfic_jax.codec import api, bitstream  # pylint: disable=g-import-not-at-top
    codec = api.load("codec_mse_q1")
    encode = lambda image: bitstream.compress(codec, image)
    decode = lambda data: bitstream.decompress(codec, data)
  else:
    exec(_STUBS, {})  # pylint: disable=exec-used
    import torch  # pylint: disable=g-import-not-at-top
    from compressai.zoo import bmshj2018_hyperprior  # pylint: disable=g-import-not-at-top
    torch.set_num_threads(1)
    model = bmshj2018_hyperprior(quality=1, pretrained=False).eval()
    model.update()

    def encode(image):
      with torch.no_grad():
        x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0
        return model.compress(x)

    def decode(out):
      with torch.no_grad():
        return model.decompress(out["strings"], out["shape"])["x_hat"]
  coded = {}
  print("@@" + json.dumps({"ready": True}), flush=True)
  for request in sys.stdin:
    request = json.loads(request)
    index = request["index"]
    start = time.perf_counter()
    if request["op"] == "encode":
      coded[index] = encode(lines[index])
    else:
      decode(coded[index])
    print("@@" + json.dumps({"ms": 1000 * (time.perf_counter() - start)}), flush=True)


def _reply(process: subprocess.Popen) -> dict:
  """The worker's next answer (lines it prints for other reasons are skipped)."""
  while True:
    line = process.stdout.readline()
    if not line:
      sys.exit(f"a benchmark worker stopped (status {process.wait()}); see its stderr above")
    if line.startswith("@@"):
      return json.loads(line[2:])


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--lines", type=int, default=20)
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--venv", default=str(DEFAULT_VENV))
  parser.add_argument("--worker", choices=["ours", "compressai"], help=argparse.SUPPRESS)
  parser.add_argument("--core", type=int, default=0, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.worker:
    worker(args.worker, args.core)
    return
  import numpy as np  # pylint: disable=g-import-not-at-top
  sys.path.insert(0, str(REPO))
  from tfic_jax.data import test_sets  # pylint: disable=g-import-not-at-top
  examples, _ = test_sets.synth_test_examples("test", args.lines, 256, 512, str(REPO / "data"))
  lines_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_lines_{os.getpid()}.npy"
  np.save(lines_file, np.stack([e["image"] for e in examples]))
  torch_python = make_venv(Path(args.venv))
  env = dict(os.environ, BENCH_LINES=str(lines_file), JAX_PLATFORMS="cpu",
             XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
             OMP_NUM_THREADS="1")
  cores = sorted(os.sched_getaffinity(0))
  workers = {}
  for number, (kind, python) in enumerate((("ours", sys.executable),
                                           ("compressai", str(torch_python)))):
    workers[kind] = subprocess.Popen(
        [python, __file__, f"--worker={kind}", f"--core={cores[number % len(cores)]}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert _reply(workers[kind])["ready"]

  def ask(kind, op, index):
    workers[kind].stdin.write(json.dumps({"op": op, "index": index}) + "\n")
    workers[kind].stdin.flush()
    return _reply(workers[kind])["ms"]

  for kind in workers:  # Warm-up: compilation, caches.
    ask(kind, "encode", 0)
    ask(kind, "decode", 0)
  times = {(kind, op): [] for kind in workers for op in ("encode", "decode")}
  for _ in range(args.rounds):
    for index in range(args.lines):
      for op in ("encode", "decode"):
        for kind in workers:
          times[(kind, op)].append(ask(kind, op, index))
  for process in workers.values():
    process.stdin.close()
    process.wait()
  lines_file.unlink()
  medians = {key: float(np.median(value)) for key, value in times.items()}
  for (kind, op), value in medians.items():
    print(f"{kind:10s} {op}: median {value:.1f} ms per 256×512 line "
          f"({len(times[(kind, op)])} timings)")
  for op in ("encode", "decode"):
    print(f"{op} ratio ours/compressai: {medians[('ours', op)] / medians[('compressai', op)]:.2f}")


if __name__ == "__main__":
  main()
