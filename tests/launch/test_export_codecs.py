"""scripts/export_codecs.py --update_metrics: rewrites only a card's Metrics section."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_RUN = """
import pathlib, runpy, sys
from tfic_jax import zoo
zoo.MODELS_DIR = pathlib.Path(sys.argv[1])
sys.argv = ["export_codecs.py"] + sys.argv[2:]
runpy.run_path("scripts/export_codecs.py", run_name="__main__")
"""

CARD = """# codec_mse_q1

- `variables.msgpack` sha256: `abc`

## Description

A codec.

## Metrics

Not measured yet.

## Intended use

Compress text.
"""


def _update(models_dir, *args):
  return subprocess.run([sys.executable, "-c", _RUN, str(models_dir), *args], cwd=ROOT,
                        capture_output=True, text=True, timeout=120,
                        env=dict(os.environ, JAX_PLATFORMS="cpu"))


def test_update_metrics_rewrites_only_the_metrics_section(tmp_path):
  (tmp_path / "codec_mse_q1").mkdir()
  card_path = tmp_path / "codec_mse_q1" / "MODEL_CARD.md"
  card_path.write_text(CARD)
  results = tmp_path / "results.json"
  results.write_text(json.dumps({
      "images": {"count": 30, "height": 128, "width": 256},
      "learned": [{"setting": "codec_mse_q1", "bpp": 0.4929, "estimated_bpp": 0.4842,
                   "psnr": 25.61, "encode_ms": 99.1, "decode_ms": 110.8}]}))
  result = _update(tmp_path, "--update_metrics=codec_mse_q1", f"--results={results}",
                   "--eval_command=python -m launch.evaluate --config=configs/eval_codec.py "
                   "--workdir=out/eval_codec --config.num_images=30")
  assert result.returncode == 0, result.stderr
  card = card_path.read_text()
  assert "Not measured yet." not in card
  assert "| 0.4929 | 0.4842 | 25.61 | 99.1 | 110.8 |" in card
  assert ("`python -m launch.evaluate --config=configs/eval_codec.py --workdir=out/eval_codec "
          "--config.num_images=30` (CPU, 30 synthetic test lines") in card
  before, after = CARD.split("## Metrics"), card.split("## Metrics")
  assert after[0] == before[0]  # Everything above the section is kept ...
  assert after[1].endswith("## Intended use\n\nCompress text.\n")  # ... and everything below.

  # A model the results do not cover is refused, and the card is left as it was.
  result = _update(tmp_path, "--update_metrics=codec_mse_q1", f"--results={tmp_path / 'x.json'}")
  assert result.returncode != 0 and "needs --results" in result.stderr
  results.write_text(json.dumps({"images": {}, "learned": []}))
  result = _update(tmp_path, "--update_metrics=codec_mse_q1", f"--results={results}")
  assert result.returncode != 0 and "not in" in result.stderr
  assert card_path.read_text() == card
