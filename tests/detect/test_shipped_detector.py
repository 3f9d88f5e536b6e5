"""The shipped detector (models/craft_default) loads, matches its card and finds words."""

import pathlib

from tfic_jax import zoo
from tfic_jax.data import pages
from tfic_jax.detect import api
from tfic_jax.eval import detect as evaluate

MODEL_DIR = pathlib.Path(__file__).resolve().parents[2] / "models" / api.DEFAULT_MODEL


def test_card_checksum_matches_the_shipped_variables():
  recorded, actual = zoo.card_checksums(MODEL_DIR)
  assert recorded == actual


def test_default_detector_loads_and_finds_the_words_of_a_clean_test_page_window():
  detector, variables = api.load()
  assert detector.num_params() == 333_490
  page = pages.render("test", 0)
  corner, size = (96, 160), 256
  image, _ = pages.crop(page.clean, page.char_boxes, corner, 1.0, size)
  words = pages.to_crop(page.word_boxes, corner, 1.0)
  inside, partly = pages.boxes_inside(words, size)
  found = api.detect(detector, variables, image)
  summary = evaluate.match(found.boxes, words[inside], words[partly]).summary()
  # The measured H-mean on whole clean test pages is in docs/results.md (≥ 0.9 is the bar).
  assert summary["num_words"] > 30 and summary["hmean"] > 0.9
