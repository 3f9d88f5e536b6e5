r"""Rate–PSNR of learned codecs against JPEG / WebP / AVIF / JPEG 2000 on synthetic test lines.

  python -m launch.evaluate --config=configs/eval_codec.py --workdir=out/eval_codec
  python -m launch.evaluate --config=configs/eval_codec.py --workdir=out/eval_codec \
      --config.codecs=workdirs/codec_mse_q1,workdirs/codec_mse_q2 --config.num_images=30

Writes results.json and rd.png under --workdir (tfic_jax/eval/codec.py; docs/codec.md).
"""

import ml_collections

from tfic_jax.codec import api


def get_config():
  config = ml_collections.ConfigDict()
  config.part = "codec"
  # Learned codecs, comma-separated: workdirs, model directories or shipped names (default:
  # every shipped stage-1 codec, codec_mse_q*).
  config.codecs = ",".join(api.shipped_name("mse", q) for q in api.shipped_qualities("mse"))
  config.num_images = 50  # Synthetic test lines (split 'test', seen fonts).
  config.height = 128  # Canvas size: the CPU-sized codecs' (the paper's is 256×512).
  config.width = 256
  config.label = "learned (mse)"  # Legend of the learned curve.
  config.classical = True  # Also sweep the classical codecs.
  return config
