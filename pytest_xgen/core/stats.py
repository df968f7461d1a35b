"""Confidence intervals for the rates and lifts pytest-xgen reports.

A proportion (an accuracy, an agreement rate) gets a Wilson score interval. Anything built
from many problems at once (a consistency, a lift between two conditions) gets a percentile
bootstrap over problem indices, which needs no formula for the statistic's variance.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from statistics import NormalDist

Statistic = Callable[[Sequence[int]], float | None]


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The two-sided Wilson score interval for ``successes`` out of ``n``.

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
    a: int, n: int, b: int, m: int, confidence: float = 0.95
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


def bootstrap_interval(
    statistic: Statistic,
    n: int,
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float] | None:
    """A percentile bootstrap interval for ``statistic`` over ``n`` problems.

    Each resample draws ``n`` problem indices from ``0..n-1`` with replacement, using
    ``random.Random(seed)`` so the interval is reproducible, and calls ``statistic`` on them.
    A resample whose statistic is ``None`` (nothing in it could be scored) is dropped. The
    bounds are the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the
    remaining values, interpolated linearly between the two nearest sorted values (numpy's
    default "linear" rule), so a quantile does not jump a whole rank when ``confidence`` is
    not exactly representable. ``None`` when ``n == 0`` or every resample gave ``None``.
    """
    _check_confidence(confidence)
    if n < 0:
        raise ValueError(f"n must be >= 0; got {n}")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1; got {resamples}")
    if n == 0:
        return None
    rng = random.Random(seed)
    problems = range(n)
    values = sorted(
        value
        for value in (statistic(rng.choices(problems, k=n)) for _ in range(resamples))
        if value is not None
    )
    if not values:
        return None
    return (_quantile(values, (1 - confidence) / 2), _quantile(values, (1 + confidence) / 2))


def lift_interval(
    baseline: Statistic,
    transfer: Statistic,
    n: int,
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float] | None:
    """A bootstrap interval for ``transfer - baseline`` over the same ``n`` problems.

    The bootstrap is paired: each resample's indices are passed to both statistics. The two
    conditions were run on the same problems and sample indices, so a hard problem drags both
    down together; their errors are correlated and largely cancel in the difference.
    Resampling the conditions independently would ignore that and give an interval too wide
    to show a real lift. A resample where either statistic is ``None`` is dropped.
    """

    def lift(indices: Sequence[int]) -> float | None:
        before = baseline(indices)
        after = transfer(indices)
        return None if before is None or after is None else after - before

    return bootstrap_interval(lift, n, confidence=confidence, resamples=resamples, seed=seed)


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = (len(ordered) - 1) * q
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1; got {confidence}")
