"""D1-restored book pages: the degraded page after a DnCNN, which is what CRAFT sees in the
OCR-guided chain. One restoration per page and restorer, cached per process and shared by the
data pipeline's threads.
"""

import functools
import threading
import zlib

import numpy as np

from tfic_jax import errors
from tfic_jax.data import pages
from tfic_jax.dequant import api

_RESTORE_LOCK = threading.Lock()
_RESTORED: dict = {}  # (page_index, crc32 of the degraded page, restorer) → uint8 [H, W, 1]


def page_image(page: pages.BookPage, kind: str, restorer: str | None = None) -> np.ndarray:
  """The clean, degraded or restored page; "restored" needs `restorer` (a DnCNN)."""
  if kind != "restored":
    return page.image(kind)
  if not restorer:
    raise errors.TficError("page kind 'restored' needs a restorer (a DnCNN model, e.g. "
                           "config.data.restorer = 'dncnn_default')")
  return restored_image(page.page_index, page.degraded, restorer)


@functools.lru_cache(maxsize=4)
def load_restorer(restorer: str):
  """(Dequantizer, variables) of a DnCNN: a workdir, model directory or shipped model name."""
  return api.load(restorer)


def restored_image(page_index: int, degraded: np.ndarray, restorer: str) -> np.ndarray:
  """`degraded` (a whole page or a patch) restored by the DnCNN `restorer`; cached per page
  and restorer (one restoration per page, shared by the pipeline's threads)."""
  key = (int(page_index), zlib.crc32(np.ascontiguousarray(degraded).tobytes()), restorer)
  with _RESTORE_LOCK:
    if key not in _RESTORED:
      _RESTORED[key] = api.restore_image(*load_restorer(restorer), degraded)
    return _RESTORED[key]
