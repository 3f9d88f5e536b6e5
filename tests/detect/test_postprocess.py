"""Word boxes from maps (tfic_jax/detect/postprocess.py) and their matching (evaluate.py)."""

import numpy as np
import pytest

from tfic_jax import errors
from tfic_jax.detect import heatmaps
from tfic_jax.detect import postprocess
from tfic_jax.eval import detect as evaluate


def _line_of_words(rng, top, widths, char_width=6, height=8, gap=3):
  """Character boxes [N, 4] and word ids of words of `widths` characters on one line."""
  boxes, words, x = [], [], 10
  for word_id, length in enumerate(widths):
    for _ in range(length):
      w = char_width + int(rng.integers(-1, 2))
      boxes.append([x, top, x + w, top + height + int(rng.integers(0, 3))])
      words.append(word_id)
      x += w
    x += gap
  return np.float32(boxes), np.int32(words)


def _synthetic_page(seed=0):
  rng = np.random.default_rng(seed)
  boxes, words = [], []
  for line, top in enumerate((8, 26, 44)):
    b, w = _line_of_words(rng, top, rng.integers(1, 7, size=5))
    boxes.append(b)
    words.append(w + 100 * line)
  boxes, words = np.concatenate(boxes), np.concatenate(words)
  word_boxes = np.float32([[*boxes[words == w, :2].min(0), *boxes[words == w, 2:].max(0)]
                           for w in np.unique(words)])
  return boxes, words, word_boxes


def test_postprocessing_recovers_the_words_of_exact_target_maps():
  char_boxes, char_word, word_boxes = _synthetic_page()
  maps = heatmaps.craft_targets(char_boxes, char_word, (64, 256))
  found = postprocess.word_boxes(maps[..., 0], maps[..., 1])
  counts = evaluate.match(found.boxes, word_boxes)
  assert counts.matched == counts.ground_truth == counts.detections == len(word_boxes)
  assert found.quads.shape == (len(word_boxes), 4, 2)
  assert np.all(found.scores >= 0.7)


def test_thresholds_drop_weak_components():
  char_boxes, char_word, _ = _synthetic_page(1)
  maps = heatmaps.craft_targets(char_boxes, char_word, (64, 256)) * 0.6  # peak < text 0.7
  assert len(postprocess.word_boxes(maps[..., 0], maps[..., 1])) == 0


def test_maps_of_different_shapes_are_refused():
  with pytest.raises(errors.TficError, match="two 2-D maps"):
    postprocess.word_boxes(np.zeros((8, 8)), np.zeros((8, 9)))


def test_reading_order_groups_lines_top_to_bottom_then_left_to_right():
  _, _, word_boxes = _synthetic_page(2)
  shuffled = np.random.default_rng(0).permutation(len(word_boxes))
  lines = postprocess.reading_order(word_boxes[shuffled])
  assert len(lines) == 3
  ordered = np.concatenate([shuffled[line] for line in lines])
  np.testing.assert_array_equal(ordered, np.arange(len(word_boxes)))


def test_match_counts_one_to_one_and_ignores_dont_care():
  gt = np.float32([[0, 0, 10, 10], [20, 0, 30, 10]])
  detections = np.float32([[1, 0, 10, 10],  # matches gt 0
                           [0, 0, 9, 10],  # a duplicate of gt 0: a false positive
                           [40, 0, 48, 10],  # on a don't-care word: not counted
                           [60, 0, 70, 10]])  # a false positive
  counts = evaluate.match(detections, gt, dont_care=np.float32([[39, 0, 50, 10]]))
  assert (counts.matched, counts.detections, counts.ground_truth) == (1, 3, 2)
  summary = counts.summary()
  assert summary["precision"] == pytest.approx(1 / 3) and summary["recall"] == 0.5
  assert summary["hmean"] == pytest.approx(0.4)


def test_words_cut_by_a_patch_are_dont_care_clipped_to_it():
  page_words = np.float32([[100, 100, 130, 110],  # inside the 64×256 window at (90, 95)
                           [80, 100, 95, 110],  # cut on the left
                           [200, 155, 230, 165],  # cut through its height at the bottom
                           [400, 100, 420, 110]])  # outside
  dont_care = evaluate.patch_dont_care(page_words, (90, 95), width=256, height=64)
  np.testing.assert_allclose(dont_care, [[0, 5, 5, 15], [110, 60, 140, 64]])


def test_book_words_need_maps_at_the_page_resolution():
  """Why `detect.mag_ratio` is 2: even exact target maps lose words at half resolution."""
  from tfic_jax.data import pages  # pylint: disable=g-import-not-at-top
  page = pages.render("test", 0)
  height, width = page.clean.shape[:2]
  hmeans = {}
  for scale in (1.0, 0.5):
    maps = heatmaps.craft_targets(page.char_boxes, page.char_word,
                                  (int(height * scale), int(width * scale)), scale=scale)
    found = postprocess.word_boxes(maps[..., 0], maps[..., 1]).scaled(1 / scale)
    hmeans[scale] = evaluate.match(found.boxes, page.word_boxes).summary()["hmean"]
  # Measured: 0.990 at the page's resolution, 0.829 at half of it.
  assert hmeans[1.0] > 0.98 and hmeans[0.5] < 0.9, hmeans


def test_visible_words_by_line_follow_the_patch_text():
  text = "ab c\nd"
  char_boxes = np.float32([[0, 0, 4, 8], [4, 1, 8, 9], [12, 0, 16, 8], [0, 20, 5, 30]])
  lines = evaluate.visible_words_by_line(text, char_boxes)
  np.testing.assert_allclose(lines[0], [[0, 0, 8, 9], [12, 0, 16, 8]])
  np.testing.assert_allclose(lines[1], [[0, 20, 5, 30]])
  with pytest.raises(errors.DatasetError, match="character boxes"):
    evaluate.visible_words_by_line("ab", char_boxes)
