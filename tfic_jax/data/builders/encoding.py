"""How builders store arrays: PNG bytes for images, flat float32 vectors for boxes.

tfds encodes numpy image arrays with TensorFlow, which is not installed: images are yielded as
PNG bytes instead. Shared by the builders and their worker modules.
"""

import io

import numpy as np
from PIL import Image


def encode_png(image: np.ndarray) -> bytes:
  """uint8 [H, W, 1|3] → PNG bytes (grayscale stored as mode L)."""
  pil = Image.fromarray(image[:, :, 0] if image.shape[-1] == 1 else image)
  buffer = io.BytesIO()
  pil.save(buffer, format='PNG')
  return buffer.getvalue()


def flatten_boxes(boxes: np.ndarray) -> np.ndarray:
  """float32 [N, 4] → [4N]; `unflatten_boxes` inverts it."""
  return np.asarray(boxes, dtype=np.float32).reshape(-1)


def unflatten_boxes(flat: np.ndarray) -> np.ndarray:
  return np.asarray(flat, dtype=np.float32).reshape(-1, 4)
