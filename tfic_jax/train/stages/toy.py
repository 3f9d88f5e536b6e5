"""A toy stage for the loop's tests and benchmark: tiny conv + BatchNorm image-to-image
regression seen through a frozen conv + BatchNorm "reader".

It exercises everything a real stage needs from the loop: an in-memory random-access source
with the data-pipeline contract (including a string field that must stay on the host),
host augmentation, trainable BatchNorm (batch_stats in the train state), a frozen sub-model
with its own BatchNorm that gradients flow through, per-example eval outputs and a host
eval summary. The frozen model comes from `config.frozen.reader` (a workdir or shipped
model, via `zoo.load_variables`) or, if that is empty, from a fixed seed.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from tfic_jax import zoo
from tfic_jax.train import stage as stage_lib


class ToySource:
  """`num_examples` random grayscale images, deterministic in (seed, index)."""

  def __init__(self, num_examples: int, height: int, width: int, seed: int):
    self.num_examples, self.height, self.width, self.seed = num_examples, height, width, seed

  def __len__(self):
    return self.num_examples

  def __getitem__(self, index):
    if not 0 <= index < self.num_examples:
      raise IndexError(index)
    rng = np.random.default_rng((self.seed, int(index)))
    image = rng.integers(0, 256, size=(self.height, self.width, 1), dtype=np.uint8)
    return {"image": image, "text": f"example {int(index)}"}


class ToyNet(nn.Module):
  """Trainable model: conv -> BatchNorm -> relu -> conv."""
  features: int = 8
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool):
    x = nn.Conv(self.features, (3, 3), dtype=self.dtype)(x)
    x = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(x)
    x = nn.relu(x)
    return nn.Conv(1, (3, 3), dtype=self.dtype)(x)


class ToyReader(nn.Module):
  """Frozen sub-model: conv -> BatchNorm (always inference mode)."""
  features: int = 4
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = False):
    x = nn.Conv(self.features, (3, 3), dtype=self.dtype)(x)
    return nn.BatchNorm(use_running_average=not train, dtype=self.dtype)(x)


def init_reader_variables(seed: int, height: int, width: int, features: int = 4) -> dict:
  """Reader variables with non-trivial batch_stats (so inference mode is observable)."""
  variables = ToyReader(features).init(
      jax.random.key(seed), jnp.zeros((1, height, width, 1)), train=False)
  rng = np.random.default_rng(seed)
  variables = jax.tree.map(np.asarray, variables)
  variables["batch_stats"]["BatchNorm_0"]["mean"] = rng.normal(size=features).astype(np.float32)
  variables["batch_stats"]["BatchNorm_0"]["var"] = rng.uniform(
      0.5, 2.0, size=features).astype(np.float32)
  return variables


class ToyStage(stage_lib.Stage):
  """Learn `1 - image` (plus augmentation) as read by the frozen reader."""

  def __init__(self, config):
    super().__init__(config)
    self.height = int(config.model.height)
    self.width = int(config.model.width)
    self.dtype = jnp.dtype(config.get("compute_dtype", "float32"))
    self.model = ToyNet(int(config.model.features), dtype=self.dtype)
    self.reader = ToyReader(int(config.model.reader_features), dtype=self.dtype)

  def train_source(self, data_dir):
    del data_dir  # In memory.
    return ToySource(int(self.config.data.num_train), self.height, self.width,
                     int(self.config.data.source_seed))

  def eval_source(self, data_dir):
    del data_dir
    return {"test": ToySource(int(self.config.data.num_eval), self.height, self.width,
                              int(self.config.data.source_seed) + 1)}

  def _encode(self, image):
    image = image.astype(np.float32) / 255.0
    return {"image": image, "target": 1.0 - image}

  def preprocess_train(self, example, rng):
    encoded = self._encode(example["image"])
    if rng.random() < 0.5:  # Flip input and target together.
      encoded = {k: v[:, ::-1].copy() for k, v in encoded.items()}
    encoded["text"] = example["text"]
    return encoded

  def preprocess_eval(self, example):
    encoded = self._encode(example["image"])
    encoded["text"] = example["text"]
    return encoded

  def init_variables(self, rng, batch):
    return self.model.init(rng, jnp.asarray(batch["image"]), train=False)

  def load_frozen(self):
    source = self.config.get("frozen", {}).get("reader", "")
    if source:
      return {"reader": zoo.load_variables(source)}
    return {"reader": init_reader_variables(int(self.config.model.reader_seed), self.height,
                                            self.width, int(self.config.model.reader_features))}

  def _read(self, frozen, y):
    return self.reader.apply(frozen["reader"], y, train=False)

  def loss_fn(self, params, model_state, frozen, batch, rng, train):
    del rng
    variables = {"params": params, **model_state}
    if train:
      y, new_model_state = self.model.apply(
          variables, batch["image"], train=True, mutable=list(model_state))
    else:
      y, new_model_state = self.model.apply(variables, batch["image"], train=False), model_state
    read_y = self._read(frozen, y).astype(jnp.float32)
    read_target = self._read(frozen, batch["target"]).astype(jnp.float32)
    loss = jnp.mean((read_y - read_target) ** 2)
    pixel_mse = jnp.mean((y.astype(jnp.float32) - batch["target"]) ** 2)
    return loss, ({"pixel_mse": pixel_mse}, dict(new_model_state))

  def eval_step(self, variables, frozen, batch):
    y = self.model.apply(variables, batch["image"], train=False).astype(jnp.float32)
    return {"pixel_mse": jnp.mean((y - batch["target"]) ** 2, axis=(1, 2, 3))}

  def eval_summary(self, outputs, batches):
    values = np.concatenate([o["pixel_mse"][b["mask"]] for o, b in zip(outputs, batches)])
    return {"pixel_mse": float(np.mean(values)), "num_examples": float(values.size)}
