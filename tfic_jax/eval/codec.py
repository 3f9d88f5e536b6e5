"""Rate–distortion evaluation of learned codecs against the classical ones (`configs/eval_codec.py`).

For each learned codec (a workdir, model dir or shipped name) on the synthetic test lines:
every image goes through real files (`bitstream.compress` → bytes → `decompress`), so the
rate is the file size, header included. Reported per codec: real and estimated bpp, PSNR,
encode / decode times per image at batch 1 (split into transforms and entropy coding) and the
entropy coder's throughput. The classical codecs (JPEG optimize=True, WebP, AVIF, JPEG 2000,
each also after 2× / 4× downscales) are swept on the same images, their RD curve is the
envelope over all settings, and BD-rates (PSNR) of the learned curve against each are printed.
"""

import dataclasses
import json
from pathlib import Path
import time
from typing import Sequence

import jax.numpy as jnp
import numpy as np

from tfic_jax import metrics
from tfic_jax.codec import api
from tfic_jax.codec import bitstream
from tfic_jax.eval import baselines
from tfic_jax.eval import bjontegaard
from tfic_jax.eval import classical

CLASSICAL = ("jpeg", "webp", "avif", "jpeg2000")


@dataclasses.dataclass
class Point:
  """One codec setting averaged over the test images."""
  method: str
  setting: str
  bpp: float
  psnr: float
  estimated_bpp: float | None = None
  encode_ms: float | None = None
  encode_transforms_ms: float | None = None
  encode_entropy_ms: float | None = None
  decode_ms: float | None = None
  symbols_per_s: float | None = None


def test_images(num_images: int, height: int, width: int, split: str = "test") -> list[dict]:
  """The synthetic test lines, rendered exactly as the tfds test split renders them."""
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top  (deferred: tfds)
  font_split = "heldout" if split == "test_heldout_fonts" else "seen"
  return baselines.render_test_images(num_images, height, width,
                                      builders.SYNTH_SPLIT_SEEDS[split], font_split)


@dataclasses.dataclass
class Coded:
  """One image through a real file: the bytes, the decoded image and the batch-1 timings."""
  data: bytes
  decoded: np.ndarray
  encode_s: float  # The whole `bitstream.compress` call.
  decode_s: float  # The whole `bitstream.decompress` call.
  encode_timings: dict  # compress's {"transforms", "entropy", "symbols"}
  decode_timings: dict  # decompress's {"entropy", "transforms", "symbols"}


def code_images(codec: api.LoadedCodec, images: Sequence[np.ndarray]) -> list[Coded]:
  """Every image compressed to bytes and decoded from them at batch 1 (one warm-up first)."""
  bitstream.decompress(codec, bitstream.compress(codec, images[0]))  # compile
  coded = []
  for image in images:
    encode_timings, decode_timings = {}, {}
    start = time.perf_counter()
    data = bitstream.compress(codec, image, timings=encode_timings)
    middle = time.perf_counter()
    decoded = bitstream.decompress(codec, data, timings=decode_timings)
    coded.append(Coded(data, decoded, middle - start, time.perf_counter() - middle,
                       encode_timings, decode_timings))
  return coded


def evaluate_learned(codec: api.LoadedCodec, images: Sequence[np.ndarray], label: str) -> Point:
  """Real files for every image; times are medians over images (batch 1, after a warm-up)."""
  coded = code_images(codec, images)
  estimates = []
  for image in images:
    padded = api.pad_to_multiple(image)
    out = api.forward(codec.model, codec.variables, jnp.asarray(padded, jnp.float32)[None] / 255.0)
    estimates.append(float(out["bpp"][0]) * padded.shape[0] * padded.shape[1]
                     / (image.shape[0] * image.shape[1]))
  symbols = sum(c.encode_timings["symbols"] for c in coded)
  entropy_s = sum(c.encode_timings["entropy"] + c.decode_timings["entropy"] for c in coded)
  return Point(
      method=label, setting=codec.name,
      bpp=float(np.mean([bitstream.bits_per_pixel(c.data, *i.shape[:2])
                         for c, i in zip(coded, images)])),
      psnr=float(np.mean([metrics.psnr(i, c.decoded) for c, i in zip(coded, images)])),
      estimated_bpp=float(np.mean(estimates)),
      encode_ms=1e3 * float(np.median([c.encode_s for c in coded])),
      encode_transforms_ms=1e3 * float(np.median([c.encode_timings["transforms"] for c in coded])),
      encode_entropy_ms=1e3 * float(np.median([c.encode_timings["entropy"] for c in coded])),
      decode_ms=1e3 * float(np.median([c.decode_s for c in coded])),
      # Symbols encoded + decoded per second of entropy-coding time (incl. parameters).
      symbols_per_s=2 * symbols / entropy_s if entropy_s else None)


def evaluate_classical(images: Sequence[np.ndarray], codec: str,
                       downscales: Sequence[int] = classical.DOWNSCALES,
                       qualities: Sequence[float] | None = None) -> list[Point]:
  """Mean bpp / PSNR of every (downscale, quality) setting of a classical codec."""
  per_setting: dict[tuple, list] = {}
  for image in images:
    for point in classical.sweep(image, codec, qualities, downscales):
      per_setting.setdefault((point.downscale, point.quality), []).append(point)
  return [Point(method=codec, setting=f"x{d} q{q:g}",
                bpp=float(np.mean([p.bpp for p in pts])),
                psnr=float(np.mean([p.psnr for p in pts])))
          for (d, q), pts in sorted(per_setting.items())]


def bd_rates(learned: Sequence[Point], anchors: dict[str, Sequence[Point]]) -> dict:
  """BD-rate (PSNR) of the learned curve against each anchor curve."""
  return {name: bjontegaard.bd_rate([p.bpp for p in pts], [p.psnr for p in pts],
                                    [p.bpp for p in learned], [p.psnr for p in learned])
          for name, pts in anchors.items()}


def format_table(points: Sequence[Point]) -> str:
  lines = ["| method | setting | real bpp | est. bpp | PSNR (dB) | encode ms | decode ms |",
           "|---|---|---|---|---|---|---|"]
  for p in points:
    est = f"{p.estimated_bpp:.4f}" if p.estimated_bpp is not None else "-"
    enc = f"{p.encode_ms:.1f}" if p.encode_ms is not None else "-"
    dec = f"{p.decode_ms:.1f}" if p.decode_ms is not None else "-"
    lines.append(f"| {p.method} | {p.setting} | {p.bpp:.4f} | {est} | {p.psnr:.2f} | {enc} | "
                 f"{dec} |")
  return "\n".join(lines)


def plot(curves: dict[str, Sequence[Point]], path: Path, title: str) -> None:
  import matplotlib  # pylint: disable=g-import-not-at-top  (deferred: matplotlib)
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top  (deferred: matplotlib)
  fig, ax = plt.subplots(figsize=(6, 4.2))
  for name, pts in curves.items():
    r, q = bjontegaard.envelope([p.bpp for p in pts], [p.psnr for p in pts])
    ax.plot(r, q, marker="o" if name.startswith("learned") else ".", label=name)
  ax.set_xscale("log")
  ax.set_xlabel("bits per pixel (real files)")
  ax.set_ylabel("PSNR (dB)")
  ax.set_title(title, fontsize=9)
  ax.grid(True, alpha=0.3)
  ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def run(codec_paths: Sequence[str], num_images: int, height: int, width: int,
        out_dir: str | None, label: str = "learned (mse)", with_classical: bool = True) -> dict:
  """The whole evaluation; writes results.json and rd.png under `out_dir` if given."""
  examples = test_images(num_images, height, width)
  images = [e["image"] for e in examples]
  learned = [evaluate_learned(api.load(path), images, label) for path in codec_paths]
  learned.sort(key=lambda p: p.bpp)
  anchors = {name: evaluate_classical(images, name) for name in CLASSICAL} if with_classical else {}
  report = {
      "images": {"count": num_images, "height": height, "width": width, "split": "test"},
      "learned": [_as_dict(p) for p in learned],
      "classical": {name: [_as_dict(p) for p in pts] for name, pts in anchors.items()},
      "bd_rate_psnr": bd_rates(learned, anchors) if len(learned) >= 2 else {},
      "classical_psnr_at_learned_bpp": classical_at_learned(learned, anchors),
  }
  if out_dir:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=2))
    if anchors:
      plot({label: learned, **anchors}, out / "rd.png",
           f"{num_images} synthetic test lines, {height}×{width}")
  return report


def classical_at_learned(learned: Sequence[Point], anchors: dict[str, Sequence[Point]]) -> dict:
  """{learned setting: {classical codec: PSNR of its envelope at that bpp, or None outside}}."""
  return {p.setting: {name: bjontegaard.quality_at_rate([a.bpp for a in pts],
                                                        [a.psnr for a in pts], p.bpp)
                      for name, pts in anchors.items()}
          for p in learned}


def _as_dict(point: Point) -> dict:
  return dataclasses.asdict(point)


def summary_lines(report: dict) -> list[str]:
  learned = [Point(**p) for p in report["learned"]]
  envelope_points = []
  for name, pts in report["classical"].items():
    r, q = bjontegaard.envelope([p["bpp"] for p in pts], [p["psnr"] for p in pts])
    envelope_points += [Point(name, "envelope", float(a), float(b)) for a, b in zip(r, q)
                        if a <= 2 * max(p.bpp for p in learned)]
  lines = [format_table(learned + envelope_points), ""]
  for name, value in report["bd_rate_psnr"].items():
    text = "no overlap" if value is None else f"{100 * value:+.1f} %"
    lines.append(f"BD-rate (PSNR) of the learned codec vs {name}: {text}")
  at_learned = report.get("classical_psnr_at_learned_bpp") or classical_at_learned(
      learned, {name: [Point(**p) for p in pts] for name, pts in report["classical"].items()})
  if any(at_learned.values()):  # Empty without classical codecs (--noclassical).
    names = list(next(iter(at_learned.values())))
    lines += ["", "PSNR (dB) at each learned point's bpp (classical envelopes interpolated in "
              "log-bpp; - = outside the codec's range):", "",
              "| setting | bpp | learned | " + " | ".join(names) + " |",
              "|---|---|---|" + "---|" * len(names)]
    for p in learned:
      cells = [("-" if v is None else f"{v:.2f}") for v in at_learned.get(p.setting, {}).values()]
      lines.append(f"| {p.setting} | {p.bpp:.4f} | {p.psnr:.2f} | " + " | ".join(cells) + " |")
    lines.append("")
  for p in learned:
    if p.symbols_per_s:
      lines.append(f"{p.setting}: entropy coding {p.symbols_per_s / 1e6:.2f} M symbols/s "
                   f"(incl. entropy parameters), encode {p.encode_ms:.1f} ms = transforms "
                   f"{p.encode_transforms_ms:.1f} + entropy {p.encode_entropy_ms:.1f}")
  return lines
