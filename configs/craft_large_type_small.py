r"""CPU-sized CRAFT for large type (`book_patches/default_t24`: 22–26 px instead of 11–13 px).

The architecture of `configs/craft_small.py`, warm-started from the shipped `craft_default`, on
the pages of `default_t24`: clean half the time, else degraded or restored by the large-type D1
(`configs/dncnn_large_type_small.py`, 6,000 steps and 3,000 more:
`workdirs/dncnn_large_type_long`), which is what CRAFT sees in the OCR-guided chain on that
data. `detect.mag_ratio = 1`: 22–26 px type at magnification 1 is the 22–26 px that
`craft_default` saw (11–13 px at magnification 2), so the warm start sees its own scale, and a
page costs a quarter of what it would at 2 (docs/detect.md, "Large type").

  python -m launch.train --config=configs/dncnn_large_type_small.py --workdir=workdirs/dncnn_large_type
  python -m launch.train --config=configs/dncnn_large_type_small.py --workdir=workdirs/dncnn_large_type_long \
    --config.init_from=workdirs/dncnn_large_type --config.num_train_steps=3000 \
    --config.optimizer.learning_rate=3e-4 --config.optimizer.warmup_steps=100
  python -m launch.train --config=configs/craft_large_type_small.py --workdir=workdirs/craft_large_type
"""

from configs import craft_small


def get_config():
  config = craft_small.get_config()
  config.data.builder_config = "default_t24"
  config.data.restorer = "workdirs/dncnn_large_type_long"  # D1 on large type
  config.detect.mag_ratio = 1.0
  config.init_from = "craft_default"
  config.num_train_steps = 800
  config.optimizer.learning_rate = 5e-4
  config.optimizer.warmup_steps = 50
  config.eval_every_steps = 400
  return config
