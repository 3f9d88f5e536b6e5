r"""The TFIC evaluation at test size: 2 lines at 64×128, two qualities per classical codec.

The codec lists default to the shipped models like configs/eval_tfic.py; tests set them to tiny
model directories.
"""

from configs import eval_tfic


def get_config():
  config = eval_tfic.get_config()
  config.num_images = 2
  config.height = 64
  config.width = 128
  config.judge_batch_size = 2
  config.tesseract_workers = 1
  config.classical.downscales = (1, 2)
  config.classical.qualities.jpeg = (5, 50)
  config.classical.qualities.webp = (5, 50)
  config.classical.qualities.avif = (10, 50)
  config.classical.qualities.jpeg2000 = (0.1, 0.5)
  config.grid.num_images = 2
  config.runtime_reference_ocr = "ocr_crnn_tiny"  # The timed reference recognizer, test-sized.
  return config
