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


def test_a_folder_and_a_glob_in_one_call_with_one_bad_file(model_dir, tmp_path):
  pages = tmp_path / "pages"
  (pages / "sub").mkdir(parents=True)
  for name, shape in (("a.png", (40, 70, 3)), ("sub/b.png", (100, 90, 3))):
    Image.fromarray(np.full(shape, 200, np.uint8)).save(pages / name)
  (pages / "broken.png").write_bytes(b"not a png")
  Image.fromarray(np.full((30, 30, 3), 90, np.uint8)).save(tmp_path / "line_1.png")
  result = _run("launch.compress", f"--workdir={model_dir}", "--nopsnr", str(pages),
                str(tmp_path / "line_*.png"), f"--output_dir={tmp_path / 'coded'}")
  assert result.returncode == 1 and "Traceback" not in result.stderr
  assert [l for l in result.stderr.splitlines() if l.startswith("error:")] == [
      f"error: {pages / 'broken.png'}: {pages / 'broken.png'}: not an image file Pillow can "
      "identify."]
  for coded in ("a.tfic", "sub/b.tfic", "line_1.tfic"):
    assert (tmp_path / "coded" / coded).read_bytes()[:4] == b"TFIC"
  assert "total: 3 of 4 files compressed (1 failed)" in result.stdout
  result = _run("launch.decompress", f"--workdir={model_dir}", str(tmp_path / "coded"),
                f"--output_dir={tmp_path / 'decoded'}")
  assert result.returncode == 0, result.stderr
  assert np.asarray(Image.open(tmp_path / "decoded" / "sub" / "b.png")).shape == (100, 90, 3)
  assert "total: 3 of 3 files decompressed (0 failed)" in result.stdout


def test_output_paths_that_cannot_be_written_give_one_line_errors(model_dir, tmp_path):
  Image.fromarray(np.full((20, 20, 3), 90, np.uint8)).save(tmp_path / "a.png")
  (tmp_path / "a_file").write_bytes(b"")
  for output, message in ((tmp_path, "is a directory"),
                          (tmp_path / "a_file" / "x.tfic", "is a file, not a directory")):
    result = _run("launch.compress", f"--workdir={model_dir}", "--nopsnr",
                  f"--input={tmp_path / 'a.png'}", f"--output={output}")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert lines[-1].startswith("error: ") and message in lines[-1], lines[-1]


def test_resolve_names_shipped_models():
  assert api.shipped_name("tfic", 2) == "codec_tfic_q2"
  assert api.resolve("some/workdir") == "some/workdir"


def test_model_flag_offers_every_shipped_kind():
  from launch import compress  # pylint: disable=g-import-not-at-top
  assert tuple(compress.FLAGS["model"].parser.enum_values) == api.KINDS
  # "mse" and "mse_low" are distinct families: one's glob does not pick up the other.
  assert all(name.startswith("codec_mse_q") for name in
             [api.shipped_name("mse", q) for q in api.shipped_qualities("mse")])
