"""Metric writing: WORKDIR/metrics.jsonl always, TensorBoard events when possible without TF.

One JSON object per line: {"step": int, "split": "train" | <eval split>, "time": unix s,
<metric>: float, ...}. TensorBoard events (WORKDIR/tensorboard/) are written with
`tensorboardX` or with the TensorFlow-free writer inside the `tensorboard` package, whichever
is installed; with neither, they are skipped (logged once). Only process 0 writes.
"""

import json
import math
from pathlib import Path
import time
from typing import Mapping

from absl import logging
import jax
import numpy as np

METRICS_FILE = "metrics.jsonl"


def _to_float(value):
  value = np.asarray(value)
  if value.size != 1:
    return None
  value = float(value.reshape(()))
  return value


class _TensorboardXWriter:

  def __init__(self, logdir):
    import tensorboardX  # pylint: disable=g-import-not-at-top  (deferred: optional backend)
    self._writer = tensorboardX.SummaryWriter(logdir)

  def scalar(self, tag, value, step):
    self._writer.add_scalar(tag, value, step)

  def flush(self):
    self._writer.flush()

  def close(self):
    self._writer.close()


class _TensorboardWriter:
  """The TF-free event writer that ships inside the `tensorboard` package."""

  def __init__(self, logdir):
    # pylint: disable=g-import-not-at-top
    from tensorboard.compat.proto import event_pb2  # (deferred: optional backend)
    from tensorboard.compat.proto import summary_pb2  # (deferred: optional backend)
    from tensorboard.summary.writer.event_file_writer import EventFileWriter  # (deferred: ditto)
    self._event_pb2, self._summary_pb2 = event_pb2, summary_pb2
    self._writer = EventFileWriter(logdir)

  def scalar(self, tag, value, step):
    summary = self._summary_pb2.Summary(
        value=[self._summary_pb2.Summary.Value(tag=tag, simple_value=value)])
    self._writer.add_event(
        self._event_pb2.Event(wall_time=time.time(), step=step, summary=summary))

  def flush(self):
    self._writer.flush()

  def close(self):
    self._writer.close()


def _make_tensorboard_writer(logdir):
  for cls in (_TensorboardXWriter, _TensorboardWriter):
    try:
      return cls(str(logdir))
    except ImportError:
      continue
  logging.info("TensorBoard events skipped: neither tensorboardX nor tensorboard is installed "
               "(metrics.jsonl has everything).")
  return None


class MetricWriter:
  """Writes scalar metrics to metrics.jsonl (+ TensorBoard) on process 0."""

  def __init__(self, workdir, tensorboard: bool = True):
    self.enabled = jax.process_index() == 0
    self.path = Path(workdir) / METRICS_FILE
    self._file = None
    self._tb = None
    if self.enabled:
      self.path.parent.mkdir(parents=True, exist_ok=True)
      self._file = open(self.path, "a")
      if tensorboard:
        self._tb = _make_tensorboard_writer(Path(workdir) / "tensorboard")

  def write(self, step: int, split: str, metrics: Mapping[str, object]) -> None:
    if not self.enabled:
      return
    record = {"step": int(step), "split": split, "time": round(time.time(), 3)}
    for key, value in metrics.items():
      value = _to_float(value)
      if value is None:
        continue
      # JSON has no NaN/Inf; keep them readable rather than invalid.
      record[key] = value if math.isfinite(value) else str(value)
      if self._tb is not None and math.isfinite(value):
        self._tb.scalar(f"{split}/{key}", value, int(step))
    self._file.write(json.dumps(record) + "\n")
    self._file.flush()

  def flush(self):
    if self._tb is not None:
      self._tb.flush()

  def close(self):
    if self._file is not None:
      self._file.close()
      self._file = None
    if self._tb is not None:
      self._tb.close()
      self._tb = None


def read_metrics(workdir) -> list[dict]:
  """All records of WORKDIR/metrics.jsonl (for tests and notebooks)."""
  path = Path(workdir) / METRICS_FILE
  if not path.exists():
    return []
  return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
