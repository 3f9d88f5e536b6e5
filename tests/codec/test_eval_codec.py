"""The codec evaluation end to end on a tiny model and two small test lines."""

import json

from tfic_jax.codec import evaluate


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
