"""Data parallelism on 2 fake CPU devices (a subprocess: XLA_FLAGS must precede jax import)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from train_testlib import REPO

SCRIPT = textwrap.dedent("""
    import sys
    sys.path[:0] = [{repo!r}, {here!r}]
    import jax
    import numpy as np
    from train_testlib import toy_config
    from tfic_jax.train import sharding, stages, train

    assert jax.device_count() == 2, jax.devices()
    config = toy_config(global_batch_size=6, num_train_steps=2, eval__batch_size=4)
    stage = stages.get_stage(config)
    mesh = sharding.create_mesh()
    pipeline = train._pipeline()
    host_batch = next(pipeline.train_batches(stage.train_source(None), 6, 0, 0,
                                             stage.preprocess_train))
    batch = sharding.shard_local_batch(host_batch, mesh)
    assert "text" not in batch  # strings stay on the host
    for name, array in batch.items():
      assert array.shape[0] == 6
      shards = array.addressable_shards
      assert len(shards) == 2 and {{s.device for s in shards}} == set(jax.devices())
      assert all(s.data.shape[0] == 3 for s in shards), [s.data.shape for s in shards]
      np.testing.assert_array_equal(
          np.concatenate([np.asarray(s.data) for s in shards]), host_batch[name])

    rng = np.zeros(2, np.uint32)
    state = train.create_train_state(stage, config, rng, host_batch, mesh)
    frozen = sharding.replicate(stage.load_frozen(), mesh)
    step = train.make_train_step(stage, config, mesh)
    state, metrics = step(state, frozen, batch, sharding.replicate(rng, mesh))
    for leaf in jax.tree.leaves(state.params):
      assert leaf.sharding.is_fully_replicated and len(leaf.addressable_shards) == 2
    assert np.isfinite(float(metrics["loss"]))

    # The whole loop, end to end, on both devices.
    final = train.train_and_evaluate(config, sys.argv[1])
    assert int(final.step) == 2

    try:
      train.check_config(toy_config(global_batch_size=5))
    except Exception as e:
      assert "multiple of the number of devices (2" in str(e), e
    else:
      raise AssertionError("batch 5 on 2 devices was accepted")
    print("OK")
""")


def test_sharded_step_on_two_devices_holds_half_the_batch_per_device(tmp_path):
  here = str(Path(__file__).parent)
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
             JAX_PLATFORMS="cpu")
  result = subprocess.run(
      [sys.executable, "-c", SCRIPT.format(repo=str(REPO), here=here), str(tmp_path)],
      env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
  assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-4000:]
