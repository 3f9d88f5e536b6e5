r"""CPU smoke test of the OCR stage: tiny CRNN on the `tiny` synth_text config, few steps.

  python -m launch.train --config=configs/ocr_crnn_tiny.py --workdir=/tmp/ocr_crnn_tiny
"""

from configs import ocr_common


def get_config():
  config = ocr_common.crnn(ocr_common.base_config())
  config.data.builder_config = "tiny"
  config.model.output_channel = 32
  config.model.hidden_size = 32
  config.global_batch_size = 8
  config.num_train_steps = 20
  config.optimizer.warmup_steps = 2
  config.log_every_steps = 5
  config.eval_every_steps = 10
  config.checkpoint_every_steps = 10
  config.eval.num_examples = 16
  config.eval.batch_size = 8
  return config
