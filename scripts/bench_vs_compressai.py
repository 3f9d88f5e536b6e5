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
import os
from pathlib import Path
import sys
import time

import bench_common


def worker(kind: str, core: int) -> None:
  """Answers {"op": "encode"|"decode", "index": i} with {"ms": ...}."""
  bench_common.pin_worker(core)
  import numpy as np  # pylint: disable=g-import-not-at-top
  lines = np.load(os.environ["BENCH_LINES"])
  if kind == "ours":
    sys.path.insert(0, str(bench_common.REPO))
    from tfic_jax.codec import api, bitstream  # pylint: disable=g-import-not-at-top
    codec = api.load("codec_mse_q1")
    encode = lambda image: bitstream.compress(codec, image)
    decode = lambda data: bitstream.decompress(codec, data)
  else:
    exec(bench_common.STUBS, {})  # pylint: disable=exec-used
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

  def handle(request):
    index = request["index"]
    start = time.perf_counter()
    if request["op"] == "encode":
      coded[index] = encode(lines[index])
    else:
      decode(coded[index])
    return {"ms": 1000 * (time.perf_counter() - start)}

  bench_common.serve(handle)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--lines", type=int, default=20)
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--venv", default=str(bench_common.DEFAULT_VENV))
  parser.add_argument("--worker", choices=["ours", "compressai"], help=argparse.SUPPRESS)
  parser.add_argument("--core", type=int, default=0, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.worker:
    worker(args.worker, args.core)
    return
  import numpy as np  # pylint: disable=g-import-not-at-top
  sys.path.insert(0, str(bench_common.REPO))
  from tfic_jax.data import test_sets  # pylint: disable=g-import-not-at-top
  examples, _ = test_sets.synth_test_examples("test", args.lines, 256, 512,
                                              str(bench_common.REPO / "data"))
  lines_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_lines_{os.getpid()}.npy"
  np.save(lines_file, np.stack([e["image"] for e in examples]))
  torch_python = bench_common.make_venv(Path(args.venv))
  workers = {
      kind: bench_common.start_worker(python, __file__, [f"--worker={kind}"], number,
                                      env={"BENCH_LINES": str(lines_file)})
      for number, (kind, python) in enumerate((("ours", sys.executable),
                                               ("compressai", str(torch_python))))}

  def ask(kind, op, index):
    return bench_common.ask(workers[kind], {"op": op, "index": index})["ms"]

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
