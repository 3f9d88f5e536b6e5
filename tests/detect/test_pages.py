"""Book pages for CRAFT (tfic_jax/data/pages.py) follow their `book_patches` config."""

import numpy as np
import pytest

from configs import craft_tiny
from tfic_jax import errors
from tfic_jax.data import book
from tfic_jax.data import pages
from tfic_jax.data import test_sets
from tfic_jax.train import stages


def test_pages_are_the_builders_pages_at_the_configs_type_size_and_split():
  small, large = pages.render("test", 0, "small"), pages.render("test", 0, "small_t24")
  # The same page of the same split (`small` and `small_t24` have the same 200 pages) ...
  assert small.page_index == large.page_index == int(pages.page_indices("test", "small")[0])
  # ... which is not the default config's first test page (2,285 pages, another split).
  assert pages.page_indices("test", "small")[0] != pages.page_indices("test")[0]
  # The builder's patches of that page come from the same rendering.
  _, patches = test_sets.book_test_patches(1, builder_config="small_t24")
  assert {p["page"] for p in patches} == {large.page_index}
  left, top = (int(v) for v in patches[0]["corner"])
  np.testing.assert_array_equal(patches[0]["clean"], large.clean[top:top + 64, left:left + 256])
  # 22–26 px type: characters about twice as tall, so about a quarter as many on the page.
  height = lambda page: np.median(page.char_boxes[:, 3] - page.char_boxes[:, 1])
  assert 1.6 < height(large) / height(small) < 2.6
  assert len(large.char_boxes) < 0.4 * len(small.char_boxes)
  setup = pages.book_setup("small_t24")
  assert setup.spec.font_size_range == (22, 26) and setup.num_pages == 200
  np.testing.assert_array_equal(
      large.degraded, book.degrade(large.clean, setup.degrade_factor, setup.jpeg_quality))


def test_an_unknown_book_config_is_a_clear_error_before_any_rendering():
  with pytest.raises(errors.TficError, match="no config 'huge'.*default_t24"):
    pages.render("test", 0, "huge")
  with pytest.raises(errors.TficError, match="no config 'huge'"):
    pages.PageSource("train", 4, "huge")
  config = craft_tiny.get_config()
  config.data.builder_config = "huge"
  with pytest.raises(errors.TficError, match="no config 'huge'"):
    stages.get_stage(config)


def test_the_craft_stage_trains_on_the_pages_of_its_builder_config():
  config = craft_tiny.get_config()
  config.data.builder_config = "small_t24"
  stage = stages.get_stage(config)
  page = stage.train_source(None)[0]["page"]
  expected = pages.render("train", 0, "small_t24")
  assert page is expected
  evaluation = stage.eval_source(None)
  assert all(s.pages.book_config == "small_t24" for s in evaluation.values())


def test_the_large_type_config_fits_its_warm_start_and_sees_type_at_its_scale():
  from configs import craft_large_type_small  # pylint: disable=g-import-not-at-top
  from tfic_jax import zoo  # pylint: disable=g-import-not-at-top
  from tfic_jax.detect import api  # pylint: disable=g-import-not-at-top
  config = craft_large_type_small.get_config()
  detector, variables = api.load(config.init_from)
  zoo.check_same_structure(variables, api.build(config).abstract_variables(),
                           "craft_large_type_small")
  # Magnified type (em × mag_ratio) is the size the warm start was trained on.
  large = pages.book_setup(config.data.builder_config).spec.font_size_range
  default = pages.book_setup("default").spec.font_size_range
  assert np.allclose(np.multiply(large, config.detect.mag_ratio),
                     np.multiply(default, detector.mag_ratio), rtol=0.1)
