"""Book words in the OCR training mix (tfic_jax/ocr/book_words.py) and the stage's mixture."""

import numpy as np
import pytest

from configs import ocr_crnn_tiny
from tfic_jax.data import book
from tfic_jax.data import builders
from tfic_jax.data import pipeline
from tfic_jax.ocr import api
from tfic_jax.ocr import book_words
from tfic_jax.train import stages

_SENTENCES = (  # A stand-in for the machine's prose (gathering it takes ~6 s).
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Every process reads its share of the batch and writes nothing back.",
    "A frozen recognizer reads the decoded image and scores the text it sees.",
    "Small pages of plain prose are enough to test the reading of patches.",
)
_MODEL = api.build(dict(prediction="ctc", transformation="none", feature_extractor="vgg",
                        output_channel=16, hidden_size=16, input_size=(32, 128),
                        word_resize_mode="canvas"))
_SPEC = book_words.BookWordsSpec(num_pages=2)


@pytest.fixture(autouse=True)
def stand_in_sentences(monkeypatch):
  monkeypatch.setattr(book_words, "_split_sentences", lambda split: _SENTENCES)


def test_examples_are_deterministic_words_of_the_page():
  source = book_words.BookWordSource(_MODEL, (64, 256, 3), length=50, seed=3, spec=_SPEC)
  again = book_words.BookWordSource(_MODEL, (64, 256, 3), length=50, seed=3, spec=_SPEC)
  assert len(source) == 50
  words = set(" ".join(_SENTENCES).split())
  for index in (0, 7, 49):
    example = source[index]
    assert example["image"].shape == (64, 256, 3) and example["image"].dtype == np.uint8
    np.testing.assert_array_equal(example["image"], again[index]["image"])
    assert example["text"] == again[index]["text"]
    assert set(example["text"].split()) <= words and 1 <= len(example["text"].split()) <= 3
  other_seed = book_words.BookWordSource(_MODEL, (64, 256, 3), length=50, seed=4, spec=_SPEC)
  assert any(source[i]["text"] != other_seed[i]["text"] for i in range(10))
  with pytest.raises(IndexError):
    source[50]


def test_training_pages_are_train_pages():
  config = next(c for c in builders.BookPatches.BUILDER_CONFIGS if c.name == "default")
  splits = book.split_pages(config.num_pages, builders.BOOK_SEED)
  train = book_words.BookWordSource(_MODEL, (64, 256, 3), 1, 0, book_words.BookWordsSpec())
  test = book_words.BookWordSource(_MODEL, (64, 256, 3), 1, 0,
                                   book_words.BookWordsSpec(split="test"))
  assert set(train.page_indices) <= set(splits["train"].tolist())
  assert set(test.page_indices) <= set(splits["test"].tolist())
  assert len(set(train.page_indices)) == 100


def test_canvas_through_the_adapter_is_what_crop_words_reads():
  """Training sees (up to the adapter's resampling) exactly the crop `read_words` reads."""
  spec = book_words.BookWordsSpec(num_pages=1, word_counts=(1.0,), p_degrade=0.0)
  source = book_words.BookWordSource(_MODEL, (64, 256, 3), length=20, seed=0, spec=spec)
  page = book.make_page(_SENTENCES, source.page_indices[0], builders.BOOK_SEED,
                        source._page_spec)  # pylint: disable=protected-access
  for index in range(5):
    example, layout = source[index], source.layout(index)
    assert example["text"] == " ".join(layout["words"])
    read = np.asarray(api.crop_words(_MODEL, page.image, layout["box"][None]))
    trained = np.asarray(_MODEL.adapt(example["image"]))
    # In [-1, 1]: only uint8 rounding and the adapter's antialiasing of the replicated pixels.
    assert np.mean(np.abs(read - trained)) < 0.1 * np.mean(np.abs(read - read.mean()))
    assert np.corrcoef(read.ravel(), trained.ravel())[0, 1] > 0.97


def test_mixed_source_and_stage_mixture(monkeypatch):
  synth = [{"image": np.zeros((64, 256, 3), np.uint8), "text": b"synthetic"}] * 70
  words = book_words.BookWordSource(_MODEL, (64, 256, 3), length=30, seed=0, spec=_SPEC)
  mixed = pipeline.MixedSource([synth, words])
  assert len(mixed) == 100 and mixed[69]["text"] == b"synthetic"
  assert mixed[70]["text"] == words[0]["text"]

  config = ocr_crnn_tiny.get_config()
  config.data.book_fraction = 0.3
  config.data.book_pages = 2
  stage = stages.get_stage(config)
  monkeypatch.setattr(pipeline, "config_train_source", lambda data, data_dir: synth)
  config.data.book_font_size_range = (16, 16)  # A severity-grid cell's type size reaches it.
  source = stage.train_source(None)
  assert len(source) == 100  # 70 synthetic lines and 30 book words
  assert source.sources[1].spec == book_words.spec_from_data_config(config.data, "train")
  assert source.sources[1].spec.font_size_range == (16, 16) and source.sources[1].spec.num_pages == 2
  batch = stage.preprocess_train(source[85], np.random.default_rng(0))
  assert batch["image"].shape == (64, 256, 3) and batch["label_length"] > 0
  config.data.book_fraction = 1.0
  with pytest.raises(Exception, match="book_fraction"):
    stages.get_stage(config).train_source(None)
