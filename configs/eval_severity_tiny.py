r"""The severity grid at test size: one type size, two factors, quality 1, three patches."""

from configs import eval_severity


def get_config():
  config = eval_severity.get_config()
  config.type_sizes = "16"
  config.factors = "1.5,3"
  config.qualities = "1"
  config.num_patches = 3
  return config
