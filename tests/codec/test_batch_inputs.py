"""Inputs and outputs of a launch.compress / launch.decompress batch (files.expand_inputs,
files.plan_outputs) and the launchers' compilation cache: every bad request is one TficError."""

from pathlib import Path

import pytest

from launch import common
from tfic_jax import errors
from tfic_jax.codec import files

PNG = (".png",)


@pytest.fixture
def tree(tmp_path):
  (tmp_path / "pages" / "sub").mkdir(parents=True)
  for name in ("pages/a.png", "pages/sub/b.png", "pages/notes.txt", "line_1.png", "line_2.png"):
    (tmp_path / name).write_bytes(b"")
  (tmp_path / "empty").mkdir()
  return tmp_path


def test_files_folders_and_globs_expand_with_their_relative_paths(tree):
  found = files.expand_inputs([str(tree / "pages"), str(tree / "line_*.png"),
                               str(tree / "line_1.png")], PNG)
  assert [(str(p.relative_to(tree)), str(r)) for p, r in found] == [
      ("pages/a.png", "a.png"), ("pages/sub/b.png", "sub/b.png"), ("line_1.png", "line_1.png"),
      ("line_2.png", "line_2.png"), ("line_1.png", "line_1.png")]


@pytest.mark.parametrize("spec, message", [
    ("missing.png", "no such file, folder or pattern"),
    ("nothing_*.png", "the pattern matches no file"),
    ("empty", "a folder with no .png files"),
])
def test_an_input_that_names_nothing_is_one_error(tree, spec, message):
  with pytest.raises(errors.TficError, match=message):
    files.expand_inputs([str(tree / spec)], PNG)


def test_outputs_are_planned_or_refused(tree):
  found = files.expand_inputs([str(tree / "pages")], PNG)
  jobs = files.plan_outputs(found, None, str(tree / "out"), ".tfic")
  assert [j.output for j in jobs] == [tree / "out" / "a.tfic", tree / "out" / "sub" / "b.tfic"]
  one = files.plan_outputs(found[:1], str(tree / "x.tfic"), None, ".tfic")
  assert one[0].output == tree / "x.tfic"
  with pytest.raises(errors.TficError, match="no input given"):
    files.plan_outputs([], None, str(tree / "out"), ".tfic")
  with pytest.raises(errors.TficError, match="--output names one file but 2 inputs"):
    files.plan_outputs(found, str(tree / "x.tfic"), None, ".tfic")
  with pytest.raises(errors.TficError, match="not both"):
    files.plan_outputs(found, str(tree / "x.tfic"), str(tree / "out"), ".tfic")
  with pytest.raises(errors.TficError, match="where should the results go"):
    files.plan_outputs(found, "", None, ".tfic")
  twice = files.expand_inputs([str(tree / "line_1.png"), str(tree / "line_1.png")], PNG)
  with pytest.raises(errors.TficError, match="would both be written to"):
    files.plan_outputs(twice, None, str(tree / "out"), ".tfic")


def test_the_compilation_cache_is_off_when_empty_or_unwritable(tmp_path, monkeypatch):
  monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
  assert common.enable_compilation_cache("") is None
  (tmp_path / "a_file").write_bytes(b"")
  assert common.enable_compilation_cache(str(tmp_path / "a_file" / "cache")) is None
  monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "given"))
  assert common.enable_compilation_cache() == str(tmp_path / "given")  # left as JAX has it
  assert not Path(tmp_path / "given").exists()
