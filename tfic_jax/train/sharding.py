"""Data parallelism: a 1-D mesh over all devices, batches sharded on 'data', rest replicated."""

import os
import socket
import time
from typing import Any
from typing import Mapping

from absl import logging
import jax
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np

from tfic_jax import errors

DATA_AXIS = "data"

# Environment variables that mean "this is one process of a multi-process job".
_CLUSTER_ENV_VARS = ("JAX_COORDINATOR_ADDRESS", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE")


def maybe_initialize_distributed(force: bool = False,
                                 coordinator_address: str | None = None,
                                 num_processes: int | None = None,
                                 process_id: int | None = None,
                                 initialization_timeout: int = 300) -> bool:
  """Calls `jax.distributed.initialize` when asked or when a cluster environment is detected.

  Must run before anything touches a JAX device. Explicit arguments (or JAX_NUM_PROCESSES /
  JAX_PROCESS_ID next to JAX_COORDINATOR_ADDRESS) are needed on plain multi-host GPU
  machines and for several processes on one machine; SLURM, Open MPI and Cloud TPU are
  detected by JAX itself. CPU collectives go through gloo (several CPU processes, e.g. the
  two-process test). A process other than 0 first waits up to `initialization_timeout`
  seconds for the coordinator (served by process 0) to accept connections, and says so in one
  line if it never does: JAX itself aborts the process with a C++ stack trace there.
  """
  env_multi = False
  for var in _CLUSTER_ENV_VARS:
    value = os.environ.get(var)
    if value and (var == "JAX_COORDINATOR_ADDRESS" or int(value) > 1):
      env_multi = True
  if not (force or env_multi or coordinator_address):
    return False
  kwargs = {"initialization_timeout": int(initialization_timeout)}
  coordinator_address = coordinator_address or os.environ.get("JAX_COORDINATOR_ADDRESS")
  if coordinator_address:
    kwargs["coordinator_address"] = coordinator_address
  num_processes = num_processes or _env_int("JAX_NUM_PROCESSES")
  if process_id is None:
    process_id = _env_int("JAX_PROCESS_ID")
  if num_processes is not None:
    kwargs["num_processes"] = num_processes
  if process_id is not None:
    kwargs["process_id"] = process_id
  if coordinator_address and process_id:
    _wait_for_coordinator(coordinator_address, int(initialization_timeout))
  if "jax_cpu_collectives_implementation" in jax.config.values:
    # Collectives between CPU processes (GPU and TPU devices do not use it).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
  try:
    jax.distributed.initialize(**kwargs)
  except ValueError as e:  # No coordinator address and no cluster JAX recognises.
    raise errors.TficError(
        f"multi-process training could not start: {e} Give --coordinator_address=HOST:PORT "
        "(process 0's host; the same on every process) with --num_processes and --process_id, "
        "or set JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID "
        "(docs/training.md).") from None
  logging.info("jax.distributed initialized: process %d of %d, %d local / %d global devices.",
               jax.process_index(), jax.process_count(), jax.local_device_count(),
               jax.device_count())
  return True


def _wait_for_coordinator(address: str, timeout: int) -> None:
  """Returns once `address` (host:port) accepts a TCP connection; TficError after `timeout` s."""
  host, _, port = address.rpartition(":")
  if not host or not port.isdigit():
    raise errors.TficError(f"--coordinator_address={address!r}: expected HOST:PORT")
  deadline = time.monotonic() + timeout
  while True:
    try:
      with socket.create_connection((host.strip("[]"), int(port)), timeout=2.0):
        return
    except OSError:
      if time.monotonic() >= deadline:
        raise errors.TficError(
            f"no coordinator answered at {address} within {timeout} s: process 0 serves it, "
            "so start process 0 (with the same --coordinator_address) or correct the address"
        ) from None
      time.sleep(0.5)


def _env_int(name):
  value = os.environ.get(name)
  return int(value) if value not in (None, "") else None


def create_mesh() -> Mesh:
  """A 1-D mesh with axis 'data' over all devices of all processes."""
  devices = np.asarray(jax.devices())
  return Mesh(devices.reshape(-1), (DATA_AXIS,))


def data_sharding(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P(DATA_AXIS))


def replicated_sharding(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def check_batch_size(global_batch_size: int, what: str = "config.global_batch_size") -> None:
  """Raises a TficError unless the global batch splits evenly over devices and processes."""
  num_devices = jax.device_count()
  if global_batch_size <= 0 or global_batch_size % num_devices:
    raise errors.TficError(
        f"{what}={global_batch_size} must be a positive multiple of the number of devices "
        f"({num_devices}: {jax.process_count()} process(es) x {jax.local_device_count()} "
        f"local device(s)) for data parallelism. Use e.g. {what}="
        f"{max(1, round(global_batch_size / num_devices)) * num_devices}.")


def device_arrays_only(batch: Mapping[str, Any]) -> dict:
  """The entries of a host batch that can go to devices (numeric / bool numpy arrays)."""
  return {k: v for k, v in batch.items()
          if isinstance(v, np.ndarray) and v.dtype.kind in "biuf"}


def shard_local_batch(local_batch: Mapping[str, Any], mesh: Mesh) -> dict:
  """Places each process's share of a global batch on its devices, sharded on 'data'.

  `local_batch` holds this process's `global_batch // process_count` rows; the result is a
  dict of global jax.Arrays (works multi-host).
  """
  sharding = data_sharding(mesh)
  out = {}
  for key, value in device_arrays_only(local_batch).items():
    global_shape = (value.shape[0] * jax.process_count(),) + value.shape[1:]
    out[key] = jax.make_array_from_process_local_data(sharding, value, global_shape)
  return out


def shard_global_batch(global_batch: Mapping[str, Any], mesh: Mesh) -> dict:
  """Places a batch that every process holds in full (e.g. eval) sharded on 'data'."""
  sharding = data_sharding(mesh)
  out = {}
  for key, value in device_arrays_only(global_batch).items():
    out[key] = jax.make_array_from_callback(
        value.shape, sharding, lambda index, v=value: v[index])
  return out


def replicate(tree, mesh: Mesh):
  """Places a pytree replicated on every device of the mesh (works multi-host)."""
  sharding = replicated_sharding(mesh)

  def put(x):
    x = np.asarray(x) if not isinstance(x, jax.Array) else x
    if isinstance(x, jax.Array) and x.is_fully_addressable:
      x = np.asarray(x)
    return jax.make_array_from_callback(np.shape(x), sharding, lambda index: x[index])

  return jax.tree.map(put, tree)
