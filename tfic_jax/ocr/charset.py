"""Character sets and label encoding for the recognizers.

Label ids are shared by both prediction heads: 0 is padding (and the CTC blank), characters are
1..N in charset order. The attention head's class ids are `label + 1` ([GO] = 0, [s] = 1, as in
the reference); `tfic_jax.ocr.api` converts, so callers only ever see label ids.

Policy for text outside the charset (`Charset.normalize`):
  * case-insensitive charsets (the default `alnum36`) lowercase the text first;
  * any other character not in the charset is dropped, or raises `TficError` when `strict=True`;
  * whitespace runs become one space when the charset has a space, else they are dropped.
Over-long labels (more than `max_length` characters after normalization) are truncated to
`max_length` by default (`overlong="truncate"`) or rejected with `TficError`
(`overlong="error"`). `fits()` tells the two apart, e.g. to zero the loss weight of an over-long
training example instead of training on a label that no longer matches the pixels.
"""

import dataclasses
import re
import string
from typing import Iterable, Sequence, Union

import numpy as np

from tfic_jax import errors

ALNUM36 = string.digits + string.ascii_lowercase
PRINTABLE94 = string.digits + string.ascii_letters + string.punctuation

_CHARSETS = {
    # name: (characters, case_sensitive)
    "alnum36": (ALNUM36, False),
    "printable94": (PRINTABLE94, True),
}

_WHITESPACE = re.compile(r"\s+")


@dataclasses.dataclass(frozen=True)
class Charset:
  """An ordered character set; see the module docstring for the label policy."""
  characters: str
  case_sensitive: bool
  name: str = "custom"

  def __post_init__(self):
    if len(set(self.characters)) != len(self.characters):
      raise ValueError(f"charset {self.name!r} has repeated characters")

  @property
  def size(self) -> int:
    """Number of characters N (label ids 1..N)."""
    return len(self.characters)

  @property
  def has_space(self) -> bool:
    return " " in self.characters

  def normalize(self, text: Union[str, bytes], strict: bool = False) -> str:
    """Applies the charset policy: case folding, whitespace, unknown characters."""
    if isinstance(text, bytes):
      text = text.decode("utf-8")
    if not self.case_sensitive:
      text = text.lower()
    text = _WHITESPACE.sub(" ", text).strip()
    known = set(self.characters)
    unknown = sorted({ch for ch in text if ch not in known and ch != " "})
    if unknown and strict:
      raise errors.TficError(
          f"label {text!r} has characters outside the {self.name!r} charset: "
          f"{''.join(unknown)!r}")
    kept = "".join(ch for ch in text if ch in known or (ch == " " and self.has_space))
    if self.has_space:
      kept = _WHITESPACE.sub(" ", kept).strip()
    return kept

  def fits(self, text: Union[str, bytes], max_length: int) -> bool:
    """Whether the normalized text has at most `max_length` characters."""
    return len(self.normalize(text)) <= max_length

  def encode(self, texts: Union[str, bytes, Sequence[Union[str, bytes]]], max_length: int,
             strict: bool = False, overlong: str = "truncate") -> tuple[np.ndarray, np.ndarray]:
    """Texts → (labels int32 [B, max_length] zero-padded, lengths int32 [B]).

    A single string gives B = 1. Empty texts give length 0.
    """
    if overlong not in ("truncate", "error"):
      raise ValueError(f"overlong must be 'truncate' or 'error', got {overlong!r}")
    if isinstance(texts, (str, bytes)):
      texts = [texts]
    index = {ch: i + 1 for i, ch in enumerate(self.characters)}
    labels = np.zeros((len(texts), max_length), np.int32)
    lengths = np.zeros((len(texts),), np.int32)
    for row, text in enumerate(texts):
      normalized = self.normalize(text, strict=strict)
      if len(normalized) > max_length:
        if overlong == "error":
          raise errors.TficError(
              f"label {normalized!r} has {len(normalized)} characters, more than the "
              f"recognizer's max_length={max_length}")
        normalized = normalized[:max_length]
      labels[row, :len(normalized)] = [index[ch] for ch in normalized]
      lengths[row] = len(normalized)
    return labels, lengths

  def decode(self, ids: Union[np.ndarray, Iterable]) -> list[str]:
    """Label ids [B, T] (or [T]) → strings; 0 (padding) is skipped wherever it appears."""
    ids = np.asarray(ids)
    if ids.ndim == 1:
      ids = ids[None]
    if ids.ndim != 2:
      raise ValueError(f"expected label ids [B, T], got shape {ids.shape}")
    texts = []
    for row in ids:
      texts.append("".join(self.characters[i - 1] for i in row if 0 < i <= self.size))
    return texts


def get_charset(name: str = "alnum36", include_space: bool = False) -> Charset:
  """`alnum36` (0-9a-z, case-insensitive) or `printable94` (case-sensitive, no space).

  `include_space` appends " " as the last character (so word boundaries can be read; the
  paper's OCR accuracy counts alphanumerics only, so it is unaffected).
  """
  if name not in _CHARSETS:
    raise errors.TficError(f"unknown charset {name!r}; expected one of {sorted(_CHARSETS)}")
  characters, case_sensitive = _CHARSETS[name]
  if include_space:
    characters += " "
  return Charset(characters, case_sensitive, name + ("+space" if include_space else ""))
