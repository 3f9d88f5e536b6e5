r"""The page-level evaluation at test size: one small typeset page with a given text, one or two
qualities per codec, 1× and 2×, Tesseract only. Learned codec lists are empty; tests set them.
"""

from configs import eval_documents

TEXT = ("The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs. "
        "Sphinx of black quartz, judge my vow.")


def get_config():
  config = eval_documents.get_config()
  config.num_pages = 1
  config.book.height = 160
  config.book.width = 256
  config.book.text = TEXT
  config.mse_codecs = ()
  config.tfic_codecs = ()
  config.downscales = "1,2"
  config.qualities = {
      "jpeg": (20,), "webp": (20,), "avif": (30,), "jpeg2000": (0.3,), "jxl": (30,),
      "heif": (20,), "djvu_iw44": (0.3,), "djvu_jb2": (100,)}
  config.tesseract_workers = 1
  config.grid.height = 64
  config.grid.width = 128
  return config
