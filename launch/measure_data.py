r"""Speed and Tesseract figures of the data layer (docs/data.md, docs/results.md).

  python -m launch.measure_data [--num_images=50] [--book_pages=5] [--workdir=/tmp/tfic_bench]

Prints: synth_text generation speed (256×512, one process), book_patches generation speed,
Tesseract accuracy on clean synthetic test images (psm 7) and on clean and degraded book
patches (psm 6) at degradation factors 2.5 and 3, and loading speed (batches/s of 64
256×512 images from a freshly built array_record set).
"""

from collections.abc import Sequence
import sys
import time

from absl import app
from absl import flags

from tfic_jax import errors

_NUM_IMAGES = flags.DEFINE_integer("num_images", 50, "Synthetic test images for Tesseract.")
_BOOK_PAGES = flags.DEFINE_integer("book_pages", 5, "Book test pages (10 patches each).")
_WORKDIR = flags.DEFINE_string("workdir", "/tmp/tfic_bench", "Where the loading set is built.")
_FACTORS = flags.DEFINE_list("degrade_factors", ["2.5", "3"], "Downsampling factors to try.")


def measure() -> None:
  # pylint: disable=g-import-not-at-top
  from tfic_jax import metrics
  from tfic_jax.data import book, builders, pipeline, synth_text
  from tfic_jax.eval import tesseract

  spec = synth_text.SynthTextSpec()  # 256×512
  start = time.time()
  for i in range(100):
    synth_text.render_example(spec, 0, i)
  print(f"synth_text 256x512: {100 / (time.time() - start):.1f} images/s (1 process)")

  sentences = book.gather_sentences()
  print(f"corpus: {len(sentences)} sentences, {sum(map(len, sentences))} chars")
  start = time.time()
  patches = [p for i in range(5) for p in book.page_patches(sentences, i, 0)]
  elapsed = time.time() - start
  print(f"book_patches: {5 / elapsed:.2f} pages/s = {len(patches) / elapsed:.1f} patches/s "
        "(1 process)")

  seed = builders.SYNTH_SPLIT_SEEDS["test"]
  synth = [synth_text.render_example(spec, seed, i) for i in range(_NUM_IMAGES.value)]
  readings = tesseract.read_many([ex["image"] for ex in synth], psm=7)
  accuracy = metrics.mean_ocr_accuracy([ex["text"] for ex in synth], readings)
  print(f"tesseract psm7 clean synth_text test ({len(synth)}): {accuracy:.3f}")
  pool = book.sentence_pool(sentences, "test")
  for factor in (float(f) for f in _FACTORS.value):
    patches = [p for i in range(_BOOK_PAGES.value)
               for p in book.page_patches(pool, i, builders.BOOK_SEED, degrade_factor=factor)]
    texts = [p["text"] for p in patches]
    for kind in ("clean", "degraded"):
      readings = tesseract.read_many([p[kind] for p in patches], psm=6)
      print(f"tesseract psm6 {kind} patches, factor {factor:g} ({len(patches)}): "
            f"{metrics.mean_ocr_accuracy(texts, readings):.3f}")

  config = builders.SynthTextConfig(name="bench", num_train=640, num_test=1,
                                    num_test_heldout_fonts=1)
  start = time.time()
  builder = builders.SynthText(config=config, data_dir=_WORKDIR.value, num_workers=2,
                               file_format="array_record")
  builder.download_and_prepare()
  print(f"built 642 images at 256x512 with 2 workers in {time.time() - start:.1f} s")
  source = pipeline.Source(builder.as_data_source(split="train"), "synth_text", "train", "bench")
  batches = pipeline.train_batches(source, 64, 0, 0, _image_only, 0, 1)
  next(batches)
  start = time.time()
  for _ in range(20):
    batch = next(batches)
  print(f"train_batches: {20 / (time.time() - start):.2f} batches/s of {batch['image'].shape}")


def _image_only(example, rng):
  del rng
  return {"image": example["image"]}


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    measure()
  except errors.TficError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)
