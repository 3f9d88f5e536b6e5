"""launch.compress / launch.decompress on a tiny model directory (subprocesses)."""

import os
import subprocess
import sys

import numpy as np
from PIL import Image

from tfic_jax.codec import api

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(*args):
  return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                        timeout=300, env=dict(os.environ, JAX_PLATFORMS="cpu"))


def test_compress_then_decompress_odd_sized_png(model_dir, tmp_path):
  image = np.full((50, 77, 3), 240, np.uint8)
  image[20:30, 10:60] = 20
  Image.fromarray(image).save(tmp_path / "a.png")
  result = _run("launch.compress", f"--workdir={model_dir}", f"--input={tmp_path / 'a.png'}",
                f"--output={tmp_path / 'a.tfic'}")
  assert result.returncode == 0, result.stderr
  assert "bpp=" in result.stdout and "psnr=" in result.stdout and "seconds=" in result.stdout
  assert (tmp_path / "a.tfic").read_bytes()[:4] == b"TFIC"
  result = _run("launch.decompress", f"--workdir={model_dir}",
                f"--input={tmp_path / 'a.tfic'}", f"--output={tmp_path / 'b.png'}",
                f"--original={tmp_path / 'a.png'}")
  assert result.returncode == 0, result.stderr
  assert np.asarray(Image.open(tmp_path / "b.png")).shape == (50, 77, 3)
  assert "psnr=" in result.stdout


def test_bad_inputs_give_one_line_errors(model_dir, tmp_path):
  (tmp_path / "junk.tfic").write_bytes(b"hello world")
  result = _run("launch.decompress", f"--input={tmp_path / 'junk.tfic'}",
                f"--output={tmp_path / 'x.png'}")
  assert result.returncode == 1 and "not a tfic bitstream" in result.stderr
  assert "Traceback" not in result.stderr
  result = _run("launch.compress", f"--workdir={model_dir}", f"--input={tmp_path / 'nope.png'}",
                f"--output={tmp_path / 'x.tfic'}")
  assert result.returncode == 1 and "Traceback" not in result.stderr
  result = _run("launch.decompress", f"--input={tmp_path / 'missing.tfic'}",
                f"--output={tmp_path / 'x.png'}")
  assert result.returncode == 1 and "no such file" in result.stderr
  (tmp_path / "empty.tfic").write_bytes(b"")
  result = _run("launch.decompress", f"--input={tmp_path / 'empty.tfic'}",
                f"--output={tmp_path / 'x.png'}")
  assert result.returncode == 1 and "not a tfic bitstream" in result.stderr
  result = _run("launch.compress", "--model=tfic", "--quality=99",
                f"--input={tmp_path / 'nope.png'}", f"--output={tmp_path / 'x.tfic'}")
  assert result.returncode == 1 and "quality 99" in result.stderr


def test_resolve_names_shipped_models():
  assert api.shipped_name("tfic", 2) == "codec_tfic_q2"
  assert api.resolve("some/workdir") == "some/workdir"


def test_model_flag_offers_every_shipped_kind():
  from launch import compress  # pylint: disable=g-import-not-at-top
  assert tuple(compress.FLAGS["model"].parser.enum_values) == api.KINDS
  # "mse" and "mse_low" are distinct families: one's glob does not pick up the other.
  assert all(name.startswith("codec_mse_q") for name in
             [api.shipped_name("mse", q) for q in api.shipped_qualities("mse")])
