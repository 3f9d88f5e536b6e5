"""Errors a user can act on.

Every check on user input (files, shapes, modes, bitstreams, text) raises one of these with a
message that says what was wrong and what was expected, before any array reaches JAX. Launchers
catch `TficError` and print its message without a traceback.
"""


class TficError(ValueError):
  """Base class: bad input or configuration, explained in the message."""


class ImageInputError(TficError):
  """An image file or array is missing, unreadable, empty, or of the wrong size or mode."""


class OutputError(TficError):
  """An output path cannot be written: a directory, under a file, or not writable."""


class DatasetError(TficError):
  """A dataset name, split or data directory is unknown, missing or inconsistent."""


class BitstreamError(TficError):
  """A compressed file is truncated, corrupt, of another format version or made by another model."""


class CheckpointError(TficError):
  """A workdir or shipped model has no usable checkpoint, or one that does not match the config."""


class DependencyError(TficError):
  """An optional external tool (e.g. the tesseract binary) is not installed."""
