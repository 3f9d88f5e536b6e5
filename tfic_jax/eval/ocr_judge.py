r"""Evaluation of the OCR judge next to Tesseract: the logic behind `launch.eval_ocr`.

Synthetic test lines (the builder's examples, seen and held-out fonts), book test patches read
word by word from their ground-truth character boxes, and the judge's speed; see the launcher's
docstring for what is measured and `docs/results.md` for the figures.
"""

from collections.abc import Callable, Sequence
import contextlib
import itertools
import json
import multiprocessing
import pathlib
import sys
import time

import numpy as np

from tfic_jax import errors
from tfic_jax import metrics
from tfic_jax.eval import tesseract


SYNTH_SPLITS = ("test", "test_heldout_fonts")
SYNTH_HEIGHT, SYNTH_WIDTH = 256, 512  # The `default` synth_text config (paper size).
TESSERACT_LINE_PSM = 7  # One text line.
TESSERACT_BLOCK_PSM = 6  # A block of lines (book patches).
_MIN_BOX_BUCKET = 8  # Word boxes per patch are padded to a power of two ≥ this (few compiles).


# ------------------------------------------------------------------------------ test data


@contextlib.contextmanager
def worker_pool(num_workers: int):
  """A spawn process pool (forking after JAX has started is unsafe), or None for 1 worker."""
  if num_workers <= 1:
    yield None
    return
  with multiprocessing.get_context("spawn").Pool(num_workers) as pool:
    yield pool


def _starmap(pool, function: Callable, tasks: Sequence[tuple]) -> list:
  """`[function(*task) for task in tasks]`, in order, in `pool`'s processes if there is one."""
  if pool is None or len(tasks) <= 1:
    return list(itertools.starmap(function, tasks))
  return pool.starmap(function, tasks)


def _dataset_split(split: str, num_images: int, data_dir: str):
  """The built `synth_text/default` split if it is under `data_dir` and long enough, else None."""
  from tfic_jax.data import pipeline  # pylint: disable=g-import-not-at-top
  try:
    source = pipeline.load_split("synth_text", split, data_dir, "default",
                                 build_if_missing=False)
  except errors.DatasetError:
    return None
  return source if len(source) >= num_images else None


def synth_test_examples(split: str, num_images: int, height: int, width: int, data_dir: str,
                        pool=None) -> tuple[list[dict], str]:
  """The first `num_images` examples of a synth_text test split: ([{"image", "text", "font"}],
  where they came from). The builder's examples: read back, or rendered exactly as it does."""
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top
  from tfic_jax.data import synth_text  # pylint: disable=g-import-not-at-top
  if (height, width) == (SYNTH_HEIGHT, SYNTH_WIDTH):
    source = _dataset_split(split, num_images, data_dir)
    if source is not None:
      return [source[i] for i in range(num_images)], f"{data_dir}/synth_text/default"
  spec = synth_text.SynthTextSpec(
      height=height, width=width,
      font_split="heldout" if split == "test_heldout_fonts" else "seen")
  seed = builders.SYNTH_SPLIT_SEEDS[split]
  tasks = [(spec, seed, index) for index in range(num_images)]
  return _starmap(pool, synth_text.render_example, tasks), "rendered"


def book_test_sentences() -> tuple[str, ...]:
  """The sentence pool of book test pages (prose found on this machine, ~6 s)."""
  from tfic_jax.data import book  # pylint: disable=g-import-not-at-top
  return book.sentence_pool(book.gather_sentences(), "test")


def book_config(name: str = "default"):
  """The `book_patches` builder config `name`; TficError naming the valid ones otherwise."""
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top
  configs = {c.name: c for c in builders.BookPatches.BUILDER_CONFIGS}
  if name not in configs:
    raise errors.TficError(f"book_patches has no config {name!r}; use one of {sorted(configs)}")
  return configs[name]


def book_test_patches(num_pages: int, pool=None, builder_config: str = "default"
                      ) -> tuple[list[int], list[dict]]:
  """The first `num_pages` test pages of `book_patches/<builder_config>` and their patches,
  rendered as the builder renders them (clean and degraded uint8 [64, 256, 1], text, char
  boxes, ...)."""
  from tfic_jax.data import book  # pylint: disable=g-import-not-at-top
  from tfic_jax.data import builders  # pylint: disable=g-import-not-at-top
  config = book_config(builder_config)
  pages = [int(p) for p in book.split_pages(config.num_pages, builders.BOOK_SEED)["test"]]
  pages = pages[:num_pages]
  if not pages:
    return [], []
  spec = builders.page_spec(config)
  sentences = book_test_sentences()
  tasks = [(sentences, page, builders.BOOK_SEED, spec, config.degrade_factor,
            config.jpeg_quality) for page in pages]
  return pages, [patch for patches in _starmap(pool, book.page_patches, tasks)
                 for patch in patches]


# ------------------------------------------------------------------------------ the judge


def make_reader(model) -> Callable:
  """Jitted (variables, images uint8 [B, H, W, C]) → greedy label ids [B, T]."""
  import jax  # pylint: disable=g-import-not-at-top
  from tfic_jax.ocr import api  # pylint: disable=g-import-not-at-top
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


WORD_BOX_HEIGHTS = ("line", "word")


def word_boxes_by_line(text: str, char_boxes: np.ndarray,
                       box_height: str = "line") -> list[np.ndarray]:
  """Per line of a book patch, the boxes [N, 4] of its visible words, in reading order.

  A word's horizontal extent is that of its characters' boxes (`char_boxes` follow the
  non-whitespace characters of `text`), so whole words get exactly their ground-truth word box
  and words cut at the patch border the box of their visible letters. `box_height`: "line"
  (default) gives every word the vertical extent of its line's visible characters (the line
  box, so that the words of a line share one scale and keep their x-height), "word" the tight
  vertical extent of the word's own characters (the ground-truth word box).
  """
  if box_height not in WORD_BOX_HEIGHTS:
    raise errors.TficError(f"box_height must be one of {WORD_BOX_HEIGHTS}, got {box_height!r}")
  char_boxes = np.asarray(char_boxes, np.float32).reshape(-1, 4)
  lines, cursor = [], 0
  for line in text.split("\n") if text else []:
    boxes = []
    line_start = cursor
    for word in line.split():
      chars = char_boxes[cursor:cursor + len(word)]
      boxes.append([*chars[:, :2].min(0), *chars[:, 2:].max(0)])
      cursor += len(word)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    if box_height == "line" and len(boxes):
      line_chars = char_boxes[line_start:cursor]
      boxes[:, 1], boxes[:, 3] = line_chars[:, 1].min(), line_chars[:, 3].max()
    lines.append(boxes)
  if cursor != len(char_boxes):
    raise errors.DatasetError(
        f"book patch: {len(char_boxes)} character boxes for {cursor} characters of its text")
  return lines


def make_box_reader(model, resize_mode: str | None = None) -> Callable:
  """Jitted (variables, image [H, W, C], boxes [N, 4]) → label ids [N, T] of the boxes' crops
  (`api.crop_words`, the path of `api.read_words`; `resize_mode` None: the model's
  `word_resize_mode`)."""
  import jax  # pylint: disable=g-import-not-at-top
  from tfic_jax.ocr import api  # pylint: disable=g-import-not-at-top

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
  lines = word_boxes_by_line(text, char_boxes, box_height)
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
  import jax  # pylint: disable=g-import-not-at-top
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
  for split in SYNTH_SPLITS:
    row, tess = synth[split], synth[split]["tesseract"] or {}
    lines.append(
        f"| {names[split]} | {row['num_images']} | {fmt(row['judge']['ocr_accuracy'])} | "
        f"{fmt(row['judge']['word_accuracy'])} | {fmt(tess.get('ocr_accuracy'))} | "
        f"{fmt(tess.get('word_accuracy'))} |")
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
  import jax  # pylint: disable=g-import-not-at-top
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
        out_dir: pathlib.Path | None, time_batches: Sequence[int], height: int = SYNTH_HEIGHT,
        width: int = SYNTH_WIDTH, data_dir: str = "data", batch_size: int = 64,
        num_workers: int = 1, time_repeats: int = 10, word_resize_mode: str | None = None,
        word_box_height: str = "line") -> dict:
  """Measures the judge (and Tesseract); prints the table, writes `out_dir/eval_ocr.json`.

  `word_resize_mode` (None: the model's) and `word_box_height` set how book words are cropped
  (`api.crop_words`, `word_boxes_by_line`).
  """
  import jax  # pylint: disable=g-import-not-at-top
  from tfic_jax.ocr import api  # pylint: disable=g-import-not-at-top
  _check_settings(num_images, book_pages, time_batches, time_repeats, batch_size)
  if word_box_height not in WORD_BOX_HEIGHTS:
    raise errors.TficError(f"--word_box_height must be one of {WORD_BOX_HEIGHTS}, got "
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

  with worker_pool(num_workers) as pool:
    examples, sources = {}, {}
    for split in SYNTH_SPLITS:
      examples[split], sources[split] = synth_test_examples(
          split, num_images, height, width, data_dir, pool)
    pages, patches = book_test_patches(book_pages, pool)
  render_seconds = time.time() - start

  reader = make_reader(model)
  synth, synth_readings, tesseract_seconds = _evaluate_synth(
      model, variables, reader, examples, sources, batch_size, use_tesseract, num_workers)
  book_result, book_readings = _evaluate_book(
      model, variables, pages, patches, use_tesseract, num_workers, word_resize_mode,
      word_box_height)
  speed = {
      "judge_ms_per_image": time_judge(model, variables, [e["image"] for e in examples["test"]],
                                       time_batches, time_repeats, reader),
      "time_repeats": time_repeats,
      "tesseract_ms_per_line": (1000.0 * tesseract_seconds / (num_images * len(SYNTH_SPLITS))
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
      "synth_text": synth, "book": book_result, "speed": speed,
      "seconds": {"data": render_seconds, "total": time.time() - start},
      "readings": {"synth_text": synth_readings, "book": book_readings},
  }
  print(format_table(report))
  if out_dir is not None:
    print(f"Wrote {write_report(out_dir, report)} ({report['seconds']['total']:.0f} s).")
  return report
