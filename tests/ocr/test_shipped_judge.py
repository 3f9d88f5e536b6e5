"""The shipped default judge (models/ocr_default) loads, matches its card and reads text."""

import hashlib
import pathlib
import re

import numpy as np

from tfic_jax import metrics
from tfic_jax.data import synth_text
from tfic_jax.ocr import api

MODEL_DIR = pathlib.Path(__file__).resolve().parents[2] / "models" / api.DEFAULT_MODEL


def test_card_checksum_matches_the_shipped_variables():
  card = (MODEL_DIR / "MODEL_CARD.md").read_text()
  recorded = re.search(r"sha256: `([0-9a-f]{64})`", card).group(1)
  actual = hashlib.sha256((MODEL_DIR / "variables.msgpack").read_bytes()).hexdigest()
  assert recorded == actual


def test_default_judge_loads_and_reads_rendered_lines():
  model, variables = api.load()
  assert model.num_params() == 944_485
  spec = synth_text.SynthTextSpec()  # 256×512, seen fonts
  examples = [synth_text.render_example(spec, 1, index) for index in range(4)]
  ids = api.recognize(model, variables, np.stack([e["image"] for e in examples]))
  readings = model.decode(np.asarray(ids))
  # Far above chance (a random reader scores ~0.1); the measured mean is in docs/results.md.
  assert metrics.mean_ocr_accuracy([e["text"] for e in examples], readings) > 0.5
