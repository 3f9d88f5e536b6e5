"""configs/dequant_ocr_large_type_small.py: D2 is D1's network on its data and scale."""

from configs import dequant_ocr_large_type_small
from configs import dncnn_large_type_small
from tfic_jax.chains import ocr_guided
from tfic_jax.data import builders
from tfic_jax.train import train


def test_d2_has_the_architecture_and_data_of_the_large_type_d1():
  config = dequant_ocr_large_type_small.get_config()
  d1 = dncnn_large_type_small.get_config()
  train.check_config(config)
  assert config.model.to_dict() == d1.model.to_dict()  # so that init_from = D1 fits
  assert config.init_from == config.frozen.d1
  assert config.data.builder_config == d1.data.builder_config
  book = builders.page_spec(builders.book_config(config.data.builder_config))
  height, width = ocr_guided.check_window(config.data.window)
  # The window holds a line of 22–26 px type and lies on D1's space-to-depth grid.
  assert book.font_size_range == (22, 26) and height >= 1.5 * max(book.font_size_range)
  assert height % d1.model.unshuffle == 0 and width % d1.model.unshuffle == 0
  assert config.data.word_boxes == "detected"  # the paper's boxes
