"""Test-only stand-in for tfic_jax.data.pipeline, following docs/design.md's signatures.

Installed by conftest.py / run_launch.py only while the real module is missing, so the
training-loop tests do not depend on work happening in parallel.
"""

import jax
import numpy as np


def _stack(examples):
  out = {}
  for key in examples[0]:
    values = [e[key] for e in examples]
    out[key] = np.stack(values) if isinstance(values[0], np.ndarray) else np.array(values)
  return out


def train_batches(source, global_batch_size, seed, start_step, preprocess):
  num = len(source)
  local = global_batch_size // jax.process_count()
  offset = jax.process_index() * local
  step = start_step
  while True:
    examples = []
    for j in range(offset, offset + local):
      g = step * global_batch_size + j
      perm = np.random.default_rng((seed, g // num)).permutation(num)
      rng = np.random.default_rng((seed, step, j))
      examples.append(preprocess(source[int(perm[g % num])], rng))
    yield _stack(examples)
    step += 1


def eval_batches(source, batch_size, preprocess, num_examples=None):
  num = len(source) if num_examples is None else min(num_examples, len(source))
  for start in range(0, num, batch_size):
    indices = list(range(start, min(start + batch_size, num)))
    mask = [True] * len(indices) + [False] * (batch_size - len(indices))
    indices += [indices[-1]] * (batch_size - len(indices))
    batch = _stack([preprocess(source[i]) for i in indices])
    batch["mask"] = np.array(mask)
    yield batch


def install_if_missing():
  import importlib.util  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  if importlib.util.find_spec("tfic_jax.data.pipeline") is None:
    sys.modules["tfic_jax.data.pipeline"] = sys.modules[__name__]
    import tfic_jax.data  # pylint: disable=g-import-not-at-top
    tfic_jax.data.pipeline = sys.modules[__name__]
