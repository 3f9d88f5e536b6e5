r"""Builds a dataset (array_record files, tensorflow-datasets layout) under --data_dir.

  python -m launch.make_data --dataset=synth_text --config=small --data_dir=data --num_workers=2
  python -m launch.make_data --dataset=book_patches --config=default --data_dir=data

Datasets: synth_text (Part A, configs default|small|tiny), book_patches (Part B, configs
default|small|tiny). Rebuilding an existing dataset is a no-op.
"""

import sys

from absl import app
from absl import flags

from tfic_jax import errors

_DATASET = flags.DEFINE_string('dataset', None, 'synth_text | book_patches', required=True)
_DATA_DIR = flags.DEFINE_string('data_dir', None, 'Root directory of the datasets.',
                                required=True)
_CONFIG = flags.DEFINE_string('config', 'default', 'Builder config: default | small | tiny.')
_NUM_WORKERS = flags.DEFINE_integer('num_workers', None,
                                    'Generation processes (default: all CPU cores).')


def main(argv):
  del argv
  from tfic_jax.data import pipeline  # pylint: disable=g-import-not-at-top
  try:
    builder = pipeline.build(_DATASET.value, _DATA_DIR.value, _CONFIG.value, _NUM_WORKERS.value)
  except errors.TficError as error:
    print(f'make_data: {error}', file=sys.stderr)
    sys.exit(2)
  sizes = {name: info.num_examples for name, info in builder.info.splits.items()}
  print(f'{_DATASET.value}/{_CONFIG.value} is in {builder.data_path}: {sizes}')


if __name__ == '__main__':
  app.run(main)
