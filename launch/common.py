"""What every launcher shares: JAX's persistent compilation cache.

The codec compiles for seconds at each image size; with the cache a second call (another
process, another day) loads the compiled program instead. On by default for the launchers that
compile models (compress, decompress, train, evaluate), in a user cache directory;
`TFIC_JAX_CACHE_DIR` (or a launcher's `--compilation_cache`) moves it, an empty value turns it
off, a `JAX_COMPILATION_CACHE_DIR` already set is kept, and a directory that cannot be written
turns it off silently.
"""

import os
from pathlib import Path

import jax

ENV_VAR = "TFIC_JAX_CACHE_DIR"


def default_cache_dir() -> str:
  if ENV_VAR in os.environ:
    return os.environ[ENV_VAR]
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "tfic-jax", "xla")


def enable_compilation_cache(directory: str | None = None) -> str | None:
  """Turns JAX's persistent compilation cache on in `directory` (default: `default_cache_dir`).

  Returns the directory in use, or None when it is off ("" given, or not writable). A cache
  JAX was already given (`JAX_COMPILATION_CACHE_DIR`) is left as it is.
  """
  if directory is None and os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    return os.environ["JAX_COMPILATION_CACHE_DIR"]
  directory = default_cache_dir() if directory is None else directory
  if not directory:
    return None
  path = Path(directory).expanduser()
  try:
    path.mkdir(parents=True, exist_ok=True)
    probe = path / f".write-test-{os.getpid()}"
    probe.write_bytes(b"")
    probe.unlink()
  except OSError:
    return None
  jax.config.update("jax_compilation_cache_dir", str(path))
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
  return str(path)
