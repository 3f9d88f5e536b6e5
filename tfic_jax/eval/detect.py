"""Detection precision / recall / H-mean at IoU ≥ 0.5, and page OCR through the detector.

Matching (ICDAR 2015 style, axis-aligned boxes): detections and ground-truth words are paired
one to one, greedily by decreasing IoU, when their IoU is at least 0.5. A detection that
matches no ground truth but lies mostly (≥ 50 % of its area) on a *don't-care* box — a word cut
by the border of a crop or patch, whose visible part the detector may rightly find — is
dropped before counting. Precision = matched / counted detections, recall = matched / ground
truth words, H-mean their harmonic mean, all pooled over the evaluated images.
"""

import dataclasses

import jax
import numpy as np

from tfic_jax import errors
from tfic_jax import metrics
from tfic_jax.chains import page_ocr
from tfic_jax.data import pages
from tfic_jax.data import test_sets
from tfic_jax.dequant import pages as restored_pages
from tfic_jax.detect import api
from tfic_jax.detect import postprocess
from tfic_jax.ocr import api as ocr_api

IOU_THRESHOLD = 0.5


@dataclasses.dataclass
class Counts:
  matched: int = 0
  detections: int = 0  # counted (not don't-care) detections
  ground_truth: int = 0

  def __iadd__(self, other: "Counts") -> "Counts":
    self.matched += other.matched
    self.detections += other.detections
    self.ground_truth += other.ground_truth
    return self

  def summary(self) -> dict:
    precision = self.matched / self.detections if self.detections else 0.0
    recall = self.matched / self.ground_truth if self.ground_truth else 0.0
    hmean = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "hmean": hmean,
            "num_detections": self.detections, "num_words": self.ground_truth}


def match(detections: np.ndarray, ground_truth: np.ndarray, dont_care: np.ndarray = None,
          iou_threshold: float = IOU_THRESHOLD) -> Counts:
  """Counts of one image (see the module docstring)."""
  detections = np.asarray(detections, np.float32).reshape(-1, 4)
  ground_truth = np.asarray(ground_truth, np.float32).reshape(-1, 4)
  iou = metrics.box_iou(detections, ground_truth)
  pairs = np.argwhere(iou >= iou_threshold)
  order = np.argsort(-iou[pairs[:, 0], pairs[:, 1]], kind="stable")
  used_det, used_gt = set(), set()
  for d, g in pairs[order]:
    if d not in used_det and g not in used_gt:
      used_det.add(d)
      used_gt.add(g)
  unmatched = np.setdiff1d(np.arange(len(detections)), list(used_det))
  ignored = 0
  if dont_care is not None and len(unmatched) and np.size(dont_care):
    covered = metrics.box_intersection(detections[unmatched], dont_care).max(axis=1)
    ignored = int(np.sum(covered >= 0.5 * metrics.box_area(detections[unmatched])))
  return Counts(matched=len(used_det), detections=len(detections) - ignored,
                ground_truth=len(ground_truth))


# ------------------------------------------------------------------------------ test data


def visible_words_by_line(text: str, char_boxes: np.ndarray) -> list[np.ndarray]:
  """Per line of a book patch, the tight boxes [N_i, 4] of its visible words, left to right:
  the ground-truth word box of a whole word (`pages.word_boxes_by_line`, "word" height)."""
  return pages.word_boxes_by_line(text, char_boxes, "word")


def patch_dont_care(page_word_boxes: np.ndarray, corner, width: int, height: int
                    ) -> np.ndarray:
  """Boxes [N, 4] (patch coordinates, clipped to it) of the words of the page that a patch
  window at `corner` (left, top) cuts: partly visible words, whose visible part a detector
  may rightly find, including lines cut through their height."""
  boxes = pages.to_crop(page_word_boxes, corner, 1.0)
  _, partly = pages.boxes_inside(boxes, width, height)
  return np.clip(boxes[partly], 0, [width, height, width, height])


# ------------------------------------------------------------------------------ evaluation


def evaluate_pages(detector, variables, num_pages: int, kinds=("clean", "degraded"),
                   restorer: str | None = None, book_config: str = "default") -> dict:
  """{kind: Counts.summary()} over the first `num_pages` whole test pages of
  `book_patches/<book_config>`; the "restored" kind is the degraded page after the DnCNN
  `restorer`."""
  counts = {kind: Counts() for kind in kinds}
  for position in range(num_pages):
    page = pages.render("test", position, book_config)
    for kind in kinds:
      found = api.detect(detector, variables, restored_pages.page_image(page, kind, restorer))
      counts[kind] += match(found.boxes, page.word_boxes)
  return {kind: {**c.summary(), "num_images": num_pages} for kind, c in counts.items()}


def evaluate_patches(detector, variables, patches: list, kinds=("clean", "degraded"),
                     ocr=None, restorer: str | None = None, book_config: str = "default"
                     ) -> dict:
  """{kind: detection summary [+ page OCR]} over book test patches (64×256).

  "restored": the degraded patch after the DnCNN `restorer` (as the OCR-guided chain runs D1
  on the patch).

  `patches` are the builder's (`book.page_patches`, with their page index and corner), of the
  test pages of `book_patches/<book_config>`.
  Ground truth: the patch's whole words; words it cuts are don't-care. With `ocr` =
  (ocr_model, ocr_variables), also the mean OCR accuracy (the paper's metric) of the patch
  text read through the detector (`ocr_detected`) and through the tight ground-truth boxes of
  the visible words (`ocr_gt_boxes`, `visible_words_by_line`), with the same recognizer.
  """
  test_pages = list(pages.page_indices("test", book_config))
  results = {}
  for kind in kinds:
    counts, detected_texts, gt_box_texts = Counts(), [], []
    for patch in patches:
      page = pages.render("test", test_pages.index(int(patch["page"])), book_config)
      image = (restored_pages.restored_image(page.page_index, patch["degraded"], _needs(restorer))
               if kind == "restored" else patch[kind])
      dont_care = patch_dont_care(page.word_boxes, patch["corner"], image.shape[1],
                                  image.shape[0])
      found = api.detect(detector, variables, image)
      counts += match(found.boxes, patch["word_boxes"], dont_care)
      if ocr is not None:
        order = postprocess.reading_order(found.boxes)
        detected_texts.append(page_ocr.read_lines(
            *ocr, image, [found.boxes[line] for line in order]).text)
        gt_lines = visible_words_by_line(patch["text"], patch["char_boxes"])
        gt_box_texts.append(page_ocr.read_lines(*ocr, image, gt_lines).text)
    results[kind] = {**counts.summary(), "num_images": len(patches)}
    if ocr is not None:
      texts = [patch["text"] for patch in patches]
      results[kind]["ocr_detected"] = metrics.mean_ocr_accuracy(texts, detected_texts)
      results[kind]["ocr_gt_boxes"] = metrics.mean_ocr_accuracy(texts, gt_box_texts)
      results[kind]["readings"] = [{"text": t, "detected": d, "gt_boxes": g} for t, d, g in
                                   zip(texts, detected_texts, gt_box_texts)]
  return results


def _needs(restorer: str | None) -> str:
  if not restorer:
    raise errors.TficError("the 'restored' kind needs a restorer (a DnCNN, e.g. dncnn_default)")
  return restorer


def run(detector_path=None, ocr_path=None, num_pages: int = 10, patch_pages: int = 10,
        kinds=("clean", "degraded"), page_ocr_enabled: bool = True,
        restorer: str | None = None, book_config: str = "default") -> dict:
  """Everything `configs/eval_detect.py` reports: detection on whole test pages and on test
  patches, and page OCR on the patches (see docs/results.md). `restorer`: the DnCNN (D1)
  that makes the "restored" kind; `book_config`: the `book_patches` config of the pages."""
  unknown = sorted(set(kinds) - set(pages.KINDS))
  if unknown:
    raise errors.TficError(f"kinds: unknown {unknown}; use {', '.join(pages.KINDS)}")
  setup = pages.book_setup(book_config)  # A bad config name fails before any work.
  detector, variables = api.load(detector_path)
  if "restored" in kinds:
    restored_pages.load_restorer(_needs(restorer))  # A missing D1 fails before any work.
  ocr = None
  if page_ocr_enabled:
    ocr = ocr_api.load(ocr_path)
  _, patches = test_sets.book_test_patches(patch_pages, builder_config=book_config)
  report = {
      "detector": {"path": str(detector_path or api.DEFAULT_MODEL),
                   "num_params": detector.num_params(), **detector.fields,
                   **detector.settings},
      "ocr_model": str(ocr_path or "ocr_default") if ocr else None,
      "backend": jax.default_backend(),
      "restorer": restorer if "restored" in kinds else None,
      "book_config": setup.name,
      "type_size_px": list(setup.spec.font_size_range),
      "degrade_factor": setup.degrade_factor,
      "pages": (evaluate_pages(detector, variables, num_pages, kinds, restorer, book_config)
                if num_pages else {}),
      "patches": evaluate_patches(detector, variables, patches, kinds, ocr, restorer,
                                  book_config),
  }
  return report


def format_table(report: dict) -> str:
  """Markdown summary of `run`'s report."""
  detector = report["detector"]
  size = "–".join(str(s) for s in report.get("type_size_px", ()))
  lines = [f"CRAFT `{detector['path']}` ({detector['num_params']:,} params, mag_ratio "
           f"{detector['mag_ratio']}) on {report['backend']}; IoU ≥ {IOU_THRESHOLD}; test pages "
           f"of `book_patches/{report.get('book_config', 'default')}` ({size} px type, "
           f"degraded at factor {report.get('degrade_factor')}).", "",
           "| test set | images | words | precision | recall | H-mean |", "|---|---|---|---|---|---|"]
  for where, name in (("pages", "whole pages 1024×768"), ("patches", "patches 64×256")):
    for kind, row in report[where].items():
      lines.append(f"| {name}, {kind} | {row['num_images']} | {row['num_words']} | "
                   f"{row['precision']:.3f} | {row['recall']:.3f} | {row['hmean']:.3f} |")
  if report["ocr_model"]:
    lines += ["", f"Page OCR on the patches with `{report['ocr_model']}` (mean OCR accuracy, the "
              "paper's metric):", "", "| patches | detect + recognize | ground-truth boxes + "
              "recognize |", "|---|---|---|"]
    for kind, row in report["patches"].items():
      lines.append(f"| {kind} | {row['ocr_detected']:.3f} | {row['ocr_gt_boxes']:.3f} |")
  return "\n".join(lines)
