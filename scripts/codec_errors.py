r"""Where a codec's error is: per background kind, inside and outside the text box, luma and colour.

  python scripts/codec_errors.py --codecs=codec_mse_q1,codec_mse_q4 --webp_qualities=5,30 \
      --num_images=30 --out=out/codec_errors.png

Codes the synthetic test lines (the ones `configs/eval_codec.py` uses) through real files — `.tfic`
for the learned codecs, WebP at each `--webp_qualities` (Pillow, method 6, no downscale) as the
reference — and prints, per method and background kind (`synth_text`'s `plain_white`,
`gaussian_noise`, `quasicrystal`):

- bpp (file size) and PSNR over RGB, as the codec evaluation (`tfic_jax/eval/codec.py`) measures them;
- PSNR of the luma (BT.601 Y) alone: RGB well below Y means the colour of the text is lost;
- RMSE inside the line's box (the text) and outside it (the background), and the mean signed
  error outside (a codec that paints texture or a grey cast onto a white page shows it here).

With `--out`, writes a picture of the first white-background lines: original, then each
codec's decoded line and its error ×4 around mid-grey.
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from absl import app  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

FLAGS = flags.FLAGS
flags.DEFINE_list("codecs", ["codec_mse_q4"], "Learned codecs: shipped names or workdirs.")
flags.DEFINE_list("webp_qualities", ["5", "30"], "WebP qualities for the reference rows.")
flags.DEFINE_integer("num_images", 30, "Synthetic test lines (split 'test', seen fonts).")
flags.DEFINE_integer("height", 128, "Canvas height.")
flags.DEFINE_integer("width", 256, "Canvas width.")
flags.DEFINE_string("out", "", "Optional PNG of white-background lines and their errors.")
flags.DEFINE_integer("picture_lines", 3, "Lines in the --out picture.")

_LUMA = (0.299, 0.587, 0.114)


def _psnr(mse: float) -> float:
  import math  # pylint: disable=g-import-not-at-top
  return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def error_stats(original, decoded, text_box) -> dict:
  """Squared errors of one decoded line, split by region and channel (sums, for pooling)."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  error = decoded.astype(np.float64) - original.astype(np.float64)
  luma_error = error @ np.asarray(_LUMA)
  inside = np.zeros(original.shape[:2], bool)
  left, top, right, bottom = text_box
  inside[top:bottom, left:right] = True
  return {"sq": float((error ** 2).mean()), "luma_sq": float((luma_error ** 2).mean()),
          "text_sq": float((error[inside] ** 2).mean()),
          "background_sq": float((error[~inside] ** 2).mean()),
          "background_bias": float(error[~inside].mean())}


def summarize(rows: list[dict]) -> dict:
  """Means over lines; PSNRs per line averaged, as tfic_jax/eval/codec.py averages them."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  return {"lines": len(rows), "bpp": float(np.mean([r["bpp"] for r in rows])),
          "psnr": float(np.mean([_psnr(r["sq"]) for r in rows])),
          "luma_psnr": float(np.mean([_psnr(r["luma_sq"]) for r in rows])),
          "text_rmse": float(np.sqrt(np.mean([r["text_sq"] for r in rows]))),
          "background_rmse": float(np.sqrt(np.mean([r["background_sq"] for r in rows]))),
          "background_bias": float(np.mean([r["background_bias"] for r in rows]))}


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  import numpy as np  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top

  from tfic_jax import errors  # pylint: disable=g-import-not-at-top
  from tfic_jax import metrics  # pylint: disable=g-import-not-at-top
  from tfic_jax.codec import api  # pylint: disable=g-import-not-at-top
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top
  from tfic_jax.data import synth_text  # pylint: disable=g-import-not-at-top
  from tfic_jax.eval import classical  # pylint: disable=g-import-not-at-top
  from tfic_jax.eval import codec as evaluate  # pylint: disable=g-import-not-at-top

  try:
    webp_qualities = [float(q) for q in FLAGS.webp_qualities]
  except ValueError:
    raise app.UsageError(f"--webp_qualities must be numbers, got {FLAGS.webp_qualities}")
  spec = synth_text.SynthTextSpec(height=FLAGS.height, width=FLAGS.width)
  examples = [synth_text.render_example(spec, builders.SYNTH_SPLIT_SEEDS["test"], index)
              for index in range(FLAGS.num_images)]
  decoded = {}  # method -> [(decoded image, bpp)]
  for name in FLAGS.codecs:
    try:
      codec = api.load(name)
    except errors.TficError as e:
      sys.exit(f"error: {e}")
    coded = evaluate.code_images(codec, [e["image"] for e in examples])
    decoded[name] = [(c.decoded, metrics.bpp(len(c.data), FLAGS.height, FLAGS.width))
                     for c in coded]
  for quality in webp_qualities:
    decoded[f"webp q{quality:g}"] = [
        (image, metrics.bpp(num_bytes, FLAGS.height, FLAGS.width)) for image, num_bytes in
        (classical.encode_decode(e["image"], "webp", quality) for e in examples)]

  kinds = ("all",) + synth_text.BACKGROUNDS
  print(f"{FLAGS.num_images} test lines at {FLAGS.height}×{FLAGS.width}: "
        + ", ".join(f"{k} {sum(e['background'] == k for e in examples)}"
                    for k in synth_text.BACKGROUNDS) + "\n")
  print("| method | background | lines | bpp | PSNR (dB) | luma PSNR (dB) | text RMSE | "
        "background RMSE | background bias |\n|---|---|---|---|---|---|---|---|---|")
  for method, outputs in decoded.items():
    rows = [dict(error_stats(e["image"], image, e["text_box"]), bpp=bpp, kind=e["background"])
            for e, (image, bpp) in zip(examples, outputs)]
    for kind in kinds:
      chosen = [r for r in rows if kind in ("all", r["kind"])]
      if not chosen:
        continue
      s = summarize(chosen)
      print(f"| {method} | {kind} | {s['lines']} | {s['bpp']:.3f} | {s['psnr']:.2f} | "
            f"{s['luma_psnr']:.2f} | {s['text_rmse']:.1f} | {s['background_rmse']:.1f} | "
            f"{s['background_bias']:+.2f} |")

  if FLAGS.out:
    white = [i for i, e in enumerate(examples) if e["background"] == "plain_white"]
    white = white[:FLAGS.picture_lines]
    if not white:
      sys.exit("error: no plain_white line among the test lines; raise --num_images")
    columns = []
    for i in white:
      original = examples[i]["image"]
      cells = [original]
      for outputs in decoded.values():
        image = outputs[i][0]
        error = image.astype(np.float64) - original.astype(np.float64)
        cells += [image, np.clip(128 + 4 * error, 0, 255).astype(np.uint8)]
      columns.append(np.concatenate(cells, axis=0))
    path = pathlib.Path(FLAGS.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(columns, axis=1)).save(path)
    print(f"\nwrote {path}: rows = original, then per method: decoded, error ×4 "
          f"({', '.join(decoded)})")


if __name__ == "__main__":
  app.run(main)
