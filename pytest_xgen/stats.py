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
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # At 0/n and n/n the exact bound is 0 or 1; rounding would otherwise leave it a hair off.
    lower = 0.0 if successes == 0 else max(0.0, centre - half_width)
    upper = 1.0 if successes == n else min(1.0, centre + half_width)
    return (lower, upper)


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


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """The two-sided Fisher exact test p-value for the 2x2 table ``[[a, b], [c, d]]``.

    Used to ask whether a rate (a consistency, an accuracy) differs between two runs: one
    row per run, successes and failures in the columns. A gate compares tens of samples per
    test, where the chi-square (normal) approximation is poor, above all near 0 and 1; the
    exact test needs no large-sample assumption and is cheap at these sizes.

    Given the margins, the top-left cell follows a hypergeometric distribution. The p-value
    sums the probabilities of every table with the same margins that is no more likely than
    the observed one. Probabilities come from log-factorials (``math.lgamma``), so large
    counts neither overflow nor need big integers. Tables whose probability equals the
    observed one only up to rounding count as equal, within a relative ``1e-7`` as in
    SciPy's ``fisher_exact``; otherwise a mirror-image table could be dropped by a last-bit
    difference. A table without data (a zero margin) gives ``1.0``.
    """
    for name, value in (("a", a), ("b", b), ("c", c), ("d", d)):
        if value < 0:
            raise ValueError(f"cell {name} must be >= 0; got {value}")
    n = a + b + c + d
    row = a + b
    column = a + c
    lowest = max(0, row + column - n)
    highest = min(row, column)
    base = _log_choose(n, row)

    def log_probability(x: int) -> float:
        return _log_choose(column, x) + _log_choose(n - column, row - x) - base

    observed = log_probability(a)
    limit = observed + math.log1p(1e-7)
    # Each term is a ratio to the observed probability, at most 1 + 1e-7, so the sum can
    # neither overflow nor lose the observed table to underflow.
    ratio = sum(
        math.exp(lp - observed)
        for lp in (log_probability(x) for x in range(lowest, highest + 1))
        if lp <= limit
    )
    return min(1.0, math.exp(observed) * ratio)


def lift_change_p(before: tuple[int, int, int, int], after: tuple[int, int, int, int]) -> float:
    """The two-sided p-value of a Wald z-test for a change in lift between two runs.

    Each run is ``(transfer_agree, transfer_total, baseline_agree, baseline_total)`` and its
    lift is ``transfer_agree / transfer_total - baseline_agree / baseline_total``. A change
    in lift is a difference of differences of four proportions; unlike a single proportion it
    has no exact small-sample test within the standard library, so this is the normal
    approximation, and only approximate: the standard error is
    ``sqrt(sum(p * (1 - p) / n))`` over the four proportions, treated as independent.
    The approximation is weakest for small totals and for proportions at 0 or 1, where a
    proportion contributes no variance at all. When the standard error is zero the
    p-value is ``1.0`` if the lift did not change and ``0.0`` if it did.
    """
    proportions: list[tuple[float, int]] = []
    lifts: list[float] = []
    for label, (t_agree, t_total, b_agree, b_total) in (("before", before), ("after", after)):
        for agree, total in ((t_agree, t_total), (b_agree, b_total)):
            if total <= 0 or not 0 <= agree <= total:
                raise ValueError(
                    f"{label}: each count must be between 0 and a total > 0; got {agree} of {total}"
                )
        transfer = t_agree / t_total
        baseline = b_agree / b_total
        proportions += [(transfer, t_total), (baseline, b_total)]
        lifts.append(transfer - baseline)
    change = lifts[1] - lifts[0]
    se = math.sqrt(sum(p * (1 - p) / n for p, n in proportions))
    if se == 0:
        return 1.0 if change == 0 else 0.0
    # erfc(|z| / sqrt(2)) equals 2 * (1 - Phi(|z|)); NormalDist().cdf goes through erf and
    # rounds a far tail to exactly 0, which would print as an impossible p=0.
    return min(1.0, math.erfc(abs(change) / se / math.sqrt(2)))


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
