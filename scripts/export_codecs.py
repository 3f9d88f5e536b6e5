r"""Exports trained codec workdirs as shipped models with model cards.

  python scripts/export_codecs.py --kind=mse --workdirs=workdirs/codec_mse_q1,... \
      --results=out/eval_codec/results.json --commands=docs/codec_training_commands.txt

Each workdir's config records its quality (`config.quality`); the model goes to
models/codec_{kind}_q{quality}. The card's figures come from the codec evaluation's results.json (`configs/eval_codec.py`)
(run on the exported names, so the rows match), and its training section from --commands (one
block per quality, separated by blank lines, each starting with "quality N:").
"""

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from absl import app  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

FLAGS = flags.FLAGS
flags.DEFINE_enum("kind", "mse", ["mse", "mse_low", "tfic", "doc"], "Which shipped family.")
flags.DEFINE_list("workdirs", None, "Trained workdirs.")
flags.DEFINE_string("results", None, "results.json of configs/eval_codec.py (rate–PSNR) or of "
                    "launch.evaluate (rate–accuracy, for --kind=tfic); optional.")
flags.DEFINE_string("eval_command", "", "The command that produced --results.")
flags.DEFINE_string("commands", None, "Text file: training commands per quality.")
flags.DEFINE_list("update_metrics", None, "Instead of exporting: shipped model names whose "
                  "card's Metrics section is rewritten from --results (variables untouched).")


def _training_sections(path) -> dict[int, str]:
  if not path:
    return {}
  sections = {}
  for block in pathlib.Path(path).read_text().strip().split("\n\n"):
    head, _, body = block.partition("\n")
    sections[int(head.split()[1].rstrip(":"))] = body.strip()
  return sections


NOT_MEASURED = "Not measured yet."


def _load_results(path) -> dict | None:
  return json.loads(pathlib.Path(path).read_text()) if path else None


def _metrics(report: dict | None, name: str, command: str) -> str | None:
  """The card's Metrics section from a results.json, or None if it does not cover `name`."""
  if report is None:
    return None
  if "points" in report:  # launch.evaluate (the TFIC rate–accuracy evaluation)
    return _accuracy_metrics(report, name, command)
  rows = [p for p in report["learned"] if p["setting"] == name]
  if not rows:
    return None
  p = rows[0]
  images = report["images"]
  return (f"`{command}` (CPU, {images['count']} synthetic test lines at "
          f"{images['height']}×{images['width']}, real .tfic files):\n\n"
          f"| real bpp | estimated bpp | PSNR (dB) | encode ms | decode ms |\n|---|---|---|---|---|\n"
          f"| {p['bpp']:.4f} | {p['estimated_bpp']:.4f} | {p['psnr']:.2f} | "
          f"{p['encode_ms']:.1f} | {p['decode_ms']:.1f} |\n\n"
          "The full rate–PSNR comparison with the classical codecs is in docs/results.md.")


def _accuracy_metrics(report: dict, name: str, command: str) -> str | None:
  """This codec's row and the uncompressed row of a `launch.evaluate` results.json."""
  rows = {p["setting"]: p for p in report["points"]}
  if name not in rows:
    return None
  scale = report["scale"]

  def cell(value, digits):
    return "-" if value is None else f"{value:.{digits}f}"

  lines = [f"`{command}` ({scale['backend']} backend; {scale['num_images']} synthetic test "
           f"lines of split `{scale['split']}` at {scale['height']}×{scale['width']}; real .tfic "
           f"files; judge `{report['judge']}`):", "",
           "| | bpp | PSNR (dB) | judge acc. | Tesseract acc. |", "|---|---|---|---|---|"]
  for label, key in (("this codec", name), ("uncompressed", "original")):
    p = rows[key]
    lines.append(f"| {label} | {p['bpp']:.4f} | {cell(p['psnr'], 2)} | "
                 f"{cell(p['judge_accuracy'], 3)} | {cell(p.get('tesseract_accuracy'), 3)} |")
  return "\n".join(lines + ["", "The whole rate–accuracy comparison is in docs/results.md."])


def _crops(kind: str, config) -> str:
  """How the training images were cut, per phase."""
  whole = tuple(config.data.crop_size) == (128, 256)
  if kind == "mse":
    return ("random 64×128 crops, then whole 128×256 canvases (fine-tuning)" if whole
            else "random 64×128 crops")
  return ("random 64×128 crops in stage 1, whole 128×256 canvases in "
          + ("stage 2" if kind == "tfic" else "the low-rate fine-tuning"))


def _update_metrics(names) -> None:
  """Rewrites the Metrics section of shipped cards from --results; nothing else changes."""
  from tfic_jax import zoo  # pylint: disable=g-import-not-at-top
  if not FLAGS.results or not pathlib.Path(FLAGS.results).is_file():
    raise app.UsageError(f"--update_metrics needs --results=RESULTS.json (got {FLAGS.results!r}).")
  report = _load_results(FLAGS.results)
  for name in names:
    card_path = zoo.MODELS_DIR / name / zoo.MODEL_CARD_FILE
    if not card_path.is_file():
      raise app.UsageError(f"No shipped model card at {card_path}.")
    card = card_path.read_text()
    head, found, rest = card.partition("\n## Metrics\n\n")
    if not found:
      raise app.UsageError(f"{card_path} has no '## Metrics' section.")
    _, next_heading, tail = rest.partition("\n## ")
    metrics = _metrics(report, name, FLAGS.eval_command)
    if metrics is None:
      raise app.UsageError(f"{name} is not in {FLAGS.results}.")
    rest = f"\n\n## {tail}" if next_heading else "\n"  # The sections after Metrics, if any.
    card_path.write_text(f"{head}{found}{metrics}{rest}")
    print(f"updated the metrics of {card_path}")


def main(argv):
  del argv
  if FLAGS.update_metrics:
    _update_metrics(FLAGS.update_metrics)
    return
  if not FLAGS.workdirs:
    raise app.UsageError("--workdirs is required (or --update_metrics).")
  from tfic_jax import zoo  # pylint: disable=g-import-not-at-top
  training = _training_sections(FLAGS.commands)
  report = _load_results(FLAGS.results)
  for workdir in FLAGS.workdirs:
    config = zoo.load_config(workdir)
    quality = int(config.quality)
    name = f"codec_{FLAGS.kind}_q{quality}"
    stage = {
        "mse": "stage 1: λ·255²·MSE + bpp",
        "mse_low": ("MSE control for stage 2: λ·255²·MSE + bpp with λ below CompressAI's "
                    "grid, from `codec_mse_q1` with stage 2's recipe "
                    "(`configs/codec_mse_lowrate_small.py`; only the loss differs from TFIC's)"),
        "tfic": "stage 2 (TFIC): bpp + γ·CE_OCR with the frozen judge",
    }[FLAGS.kind]
    card = {
        "name": name,
        "description": (
            f"Learned hyperprior codec (TinyLIC-style, docs/codec.md), CPU-sized "
            f"(`configs/codec_mse_small.py` architecture: widths 48/64/96/128, residual conv "
            f"blocks at 1/2 and 1/4, neighbourhood attention 5×5 at 1/8 and 1/16, mean–scale "
            f"hyperprior, one slice). {stage}, λ = {config.loss.lmbda}, γ = "
            f"{config.loss.get('gamma', 0.0)}. Quality {quality} of the shipped "
            f"{FLAGS.kind} family (1 = lowest rate). Config: `config.json` here."),
        "training data": (
            "`synth_text/medium`: 20,000 trdg text lines on 128×256 canvases (84 seen fonts), "
            + _crops(FLAGS.kind, config)
            + ", batch 8, on the 2-core development CPU. Nothing downloaded.\n\n"
            + training.get(quality, "")),
        "metrics": _metrics(report, name, FLAGS.eval_command) or NOT_MEASURED,
        "intended use": (
            "`python -m launch.compress --model={kind} --quality={q} --input=a.png "
            "--output=a.tfic`; the demo; a warm start for longer training.".format(
                kind=FLAGS.kind, q=quality)),
        "limitations": (
            "Under-trained (a few thousand CPU steps; learned codecs need 10⁵–10⁶); its "
            "rate–PSNR and OCR accuracy against JPEG, WebP, AVIF and JPEG 2000 are in "
            "docs/results.md. "
            + ("Stage 2 is a short CPU run (trained steps above); it optimizes what the judge "
               "reads, not PSNR, and a codec tuned to one OCR may only fool it: check Tesseract's "
               "figures in docs/results.md. " if FLAGS.kind == "tfic" else "")
            + "Trained at 128×256; larger images work (any size is padded to multiples of 64) "
            "but were not the training distribution."),
    }
    out = zoo.export_model(workdir, zoo.MODELS_DIR / name, card)
    print(f"exported {workdir} -> {out}")


if __name__ == "__main__":
  app.run(main)
