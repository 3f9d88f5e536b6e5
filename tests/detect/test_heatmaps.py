"""CRAFT targets (tfic_jax/detect/heatmaps.py) from known character boxes."""

import numpy as np

from tfic_jax.detect import heatmaps

# Two words on one line: "abc" (chars 0-2) and "de" (chars 3-4), 2 px word gap.
CHAR_BOXES = np.float32([[10, 10, 16, 20], [16, 10, 22, 20], [22, 12, 28, 20],
                         [30, 10, 36, 20], [36, 10, 42, 22]])
CHAR_WORD = np.int32([0, 0, 0, 1, 1])


def _targets():
  return heatmaps.craft_targets(CHAR_BOXES, CHAR_WORD, (32, 48))


def test_region_peaks_inside_every_character_box():
  region = _targets()[..., 0]
  for x0, y0, x1, y1 in CHAR_BOXES.astype(int):
    window = region[y0:y1, x0:x1]
    assert window.max() > 0.9
    peak_y, peak_x = np.unravel_index(window.argmax(), window.shape)
    # The peak sits at the box centre (within a pixel).
    assert abs(peak_x + 0.5 - (x1 - x0) / 2) <= 1 and abs(peak_y + 0.5 - (y1 - y0) / 2) <= 1
  outside = np.ones_like(region, bool)
  for x0, y0, x1, y1 in CHAR_BOXES.astype(int):
    outside[y0:y1, x0:x1] = False
  assert region[outside].max() == 0.0


def test_affinity_links_adjacent_characters_of_a_word_only():
  affinity = _targets()[..., 1]
  quads = heatmaps.affinity_quads(heatmaps.boxes_to_quads(CHAR_BOXES), CHAR_WORD)
  assert quads.shape == (3, 4, 2)  # a-b, b-c, d-e; nothing between c and d
  for left, right in ((0, 1), (1, 2), (3, 4)):
    boundary_x = int(CHAR_BOXES[left, 2])  # where the two characters meet
    assert affinity[13:18, boundary_x - 1:boundary_x + 1].max() > 0.8
  # Between the words (c ends at 28, d starts at 30) and at the outer ends: no affinity.
  assert affinity[:, 27:31].max() == 0.0
  assert affinity[:, :13].max() == 0.0 and affinity[:, 40:].max() == 0.0


def test_affinity_box_corners_are_triangle_centres():
  quads = heatmaps.affinity_quads(heatmaps.boxes_to_quads(CHAR_BOXES[:2]), CHAR_WORD[:2])
  # Box 0: centre (13, 15); upper triangle (10,10), (16,10), (13,15) → (13, 11.67).
  np.testing.assert_allclose(quads[0], [[13, 35 / 3], [19, 35 / 3], [19, 55 / 3], [13, 55 / 3]],
                             atol=1e-5)


def test_scale_and_offset_map_boxes_to_half_resolution():
  full = heatmaps.craft_targets(CHAR_BOXES, CHAR_WORD, (32, 48))
  half = heatmaps.craft_targets(CHAR_BOXES + np.float32([4, 2, 4, 2]), CHAR_WORD, (16, 24),
                                scale=0.5, offset=(4, 2))
  assert half.shape == (16, 24, 2)
  # The same Gaussians, sampled on a coarser grid: the peaks move to half the coordinates.
  for x0, y0, x1, y1 in (CHAR_BOXES / 2).astype(int):
    assert half[y0:y1 + 1, x0:x1 + 1, 0].max() > 0.6
  assert abs(half[..., 0].sum() * 4 - full[..., 0].sum()) < 0.1 * full[..., 0].sum()
