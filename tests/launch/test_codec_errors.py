"""scripts/codec_errors.py: the error split by region and channel, and an end-to-end run."""

import functools
import importlib.util
import os
import subprocess
import sys
from unittest import mock

from absl import flags
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _script():
  """The script as a module, its flags defined on a FlagValues of their own: launch.demo,
  imported in-process by another test of the same worker, defines flags of the same names."""
  spec = importlib.util.spec_from_file_location(
      "codec_errors", os.path.join(ROOT, "scripts", "codec_errors.py"))
  module = importlib.util.module_from_spec(spec)
  own = flags.FlagValues()
  defines = {name: functools.partial(getattr(flags, name), flag_values=own)
             for name in ("DEFINE_list", "DEFINE_integer", "DEFINE_string")}
  with mock.patch.multiple(flags, **defines):
    spec.loader.exec_module(module)
  return module


def _run_script(*flags):
  return subprocess.run([sys.executable, "scripts/codec_errors.py", *flags],
                        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_error_stats_split_text_box_from_background_and_luma_from_colour():
  codec_errors = _script()
  original = np.full((8, 16, 3), 200, np.uint8)
  decoded = original.copy()
  decoded[2:4, 4:8] += np.array([10, 0, 0], np.uint8)  # red error inside the box only
  decoded[0, 0] -= 3  # one grey error outside it
  stats = codec_errors.error_stats(original, decoded, (4, 2, 8, 4))
  assert np.isclose(stats["text_sq"], 100 / 3)  # 8 pixels × (10², 0, 0) / (8 pixels · 3)
  outside = 8 * 16 - 8
  assert np.isclose(stats["background_sq"], 9 / outside)
  assert np.isclose(stats["background_bias"], -3 / outside)
  # A pure-red error of 10 is 2.99 in luma: the luma error is far below the RGB one.
  assert np.isclose(stats["luma_sq"], (8 * (0.299 * 10) ** 2 + 9) / (8 * 16))
  assert stats["luma_sq"] < stats["sq"]
  summary = codec_errors.summarize([dict(stats, bpp=0.5), dict(stats, bpp=0.1)])
  assert summary["lines"] == 2 and np.isclose(summary["bpp"], 0.3)
  assert np.isclose(summary["psnr"], 10 * np.log10(255 ** 2 / stats["sq"]))
  perfect = codec_errors.error_stats(original, original, (4, 2, 8, 4))
  assert codec_errors.summarize([dict(perfect, bpp=0.0)])["psnr"] == float("inf")


def test_runs_on_the_shipped_codec_and_webp():
  result = _run_script("--codecs=codec_mse_q1", "--webp_qualities=5", "--num_images=3")
  assert result.returncode == 0, result.stderr[-2000:]
  rows = [line for line in result.stdout.splitlines() if line.startswith("| codec_mse_q1 | all")]
  assert len(rows) == 1
  bpp, psnr = (float(cell) for cell in rows[0].split("|")[4:6])
  assert 0.01 < bpp < 1 and 15 < psnr < 40
  assert "| webp q5 | all | 3 |" in result.stdout


def test_unknown_codec_is_one_line_error():
  result = _run_script("--codecs=no_such_codec", "--num_images=1")
  assert result.returncode != 0
  assert "error: No model at 'no_such_codec'" in result.stderr
  assert "Traceback" not in result.stderr


def test_non_numeric_webp_quality_is_a_usage_error():
  result = _run_script("--webp_qualities=high", "--num_images=1")
  assert result.returncode != 0
  assert "--webp_qualities must be numbers" in result.stderr
  assert "Traceback" not in result.stderr
