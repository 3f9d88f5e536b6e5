"""The main job (`make demo`) runs end to end and writes real coded files and its table."""

import json
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_demo_codes_to_real_files_and_reports_every_method(tmp_path):
  out = tmp_path / "demo"
  result = subprocess.run(
      [sys.executable, "-m", "launch.demo", "--num_images=1", "--target_bpp=0.1",
       "--codecs=jpeg,webp", "--book=false", f"--out={out}"],
      cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  assert "| jpeg @≤0.1 |" in result.stdout and "| webp @≤0.1 |" in result.stdout
  report = json.loads((out / "demo.json").read_text())
  methods = [row["method"] for row in report["rows"]]
  assert methods == ["uncompressed (raw RGB)", "jpeg @≤0.1", "webp @≤0.1"]
  for row in report["rows"][1:]:
    assert 0 < row["bpp"] <= 0.1 + 1e-9
  coded = sorted(p.suffix for p in out.iterdir() if p.suffix in (".jpg", ".webp"))
  assert coded == [".jpg", ".webp"]
  # The reported rate is the real size of the files on disk.
  bits = sum(8 * p.stat().st_size for p in out.iterdir() if p.suffix in (".jpg",))
  assert abs(bits / (256 * 512) - report["rows"][1]["bpp"]) < 1e-9
