r"""TFIC rate–accuracy evaluation (issue 6; paper §3.3–3.5): the logic behind `launch.evaluate`.

On the synthetic test lines, every method is a list of rate points; each point is measured by
  - its real rate: the bytes of the files (a .tfic file written by `bitstream.compress`, a
    classical codec's stream, the raw 8-bit samples for "uncompressed"), in bits per pixel;
  - PSNR of the decoded image;
  - OCR accuracy (the paper's 1 − lev / max over alphanumerics, §3.3) by our judge (the frozen
    recognizer TFIC was trained against) and by Tesseract (an independent reader: a codec tuned
    to one OCR may only be fooling it).
Methods: uncompressed; each MSE codec (stage 1) and each TFIC codec (stage 2); JPEG, WebP,
AVIF, JPEG 2000 sweeps, each also after a 2× / 4× downscale (`eval.classical`); the two-layer
mode of §3.4 (a TFIC layer plus a low-rate MSE base layer; see `two_layer_points`).

Outputs (`eval.report.write_outputs`): results.json, points.csv, readings.json,
rate_accuracy_judge.png, rate_accuracy_tesseract.png, rate_psnr.png, rate_table.md,
visual_grid.png (like Fig. 4).
The runtime of Table 1 (encoder vs OCR time per image at batch 1, same backend) is measured on
the same images. See docs/evaluation.md.
"""

from collections.abc import Callable
from collections.abc import Sequence
import dataclasses
import importlib
import importlib.util
from pathlib import Path
import time

import cv2
import jax
import numpy as np

from tfic_jax import errors
from tfic_jax import metrics
from tfic_jax import zoo
from tfic_jax.codec import api
from tfic_jax.eval import bjontegaard
from tfic_jax.eval import classical
from tfic_jax.eval import codec as codec_evaluate
from tfic_jax.eval import ocr_judge
from tfic_jax.eval import report as report_lib
from tfic_jax.eval import tesseract
from tfic_jax.ocr import api as ocr_api

READERS = ("judge", "tesseract")
LEARNED_KINDS = ("mse", "tfic")
TWO_LAYER_MODES = ("separate", "composite")
TESSERACT_PSM = 7  # One text line.
UNCOMPRESSED_BPP = 24.0  # The raw 8-bit RGB samples.


@dataclasses.dataclass
class Reader:
  """The two OCRs: our judge (jitted, fixed batches) and optionally Tesseract."""
  model: object
  variables: dict
  batch_size: int
  use_tesseract: bool
  tesseract_workers: int
  read_batch: Callable = None  # jitted (variables, uint8 [B, H, W, 3]) -> ids.

  def __post_init__(self):
    self.read_batch = ocr_judge.make_reader(self.model)

  def judge(self, images: Sequence[np.ndarray]) -> list[str]:
    return ocr_judge.judge_read(self.model, self.variables, list(images), self.batch_size,
                                self.read_batch)

  def tesseract(self, images: Sequence[np.ndarray]) -> list[str] | None:
    if not self.use_tesseract:
      return None
    return tesseract.read_many(list(images), psm=TESSERACT_PSM,
                               num_workers=self.tesseract_workers)


# ------------------------------------------------------------------------------ configuration


def check_config(config) -> None:
  """Raises TficError (one line) for settings the evaluation cannot run with."""
  for name in ("num_images", "height", "width", "judge_batch_size"):
    value = config[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
      raise errors.TficError(f"config.{name} must be a positive int, got {value!r}")
  if config.height % 4 or config.width % 4:
    raise errors.TficError(f"config.height and config.width must be multiples of 4 (for the "
                           f"4× downscales), got {config.height}×{config.width}")
  for kind in LEARNED_KINDS:
    if not list(config[f"{kind}_codecs"]):
      raise errors.TficError(
          f"config.{kind}_codecs is empty and no codec_{kind}_q* model is shipped under "
          f"models/: train them (docs/codec.md) and list their workdirs, e.g. "
          f"--config.{kind}_codecs=\"('workdirs/codec_{kind}_q1',)\"")
  if not config.judge:
    raise errors.TficError("config.judge is empty: name the OCR judge (e.g. 'ocr_default')")
  unknown = [c for c in config.classical.codecs if c not in classical.CODECS]
  if unknown:
    raise errors.TficError(f"unknown classical codecs {unknown}; known: {list(classical.CODECS)}")
  for downscale in config.classical.downscales:
    if isinstance(downscale, bool) or not isinstance(downscale, int) or downscale < 1:
      raise errors.TficError(f"config.classical.downscales: positive ints, got {downscale!r}")
  for codec in config.classical.codecs:
    coder = classical.get_codec(codec)
    qualities = list(config.classical.qualities.get(codec, coder.qualities))
    low, high = coder.quality_range
    bad = [q for q in qualities if not low <= q <= high]
    if not qualities or bad:
      raise errors.TficError(f"config.classical.qualities.{codec}: a non-empty list in "
                             f"[{low}, {high}], got {qualities}")
  for target in config.accuracy_targets:
    if not 0.0 < target <= 1.0:
      raise errors.TficError(f"config.accuracy_targets must lie in (0, 1], got {target}")
  if not 0.0 < config.keep_fraction <= 1.0:
    raise errors.TficError(f"config.keep_fraction must lie in (0, 1], got {config.keep_fraction}")
  bad_modes = [m for m in config.two_layer.modes if m not in TWO_LAYER_MODES]
  if bad_modes:
    raise errors.TficError(f"config.two_layer.modes: unknown {bad_modes}; use {TWO_LAYER_MODES}")
  if config.two_layer.mask_radius < 1 or config.two_layer.mask_contrast <= 0:
    raise errors.TficError("config.two_layer.mask_radius must be ≥ 1 and mask_contrast > 0")
  reference = config.get("runtime_reference_ocr")
  if reference:
    if (not isinstance(reference, str) or not reference.isidentifier()
        or importlib.util.find_spec(f"configs.{reference}") is None):
      raise errors.TficError(f"config.runtime_reference_ocr must name a recognizer config "
                             f"module under configs/ (e.g. 'ocr_trba'), got {reference!r}")


def _check_kind(path: str, kind: str) -> None:
  """A TFIC codec was trained with the OCR loss (loss.gamma > 0), an MSE codec without."""
  loss = zoo.load_config(path).get("loss") or {}
  if "gamma" not in loss:
    return
  gamma = float(loss["gamma"])
  if kind == "tfic" and not gamma > 0:
    raise errors.TficError(f"{path} was trained with loss.gamma = 0 (an MSE codec), but is "
                           "listed in config.tfic_codecs")
  if kind == "mse" and gamma > 0:
    raise errors.TficError(f"{path} was trained with the OCR loss (loss.gamma = {gamma:g}), but "
                           "is listed in config.mse_codecs")


def judge_mismatch_notes(tfic_paths: Sequence[str], judge: str) -> list[str]:
  """A note for each TFIC codec that was trained against another judge than `judge`: its
  judge accuracy is then a reading by a model it was not tuned to (still a valid figure, but
  not the paper's setting)."""
  judge_id = zoo.model_identity(judge)
  notes = []
  for path in tfic_paths:
    trained = (zoo.load_config(path).get("frozen") or {}).get("ocr")
    if not trained:
      continue
    try:
      same = zoo.model_identity(trained) == judge_id
    except errors.CheckpointError:
      same = False
    if not same:
      notes.append(f"{path} was trained against the judge {trained!r}, which is not the "
                   f"evaluation's judge {judge!r} (compared by their variables): its judge "
                   "figures are a reading by a model it was not tuned to.")
  return notes


def load_codecs(paths: Sequence[str], kind: str) -> list:
  """Loads each codec (shipped name, model dir or workdir), checking it is of `kind`."""
  codecs = []
  for path in paths:
    path = str(path)
    _check_kind(path, kind)
    codecs.append((path, api.load(path)))
  return codecs


# ------------------------------------------------------------------------------ measuring


def score(method: str, setting: str, images: Sequence[np.ndarray], originals, texts,
          bpps: Sequence[float], reader: Reader, keep: int, **fields) -> report_lib.Point:
  """A Point from decoded images: PSNR, the judge's and Tesseract's readings."""
  judge_readings = reader.judge(images)
  tesseract_readings = reader.tesseract(images)
  psnrs = [metrics.psnr(o, d) for o, d in zip(originals, images)]
  point = report_lib.Point(
      method=method, setting=setting, bpp=float(np.mean(bpps)),
      psnr=report_lib.json_float(np.mean(psnrs)),
      judge_accuracy=metrics.mean_ocr_accuracy(texts, judge_readings),
      judge_word_accuracy=metrics.word_accuracy(texts, judge_readings),
      per_image={"bpp": [float(b) for b in bpps], "psnr": [report_lib.json_float(p) for p in psnrs],
                 "judge": judge_readings},
      images=list(images[:keep]), **fields)
  if tesseract_readings is not None:
    point.tesseract_accuracy = metrics.mean_ocr_accuracy(texts, tesseract_readings)
    point.tesseract_word_accuracy = metrics.word_accuracy(texts, tesseract_readings)
    point.per_image["tesseract"] = tesseract_readings
  return point


def code_learned(loaded, images: Sequence[np.ndarray]) -> tuple[list, list, list[dict]]:
  """Real .tfic files for every image at batch 1: (decoded, file sizes in bytes, encoder
  timings per image in seconds: "encode" = the whole `compress` call, "transforms" = g_a + h_a,
  "entropy" = entropy parameters + range coding). One warm-up image compiles first."""
  coded = codec_evaluate.code_images(loaded, images)
  return ([c.decoded for c in coded], [len(c.data) for c in coded],
          [{**c.encode_timings, "encode": c.encode_s} for c in coded])


def learned_points(codecs, kind: str, images, texts, reader: Reader, keep: int,
                   progress: Callable[[str], None]) -> tuple[list[report_lib.Point], dict]:
  """One Point per codec (sorted by rate) and the encoder timings per codec name."""
  points, timings = [], {}
  height, width = images[0].shape[:2]
  for path, loaded in codecs:
    progress(f"{kind} {path}: coding {len(images)} images")
    decoded, sizes, timing = code_learned(loaded, images)
    timings[path] = timing
    point = score(kind, path, decoded, images, texts,
                  [metrics.bpp(s, height, width) for s in sizes], reader, keep=len(images))
    point.per_image["bytes"] = sizes
    point.details["num_params"] = loaded.model.num_params()
    points.append(point)
  points.sort(key=lambda p: p.bpp)
  return points, timings


def classical_points(config, images, texts, reader: Reader, keep: int,
                     progress: Callable[[str], None]) -> dict[str, list[report_lib.Point]]:
  """Every (downscale, quality) setting of each classical codec, real streams."""
  height, width = images[0].shape[:2]
  curves = {}
  for codec in config.classical.codecs:
    qualities = list(config.classical.qualities.get(codec, classical.get_codec(codec).qualities))
    progress(f"{codec}: {len(config.classical.downscales) * len(qualities)} settings")
    curves[codec] = []
    for downscale in config.classical.downscales:
      for quality in qualities:
        coded = [classical.encode_decode(image, codec, quality, downscale) for image in images]
        curves[codec].append(score(
            codec, f"x{downscale} q{quality:g}", [d for d, _ in coded], images, texts,
            [metrics.bpp(n, height, width) for _, n in coded], reader, keep,
            downscale=int(downscale), quality=float(quality)))
  return curves


# ------------------------------------------------------------------------------ two-layer mode


def _local_contrast(gray: np.ndarray, radius: int) -> np.ndarray:
  size = (2 * radius + 1, 2 * radius + 1)
  mean = cv2.blur(gray, size, borderType=cv2.BORDER_REFLECT)
  mean_sq = cv2.blur(gray * gray, size, borderType=cv2.BORDER_REFLECT)
  return np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))


def composite(text_layer: np.ndarray, base_layer: np.ndarray, radius: int,
              contrast: float) -> tuple[np.ndarray, np.ndarray]:
  """One picture from the two decoded layers, at the decoder, with no side information.

  Where the TFIC layer has more local contrast (std of gray in a (2r+1)² window) than the MSE
  base layer — sharp strokes the base layer blurred — the picture takes the TFIC layer,
  elsewhere the base layer's background: mask = clip((c_tfic − c_base) / contrast, 0, 1),
  box-smoothed over the same window so that no seam is drawn. Returns (uint8 picture, mask
  [H, W] in [0, 1]).
  """
  weights = np.asarray([0.299, 0.587, 0.114], np.float32)
  text_f, base_f = text_layer.astype(np.float32), base_layer.astype(np.float32)
  gain = _local_contrast(text_f @ weights, radius) - _local_contrast(base_f @ weights, radius)
  mask = np.clip(gain / contrast, 0.0, 1.0)
  mask = cv2.blur(mask, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)
  picture = base_f + mask[..., None] * (text_f - base_f)
  return np.clip(np.round(picture), 0, 255).astype(np.uint8), mask


def two_layer_points(config, mse: Sequence[report_lib.Point], tfic: Sequence[report_lib.Point], originals, texts,
                     reader: Reader, keep: int) -> dict[str, list[report_lib.Point]]:
  """Paper §3.4: a TFIC layer plus a low-rate MSE base layer, sent as two files.

  The rate is the sum of both files. Mode "separate" (the paper: the receiver keeps two
  images): OCR reads the TFIC layer, a viewer sees the base layer, so the accuracies are the
  TFIC layer's and the PSNR the base layer's. Mode "composite": one picture (`composite`), read
  and measured as such. The base is `config.two_layer.base_codec` (default: the lowest-rate MSE
  codec). Returns {"two_layer_<mode>": one point per TFIC codec}.
  """
  base_name = config.two_layer.base_codec or mse[0].setting
  by_name = {p.setting: p for p in mse}
  if base_name not in by_name:
    raise errors.TficError(f"config.two_layer.base_codec {base_name!r} is not one of "
                           f"config.mse_codecs {list(by_name)}")
  base = by_name[base_name]
  curves = {f"two_layer_{mode}": [] for mode in config.two_layer.modes}
  for text_point in tfic:
    bpps = [a + b for a, b in zip(text_point.per_image["bpp"], base.per_image["bpp"])]
    setting = f"{text_point.setting} + {base.setting}"
    for mode in config.two_layer.modes:
      details = {"text_layer": text_point.setting, "base_layer": base.setting, "mode": mode,
                 "text_layer_bpp": text_point.bpp, "base_layer_bpp": base.bpp}
      if mode == "separate":
        point = dataclasses.replace(
            text_point, method=f"two_layer_{mode}", setting=setting, bpp=float(np.mean(bpps)),
            psnr=base.psnr, details=details,
            per_image={**text_point.per_image, "bpp": bpps, "psnr": base.per_image["psnr"]},
            images=base.images[:keep])
      else:
        pictures, masks = zip(*(composite(t, b, config.two_layer.mask_radius,
                                          config.two_layer.mask_contrast)
                                for t, b in zip(text_point.images, base.images)))
        details["mask_mean"] = float(np.mean([m.mean() for m in masks]))
        point = score(f"two_layer_{mode}", setting, pictures, originals, texts, bpps, reader,
                      keep, details=details)
      curves[f"two_layer_{mode}"].append(point)
  return curves


# ------------------------------------------------------------------------------ runtime


def _time_reads(read_batch: Callable, variables, images: Sequence[np.ndarray]) -> list[float]:
  """Seconds per one-image read, after a compiling call."""
  jax.block_until_ready(read_batch(variables, images[0][None]))  # Compile.
  seconds = []
  for image in images:
    start = time.perf_counter()
    jax.block_until_ready(read_batch(variables, image[None]))
    seconds.append(time.perf_counter() - start)
  return seconds


def _ms_stats(seconds) -> dict:
  ms = 1e3 * np.asarray(seconds, np.float64)
  return {"mean": float(ms.mean()), "std": float(ms.std())}


def reference_ocr(config_name: str):
  """(name, OCRModel, random variables) of `configs/<config_name>.py`'s recognizer, for timing.

  The time of a forward pass depends on the architecture and input size, not on the weights, so
  the recognizer class the paper times (TRBA, `ocr_trba`) can be timed without training it.
  `check_config` has checked that the module exists.
  """
  model = ocr_api.build(importlib.import_module(f"configs.{config_name}").get_config())
  return config_name, model, model.init(jax.random.key(0))


def measure_runtime(encoder_timings: Sequence[dict], codec_name: str, reader: Reader,
                    images: Sequence[np.ndarray], reference=None) -> dict:
  """Paper Table 1: encoder vs OCR time per image at batch 1 (ms, mean ± std over images).

  Encoder: the whole `bitstream.compress` call (g_a + h_a on the default device, entropy
  parameters and range coding on the host), measured while coding the test images. OCR: the
  jitted judge (`api.recognize`, input adaptation included) on one image, after a compiling
  call, on the same backend. `reference` (from `reference_ocr`): another recognizer timed the
  same way, e.g. the paper's TRBA class, with untrained weights (timing only).
  """
  encode = _ms_stats([t["encode"] for t in encoder_timings])
  ocr = _ms_stats(_time_reads(reader.read_batch, reader.variables, images))
  device = jax.devices()[0]
  runtime = {
      "codec": codec_name, "backend": jax.default_backend(), "device": device.device_kind,
      "num_images": len(images), "batch_size": 1,
      "encode_ms": encode,
      "encode_transforms_ms": _ms_stats([t["transforms"] for t in encoder_timings]),
      "encode_entropy_ms": _ms_stats([t["entropy"] for t in encoder_timings]),
      "ocr_ms": ocr,
      "encode_over_ocr": encode["mean"] / ocr["mean"],
  }
  if reference is not None:
    name, model, variables = reference
    ms = _ms_stats(_time_reads(ocr_judge.make_reader(model), variables, images))
    runtime["reference_ocr"] = {
        "config": name, "params": model.num_params(), "weights": "untrained (timing only)",
        "ms": ms, "encode_over_ocr": encode["mean"] / ms["mean"]}
  return runtime


# ------------------------------------------------------------------------------ summaries


def _curve(points: Sequence[report_lib.Point], reader: str):
  pts = [p for p in points if p.accuracy(reader) is not None]
  return [p.bpp for p in pts], [p.accuracy(reader) for p in pts]


def rate_table(curves: dict[str, Sequence[report_lib.Point]], reader: str,
               targets: dict[str, float]) -> dict[str, dict[str, float | None]]:
  """Per method, the lowest bpp at which its accuracy envelope reaches each target (None:
  never), interpolated in log-rate (`bjontegaard.rate_at_quality`)."""
  table = {}
  for name, points in curves.items():
    rates, accuracies = _curve(points, reader)
    table[name] = {label: (bjontegaard.rate_at_quality(rates, accuracies, target)
                           if rates else None) for label, target in targets.items()}
  return table


def bd_rates(curves: dict[str, Sequence[report_lib.Point]], reader: str, test: str = "tfic") -> dict:
  """BD-rate at equal accuracy of `test` against every other curve (fraction; None: the
  accuracy ranges do not overlap)."""
  test_rates, test_acc = _curve(curves[test], reader)
  result = {}
  for name, points in curves.items():
    if name == test or name.startswith("two_layer"):
      continue
    rates, accuracies = _curve(points, reader)
    result[name] = (bjontegaard.bd_rate(rates, accuracies, test_rates, test_acc)
                    if rates and test_rates else None)
  return result


def headline(curves: dict[str, Sequence[report_lib.Point]], uncompressed: report_lib.Point, reader: str) -> dict:
  """The issue's bars at the lowest TFIC rate point, by `reader`."""
  tfic = min(curves["tfic"], key=lambda p: p.bpp)
  accuracy = tfic.accuracy(reader)
  if accuracy is None:
    return {}
  mse_at_or_above = [p for p in curves["mse"] if p.bpp >= tfic.bpp]
  mse_ref = min(mse_at_or_above, key=lambda p: p.bpp) if mse_at_or_above else None
  classical_rates = {}
  for name, points in curves.items():
    if not report_lib.is_classical(name):
      continue
    rates, accuracies = _curve(points, reader)
    classical_rates[name] = bjontegaard.rate_at_quality(rates, accuracies, accuracy)
  return {
      "tfic_setting": tfic.setting, "tfic_bpp": tfic.bpp, "tfic_accuracy": accuracy,
      "uncompressed_accuracy": uncompressed.accuracy(reader),
      "mse_setting": mse_ref.setting if mse_ref else None,
      "mse_bpp": mse_ref.bpp if mse_ref else None,
      "mse_accuracy": mse_ref.accuracy(reader) if mse_ref else None,
      # The bpp each classical codec needs to reach TFIC's accuracy (None: never reaches it).
      "classical_bpp_at_tfic_accuracy": classical_rates,
  }


def accuracy_targets(config, uncompressed: report_lib.Point, reader: str) -> dict[str, float]:
  targets = {f"{t:g}": float(t) for t in config.accuracy_targets}
  reference = uncompressed.accuracy(reader)
  if reference is not None:
    targets[f"{100 * config.keep_fraction:g}% of uncompressed"] = (
        config.keep_fraction * reference)
  return targets


# ------------------------------------------------------------------------------ the run


def run(config, workdir: str | Path | None,
        progress: Callable[[str], None] = lambda message: None) -> dict:
  """The whole evaluation; writes every artifact under `workdir` when given. Returns the
  report (JSON-able) with the Points under "_points" (removed by `report.write_outputs`)."""
  check_config(config)
  codecs = {kind: load_codecs(config[f"{kind}_codecs"], kind) for kind in LEARNED_KINDS}
  if config.two_layer.base_codec and config.two_layer.base_codec not in [
      p for p, _ in codecs["mse"]]:
    raise errors.TficError(f"config.two_layer.base_codec {config.two_layer.base_codec!r} is not "
                           f"one of config.mse_codecs {list(config.mse_codecs)}")
  judge_model, judge_variables = ocr_api.load(config.judge)
  notes = judge_mismatch_notes([p for p, _ in codecs["tfic"]], config.judge)
  use_tesseract = bool(config.tesseract)
  if use_tesseract and not tesseract.available():
    use_tesseract = False
    notes.append(f"Tesseract is not installed ({tesseract.INSTALL_HINT}): its accuracies, "
                 "plot and table are skipped.")
  reader = Reader(judge_model, judge_variables, config.judge_batch_size, use_tesseract,
                  config.tesseract_workers)

  progress(f"rendering {config.num_images} test lines at {config.height}×{config.width}")
  examples = codec_evaluate.test_images(config.num_images, config.height, config.width,
                                        config.split)
  images = [e["image"] for e in examples]
  texts = [e["text"] for e in examples]
  keep = min(config.grid.num_images, len(images))

  uncompressed = score("uncompressed", "original", images, images, texts,
                       [UNCOMPRESSED_BPP] * len(images), reader, keep)
  curves: dict[str, list[report_lib.Point]] = {}
  timings = {}
  for kind in LEARNED_KINDS:
    curves[kind], kind_timings = learned_points(codecs[kind], kind, images, texts, reader, keep,
                                                progress)
    timings.update(kind_timings)
  if config.two_layer.enabled:
    progress("two-layer mode")
    curves.update(two_layer_points(config, curves["mse"], curves["tfic"], images, texts,
                                   reader, keep))
  curves.update(classical_points(config, images, texts, reader, keep, progress))

  runtime_codec = config.runtime_codec or curves["tfic"][0].setting
  if runtime_codec not in timings:
    raise errors.TficError(f"config.runtime_codec {runtime_codec!r} is not one of the evaluated "
                           f"codecs {list(timings)}")
  progress("runtime (batch 1)")
  reference = (reference_ocr(config.runtime_reference_ocr)
               if config.get("runtime_reference_ocr") else None)
  runtime = measure_runtime(timings[runtime_codec], runtime_codec, reader, images, reference)

  readers = [r for r in READERS if r == "judge" or use_tesseract]
  report = {
      "scale": {"num_images": len(images), "height": config.height, "width": config.width,
                "split": config.split, "backend": runtime["backend"],
                "device": runtime["device"]},
      "judge": str(config.judge),
      "tesseract": {"used": use_tesseract, "psm": TESSERACT_PSM},
      "notes": notes,
      "uncompressed": uncompressed.summary(),
      "points": [p.summary() for p in [uncompressed] + [q for c in curves.values() for q in c]],
      "rate_table": {r: rate_table(curves, r, accuracy_targets(config, uncompressed, r))
                     for r in readers},
      "bd_rate_accuracy": {r: bd_rates(curves, r) for r in readers},
      "bd_rate_accuracy_two_layer_vs_mse": {
          r: {name: bjontegaard.bd_rate(*_curve(curves["mse"], r), *_curve(points, r))
              for name, points in curves.items() if name.startswith("two_layer")}
          for r in readers},
      "headline": {r: headline(curves, uncompressed, r) for r in readers},
      "runtime": runtime,
      "config": config.to_dict(),
      "_points": {"uncompressed": uncompressed, "curves": curves, "texts": texts},
  }
  if workdir is not None:
    report_lib.write_outputs(report, Path(workdir))
  return report
