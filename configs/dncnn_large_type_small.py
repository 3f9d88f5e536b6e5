r"""DnCNN on large type, CPU-sized: the paper's D = 17, 64 channels on the 4×4 space-to-depth.

The CPU study of docs/dequant.md ("Type size"): the same sentences set at 22–26 px instead of
11–13 px (`book_patches/default_t24`, degraded at factor 3 like `default`), so that a JPEG block
holds parts of letters rather than whole lines. `unshuffle = 4` runs the paper's layers at 1/16 of
the cost per layer with a 140-pixel receptive field; the MSE is on the 8-bit scale
(`mse_scale = 255`), where it dominates the DCT term.

  python -m launch.make_data --dataset=book_patches --config=default_t24 --data_dir=data
  python -m launch.train --config=configs/dncnn_large_type_small.py --workdir=workdirs/dncnn_large_type
"""

from configs import dncnn


def get_config():
  config = dncnn.get_config()
  config.model.unshuffle = 4
  config.loss.mse_scale = 255.0
  config.data.builder_config = "default_t24"
  config.data.crop = (64, 128)
  config.global_batch_size = 16
  config.num_train_steps = 6_000
  config.optimizer.warmup_steps = 100
  config.log_every_steps = 100
  config.eval_every_steps = 1_000
  config.checkpoint_every_steps = 250
  config.eval.num_examples = 400
  config.eval.batch_size = 50
  return config
