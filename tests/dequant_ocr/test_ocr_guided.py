"""The OCR-guided chain's building blocks (tfic_jax/chains/ocr_guided.py): word matching by
IoU, word windows, pasting back, D2's refinement, loading."""

import jax
import numpy as np
from ocr_guided_testlib import save_model
from ocr_guided_testlib import tiny_d1
from ocr_guided_testlib import whole_image_detector
import pytest

from tfic_jax import errors
from tfic_jax import zoo
from tfic_jax.chains import ocr_guided
from tfic_jax.dequant import api


def test_match_words_pairs_each_detection_with_its_best_overlapping_word():
  ground_truth = np.float32([[10, 5, 40, 15], [50, 5, 90, 15], [10, 30, 60, 42]])
  detected = np.float32([
      [48, 4, 92, 16],  # word 1, IoU 0.83
      [9, 4, 41, 16],  # word 0, IoU 0.79
      [10, 30, 35, 42],  # half of word 2: IoU 0.5, matched
      [10, 30, 30, 42],  # 40 % of word 2: below the threshold
      [100, 5, 140, 15],  # nothing there
      [11, 5, 40, 15],  # word 0 again, better (IoU 0.97): takes it from the second box
  ])
  np.testing.assert_array_equal(ocr_guided.match_words(detected, ground_truth),
                                [1, -1, 2, -1, -1, 0])
  assert list(ocr_guided.match_words(detected, ground_truth, iou_threshold=0.9)) == [
      -1, -1, -1, -1, -1, 0]
  assert list(ocr_guided.match_words(np.zeros((0, 4)), ground_truth)) == []
  assert list(ocr_guided.match_words(detected[:2], np.zeros((0, 4)))) == [-1, -1]


def test_ground_truth_words_follow_the_patch_text():
  text = "ab cd\nefg"
  char_boxes = np.float32([[0, 0, 5, 9], [5, 2, 10, 10], [20, 0, 25, 10], [25, 0, 30, 12],
                           [0, 20, 5, 30], [5, 20, 10, 30], [10, 20, 15, 31]])
  words, tight, line = ocr_guided.ground_truth_words(text, char_boxes)
  assert words == ["ab", "cd", "efg"]
  np.testing.assert_array_equal(tight, [[0, 0, 10, 10], [20, 0, 30, 12], [0, 20, 15, 31]])
  np.testing.assert_array_equal(line, [[0, 0, 10, 12], [20, 0, 30, 12], [0, 20, 15, 31]])


def test_windows_are_centred_on_the_boxes_and_repeat_the_border_outside_the_image():
  image = np.arange(20 * 40, dtype=np.float32).reshape(1, 20, 40, 1)
  boxes = np.float32([[12, 4, 28, 12], [0, 0, 6, 4], [38, 18, 40, 20], [0, 0, 60, 4]])
  corners, fits = ocr_guided.window_corners(boxes, (8, 16))
  np.testing.assert_array_equal(corners, [[4, 12], [-2, -5], [15, 31], [-2, 22]])
  np.testing.assert_array_equal(fits, [True, True, True, False])
  windows = np.asarray(ocr_guided.extract_windows(image, corners[None], (8, 16)))
  assert windows.shape == (1, 4, 8, 16, 1)
  np.testing.assert_array_equal(windows[0, 0], image[0, 4:12, 12:28])
  padded = np.pad(image[0], ((8, 8), (16, 16), (0, 0)), mode="edge")
  np.testing.assert_array_equal(windows[0, 1], padded[6:14, 11:27])
  np.testing.assert_array_equal(windows[0, 2], padded[23:31, 47:63])


def test_pasting_back_changes_only_the_pixels_inside_the_boxes():
  rng = np.random.default_rng(0)
  base = rng.integers(0, 256, (32, 64, 1)).astype(np.uint8)
  boxes = np.float32([[4.5, 2.2, 20.0, 12.0], [40, 22, 70, 36]])  # the second leaves the image
  corners, _ = ocr_guided.window_corners(boxes, (16, 32))
  windows = np.zeros((2, 16, 32, 1), np.uint8)
  windows[1] = 255
  original = base.copy()
  pasted = ocr_guided.paste_words(base, windows, corners, boxes)
  inside = np.zeros((32, 64), bool)
  inside[2:12, 4:20] = True
  inside[22:32, 40:64] = True
  np.testing.assert_array_equal(pasted[~inside], base[~inside])
  assert np.all(pasted[2:12, 4:20] == 0) and np.all(pasted[22:, 40:] == 255)
  np.testing.assert_array_equal(base, original)  # The input is not modified.


def test_a_paste_margin_grows_each_box_within_its_window_and_the_image():
  base = np.full((32, 64, 1), 100, np.uint8)
  boxes = np.float32([[10, 8, 20, 14], [58, 20, 63, 30]])
  corners, _ = ocr_guided.window_corners(boxes, (16, 32))
  windows = np.full((2, 16, 32, 1), 7, np.uint8)
  pasted = ocr_guided.paste_words(base, windows, corners, boxes, margin=3)
  changed = pasted[:, :, 0] != 100
  expected = np.zeros((32, 64), bool)
  expected[5:17, 7:23] = True  # the first box grown by 3 on every side
  top, left = corners[1]
  expected[max(17, top):min(32, top + 16), max(55, left):64] = True  # clipped to its window
  np.testing.assert_array_equal(changed, expected)
  np.testing.assert_array_equal(ocr_guided.paste_words(base, windows, corners, boxes, 0),
                                ocr_guided.paste_words(base, windows, corners, boxes))
  with pytest.raises(errors.TficError, match="paste margin"):
    ocr_guided.paste_words(base, windows, corners, boxes, margin=-1)


def test_refine_words_applies_d2_to_each_window_and_keeps_the_rest():
  _, model, variables = tiny_d1(seed=1)
  rng = np.random.default_rng(1)
  image = rng.integers(0, 256, (64, 256, 1)).astype(np.uint8)
  boxes = np.float32([[10, 5, 50, 20], [100, 30, 240, 45]])  # the second is wider than 128
  refined = ocr_guided.refine_words((model, variables), image, boxes)
  outside = np.ones((64, 256), bool)
  outside[5:20, 10:50] = outside[30:45, 100:240] = False
  np.testing.assert_array_equal(refined[outside], image[outside])
  corners, _ = ocr_guided.window_corners(boxes[:1], ocr_guided.WINDOW)
  window = ocr_guided.extract_windows(image[None].astype(np.float32) / 255, corners[None],
                                      ocr_guided.WINDOW)[0]
  expected = np.round(np.clip(np.asarray(api.apply(model, variables, window)), 0, 1) * 255)
  top, left = corners[0]
  np.testing.assert_allclose(refined[5:20, 10:50],
                             expected[0, 5 - top:20 - top, 10 - left:50 - left], atol=1)
  assert not np.array_equal(refined[5:20, 10:50], image[5:20, 10:50])
  assert not np.array_equal(refined[30:45, 100:240], image[30:45, 100:240])


def test_refine_page_detects_on_d1_output_and_pastes_d2_words(tmp_path):
  _, d1_model, d1_variables = tiny_d1(seed=0)
  _, d2_model, d2_variables = tiny_d1(seed=2)
  _, detector, detector_variables = whole_image_detector()
  image = np.random.default_rng(2).integers(0, 256, (64, 256, 1)).astype(np.uint8)
  result = ocr_guided.refine_page((d1_model, d1_variables), (detector, detector_variables),
                                  (d2_model, d2_variables), image)
  np.testing.assert_array_equal(result.d1_output,
                                api.restore_image(d1_model, d1_variables, image))
  assert len(result.boxes) == 1  # The whole image is one word for this detector.
  given = ocr_guided.refine_page((d1_model, d1_variables), None, (d2_model, d2_variables),
                                 image, boxes=np.float32([[0, 0, 8, 8]]))
  np.testing.assert_array_equal(given.restored[8:], result.d1_output[8:])
  assert not np.array_equal(given.restored[:8, :8], result.d1_output[:8, :8])
  with pytest.raises(errors.TficError, match="detector or the word boxes"):
    ocr_guided.refine_page((d1_model, d1_variables), None, (d2_model, d2_variables), image)


def test_a_missing_d2_names_the_training_command(tmp_path, monkeypatch):
  monkeypatch.setattr(zoo, "MODELS_DIR", tmp_path)
  with pytest.raises(errors.CheckpointError, match="launch.train --config=configs/dequant_ocr"):
    ocr_guided.load_d2()


def test_load_d2_refuses_a_model_of_another_stage(tmp_path):
  config, _, variables = tiny_d1()
  save_model(tmp_path / "d1", config, variables)
  with pytest.raises(errors.CheckpointError, match="not an OCR-guided D2"):
    ocr_guided.load_d2(tmp_path / "d1")
  config.stage = ocr_guided.STAGE
  config.frozen.d1 = str(tmp_path / "d1")
  save_model(tmp_path / "d2", config, variables)
  model, loaded = ocr_guided.load_d2(tmp_path / "d2")
  assert model.depth == 3
  assert jax.tree.all(jax.tree.map(np.array_equal, loaded, variables))


def test_bad_windows_are_refused():
  with pytest.raises(errors.TficError, match="multiples of 8"):
    ocr_guided.check_window((30, 128))
