"""`launch.evaluate`'s one entry point (tfic_jax/eval/parts.py): every configs/eval_*.py names a
part, each part hands its config to its evaluator with arguments the evaluator accepts, and a
bad part or a bad list field is one clear error."""

import importlib
import inspect
from pathlib import Path
import subprocess
import sys

import pytest

from tfic_jax import errors
from tfic_jax.eval import parts

ROOT = Path(__file__).resolve().parents[2]
EVAL_CONFIGS = sorted(p.stem for p in (ROOT / "configs").glob("eval_*.py"))
# The evaluator function each part calls, by module and name.
EVALUATORS = {"codec": [("codec", "run")], "ocr": [("ocr_judge", "run")],
              "detect": [("detect", "run")], "dequant": [("dequant", "run")],
              "baselines": [("baselines", "run")], "tfic": [("tfic", "run")],
              "documents": [("documents", "run")], "severity": [("severity", "run")]}


def _config(name):
  return importlib.import_module(f"configs.{name}").get_config()


def test_every_eval_config_names_a_part_and_every_part_has_a_config():
  named = {_config(name).part for name in EVAL_CONFIGS}
  assert named == set(parts.PARTS)


class _Called(Exception):
  pass


@pytest.mark.parametrize("name", [n for n in EVAL_CONFIGS if n != "eval_tfic_tiny"])
def test_each_part_calls_its_evaluator_with_arguments_it_accepts(name, monkeypatch, tmp_path):
  config = _config(name)
  calls = []
  for module_name, function in EVALUATORS[config.part]:
    module = importlib.import_module(f"tfic_jax.eval.{module_name}")
    signature = inspect.signature(getattr(module, function))

    def record(*args, _signature=signature, **kwargs):
      calls.append(_signature.bind(*args, **kwargs).arguments)  # TypeError if they do not fit
      raise _Called

    monkeypatch.setattr(module, function, record)
  with pytest.raises(_Called):
    parts.run(config, tmp_path)
  assert len(calls) == 1


def test_the_ocr_guided_switch_calls_the_chain_evaluator(monkeypatch, tmp_path):
  from tfic_jax.eval import ocr_guided  # pylint: disable=g-import-not-at-top
  config = _config("eval_dequant")
  config.ocr_guided = True
  config.d2 = "some_d2"
  seen, signature = {}, inspect.signature(ocr_guided.run)

  def record(**kwargs):
    seen.update(signature.bind(**kwargs).arguments)
    raise _Called

  monkeypatch.setattr(ocr_guided, "run", record)
  with pytest.raises(_Called):
    parts.run(config, tmp_path)
  assert seen["d2_path"] == "some_d2" and seen["out_dir"] == tmp_path


def test_an_unknown_part_is_one_clear_error(tmp_path):
  config = _config("eval_codec")
  config.part = "nope"
  with pytest.raises(errors.TficError, match="config.part is 'nope'"):
    parts.run(config, tmp_path)


@pytest.mark.parametrize("field, value, message", [
    ("codecs", " , ", "config.codecs is empty"),
])
def test_a_bad_list_field_is_one_clear_error(field, value, message, tmp_path):
  config = _config("eval_codec")
  config[field] = value
  with pytest.raises(errors.TficError, match=message):
    parts.run(config, tmp_path)


def test_bad_integers_in_a_list_field_are_one_clear_error(tmp_path):
  config = _config("eval_ocr")
  config.time_batches = "1,x"
  config.model = str(tmp_path / "nothing")
  with pytest.raises(errors.TficError, match="time_batches must be integers"):
    parts.run(config, tmp_path)


def test_the_launcher_prints_one_error_line_without_a_traceback(tmp_path):
  result = subprocess.run(
      [sys.executable, "-m", "launch.evaluate", "--config=configs/eval_codec.py",
       "--config.part=nope", f"--workdir={tmp_path}"],
      cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 1
  assert "Traceback" not in result.stderr
  assert result.stderr.strip().splitlines()[-1].startswith("error: config.part is 'nope'")
