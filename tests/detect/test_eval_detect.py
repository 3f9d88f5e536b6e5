"""tfic_jax/detect/evaluate.run (behind launch.eval_detect) with the "restored" kind."""

import jax
import pytest

from configs import craft_tiny
from configs import dncnn_tiny
from tfic_jax import errors
from tfic_jax.dequant import api as dequant_api
from tfic_jax.detect import api
from tfic_jax.detect import evaluate
from tfic_jax.train import checkpoint


@pytest.fixture(scope="module")
def models(tmp_path_factory):
  craft = craft_tiny.get_config()
  dncnn = dncnn_tiny.get_config()
  return (str(checkpoint.write_model_dir(tmp_path_factory.mktemp("craft"), craft,
                                         api.build(craft).init(jax.random.key(0)))),
          str(checkpoint.write_model_dir(tmp_path_factory.mktemp("d1"), dncnn,
                                         dequant_api.build(dncnn).init(jax.random.key(0)))))


def test_restored_kind_is_measured_on_pages_and_patches(models):
  detector, d1 = models
  report = evaluate.run(detector, num_pages=1, patch_pages=1,
                        kinds=("degraded", "restored"), page_ocr_enabled=False, restorer=d1)
  assert report["restorer"] == d1
  for where, num_images in (("pages", 1), ("patches", 10)):
    assert set(report[where]) == {"degraded", "restored"}
    for row in report[where].values():
      assert row["num_images"] == num_images and 0.0 <= row["hmean"] <= 1.0


def test_restored_kind_without_a_usable_restorer_is_refused_before_any_work(models, tmp_path):
  detector, _ = models
  with pytest.raises(errors.TficError, match="restorer"):
    evaluate.run(detector, num_pages=1, patch_pages=1, kinds=("restored",),
                 page_ocr_enabled=False, restorer=None)
  with pytest.raises(errors.CheckpointError):
    evaluate.run(detector, num_pages=1, patch_pages=1, kinds=("restored",),
                 page_ocr_enabled=False, restorer=str(tmp_path / "missing"))
  with pytest.raises(errors.TficError, match="unknown"):
    evaluate.run(detector, num_pages=1, patch_pages=1, kinds=("blurred",))
