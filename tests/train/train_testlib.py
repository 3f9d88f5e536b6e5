"""Helpers for the training-loop tests (toy stage, fast CPU configs).

Imported by the tests as `train_testlib` (a unique name: other test folders have conftests).
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), os.path.dirname(os.path.abspath(__file__))]

# XLA compilation dominates these tests; reuse compiled programs across runs and processes.
XLA_CACHE_DIR = os.path.join(tempfile.gettempdir(), f"tfic-jax-train-tests-xla-{os.getuid()}")
CACHE_ENV = {"JAX_COMPILATION_CACHE_DIR": XLA_CACHE_DIR,
             "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
             "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1"}
os.environ.update(CACHE_ENV)



def _enable_compilation_cache():
  """Also when another test module imported jax before the env vars above were set."""
  import jax  # pylint: disable=g-import-not-at-top
  jax.config.update("jax_compilation_cache_dir", XLA_CACHE_DIR)
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
  try:
    from jax._src import compilation_cache  # pylint: disable=g-import-not-at-top
    compilation_cache.reset_cache()
  except (ImportError, AttributeError):
    pass


_enable_compilation_cache()


def toy_config(**overrides):
  """configs/toy_regression.py, made small and quiet; `overrides` use a__b for a.b."""
  from configs import toy_regression  # pylint: disable=g-import-not-at-top
  config = toy_regression.get_config()
  config.num_train_steps = 6
  config.global_batch_size = 4
  config.log_every_steps = 1
  config.eval_every_steps = 3
  config.checkpoint_every_steps = 2
  config.keep_checkpoints = 10
  config.tensorboard = False
  config.model.height = 8
  config.model.width = 8
  config.data.num_train = 16
  config.eval.num_examples = 6
  config.eval.batch_size = 4
  for key, value in overrides.items():
    node = config
    *parents, leaf = key.split("__")
    for parent in parents:
      node = node[parent]
    node[leaf] = value
  return config


def run_launcher(module, *args, num_devices=1, timeout=120, env=None):
  """Runs `python -m module args` (via run_launch.py) and returns the CompletedProcess."""
  env = dict(os.environ, **(env or {}))
  if num_devices > 1:  # Fake devices exist on CPU only.
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={num_devices}"
    env["JAX_PLATFORMS"] = "cpu"
  return subprocess.run(
      [sys.executable, str(Path(__file__).parent / "run_launch.py"), module, *args],
      cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
