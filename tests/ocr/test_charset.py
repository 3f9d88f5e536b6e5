"""Charset policy and label encoding (tfic_jax/ocr/charset.py)."""

import numpy as np
import pytest

from tfic_jax import errors
from tfic_jax.ocr import charset as charset_lib


def test_default_charset_is_36_case_insensitive_alphanumerics():
  cs = charset_lib.get_charset()
  assert cs.size == 36 and not cs.case_sensitive
  assert charset_lib.get_charset("printable94").size == 94


def test_roundtrip_lowercases_and_drops_unknown_characters():
  cs = charset_lib.get_charset()
  labels, lengths = cs.encode(["Hello, World 42!", "abc"], max_length=25)
  assert labels.shape == (2, 25) and labels.dtype == np.int32
  assert lengths.tolist() == [12, 3]
  assert cs.decode(labels) == ["helloworld42", "abc"]


def test_strict_rejects_characters_outside_the_charset():
  cs = charset_lib.get_charset()
  with pytest.raises(errors.TficError, match="outside"):
    cs.encode("naïve", max_length=25, strict=True)
  assert cs.decode(cs.encode("naïve", max_length=25)[0]) == ["nave"]


def test_printable_is_case_sensitive_and_space_optional():
  cs = charset_lib.get_charset("printable94", include_space=True)
  labels, _ = cs.encode("Hi  there,  OK", max_length=25)
  assert cs.decode(labels) == ["Hi there, OK"]


def test_empty_label_encodes_to_zero_length_and_decodes_empty():
  cs = charset_lib.get_charset()
  labels, lengths = cs.encode(["", "!!!"], max_length=5)
  assert lengths.tolist() == [0, 0] and not labels.any()
  assert cs.decode(labels) == ["", ""]
  assert cs.decode(np.zeros((0,), np.int32)) == [""]


def test_overlong_label_is_truncated_or_rejected():
  cs = charset_lib.get_charset()
  text = "a" * 30
  labels, lengths = cs.encode(text, max_length=25)
  assert lengths.tolist() == [25] and cs.decode(labels) == ["a" * 25]
  assert not cs.fits(text, 25) and cs.fits("a" * 25, 25)
  with pytest.raises(errors.TficError, match="max_length"):
    cs.encode(text, max_length=25, overlong="error")


def test_decode_skips_padding_anywhere_and_accepts_bytes():
  cs = charset_lib.get_charset()
  assert cs.decode([[11, 0, 12, 0, 0]]) == ["ab"]
  assert cs.normalize(b"AB c") == "abc"
