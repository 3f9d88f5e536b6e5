"""Scan and photo conditions for document pages: seeded augraphy pipelines.

A condition turns a clean rendered `documents.Page` into what a scanner or a phone camera would
have given, keeping its words:

* `clean`: the page as rendered.
* `scan`: paper texture (NoiseTexturize, BrightnessTexturize), ink bleed, a shallow fold (its
  warp moves text by at most 0.2 % of the page height: ~3 px at 150 dpi; augraphy moves the
  word boxes with it), a lighting gradient, sensor noise, a slight defocus and a JPEG history.
  Nothing else moves the text, so the word boxes are those of the PDF.
* `photo`: the page seen by a camera: a perspective view (OpenCV homography onto a grey
  backdrop), uneven light, a cast shadow, depth-of-field blur, noise and a JPEG history. The
  word boxes are moved with the same homography (each becomes the axis-aligned box around its
  transformed corners, so it holds the word but is a little looser on tilted lines).

Reproducibility. Augraphy draws from Python's `random`, NumPy's legacy global RNG and OpenCV's
RNG, and a few of its numba-compiled kernels from numba's own per-thread generator, which
`np.random.seed` does not reach. Before a page is degraded, all four are seeded from
`documents.page_seed(seed, doc_id, page_index, dpi, condition)` (numba's from inside a compiled
function), and Python's and NumPy's states are restored afterwards. The only augraphy kernel
that draws from numba's generator on parallel threads (Folding's edge noise) is switched off
(`fold_noise=0`), so the result is a pure function of (seed, page): the same bytes in any
process. Seeding global state is not thread-safe, nor is the change of directory around the
pipeline (augraphy writes a cache of its inputs to `./augraphy_cache/`: it runs in a temporary
directory, removed afterwards): degrade pages in processes, not threads.
"""

import contextlib
import dataclasses
import random
import shutil
import tempfile

import augraphy
import cv2
import numba
import numpy as np

from tfic_jax import errors
from tfic_jax.data import documents

CONDITIONS = ("clean", "scan", "photo")
# Photo backdrop (a desk, grey) and how far each page corner may move inwards, as a fraction of
# the page side.
_BACKDROP = 96
_PERSPECTIVE_RANGE = (0.02, 0.08)


@numba.njit(cache=True)
def _seed_numba(seed):
  np.random.seed(seed)
  random.seed(seed)


class _GaussianBlur(augraphy.Augmentation):
  """Defocus as an augraphy step: OpenCV's Gaussian blur, sigma drawn from NumPy's global RNG
  (augraphy's `Function` wrapper cannot run in a pipeline that carries boxes: it does not take
  the `mask` / `keypoints` / `bounding_boxes` arguments)."""

  def __init__(self, sigma_range=(0.5, 1.0), p=1):
    super().__init__(p=p)
    self.sigma_range = sigma_range  # Pixels.

  def __call__(self, image, layer=None, mask=None, keypoints=None, bounding_boxes=None,
               force=False):
    if force or self.should_run():
      image = cv2.GaussianBlur(image, (0, 0), sigmaX=np.random.uniform(*self.sigma_range))
    if mask is not None or keypoints is not None or bounding_boxes is not None:
      return [image, mask, keypoints, bounding_boxes]
    return image


def _scan_pipeline(boxes, blur_scale: float) -> augraphy.AugraphyPipeline:
  return augraphy.AugraphyPipeline(
      bounding_boxes=boxes,
      ink_phase=[augraphy.InkBleed(intensity_range=(0.3, 0.6), kernel_size=(3, 3),
                                   severity=(0.2, 0.4), p=0.7)],
      paper_phase=[augraphy.NoiseTexturize(sigma_range=(2, 6), turbulence_range=(2, 4), p=0.8),
                   augraphy.BrightnessTexturize(texturize_range=(0.9, 0.99), deviation=0.04,
                                                p=0.8)],
      post_phase=[
          # A shallow fold (a warp of at most 0.2 % of the page height, which augraphy also
          # applies to the word boxes), without its edge noise (fold_noise 0: that kernel draws
          # from numba's threads, see the module docstring).
          augraphy.Folding(fold_count=1, fold_noise=0.0, gradient_width=(0.1, 0.2),
                           gradient_height=(0.001, 0.002), backdrop_color=(255, 255, 255),
                           p=0.3),
          augraphy.LightingGradient(max_brightness=255, min_brightness=170, p=0.5),
          augraphy.SubtleNoise(subtle_range=12, p=0.8),
          _GaussianBlur((0.3 * blur_scale, 0.8 * blur_scale)),
          augraphy.Jpeg(quality_range=(35, 90), p=0.8),
      ])


def _photo_pipeline(boxes, blur_scale: float) -> augraphy.AugraphyPipeline:
  return augraphy.AugraphyPipeline(
      bounding_boxes=boxes,
      ink_phase=[],
      paper_phase=[augraphy.BrightnessTexturize(texturize_range=(0.9, 0.99), deviation=0.03,
                                                p=0.5)],
      post_phase=[
          augraphy.LightingGradient(max_brightness=255, min_brightness=90, p=0.9),
          augraphy.ShadowCast(shadow_opacity_range=(0.2, 0.5), shadow_blur_kernel_range=(101, 201),
                              p=0.5),
          _GaussianBlur((0.5 * blur_scale, 1.1 * blur_scale)),
          augraphy.SubtleNoise(subtle_range=16, p=1),
          augraphy.Jpeg(quality_range=(40, 85), p=1),
      ])


_PIPELINES = {"scan": _scan_pipeline, "photo": _photo_pipeline}


def perspective(page: documents.Page, rng: np.random.Generator) -> documents.Page:
  """The page seen at an angle: each corner moved inwards by a random fraction, onto a grey
  backdrop; word boxes moved with the same homography (see the module docstring)."""
  height, width = page.image.shape[:2]
  low, high = _PERSPECTIVE_RANGE
  source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
  shift = rng.uniform(low, high, size=(4, 2)) * np.float32([width, height])
  inwards = np.float32([[1, 1], [-1, 1], [-1, -1], [1, -1]])
  target = (source + shift * inwards).astype(np.float32)
  homography = cv2.getPerspectiveTransform(source, target)
  backdrop = (_BACKDROP,) * (3 if page.image.ndim == 3 else 1)
  image = cv2.warpPerspective(page.image, homography, (width, height), flags=cv2.INTER_AREA,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=backdrop)
  words = []
  for word in page.words:
    x0, y0, x1, y1 = word.box
    corners = np.float32([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]])
    moved = cv2.perspectiveTransform(corners, homography)[0]
    (x0, y0), (x1, y1) = moved.min(axis=0), moved.max(axis=0)
    box = (max(0.0, float(x0)), max(0.0, float(y0)), min(float(width), float(x1)),
           min(float(height), float(y1)))
    words.append(dataclasses.replace(word, box=box))
  return dataclasses.replace(page, image=image, words=tuple(words))


def degrade(page: documents.Page, condition: str, seed: int = 0) -> documents.Page:
  """`page` under `condition` (one of CONDITIONS), reproducible from (seed, page identity).

  Grey pages stay grey ([H, W]) and RGB pages RGB. The result's `condition` names it.
  """
  if condition not in CONDITIONS:
    raise errors.TficError(f"unknown condition {condition!r}; use one of {CONDITIONS}")
  if condition == "clean":
    return dataclasses.replace(page, condition="clean")
  page_seed = documents.page_seed(seed, page.doc_id, page.page_index, page.dpi, condition)
  if condition == "photo":
    page = perspective(page, np.random.default_rng(page_seed))
  grey = page.image.ndim == 2
  # Augraphy works in BGR; a grey page goes in as three equal channels and comes back grey.
  image = cv2.cvtColor(page.image, cv2.COLOR_GRAY2BGR if grey else cv2.COLOR_RGB2BGR)
  python_state, numpy_state = random.getstate(), np.random.get_state()
  try:
    random.seed(page_seed)
    np.random.seed(page_seed)
    cv2.setRNGSeed(page_seed)
    _seed_numba(page_seed)
    boxes = [list(word.box) for word in page.words] or None
    # Augraphy's pipeline saves every input image (a ring of 30 PNGs) to ./augraphy_cache/ of
    # the current directory, which must not be the repository or a data directory.
    scratch = tempfile.mkdtemp(prefix="tfic_augraphy_")
    try:
      with contextlib.chdir(scratch):
        # Blur is in pixels at 150 dpi, scaled with the resolution (the same optics at any dpi).
        result = _PIPELINES[condition](boxes, (page.dpi or 150.0) / 150.0).augment(image)
    finally:
      shutil.rmtree(scratch, ignore_errors=True)
  finally:
    random.setstate(python_state)
    np.random.set_state(numpy_state)
  degraded = np.asarray(result["output"], np.uint8)
  if boxes is not None:
    height, width = degraded.shape[:2]
    words = []
    for word, (x0, y0, x1, y1) in zip(page.words, result["bounding_boxes"]):
      box = (max(0.0, float(x0)), max(0.0, float(y0)), min(float(width), float(x1)),
             min(float(height), float(y1)))
      words.append(dataclasses.replace(word, box=box))
    page = dataclasses.replace(page, words=tuple(words))
  if degraded.ndim == 2:
    degraded = degraded if grey else cv2.cvtColor(degraded, cv2.COLOR_GRAY2RGB)
  else:
    degraded = cv2.cvtColor(degraded, cv2.COLOR_BGR2GRAY if grey else cv2.COLOR_BGR2RGB)
  if degraded.shape[:2] != page.image.shape[:2]:
    raise AssertionError(f"augraphy changed the page size {page.image.shape} → {degraded.shape}")
  return dataclasses.replace(page, image=np.ascontiguousarray(degraded), condition=condition)
