"""Confidence intervals for the rates and lifts pytest-xgen reports.

A proportion (an accuracy, an agreement rate) gets a Wilson score interval; a difference of
two rates from independent samples (a lift between two conditions, an intervention's
effect) gets Newcombe's hybrid score interval built from two of them. Both stay inside
[0, 1] (or [-1, 1]) and keep a width at 0/n and n/n, where a percentile bootstrap collapses
to a point. Exact intervals and the sequential boundaries of the transfer check are in
:mod:`pytest_xgen.core.sequential`.
"""

from __future__ import annotations

import math
from statistics import NormalDist


def wilson_interval(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The two-sided Wilson score interval for ``successes`` out of ``n`` (a pooled count
    need not be whole).

    Wilson rather than the normal approximation (``p ± z·sqrt(p(1-p)/n)``): the latter
    collapses to a zero-width interval at 0/n and n/n, can leave [0, 1], and under-covers for
    small ``n``, which is exactly where evaluation suites live. ``n == 0`` carries no
    information, so the interval is all of ``(0.0, 1.0)``.
    """
    _check_confidence(confidence)
    if n < 0:
        raise ValueError(f"n must be >= 0; got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}; got {successes}")
    if n == 0:
        return (0.0, 1.0)
    lower, upper = wilson_rate_interval(successes / n, n, confidence)
    # At 0/n and n/n the exact bound is 0 or 1; rounding would otherwise leave it a hair off.
    return (0.0 if successes == 0 else lower, 1.0 if successes == n else upper)


def wilson_rate_interval(p: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for an observed rate ``p`` over ``n`` independent units
    (``p`` need not be a whole count over ``n``: a pooled rate over correlated pairs)."""
    _check_confidence(confidence)
    if n <= 0:
        return (0.0, 1.0)
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half_width), min(1.0, centre + half_width))


def difference_interval(
    a: float, n: int, b: float, m: int, confidence: float = 0.95
) -> tuple[float, float]:
    """An interval for the difference of two rates ``a/n - b/m`` from independent samples:
    Newcombe's hybrid score interval (his method 10), which combines the two Wilson
    intervals and, unlike the Wald interval, keeps its coverage near the nominal level at
    small counts and rates near 0 or 1."""
    if n <= 0 or m <= 0:
        raise ValueError(f"both samples need at least one trial; got n={n}, m={m}")
    p, q = a / n, b / m
    (l1, u1), (l2, u2) = wilson_interval(a, n, confidence), wilson_interval(b, m, confidence)
    low = p - q - math.sqrt((p - l1) ** 2 + (u2 - q) ** 2)
    high = p - q + math.sqrt((u1 - p) ** 2 + (q - l2) ** 2)
    return max(-1.0, low), min(1.0, high)


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1; got {confidence}")
