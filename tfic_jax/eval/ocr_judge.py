r"""Evaluation of the OCR judge next to Tesseract: behind `configs/eval_ocr.py`.

Synthetic test lines (the builder's examples, seen and held-out fonts), book test patches read
word by word from their ground-truth character boxes, and the judge's speed; see configs/eval_ocr.py's
docstring for what is measured and `docs/results.md` for the figures.
"""

from collections.abc import Callable
from collections.abc import Sequence
import itertools
import json
import pathlib
import sys
import time

import jax
import numpy as np

from tfic_jax import errors
from tfic_jax import metrics
from tfic_jax.data import pages as pages_lib
from tfic_jax.data import pipeline
from tfic_jax.data import test_sets
from tfic_jax.eval import tesseract
from tfic_jax.ocr import api

TESSERACT_LINE_PSM = 7  # One text line.
TESSERACT_BLOCK_PSM = 6  # A block of lines (book patches).
_MIN_BOX_BUCKET = 8  # Word boxes per patch are padded to a power of two ≥ this (few compiles).


# ------------------------------------------------------------------------------ the judge


def make_reader(model) -> Callable:
  """Jitted (variables, images uint8 [B, H, W, C]) → greedy label ids [B, T]."""
  return jax.jit(lambda variables, images: api.recognize(model, variables, images))


def judge_read(model, variables, images: Sequence[np.ndarray], batch_size: int,
               reader: Callable | None = None) -> list[str]:
  """Reads images (all the same shape) in fixed-size batches, the last one padded."""
  reader = reader or make_reader(model)
  batch_size = min(batch_size, len(images))
  texts = []
  for start in range(0, len(images), batch_size):
    batch = np.stack(images[start:start + batch_size])
    num_real = len(batch)
    if num_real < batch_size:  # Same shape as the other batches: no recompilation.
      batch = np.concatenate([batch, np.repeat(batch[:1], batch_size - num_real, axis=0)])
    texts += model.decode(reader(variables, batch))[:num_real]
  return texts


def make_box_reader(model, resize_mode: str | None = None) -> Callable:
  """Jitted (variables, image [H, W, C], boxes [N, 4]) → label ids [N, T] of the boxes' crops
  (`api.crop_words`, the path of `api.read_words`; `resize_mode` None: the model's
  `word_resize_mode`)."""

  def read(variables, image, boxes):
    crops = api.crop_words(model, image, boxes, resize_mode)  # [N, h, w, 1] in [-1, 1]
    frozen = {k: v for k, v in variables.items() if k in ("params", "batch_stats")}
    return api.ids_from_logits(model, model.module.apply(frozen, crops, None, train=False))

  return jax.jit(read)


def _bucket(count: int) -> int:
  return max(_MIN_BOX_BUCKET, 1 << (count - 1).bit_length())


def judge_read_patch(model, variables, image: np.ndarray, text: str, char_boxes: np.ndarray,
                     box_reader: Callable, box_height: str = "line") -> str:
  """Reads a book patch word by word: words joined by spaces, lines by newlines."""
  lines = pages_lib.word_boxes_by_line(text, char_boxes, box_height)
  boxes = np.concatenate(lines) if lines else np.zeros((0, 4), np.float32)
  if not len(boxes):
    return ""
  padded = np.concatenate([boxes, np.repeat(boxes[:1], _bucket(len(boxes)) - len(boxes), 0)])
  words = iter(model.decode(box_reader(variables, image, padded))[:len(boxes)])
  return "\n".join(" ".join(w for w in itertools.islice(words, len(line)) if w)
                   for line in lines)


def scores(texts: Sequence[str], readings: Sequence[str]) -> dict[str, float]:
  return {"ocr_accuracy": metrics.mean_ocr_accuracy(texts, readings),
          "word_accuracy": metrics.word_accuracy(texts, readings)}


def time_judge(model, variables, images: Sequence[np.ndarray], batch_sizes: Sequence[int],
               repeats: int, reader: Callable | None = None) -> dict[str, float]:
  """ms/image of the jitted reader at each batch size: median of `repeats` timed calls after
  one compiling call; batches cycle through `images` (uint8 canvases)."""
  reader = reader or make_reader(model)
  result = {}
  for batch_size in batch_sizes:
    batch = np.stack([images[i % len(images)] for i in range(batch_size)])
    jax.block_until_ready(reader(variables, batch))  # Compile.
    times = []
    for _ in range(repeats):
      start = time.perf_counter()
      jax.block_until_ready(reader(variables, batch))
      times.append(time.perf_counter() - start)
    result[str(batch_size)] = 1000.0 * float(np.median(times)) / batch_size
  return result


# ------------------------------------------------------------------------------ Tesseract


def tesseract_read(images: Sequence[np.ndarray], psm: int, num_workers: int
                   ) -> tuple[list[str], float]:
  """Tesseract's readings and the wall time (s) they took."""
  start = time.perf_counter()
  readings = tesseract.read_many(images, psm=psm, num_workers=num_workers)
  return readings, time.perf_counter() - start


# ------------------------------------------------------------------------------ report


def fmt(value, digits: int = 3) -> str:
  """A table cell: the value to `digits` decimals, "-" for None (not measured)."""
  return "-" if value is None else f"{value:.{digits}f}"


def format_table(report: dict) -> str:
  """The printed summary: scale statement, accuracy table and speed table (markdown)."""
  model, synth, book_report, speed = (report["model"], report["synth_text"], report["book"],
                                      report["speed"])
  lines = [
      f"OCR judge `{model['path']}` ({model['architecture']}, {model['num_params']:,} params, "
      f"input {model['input_size'][0]}×{model['input_size'][1]} {model['resize_mode']}) on "
      f"{report['backend']} ({report['device']}); synth_text: {report['num_images']} lines per "
      f"split at {report['height']}×{report['width']} ({synth['test']['source']}); book_patches:"
      f" {book_report['num_pages']} test pages, {book_report['num_patches']} patches."
      + ("" if report["tesseract"] else " Tesseract skipped: " + report["tesseract_note"]),
      "",
      "| test set | n | judge acc. | judge exact | Tesseract acc. | Tesseract exact |",
      "|---|---|---|---|---|---|",
  ]
  names = {"test": "synth_text test (seen fonts)",
           "test_heldout_fonts": "synth_text test_heldout_fonts"}
  for split in test_sets.SYNTH_SPLITS:
    row, tess = synth[split], synth[split]["tesseract"] or {}
    lines.append(
        f"| {names[split]} | {row['num_images']} | {fmt(row['judge']['ocr_accuracy'])} | "
        f"{fmt(row['judge']['word_accuracy'])} | {fmt(tess.get('ocr_accuracy'))} | "
        f"{fmt(tess.get('word_accuracy'))} |")
  for name, row in report.get("documents", {}).items():
    tess = row["tesseract"] or {}
    lines.append(
        f"| {name}, held-out documents (canvases; Tesseract: psm 7) | {row['num_images']} | "
        f"{fmt(row['judge']['ocr_accuracy'])} | {fmt(row['judge']['word_accuracy'])} | "
        f"{fmt(tess.get('ocr_accuracy'))} | {fmt(tess.get('word_accuracy'))} |")
  for kind in ("clean", "degraded"):
    tess = book_report["tesseract"] or {}
    lines.append(
        f"| book patches, {kind} (judge: {book_report['word_resize_mode']} word crops, "
        f"{book_report['word_box_height']} height; Tesseract: psm 6) | "
        f"{book_report['num_patches']} | {fmt(book_report['judge'][kind])} | - | "
        f"{fmt(tess.get(kind))} | - |")
  lines += ["", "| speed | ms |", "|---|---|"]
  for batch_size, ms in speed["judge_ms_per_image"].items():
    lines.append(f"| judge, batch {batch_size}, {report['height']}×{report['width']}×3 uint8 "
                 f"({report['backend']}) | {ms:.2f} / image |")
  if speed["tesseract_ms_per_line"] is not None:
    lines.append(f"| Tesseract psm 7 ({speed['tesseract_workers']} processes) | "
                 f"{speed['tesseract_ms_per_line']:.1f} / line |")
  return "\n".join(lines)


def write_report(out_dir: pathlib.Path, report: dict) -> pathlib.Path:
  out_dir.mkdir(parents=True, exist_ok=True)
  path = out_dir / "eval_ocr.json"
  path.write_text(json.dumps(report, indent=1, allow_nan=False) + "\n")
  return path


def _model_summary(model, variables, path) -> dict:
  params = sum(int(np.size(x)) for x in jax.tree.leaves(variables["params"]))
  architecture = "-".join([model.transformation, model.feature_extractor, model.sequence_model,
                           model.prediction])
  return {"path": str(path or "models/ocr_default"), "architecture": architecture,
          "num_params": params, "input_size": list(model.input_size),
          "resize_mode": model.resize_mode, "charset": model.fields["charset"]}


# ------------------------------------------------------------------------------ run


def _check_settings(num_images: int, book_pages: int, time_batches: Sequence[int],
                    time_repeats: int, batch_size: int) -> None:
  if num_images < 1:
    raise errors.TficError(f"--num_images must be >= 1, got {num_images}")
  if book_pages < 0:
    raise errors.TficError(f"--book_pages must be >= 0, got {book_pages}")
  if any(b < 1 for b in time_batches) or time_repeats < 1 or batch_size < 1:
    raise errors.TficError("--time_batches, --time_repeats and --batch_size must be >= 1")


def _evaluate_synth(model, variables, reader, examples_by_split, sources, batch_size,
                    use_tesseract, num_workers) -> tuple[dict, dict, float]:
  """Judge and Tesseract scores per split, per-line readings, and Tesseract's seconds."""
  results, readings, tesseract_seconds = {}, {}, 0.0
  for split, examples in examples_by_split.items():
    images = [example["image"] for example in examples]
    texts = [example["text"] for example in examples]
    judge_texts = judge_read(model, variables, images, batch_size, reader)
    results[split] = {"num_images": len(examples), "source": sources[split],
                      "judge": scores(texts, judge_texts), "tesseract": None}
    tess_texts = [None] * len(texts)
    if use_tesseract:
      tess_texts, seconds = tesseract_read(images, TESSERACT_LINE_PSM, num_workers)
      tesseract_seconds += seconds
      results[split]["tesseract"] = scores(texts, tess_texts)
    readings[split] = [{"text": t, "font": e.get("font"), "judge": j, "tesseract": r}
                       for t, e, j, r in zip(texts, examples, judge_texts, tess_texts)]
  return results, readings, tesseract_seconds


def document_word_examples(builder_config: str, num_images: int, data_dir: str,
                           seed: int = 0) -> list[dict]:
  """`num_images` examples of `document_words/<builder_config>`'s test split (documents never
  trained on), a seeded sample across its documents; DatasetError if it is not built."""
  source = pipeline.load_split("document_words", "test", data_dir, builder_config,
                               build_if_missing=False)
  count = min(num_images, len(source))
  indices = np.sort(np.random.default_rng(seed).choice(len(source), count, replace=False))
  return [{"image": e["image"], "text": e["text"], "font": e.get("doc_id")}
          for e in (source[int(i)] for i in indices)]


def _evaluate_book(model, variables, pages, patches, use_tesseract, num_workers,
                   word_resize_mode=None, word_box_height="line") -> tuple[dict, list]:
  """Mean judge and Tesseract accuracy on clean and degraded patches, per-patch readings."""
  box_reader = make_box_reader(model, word_resize_mode)
  texts = [patch["text"] for patch in patches]
  result = {"num_pages": len(pages), "pages": pages, "num_patches": len(patches),
            "word_resize_mode": word_resize_mode or model.word_resize_mode,
            "word_box_height": word_box_height, "judge": {}, "tesseract": None}
  per_patch = [{"page": p["page"], "corner": list(p["corner"]), "text": p["text"]}
               for p in patches]
  for kind in ("clean", "degraded"):
    readings = [judge_read_patch(model, variables, p[kind], p["text"], p["char_boxes"],
                                 box_reader, word_box_height) for p in patches]
    result["judge"][kind] = metrics.mean_ocr_accuracy(texts, readings) if patches else None
    for entry, reading in zip(per_patch, readings):
      entry[f"judge_{kind}"] = reading
  if use_tesseract and patches:
    result["tesseract"] = {}
    for kind in ("clean", "degraded"):
      readings, _ = tesseract_read([p[kind] for p in patches], TESSERACT_BLOCK_PSM, num_workers)
      result["tesseract"][kind] = metrics.mean_ocr_accuracy(texts, readings)
      for entry, reading in zip(per_patch, readings):
        entry[f"tesseract_{kind}"] = reading
  return result, per_patch


def run(model_path: str | None, num_images: int, book_pages: int, use_tesseract: bool,
        out_dir: pathlib.Path | None, time_batches: Sequence[int],
        height: int = test_sets.SYNTH_HEIGHT, width: int = test_sets.SYNTH_WIDTH, data_dir: str = "data", batch_size: int = 64,
        num_workers: int = 1, time_repeats: int = 10, word_resize_mode: str | None = None,
        word_box_height: str = "line", document_words: str = "",
        num_document_words: int = 300) -> dict:
  """Measures the judge (and Tesseract); prints the table, writes `out_dir/eval_ocr.json`.

  `document_words` (a builder config of that dataset, e.g. "small"; "" skips) adds
  `num_document_words` runs of words of its test documents, read as canvases.

  `word_resize_mode` (None: the model's) and `word_box_height` set how book words are cropped
  (`api.crop_words`, `pages_lib.word_boxes_by_line`).
  """
  _check_settings(num_images, book_pages, time_batches, time_repeats, batch_size)
  if word_box_height not in pages_lib.WORD_BOX_HEIGHTS:
    raise errors.TficError(f"--word_box_height must be one of {pages_lib.WORD_BOX_HEIGHTS}, got "
                           f"{word_box_height!r}")
  start = time.time()
  if word_resize_mode is not None and word_resize_mode not in api.WORD_RESIZE_MODES:
    raise errors.TficError(f"--word_resize_mode must be one of {api.WORD_RESIZE_MODES}, got "
                           f"{word_resize_mode!r}")
  model, variables = api.load(model_path)  # CheckpointError before any work.
  tesseract_note = ""
  if use_tesseract and not tesseract.available():
    use_tesseract = False
    tesseract_note = f"the tesseract binary was not found ({tesseract.INSTALL_HINT})."
    print(f"Note: Tesseract skipped: {tesseract_note}")

  with test_sets.worker_pool(num_workers) as pool:
    examples, sources = {}, {}
    for split in test_sets.SYNTH_SPLITS:
      examples[split], sources[split] = test_sets.synth_test_examples(
          split, num_images, height, width, data_dir, pool)
    pages, patches = test_sets.book_test_patches(book_pages, pool)
  document_examples = {}
  if document_words:
    document_examples[f"document_words/{document_words} test"] = document_word_examples(
        document_words, num_document_words, data_dir)
  render_seconds = time.time() - start

  reader = make_reader(model)
  synth, synth_readings, tesseract_seconds = _evaluate_synth(
      model, variables, reader, examples, sources, batch_size, use_tesseract, num_workers)
  documents, document_readings, _ = _evaluate_synth(
      model, variables, reader, document_examples,
      {name: "document_words" for name in document_examples}, batch_size, use_tesseract,
      num_workers)
  book_result, book_readings = _evaluate_book(
      model, variables, pages, patches, use_tesseract, num_workers, word_resize_mode,
      word_box_height)
  speed = {
      "judge_ms_per_image": time_judge(model, variables, [e["image"] for e in examples["test"]],
                                       time_batches, time_repeats, reader),
      "time_repeats": time_repeats,
      "tesseract_ms_per_line": (
          1000.0 * tesseract_seconds / (num_images * len(test_sets.SYNTH_SPLITS))
          if use_tesseract else None),
      "tesseract_workers": num_workers if use_tesseract else None,
  }
  report = {
      "command": " ".join(sys.argv),
      "model": _model_summary(model, variables, model_path),
      "backend": jax.default_backend(),
      "device": jax.devices()[0].device_kind,
      "num_images": num_images, "height": height, "width": width,
      "tesseract": use_tesseract, "tesseract_note": tesseract_note,
      "synth_text": synth, "book": book_result, "documents": documents, "speed": speed,
      "seconds": {"data": render_seconds, "total": time.time() - start},
      "readings": {"synth_text": synth_readings, "book": book_readings,
                   "documents": document_readings},
  }
  print(format_table(report))
  if out_dir is not None:
    print(f"Wrote {write_report(out_dir, report)} ({report['seconds']['total']:.0f} s).")
  return report
