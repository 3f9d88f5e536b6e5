"""Tests for the classical baselines (configs/eval_baselines.py) on a stand-in for the synthetic generator (fast, two images)."""

import csv
import json

import numpy as np
from PIL import Image
from PIL import ImageDraw
import pytest

from tfic_jax.eval import baselines
from tfic_jax.eval import tesseract


def _stand_in_examples(num_images, height, width, seed, font_split):
  del seed, font_split
  words = ["Hello", "World", "Baseline"]
  examples = []
  for index in range(num_images):
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).text((10, height // 4), words[index], fill="black", font_size=40)
    examples.append({"image": np.asarray(image), "text": words[index]})
  return examples


@pytest.mark.skipif(not tesseract.available(), reason="tesseract binary not installed")
def test_run_writes_rows_per_setting_and_lowest_rate(monkeypatch, tmp_path):
  monkeypatch.setattr(baselines, "render_test_images", _stand_in_examples)
  report = baselines.run(
      num_images=2, height=96, width=256, seed=0, font_split="seen", codecs=["jpeg"],
      downscales=[1, 2], grid="quick", num_workers=2, avif_speed=6, out_dir=tmp_path,
  )
  rows = report["rows"]
  assert rows[0]["codec"] == "uncompressed" and rows[0]["accuracy"] == 1.0
  assert len(rows) == 1 + 2 * len(baselines.quality_grid("jpeg", "quick"))
  assert report["lowest_rate_keeping_95"]["jpeg"]["accuracy"] >= 0.95
  written = json.loads((tmp_path / "baselines.json").read_text())
  assert written["rows"][0]["psnr"] == "inf"  # Strict JSON.
  with open(tmp_path / "baselines.csv") as f:
    assert len(list(csv.DictReader(f))) == len(rows)


def test_run_rejects_unknown_codec_before_work(monkeypatch, tmp_path):
  monkeypatch.setattr(baselines, "render_test_images", pytest.fail)
  with pytest.raises(ValueError, match="Unknown codec"):
    baselines.run(
        num_images=1, height=64, width=64, seed=0, font_split="seen", codecs=["heic"],
        downscales=[1], grid="quick", num_workers=1, avif_speed=6, out_dir=tmp_path,
    )
