r"""Runs `launch.train` as several processes on this machine, as on a pod or a cluster.

Every process is one JAX process of a multi-process job (`jax.distributed` with a localhost
coordinator, CPU devices, gloo collectives); each sees `--devices_per_process` CPU devices.
What runs is exactly what each host runs on a cluster:

  python -m launch.train --config=C --workdir=W --coordinator_address=127.0.0.1:PORT \
      --num_processes=N --process_id=I

  python scripts/multihost_local.py --num_processes=2 --devices_per_process=2 -- \
      --config=configs/toy_regression.py --workdir=/tmp/toy_2proc
  make multihost   # the same, then the one-process run and the comparison of their weights
  python scripts/multihost_local.py compare WORKDIR_A WORKDIR_B   # weights and step times

Process 0's output is shown; every process's output is also in WORKDIR/process_<i>.log.
The exit status is the first non-zero status of any process (0 if all succeeded).
"""

import argparse
import contextlib
import os
from pathlib import Path
import socket
import subprocess
import sys
import time

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
  with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def cpu_env(devices: int, extra: dict | None = None) -> dict:
  """The environment of one CPU process with `devices` JAX devices."""
  env = dict(os.environ)
  flags = [f for f in env.get("XLA_FLAGS", "").split()
           if not f.startswith("--xla_force_host_platform_device_count")]
  env["XLA_FLAGS"] = " ".join(flags + [f"--xla_force_host_platform_device_count={devices}"])
  env["JAX_PLATFORMS"] = "cpu"
  env["PYTHONUNBUFFERED"] = "1"
  env.update(extra or {})
  return env


def start(num_processes: int, devices_per_process: int, train_args: list[str],
          log_dir: Path, entry: list[str] | None = None, port: int | None = None,
          extra_env: dict[int, dict] | None = None) -> list[subprocess.Popen]:
  """Starts the processes of one job; process i writes log_dir/process_<i>.log.

  `entry` is what follows the Python executable (default `-m launch.train`); `extra_env`
  maps a process index to extra environment variables for it.
  """
  entry = entry or ["-m", "launch.train"]
  port = port or free_port()
  log_dir.mkdir(parents=True, exist_ok=True)
  processes = []
  for index in range(num_processes):
    command = [sys.executable, *entry, *train_args, f"--coordinator_address=127.0.0.1:{port}",
               f"--num_processes={num_processes}", f"--process_id={index}"]
    log = open(log_dir / f"process_{index}.log", "w")  # pylint: disable=consider-using-with
    processes.append(subprocess.Popen(
        command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        env=cpu_env(devices_per_process, (extra_env or {}).get(index))))
    log.close()
  return processes


def wait(processes: list[subprocess.Popen], timeout: float) -> list[int]:
  """Exit statuses; every process still running at `timeout` seconds is killed (status -9)."""
  deadline = time.monotonic() + timeout
  for process in processes:
    try:
      process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
      pass
  for process in processes:
    if process.poll() is None:
      process.kill()
      process.wait()
  return [process.returncode for process in processes]


def run(num_processes: int, devices_per_process: int, train_args: list[str], log_dir: Path,
        timeout: float = 1800, **kwargs) -> list[int]:
  """Starts a job and waits for it; returns every process's exit status."""
  return wait(start(num_processes, devices_per_process, train_args, log_dir, **kwargs), timeout)


def compare(workdir_a: str, workdir_b: str) -> int:
  """Prints how far apart two runs' final weights are, and each run's median step time."""
  import json  # pylint: disable=g-import-not-at-top

  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  sys.path.insert(0, str(REPO))
  from tfic_jax import zoo  # pylint: disable=g-import-not-at-top
  a, b = zoo.load_variables(workdir_a), zoo.load_variables(workdir_b)
  if jax.tree.structure(a) != jax.tree.structure(b):
    print("the two runs' variables differ in structure", file=sys.stderr)
    return 1
  leaves = list(zip(jax.tree_util.tree_flatten_with_path(a)[0], jax.tree.leaves(b)))
  diffs = [float(np.max(np.abs(np.asarray(x, np.float64) - y))) if np.size(x) else 0.0
           for (_, x), y in leaves]
  exact = sum(np.array_equal(x, y) for (_, x), y in leaves)
  print(f"{len(leaves)} arrays: {exact} bit-identical, max |difference| {max(diffs):.3g}")
  for ((path, _), _), diff in zip(leaves, diffs):
    print(f"  {jax.tree_util.keystr(path)}: {diff:.3g}")
  for workdir in (workdir_a, workdir_b):
    rates = [json.loads(line).get("steps_per_sec")
             for line in (Path(workdir) / "metrics.jsonl").read_text().splitlines()]
    rates = [r for r in rates if r]
    if rates:
      print(f"{workdir}: median {1000.0 / float(np.median(rates)):.1f} ms/step "
            f"over {len(rates)} logged intervals")
  return 0


def main() -> int:
  if sys.argv[1:2] == ["compare"]:
    if len(sys.argv) != 4:
      sys.exit("usage: multihost_local.py compare WORKDIR_A WORKDIR_B")
    return compare(sys.argv[2], sys.argv[3])
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--num_processes", type=int, default=2)
  parser.add_argument("--devices_per_process", type=int, default=2)
  parser.add_argument("--timeout", type=float, default=1800, help="Seconds before all are killed.")
  parser.add_argument("train_args", nargs="+", help="launch.train's flags, after --.")
  args = parser.parse_args()
  workdir = next((a.split("=", 1)[1] for a in args.train_args if a.startswith("--workdir=")),
                 None)
  if workdir is None:
    parser.error("launch.train needs --workdir=DIR (after --)")
  log_dir = Path(workdir)
  processes = start(args.num_processes, args.devices_per_process, args.train_args, log_dir)
  print(f"started {args.num_processes} processes x {args.devices_per_process} CPU devices; "
        f"logs in {log_dir}/process_<i>.log", flush=True)
  with open(log_dir / "process_0.log") as log:  # Follow process 0 while the job runs.
    while processes[0].poll() is None:
      sys.stdout.write(log.read())
      sys.stdout.flush()
      time.sleep(0.5)
    sys.stdout.write(log.read())
  statuses = wait(processes, args.timeout)
  for index, status in enumerate(statuses):
    if status:
      print(f"process {index} exited with status {status} (see {log_dir}/process_{index}.log)",
            file=sys.stderr)
  return next((s for s in statuses if s), 0)


if __name__ == "__main__":
  sys.exit(main())
