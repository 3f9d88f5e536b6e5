"""One entry point for every evaluation: `run(config, workdir)` runs the evaluator that
`config.part` names, with the settings of its config (`configs/eval_<part>.py`), writes its
artifacts under `workdir` and returns the lines to print. `launch.evaluate` is its shell.

  part        config                      evaluator
  tfic        configs/eval_tfic.py        eval/tfic.py: rate–accuracy of MSE, TFIC, classical
  codec       configs/eval_codec.py       eval/codec.py: rate–PSNR of learned vs classical
  ocr         configs/eval_ocr.py         eval/ocr_judge.py: the judge next to Tesseract
  detect      configs/eval_detect.py      eval/detect.py: CRAFT H-mean and page OCR
  dequant     configs/eval_dequant.py     eval/dequant.py (D1) or, with ocr_guided,
                                          eval/ocr_guided.py (D1 + CRAFT + D2)
  baselines   configs/eval_baselines.py   eval/baselines.py: classical codecs with Tesseract
  documents   configs/eval_documents.py   eval/documents.py: whole pages, learned and classical
                                          codecs, Tesseract in page mode (+ our page OCR)
  severity    configs/eval_severity.py    eval/severity.py: Part B's degradation by type size ×
                                          factor × quality: rate, readers, D1, JB2
"""

from collections.abc import Callable
import json
import os
from pathlib import Path

from tfic_jax import errors
from tfic_jax.eval import baselines
from tfic_jax.eval import codec
from tfic_jax.eval import dequant
from tfic_jax.eval import detect
from tfic_jax.eval import documents
from tfic_jax.eval import ocr_guided
from tfic_jax.eval import ocr_judge
from tfic_jax.eval import report
from tfic_jax.eval import severity
from tfic_jax.eval import tfic

Progress = Callable[[str], None]


def _names(value, field: str) -> list[str]:
  """A comma-separated config string (or a sequence) as a list of non-empty names."""
  names = value.split(",") if isinstance(value, str) else list(value or ())
  names = [str(n).strip() for n in names if str(n).strip()]
  if not names:
    raise errors.TficError(f"config.{field} is empty; give one or more, comma-separated")
  return names


def _ints(value, field: str) -> list[int]:
  try:
    return [int(v) for v in _names(value, field)]
  except ValueError:
    raise errors.TficError(f"config.{field} must be integers, got {value!r}") from None


def _optional(value) -> str | None:
  return str(value) if value else None


def _workers(value) -> int:
  return int(value) or os.cpu_count() or 1


def _tfic(config, workdir: Path, progress: Progress) -> list[str]:
  result = tfic.run(config, workdir, progress=progress)
  return report.summary_lines(result) + [
      "", f"wrote {', '.join(sorted(result['files'].values()))} under {workdir}"]


def _codec(config, workdir: Path, progress: Progress) -> list[str]:
  del progress
  result = codec.run(_names(config.codecs, "codecs"), int(config.num_images),
                     int(config.height), int(config.width), str(workdir), str(config.label),
                     bool(config.classical))
  return codec.summary_lines(result) + [
      "", f"wrote {workdir}/results.json" + (" and rd.png" if config.classical else "")]


def _ocr(config, workdir: Path, progress: Progress) -> list[str]:
  del progress
  ocr_judge.run(
      model_path=_optional(config.model), num_images=int(config.num_images),
      book_pages=int(config.book_pages), use_tesseract=bool(config.tesseract), out_dir=workdir,
      time_batches=_ints(config.time_batches, "time_batches"), height=int(config.height),
      width=int(config.width), data_dir=str(config.data_dir),
      batch_size=int(config.batch_size), num_workers=_workers(config.num_workers),
      time_repeats=int(config.time_repeats),
      word_resize_mode=_optional(config.word_resize_mode),
      word_box_height=str(config.word_box_height),
      document_words=str(config.get("document_words", "")),
      num_document_words=int(config.get("num_document_words", 300)))
  return []  # ocr_judge.run prints its table.


def _detect(config, workdir: Path, progress: Progress) -> list[str]:
  del progress
  result = detect.run(_optional(config.detector), _optional(config.ocr_model),
                      int(config.pages), int(config.patch_pages),
                      tuple(_names(config.kinds, "kinds")), bool(config.page_ocr),
                      str(config.restorer), str(config.book_config))
  workdir.mkdir(parents=True, exist_ok=True)
  (workdir / "eval_detect.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
  return [detect.format_table(result), "", f"wrote {workdir / 'eval_detect.json'}"]


def _dequant(config, workdir: Path, progress: Progress) -> list[str]:
  del progress
  figure = Path(config.figure) if config.figure else None
  if config.ocr_guided:
    ocr_guided.run(
        d2_path=_optional(config.d2), d1_path=_optional(config.model),
        craft_path=_optional(config.craft), judge_path=_optional(config.judge),
        num_pages=int(config.num_pages), use_tesseract=bool(config.tesseract),
        out_dir=workdir, figure_path=figure, figure_rows=int(config.figure_rows),
        num_workers=int(config.num_workers), book_config=str(config.book_config),
        paste_margin=float(config.paste_margin))
    return []  # ocr_guided.run prints its table.
  dequant.run(
      model_path=_optional(config.model), num_pages=int(config.num_pages),
      use_tesseract=bool(config.tesseract), use_judge=bool(config.use_judge),
      judge_path=_optional(config.judge), out_dir=workdir, figure_path=figure,
      figure_rows=int(config.figure_rows), batch_size=int(config.batch_size),
      time_batches=_ints(config.time_batches, "time_batches"),
      time_repeats=int(config.time_repeats), time_whole_page=bool(config.time_page),
      num_workers=int(config.num_workers), book_config=str(config.book_config))
  return []  # dequant.run prints its table.


def _baselines(config, workdir: Path, progress: Progress) -> list[str]:
  del progress
  try:
    baselines.run(
        num_images=int(config.num_images), height=int(config.height), width=int(config.width),
        seed=int(config.seed), font_split=str(config.font_split),
        codecs=_names(config.codecs, "codecs"),
        downscales=_ints(config.downscales, "downscales"), grid=str(config.grid),
        num_workers=_workers(config.num_workers), avif_speed=int(config.avif_speed),
        out_dir=workdir)
  except ValueError as e:  # A bad codec, grid or size from classical's own checks.
    if isinstance(e, errors.TficError):
      raise
    raise errors.TficError(str(e)) from None
  return []  # baselines.run prints its table.


def _documents(config, workdir: Path, progress: Progress) -> list[str]:
  try:
    return documents.run(config, workdir, progress=progress)["lines"]
  except (RuntimeError, ValueError) as e:  # A codec's own check or a DjVu tool's failure.
    if isinstance(e, errors.TficError):
      raise
    raise errors.TficError(str(e)) from None


def _severity(config, workdir: Path, progress: Progress) -> list[str]:
  try:
    return severity.run(config, workdir, progress=progress)["lines"]
  except RuntimeError as e:  # A DjVu tool's or Tesseract's failure: one line.
    raise errors.TficError(str(e)) from None


PARTS = {"tfic": _tfic, "codec": _codec, "ocr": _ocr, "detect": _detect, "dequant": _dequant,
         "baselines": _baselines, "documents": _documents, "severity": _severity}


def run(config, workdir, progress: Progress = lambda message: None) -> list[str]:
  """Runs the evaluator `config.part` names; returns the lines to print."""
  part = config.get("part", "")
  if part not in PARTS:
    raise errors.TficError(
        f"config.part is {part!r}: use one of {sorted(PARTS)} (configs/eval_<part>.py)")
  return PARTS[part](config, Path(workdir), progress)
