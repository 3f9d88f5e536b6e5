"""Tests for tfic_jax.eval.tesseract: reads a clean word; explains a missing binary."""

import shutil

import numpy as np
from PIL import Image
from PIL import ImageDraw
import pytest

from tfic_jax import errors
from tfic_jax import metrics
from tfic_jax.eval import tesseract

needs_tesseract = pytest.mark.skipif(
    not tesseract.available(),
    reason="tesseract binary not installed (apt-get install tesseract-ocr tesseract-ocr-eng)",
)


def _word_image(word="Hello", channels=3):
  image = Image.new("RGB", (320, 80), "white")
  ImageDraw.Draw(image).text((20, 15), word, fill="black", font_size=44)
  pixels = np.asarray(image)
  return pixels if channels == 3 else np.asarray(image.convert("L"))


@needs_tesseract
def test_reads_a_clean_rendered_word():
  assert metrics.ocr_accuracy("Hello", tesseract.read(_word_image())) == 1.0


@needs_tesseract
def test_reads_grayscale_and_many_in_order():
  words = ["Hello", "World"]
  images = [_word_image(words[0], channels=1), _word_image(words[1])]
  readings = tesseract.read_many(images, num_workers=2)
  assert [metrics.ocr_accuracy(w, r) for w, r in zip(words, readings)] == [1.0, 1.0]


def test_missing_binary_raises_dependency_error_with_install_hint(monkeypatch):
  monkeypatch.setattr(shutil, "which", lambda name: None)
  assert not tesseract.available()
  with pytest.raises(errors.DependencyError, match="apt-get install tesseract-ocr"):
    tesseract.read(_word_image())
  with pytest.raises(errors.DependencyError, match="apt-get install tesseract-ocr"):
    tesseract.read_many([_word_image()])


def test_missing_binary_detected_even_when_found_by_which(monkeypatch):
  # A binary that disappears between the check and the call: pytesseract's own error is mapped.
  if tesseract.pytesseract is None:
    pytest.skip("pytesseract not installed")
  monkeypatch.setattr(tesseract.pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
  monkeypatch.setattr(tesseract, "available", lambda: True)
  with pytest.raises(errors.DependencyError, match="apt-get install"):
    tesseract.read(_word_image())


def test_rejects_bad_images_and_psm():
  with pytest.raises(errors.ImageInputError, match="uint8"):
    tesseract.read(np.zeros((8, 8, 3), np.float32))
  with pytest.raises(ValueError, match="psm"):
    tesseract.read(_word_image(), psm=99)


@needs_tesseract
def test_subprocess_fallback_reads_without_pytesseract(monkeypatch):
  monkeypatch.setattr(tesseract, "pytesseract", None)
  assert metrics.ocr_accuracy("Hello", tesseract.read(_word_image())) == 1.0


@needs_tesseract
def test_unknown_language_raises_dependency_error():
  with pytest.raises(errors.DependencyError, match="tesseract-ocr-xyz"):
    tesseract.read(_word_image(), lang="xyz")


@needs_tesseract
def test_read_many_batches_agree_with_single_reads():
  words = ["Hello", "", "World", "Tesseract", "42 apples"]
  images = [_word_image(word, channels=1 + 2 * (i % 2)) for i, word in enumerate(words)]
  batched = tesseract.read_many(images, num_workers=2, batch_size=2)
  assert batched == [tesseract.read(image) for image in images]
  assert tesseract.read_many([]) == []


def test_read_many_names_the_bad_image():
  with pytest.raises(errors.ImageInputError, match=r"images\[1\]"):
    tesseract.read_many([_word_image(), np.zeros((4, 4, 3), np.float32)])
