"""Bjøntegaard delta rate (BD-rate): the average rate difference between two RD curves.

BD-rate(test vs anchor) = exp(mean over the overlapping quality interval of
[log R_test(q) − log R_anchor(q)]) − 1, negative when the test codec needs less rate for the
same quality. The quality axis is PSNR for rate–distortion curves, and OCR accuracy for the
rate–accuracy tables of issue 6.

Bjøntegaard's original fits a cubic polynomial of log-rate in quality; with the few, sometimes
bumpy points of a small evaluation a cubic can overshoot between points, so we interpolate
log-rate piecewise linearly over the *monotone envelope* of each curve (the best quality reached
at or below each rate; the piecewise-cubic variant of VCEG-AL22 is the same idea). Returns
None when the quality ranges do not overlap.
"""

from typing import Sequence

import numpy as np


def envelope(rates: Sequence[float], qualities: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
  """Pareto envelope: points sorted by rate whose quality beats every cheaper point."""
  order = np.argsort(np.asarray(rates, np.float64), kind="stable")
  rates = np.asarray(rates, np.float64)[order]
  qualities = np.asarray(qualities, np.float64)[order]
  keep_r, keep_q, best = [], [], -np.inf
  for r, q in zip(rates, qualities):
    if q > best:
      keep_r.append(r)
      keep_q.append(q)
      best = q
  return np.asarray(keep_r), np.asarray(keep_q)


def bd_rate(anchor_rates, anchor_qualities, test_rates, test_qualities,
            samples: int = 200) -> float | None:
  """BD-rate of `test` against `anchor` as a fraction (−0.3 = 30 % less rate)."""
  ra, qa = envelope(anchor_rates, anchor_qualities)
  rt, qt = envelope(test_rates, test_qualities)
  if len(ra) < 2 or len(rt) < 2:
    return None
  low, high = max(qa[0], qt[0]), min(qa[-1], qt[-1])
  if not high > low:
    return None
  grid = np.linspace(low, high, samples)
  log_a = np.interp(grid, qa, np.log(ra))
  log_t = np.interp(grid, qt, np.log(rt))
  return float(np.exp(np.mean(log_t - log_a)) - 1.0)


def rate_at_quality(rates, qualities, target: float) -> float | None:
  """The lowest rate at which the envelope reaches `target` quality (interpolated), or None."""
  r, q = envelope(rates, qualities)
  if len(r) == 0 or q[-1] < target:
    return None
  if q[0] >= target:
    return float(r[0])
  return float(np.exp(np.interp(target, q, np.log(r))))


def quality_at_rate(rates, qualities, rate: float) -> float | None:
  """The envelope's quality at `rate` (interpolated in log-rate), or None outside its range."""
  r, q = envelope(rates, qualities)
  if len(r) == 0 or not r[0] <= rate <= r[-1]:
    return None
  return float(np.interp(np.log(rate), np.log(r), q))
