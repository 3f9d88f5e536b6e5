"""The main job (`make demo`) runs end to end and writes real coded files and its table."""

import json
import pathlib
import subprocess
import sys

from tfic_jax.codec import api

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_demo_codes_to_real_files_and_reports_every_method(tmp_path):
  out = tmp_path / "demo"
  result = subprocess.run(
      [sys.executable, "-m", "launch.demo", "--num_images=1", "--target_bpp=0.1",
       "--codecs=jpeg,webp", "--book=false", "--document=false", f"--out={out}"],
      cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  assert "| jpeg @≤0.1 |" in result.stdout and "| webp @≤0.1 |" in result.stdout
  report = json.loads((out / "demo.json").read_text())
  methods = [row["method"] for row in report["rows"]]
  learned = [f"learned {kind} q{q}" for kind in api.KINDS for q in api.shipped_qualities(kind)]
  assert methods == ["uncompressed (raw RGB)", "jpeg @≤0.1", "webp @≤0.1"] + learned
  for row in report["rows"][1:3]:
    assert 0 < row["bpp"] <= 0.1 + 1e-9
  # Every shipped learned codec wrote a real .tfic file per image, and its rate is that file's.
  for kind in api.KINDS:
    for quality in api.shipped_qualities(kind):
      tfic = out / f"000_{api.shipped_name(kind, quality)}.tfic"
      row = report["rows"][methods.index(f"learned {kind} q{quality}")]
      assert abs(8 * tfic.stat().st_size / (256 * 512) - row["bpp"]) < 1e-9
  coded = sorted(p.suffix for p in out.iterdir() if p.suffix in (".jpg", ".webp"))
  assert coded == [".jpg", ".webp"]
  # The reported rate is the real size of the files on disk.
  bits = sum(8 * p.stat().st_size for p in out.iterdir() if p.suffix in (".jpg",))
  assert abs(bits / (256 * 512) - report["rows"][1]["bpp"]) < 1e-9
