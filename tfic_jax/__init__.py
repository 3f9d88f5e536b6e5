"""tfic-jax: text-aware image compression (TFIC) and semantic recovery from extreme JPEG."""

__version__ = "0.1.0"
