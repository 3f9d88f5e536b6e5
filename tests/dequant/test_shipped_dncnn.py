"""The shipped default DnCNN (models/dncnn_default) loads, matches its card and restores."""

import pathlib

from tfic_jax import zoo
from tfic_jax.data import book
from tfic_jax.dequant import api
from tfic_jax.eval import dequant as evaluate

MODEL_DIR = pathlib.Path(__file__).resolve().parents[2] / "models" / api.DEFAULT_MODEL
_SENTENCES = (  # Stand-in prose: never seen in training (gathering the real pools takes ~6 s).
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Every process reads its share of the batch and writes nothing back.",
    "A frozen recognizer reads the decoded image and scores the text it sees.",
    "Small pages of plain prose are enough to test the reading of patches.",
)


def test_card_checksum_matches_the_shipped_variables():
  recorded, actual = zoo.card_checksums(MODEL_DIR)
  assert recorded == actual


def test_default_dncnn_loads_and_restores_degraded_patches_closer_to_clean():
  model, variables = api.load()
  assert (model.depth, model.features) == (10, 32)
  patches = book.page_patches(_SENTENCES, 0, 7)
  degraded = [p["degraded"] for p in patches]
  clean = [p["clean"] for p in patches]
  restored = evaluate.restore_patches(model, variables, degraded, batch_size=10)
  # The shipped model gains +0.2–0.3 dB (docs/results.md); the identity (what a DCT term
  # towards the degraded input learns) or a random init gains nothing.
  assert evaluate.set_psnr(clean, restored) > evaluate.set_psnr(clean, degraded) + 0.1
