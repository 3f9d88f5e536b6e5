r"""The main job (`make demo`): text images coded to real files, decoded and read, on CPU.

  python -m launch.demo [--num_images=6] [--target_bpp=0.05,0.1] [--out=out/demo]

1. Renders synthetic text test images (Part A: 256×512, held-out test seeds) and writes them.
2. Codes each with every classical codec at each target rate, each given its best shot: the
   highest quality whose real file fits the rate, after a 1×, 2× or 4× downscale (the one with
   the best PSNR; JPEG with optimize=True). Writes the real files and decodes them from disk.
3. Reads the originals and every decoded image with the shipped OCR judge (models/ocr_default)
   and with Tesseract (the independent reader), and prints the table: real bpp (file bytes × 8
   / pixels), PSNR, and the paper's OCR accuracy by each reader.
4. Part B in one line: a rendered book page degraded as in the paper (downsample + JPEG q=1),
   its patches read clean and degraded.

   The shipped learned codecs (models/codec_mse_q*, models/codec_tfic_q*) code the same images
   into .tfic files, decoded from disk and read alike.
"""

from collections.abc import Sequence
import dataclasses
import json
import pathlib
import sys
import time

from absl import app
from absl import flags
import numpy as np

from tfic_jax import errors
from tfic_jax.data import test_sets

_NUM_IMAGES = flags.DEFINE_integer("num_images", 6, "Synthetic test images to code and read.")
_TARGET_BPP = flags.DEFINE_list("target_bpp", ["0.05", "0.1"], "Rates (bpp) for the codecs.")
_CODECS = flags.DEFINE_list("codecs", ["jpeg", "webp", "avif", "jpeg2000"], "Classical codecs.")
_OUT = flags.DEFINE_string("out", "out/demo", "Where images, files and results go.")
_SEED_SPLIT = flags.DEFINE_enum("split", "test", ["test", "test_heldout_fonts"],
                                "Which synth_text test split to render.")
_BOOK = flags.DEFINE_bool("book", True, "Also show the Part B degradation on a book page.")


@dataclasses.dataclass
class Row:
  method: str
  bpp: float
  psnr: float
  judge: float | None
  tesseract: float | None


def log(message: str) -> None:
  print(message, flush=True)


def render_images(num_images: int, split: str) -> list[dict]:
  """The first `num_images` examples of a synth_text test split, exactly as the dataset holds."""
  examples, _ = test_sets.synth_test_examples(
      split, num_images, test_sets.SYNTH_HEIGHT, test_sets.SYNTH_WIDTH, data_dir="data")
  return examples


class Readers:
  """The shipped judge and Tesseract, each optional (a note says why one is missing)."""

  def __init__(self):
    from tfic_jax.eval import tesseract  # pylint: disable=g-import-not-at-top
    from tfic_jax.ocr import api  # pylint: disable=g-import-not-at-top
    self._api, self._tesseract = api, tesseract
    try:
      self.model, self.variables = api.load()
      self.judge_name = f"models/{api.DEFAULT_MODEL} ({self.model.num_params():,} params)"
    except errors.CheckpointError as e:
      log(f"note: no OCR judge column: {e}")
      self.model = self.variables = None
    self.has_tesseract = tesseract.available()
    if not self.has_tesseract:
      log(f"note: no Tesseract column: the binary is not installed; {tesseract.INSTALL_HINT}.")

  def judge(self, images: Sequence[np.ndarray]) -> list[str] | None:
    if self.model is None:
      return None
    ids = self._api.recognize(self.model, self.variables, np.stack(images))
    return self.model.decode(np.asarray(ids))

  def tesseract(self, images: Sequence[np.ndarray], psm: int = 7) -> list[str] | None:
    if not self.has_tesseract:
      return None
    return self._tesseract.read_many(list(images), psm=psm)


def score(texts: Sequence[str], readings: list[str] | None) -> float | None:
  from tfic_jax import metrics  # pylint: disable=g-import-not-at-top
  return None if readings is None else metrics.mean_ocr_accuracy(texts, readings)


def code_to_files(images, codec: str, target_bpp: float, out_dir: pathlib.Path):
  """Best setting ≤ target per image; writes the files; returns the images decoded from disk."""
  from tfic_jax.eval import classical  # pylint: disable=g-import-not-at-top
  coder = classical.get_codec(codec)
  decoded, num_bits, pixels = [], 0, 0
  for index, image in enumerate(images):
    point = classical.best_at_rate(image, codec, target_bpp, steps=6)
    if point is None:  # even the lowest quality is above the target: use it, say so in bpp
      point = min(classical.sweep(image, codec, [coder.quality_range[0]]), key=lambda p: p.bpp)
    path = out_dir / f"{index:03d}_{codec}_{target_bpp:g}bpp_x{point.downscale}{coder.extension}"
    path.write_bytes(point.stream)
    decoded.append(classical.decode(path.read_bytes(), image.shape))
    num_bits += 8 * path.stat().st_size
    pixels += image.shape[0] * image.shape[1]
  return decoded, num_bits / pixels


def learned_to_files(images, kind: str, out_dir: pathlib.Path):
  """Every shipped `codec_{kind}_q*` model: [(name, decoded images from disk, real bpp)]."""
  from tfic_jax.codec import api  # pylint: disable=g-import-not-at-top
  from tfic_jax.codec import bitstream  # pylint: disable=g-import-not-at-top
  results = []
  for quality in api.shipped_qualities(kind):
    codec = api.load(api.shipped_name(kind, quality))
    decoded, num_bits, pixels = [], 0, 0
    for index, image in enumerate(images):
      path = out_dir / f"{index:03d}_{codec.name}.tfic"
      path.write_bytes(bitstream.compress(codec, image))
      decoded.append(bitstream.decompress(codec, path.read_bytes()))
      num_bits += 8 * path.stat().st_size
      pixels += image.shape[0] * image.shape[1]
    results.append((f"learned {kind} q{quality}", decoded, num_bits / pixels))
  return results


def part_a(readers: Readers, out_dir: pathlib.Path) -> list[Row]:
  from tfic_jax import imageio  # pylint: disable=g-import-not-at-top
  from tfic_jax import metrics  # pylint: disable=g-import-not-at-top
  log(f"[1/3] Rendering {_NUM_IMAGES.value} synthetic text test images (256×512) ...")
  examples = render_images(_NUM_IMAGES.value, _SEED_SPLIT.value)
  images = [e["image"] for e in examples]
  texts = [e["text"] for e in examples]
  for index, image in enumerate(images):
    imageio.save_image(out_dir / f"{index:03d}_original.png", image)
  rows = [Row("uncompressed (raw RGB)", 24.0, float("inf"), score(texts, readers.judge(images)),
              score(texts, readers.tesseract(images)))]
  log(f"[2/3] Coding with {', '.join(_CODECS.value)} at {', '.join(_TARGET_BPP.value)} bpp "
      "(best of 1×/2×/4× downscale), decoding from the files, reading ...")
  for target in (float(t) for t in _TARGET_BPP.value):
    for codec in _CODECS.value:
      start = time.perf_counter()
      decoded, real_bpp = code_to_files(images, codec, target, out_dir)
      psnr = float(np.mean([min(metrics.psnr(a, b), 99.0) for a, b in zip(images, decoded)]))
      rows.append(Row(f"{codec} @≤{target:g}", real_bpp, psnr,
                      score(texts, readers.judge(decoded)),
                      score(texts, readers.tesseract(decoded))))
      log(f"  {codec:9s} ≤{target:g} bpp: {real_bpp:.4f} bpp, {psnr:.2f} dB "
          f"({time.perf_counter() - start:.1f} s)")
  from tfic_jax.codec import api  # pylint: disable=g-import-not-at-top
  for kind in api.KINDS:  # mse (stage 1), mse_low (MSE at TFIC's rates), tfic (stage 2)
    start = time.perf_counter()
    for name, decoded, real_bpp in learned_to_files(images, kind, out_dir):
      psnr = float(np.mean([min(metrics.psnr(a, b), 99.0) for a, b in zip(images, decoded)]))
      rows.append(Row(name, real_bpp, psnr, score(texts, readers.judge(decoded)),
                      score(texts, readers.tesseract(decoded))))
      log(f"  {name}: {real_bpp:.4f} bpp (.tfic files), {psnr:.2f} dB "
          f"({time.perf_counter() - start:.1f} s)")
  return rows


def part_b(readers: Readers, out_dir: pathlib.Path) -> dict | None:
  from tfic_jax import imageio  # pylint: disable=g-import-not-at-top
  from tfic_jax.eval import ocr_judge  # pylint: disable=g-import-not-at-top
  if not readers.has_tesseract:
    return None
  log("[3/3] Part B: a book test page, downsampled + JPEG quality 1, its 10 patches ...")
  _, patches = test_sets.book_test_patches(1)
  texts = [p["text"] for p in patches]
  result = {}
  for kind in ("clean", "degraded"):
    images = [p[kind] for p in patches]
    imageio.save_image(out_dir / f"book_patches_{kind}.png", np.concatenate(images[:4], axis=0))
    result[kind] = score(texts, readers.tesseract(images, psm=ocr_judge.TESSERACT_BLOCK_PSM))
  return result


def format_table(rows: list[Row], judge_name: str | None) -> str:
  def cell(value, fmt):
    return "—" if value is None else format(value, fmt)
  lines = ["| method | real bpp | PSNR (dB) | OCR acc. (judge) | OCR acc. (Tesseract) |",
           "| --- | --- | --- | --- | --- |"]
  for row in rows:
    psnr = "∞" if row.psnr == float("inf") else f"{row.psnr:.2f}"
    lines.append(f"| {row.method} | {row.bpp:.4f} | {psnr} | {cell(row.judge, '.3f')} | "
                 f"{cell(row.tesseract, '.3f')} |")
  if judge_name:
    lines.append(f"\njudge: {judge_name}")
  return "\n".join(lines)


def run(out_dir: pathlib.Path) -> dict:
  out_dir.mkdir(parents=True, exist_ok=True)
  start = time.perf_counter()
  readers = Readers()
  rows = part_a(readers, out_dir)
  book_result = part_b(readers, out_dir) if _BOOK.value else None
  table = format_table(rows, getattr(readers, "judge_name", None))
  log("\nPart A: synthetic text test images, real files on disk "
      f"({out_dir}), accuracy = 1 − lev/max over alphanumerics (paper §3.3)\n")
  log(table)
  if book_result:
    log(f"\nPart B: Tesseract on 10 book patches: clean {book_result['clean']:.3f}, "
        f"degraded (LR + JPEG q=1) {book_result['degraded']:.3f}")
  report = {"rows": [dataclasses.asdict(r) for r in rows], "book": book_result,
            "seconds": time.perf_counter() - start}
  (out_dir / "demo.json").write_text(
      json.dumps(report, indent=2, default=lambda v: None if v != v else v))
  log(f"\nDone in {report['seconds']:.0f} s; images, coded files and demo.json in {out_dir}/")
  return report


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    run(pathlib.Path(_OUT.value))
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)
