"""What the side-by-side benchmarks against PyTorch share (scripts/bench_vs_*.py).

- `make_venv`: the throwaway venv holding torch (the CPU build on disk) and compressai; they
  never enter requirements.txt or CI.
- `STUBS`: stand-in modules for torchvision / torch_geometric so compressai imports without them.
- Worker processes: each benchmark runs ours and torch's in two long-lived processes, pinned
  to a core each with one compute thread (`start_worker`, `pin_worker`), and asks them in turn
  (`ask`), so both see the same machine at the same moments.
"""

import json
import os
from pathlib import Path
import subprocess
import sys

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VENV = Path.home() / ".cache" / "tfic-jax" / "compressai-venv"
# compressai 1.2.8 imports torchvision and torch_geometric only to list their transforms in its
# registry; stand-in modules let it import without them (their CUDA builds do not load here).
STUBS = """
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



# One compute thread per worker, on both sides.
WORKER_ENV = {"JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


def pin_worker(core: int) -> None:
  os.sched_setaffinity(0, {core})


def start_worker(python: str, script: str, args: list[str], number: int,
                 env: dict | None = None) -> subprocess.Popen:
  """Starts `python script --core=C args...` (C: the number-th allowed core) and waits until
  it says it is ready."""
  cores = sorted(os.sched_getaffinity(0))
  process = subprocess.Popen(
      [python, script, f"--core={cores[number % len(cores)]}"] + args,
      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
      env=dict(os.environ, **WORKER_ENV, **(env or {})))
  assert reply(process)["ready"]
  return process


def serve(handle) -> None:
  """The worker's loop: one JSON request per stdin line, one `@@`-prefixed JSON answer each."""
  print("@@" + json.dumps({"ready": True}), flush=True)
  for request in sys.stdin:
    print("@@" + json.dumps(handle(json.loads(request))), flush=True)


def ask(process: subprocess.Popen, request: dict) -> dict:
  process.stdin.write(json.dumps(request) + "\n")
  process.stdin.flush()
  return reply(process)


def reply(process: subprocess.Popen) -> dict:
  """The worker's next answer (lines it prints for other reasons are skipped)."""
  while True:
    line = process.stdout.readline()
    if not line:
      sys.exit(f"a benchmark worker stopped (status {process.wait()}); see its stderr above")
    if line.startswith("@@"):
      return json.loads(line[2:])


