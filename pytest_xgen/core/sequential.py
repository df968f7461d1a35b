"""Group-sequential boundaries for a rate judged against a threshold at several looks.

A check counts, at each look, how many of its samples agree (a binomial count when each
sample agrees independently with probability ``p``). At look ``k``, after ``n_k`` samples,
it passes when the count reaches ``pass_at`` and fails when it is at most ``fail_at``;
otherwise it samples on. The boundaries are computed exactly, by dynamic programming over
the binomial paths at ``p = threshold``, so that

- P(the check ever passes | p = threshold) <= the pass error spent by then, and
- P(the check ever fails | p = threshold) <= the fail error spent by then,

at every look, and at most ``alpha`` each over all looks. Passing is more likely the
higher ``p`` is and failing the lower (a path of a higher ``p`` can be coupled to lie above
a path of a lower one at every look), so a pass when the true rate is below the threshold
and a fail when it is at or above it each happen with probability at most ``alpha``,
however many looks there are.

The error is spent over the looks by the share ``t`` of the planned samples taken: a pass
may spend ``alpha * t`` by then, a fail ``alpha * sqrt(t)`` (a rate far below the threshold
fails early; a pass needs many samples anyway). A look with samples left out (an answer
that could not be parsed) simply has a smaller count: the boundaries of a look depend only
on the counts up to it, and are cached per threshold, level and counts.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

PASS_SPENDING = 1.0  # a pass may spend alpha * t**PASS_SPENDING by a share t of the samples
FAIL_SPENDING = 0.5  # a fail may spend alpha * t**FAIL_SPENDING
_SLACK = 1e-12  # floating-point slack when comparing a probability with the error spent


@dataclass(frozen=True)
class Boundary:
    """Where one look decides: after ``samples`` samples, at least ``pass_at`` agreeing
    passes and at most ``fail_at`` fails (``samples + 1`` and ``-1``: not at this look)."""

    samples: int
    pass_at: int
    fail_at: int

    def judge(self, agreements: float) -> str:
        """``pass``, ``fail`` or ``inconclusive`` (sample on) for a count of agreements
        (a pooled count need not be whole)."""
        if agreements >= self.pass_at - 1e-9:
            return "pass"
        if agreements <= self.fail_at + 1e-9:
            return "fail"
        return "inconclusive"


def spending(planned: Sequence[int], alpha: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The cumulative pass and fail error that may be spent by each look of a plan of
    ``planned`` sample counts: ``alpha * t`` and ``alpha * sqrt(t)`` for the share ``t``
    of the last count."""
    last = planned[-1]
    passes = tuple(alpha * (n / last) ** PASS_SPENDING for n in planned)
    fails = tuple(alpha * (n / last) ** FAIL_SPENDING for n in planned)
    return passes, fails


def _pmf(n: int, p: float) -> list[float]:
    return [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]


def _advance(dist: list[float], step: int, p: float) -> list[float]:
    """The distribution of the count after ``step`` more samples (``dist[c]``: the
    probability of count ``c`` and no verdict yet)."""
    if step == 0:
        return list(dist)
    pmf = _pmf(step, p)
    new = [0.0] * (len(dist) + step)
    for c, weight in enumerate(dist):
        if weight:
            for d, q in enumerate(pmf):
                new[c + d] += weight * q
    return new


@functools.lru_cache(maxsize=4096)
def boundaries(
    threshold: float,
    counts: tuple[int, ...],
    pass_spent: tuple[float, ...],
    fail_spent: tuple[float, ...],
) -> tuple[Boundary, ...]:
    """The boundaries of looks after ``counts`` samples (non-decreasing), such that at
    ``p = threshold`` the probability of having passed by look ``k`` is at most
    ``pass_spent[k]`` and of having failed at most ``fail_spent[k]``.

    Each look takes the widest regions its remaining error allows: the lowest ``pass_at``
    and the highest ``fail_at`` (below ``pass_at``) within the budget. A threshold of 0
    or less passes at once (nothing is below it).
    """
    if len(pass_spent) < len(counts) or len(fail_spent) < len(counts):
        raise ValueError("every look needs its pass and fail error")
    if threshold <= 0:
        return tuple(Boundary(n, 0, -1) for n in counts)
    found = []
    dist = [1.0]  # the count so far, on paths without a verdict
    passed = failed = 0.0
    previous = 0
    for k, n in enumerate(counts):
        if n < previous:
            raise ValueError(f"sample counts must not decrease; got {counts}")
        dist = _advance(dist, n - previous, threshold)
        previous = n
        pass_at, tail = n + 1, 0.0
        for c in range(n, -1, -1):
            if passed + tail + dist[c] > pass_spent[k] + _SLACK:
                break
            tail += dist[c]
            pass_at = c
        fail_at, head = -1, 0.0
        for c in range(pass_at):
            if failed + head + dist[c] > fail_spent[k] + _SLACK:
                break
            head += dist[c]
            fail_at = c
        passed += tail
        failed += head
        dist = [w if fail_at < c < pass_at else 0.0 for c, w in enumerate(dist)]
        found.append(Boundary(n, pass_at, fail_at))
    return tuple(found)


def outcome(
    bounds: Sequence[Boundary],
    p: float,
    after: int = -1,
    count: float = 0.0,
    give_up: Callable[[int, float], bool] | None = None,
) -> tuple[float, float, float]:
    """``(P(pass), P(fail), expected samples)`` when each sample agrees with probability
    ``p``, from the start or, with ``after``, from look ``after`` left undecided at
    ``count`` agreements (the expected samples then count those still to come).
    ``give_up(look, agreements)``, when given, stops an undecided path there without a
    verdict."""
    dist = [1.0]
    passed = failed = expected = 0.0
    previous = bounds[after].samples if after >= 0 else 0
    for index in range(after + 1, len(bounds)):
        bound = bounds[index]
        step = bound.samples - previous
        expected += sum(dist) * step
        dist = _advance(dist, step, p)
        previous = bound.samples
        kept = []
        for extra, weight in enumerate(dist):
            verdict = bound.judge(count + extra)
            passed += weight if verdict == "pass" else 0.0
            failed += weight if verdict == "fail" else 0.0
            stays = verdict == "inconclusive" and not (give_up and give_up(index, count + extra))
            kept.append(weight if stays else 0.0)
        dist = kept
    return passed, failed, expected


def plan(
    threshold: float, alpha: float, counts: Sequence[int], planned: Sequence[int]
) -> tuple[Boundary, ...]:
    """The boundaries of every planned look, for a check that has taken looks after
    ``counts`` samples so far: later looks are assumed to add the planned samples."""
    taken = list(counts)
    last = taken[-1] if taken else 0
    done = planned[len(taken) - 1] if taken else 0
    projected = taken + [last + n - done for n in planned[len(taken) :]]
    passes, fails = spending(planned, alpha)
    return boundaries(threshold, tuple(projected), passes, fails)


def exact_interval(agreements: float, n: int, confidence: float) -> tuple[float, float]:
    """The Clopper-Pearson interval for ``agreements`` of ``n``, each side at
    ``(1 - confidence) / 2``: its lower bound is at least ``t`` exactly when
    P(Binomial(n, t) >= agreements) <= (1 - confidence) / 2, so judging a threshold by it
    holds that rate on each side. A pooled count need not be whole (the beta quantiles
    extend it); ``n == 0`` gives ``(0, 1)``."""
    from scipy.special import betaincinv  # the beta quantile, without scipy.stats' overhead

    if n <= 0:
        return (0.0, 1.0)
    tail = (1 - confidence) / 2
    x = min(max(agreements, 0.0), float(n))
    low = 0.0 if x <= 0 else float(betaincinv(x, n - x + 1, tail))
    high = 1.0 if x >= n else float(betaincinv(x + 1, n - x, 1 - tail))
    return (low, high)


def chance_to_decide(
    bounds: Sequence[Boundary], look: int, agreements: float, confidence: float = 0.5
) -> float:
    """The larger chance of a verdict at a later look, for a check left undecided at
    ``look`` with ``agreements``: at either end of the ``confidence`` interval of its
    rate (the most hopeful rates the samples so far allow)."""
    low, high = exact_interval(agreements, bounds[look].samples, confidence)
    chances = []
    for p in (low, high):
        passed, failed, _ = outcome(bounds, p, look, agreements)
        chances.append(passed + failed)
    return max(chances)


def samples_to_decide(
    rate: float, threshold: float, alpha: float, at_least: int, most: int = 1000
) -> int | None:
    """The fewest samples, from ``at_least`` up to ``most``, at which a fixed sample
    with this observed ``rate`` would decide against ``threshold`` at one-sided level
    ``alpha`` (the exact bound clears it); ``None`` when none does."""
    import numpy as np
    from scipy.stats import binom

    if threshold <= 0:
        return at_least
    n = np.arange(max(at_least, 1), most + 1)
    x = rate * n
    passes = binom.sf(np.ceil(x - 1e-9) - 1, n, threshold) <= alpha
    fails = binom.cdf(np.floor(x + 1e-9), n, threshold) <= alpha
    decided = np.flatnonzero(passes | fails)
    return int(n[decided[0]]) if decided.size else None
