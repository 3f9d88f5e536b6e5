"""The codec evaluation end to end on a tiny model and two small test lines."""

import dataclasses
import json

import numpy as np
import pytest

from tfic_jax.eval import codec as evaluate


def test_evaluation_writes_results_and_plot(model_dir, tmp_path):
  report = evaluate.run([str(model_dir), str(model_dir)], num_images=2, height=64, width=128,
                        out_dir=str(tmp_path))
  learned = report["learned"][0]
  assert learned["bpp"] > 0 and learned["estimated_bpp"] > 0 and learned["encode_ms"] > 0
  assert learned["symbols_per_s"] > 0
  assert set(report["classical"]) == {"jpeg", "webp", "avif", "jpeg2000"}
  assert all(len(points) > 3 for points in report["classical"].values())
  saved = json.loads((tmp_path / "results.json").read_text())
  assert saved["images"]["count"] == 2
  assert (tmp_path / "rd.png").stat().st_size > 1000
  lines = evaluate.summary_lines(report)
  assert lines[0].startswith("| method |")


def test_classical_psnr_at_each_learned_rate_is_printed():
  learned = [evaluate.Point("learned (mse)", "a", 0.15, 29.0),
             evaluate.Point("learned (mse)", "b", 0.5, 31.0)]
  webp = [evaluate.Point("webp", "x1 q0", 0.1, 27.0), evaluate.Point("webp", "x1 q5", 0.2, 29.0),
          evaluate.Point("webp", "x1 q9", 0.3, 28.0)]  # the last is off the envelope
  table = evaluate.classical_at_learned(learned, {"webp": webp})
  # Interpolated in log-rate between (0.1, 27) and (0.2, 29), not linearly in rate.
  expected = 27.0 + 2.0 * (np.log(0.15) - np.log(0.1)) / (np.log(0.2) - np.log(0.1))
  assert table["a"]["webp"] == pytest.approx(expected)
  assert table["b"]["webp"] is None  # above the envelope's highest rate (0.2)
  report = {"learned": [dataclasses.asdict(p) for p in learned],
            "classical": {"webp": [dataclasses.asdict(p) for p in webp]}, "bd_rate_psnr": {}}
  lines = evaluate.summary_lines(report)  # an older results.json: computed from the points
  assert f"| a | 0.1500 | 29.00 | {expected:.2f} |" in lines
  assert "| b | 0.5000 | 31.00 | - |" in lines
  without_classical = dict(report, classical={})
  assert not any("at each learned point" in line
                 for line in evaluate.summary_lines(without_classical))
