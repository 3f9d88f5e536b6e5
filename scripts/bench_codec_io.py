r"""Page-scale codec I/O, measured: large images in bounded memory, folders in one call.

  python scripts/bench_codec_io.py                       # 4000² and 8192², 100 lines
  python scripts/bench_codec_io.py --sides=1000 --lines=10   # a quick look

1. Large images: a page-like RGB image (black text lines on white, rendered here) of each side
   in --sides, compressed and decompressed by `launch.compress` / `launch.decompress` in a
   fresh process each; prints the peak RSS of that process (its own ru_maxrss, from
   os.wait4), the wall time, seconds per megapixel and the bpp.
2. Text lines: --lines synthetic test lines (256×512, `synth_text` test split as the builder
   renders them) through ONE `launch.compress` call (--nopsnr) and ONE `launch.decompress`
   call: total wall time, and the per-image coding time each launcher reports, after the first
   image (compilation).

The compilation cache is turned off (`--compilation_cache=`) so that every figure includes
the compilation a first call pays; its last lines are the figures for docs/results.md.
"""

import argparse
import os
from pathlib import Path
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image
from PIL import ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def page_image(side: int, seed: int = 0) -> np.ndarray:
  """A side×side page: lines of black pseudo-words (PIL's default font) on white."""
  rng = np.random.default_rng(seed)
  image = Image.new("RGB", (side, side), "white")
  draw = ImageDraw.Draw(image)
  letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
  for top in range(20, side - 20, 18):
    words = ["".join(rng.choice(letters, rng.integers(2, 9))) for _ in range(side // 40)]
    draw.text((20, top), " ".join(words), fill="black")
  return np.asarray(image)


def _run(args: list[str]) -> tuple[str, float, int]:
  """(stdout, wall seconds, peak RSS bytes) of one launcher process."""
  with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", *args, "--compilation_cache="], cwd=REPO,
                               stdout=out, stderr=err, text=True,
                               env=dict(os.environ, JAX_PLATFORMS="cpu"))
    # Reaped here, not by Popen: os.wait4 gives this child's own rusage.
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    out.seek(0)
    err.seek(0)
    if process.returncode:
      sys.exit(f"{' '.join(args)} failed:\n{err.read()[-3000:]}")
    return out.read(), seconds, usage.ru_maxrss * 1024  # Linux: KiB


def _mib(value: int) -> str:
  return f"{value / 2**20:.0f} MiB"


def large_images(sides: list[int], work: Path) -> list[str]:
  lines = []
  for side in sides:
    png, coded, decoded = work / f"page_{side}.png", work / f"page_{side}.tfic", work / "d.png"
    Image.fromarray(page_image(side)).save(png)
    stdout, enc_s, enc_rss = _run(["launch.compress", f"--input={png}", f"--output={coded}",
                                   "--nopsnr"])
    _, dec_s, dec_rss = _run(["launch.decompress", f"--input={coded}", f"--output={decoded}"])
    bpp = re.search(r"bpp=([0-9.]+)", stdout).group(1)
    megapixels = side * side / 1e6
    lines.append(f"| {side}×{side} | {bpp} | {enc_s:.0f} s ({enc_s / megapixels:.2f} s/MP), "
                 f"peak {_mib(enc_rss)} | {dec_s:.0f} s ({dec_s / megapixels:.2f} s/MP), "
                 f"peak {_mib(dec_rss)} |")
    print(lines[-1], flush=True)
  return lines


def text_lines(count: int, work: Path) -> list[str]:
  from tfic_jax.data import test_sets  # pylint: disable=g-import-not-at-top
  examples, _ = test_sets.synth_test_examples("test", count, 256, 512, str(REPO / "data"))
  folder = work / "lines"
  folder.mkdir()
  for index, example in enumerate(examples):
    Image.fromarray(example["image"]).save(folder / f"{index:03d}.png")
  out = []
  for launcher, args in (("launch.compress", [str(folder), f"--output_dir={work / 'coded'}",
                                              "--nopsnr"]),
                         ("launch.decompress", [str(work / "coded"),
                                                f"--output_dir={work / 'decoded'}"])):
    stdout, seconds, _ = _run([launcher, *args])
    per_image = [float(s) for s in re.findall(r"seconds=([0-9.]+)", stdout)]
    warm = 1000 * np.mean(per_image[1:]) if len(per_image) > 1 else float("nan")
    out.append(f"| {launcher} | {count} lines of 256×512 | {seconds:.1f} s in all | "
               f"{warm:.0f} ms per image after the first |")
    print(out[-1], flush=True)
  return out


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--sides", default="4000,8192", help="Sides of the large images.")
  parser.add_argument("--lines", type=int, default=100, help="Text lines in the batch.")
  args = parser.parse_args()
  with tempfile.TemporaryDirectory() as tmp:
    work = Path(tmp)
    sides = [int(s) for s in args.sides.split(",") if s]
    print("| image | bpp | compress | decompress |\n|---|---|---|---|")
    large = large_images(sides, work)
    print("| launcher | batch | wall time | coding time |\n|---|---|---|---|")
    batch = text_lines(args.lines, work) if args.lines else []
  print("\n".join(["", *large, *batch]))


if __name__ == "__main__":
  main()
