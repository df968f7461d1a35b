"""Looks at the transfer agreement: the group-sequential plan of ``samples="auto"`` (or the
one look of a fixed ``samples``), the lift's interval at each look, when sampling gives up,
and how many samples would decide a check left undecided.

``samples="auto"`` samples in rounds, looks after each, and stops at the first verdict on
group-sequential boundaries (:mod:`pytest_xgen.core.sequential`) that hold ``confidence``
over every look, or when a verdict by the last round has become unlikely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pytest_xgen.checks.conditions import AUTO_FIRST, Condition
from pytest_xgen.core import sequential, stats

AUTO_STEP = 5  # samples each later round adds
AUTO_MAX_SAMPLES = 30  # the most samples="auto" takes
AUTO_LOOKS = tuple(range(AUTO_FIRST, AUTO_MAX_SAMPLES + 1, AUTO_STEP))  # samples at each look
AUTO_CONFIDENCE = 0.95  # the level of the boundaries when `confidence` is not set
AUTO_GIVE_UP = 0.2  # stop, inconclusive, when a verdict by the last look is less likely
MOST_SAMPLES_ADVISED = 1000  # the largest fixed samples an inconclusive message proposes


@dataclass(frozen=True)
class Look:
    """One look at the transfer agreement: after ``samples`` samples, ``agreements`` of
    the ``scored`` ones agreed; at least ``pass_at`` passes there, at most ``fail_at``
    fails (``scored + 1`` and ``-1``: not at this look)."""

    samples: int
    scored: int
    agreements: float
    pass_at: int
    fail_at: int

    @property
    def verdict(self) -> str:
        bound = sequential.Boundary(self.scored, self.pass_at, self.fail_at)
        return bound.judge(self.agreements)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def boundaries(look: Look) -> str:
    """The boundaries of ``look`` in words."""
    passes = f"{look.pass_at} or more pass" if look.pass_at <= look.scored else "none can pass"
    fails = f"{look.fail_at} or fewer fail" if look.fail_at >= 0 else "none can fail"
    return f"at {look.scored} samples {passes}, {fails}"


def look_at(
    transfer: Condition,
    samples: int,
    threshold: float,
    level: float,
    look: int | None,
    previous: Sequence[Look],
) -> tuple[list[Look], float, float]:
    """The looks so far, ending with this one at ``samples`` samples of ``transfer``: look
    ``look`` of :data:`AUTO_LOOKS` after the ``previous`` ones, or (``look`` None) the one
    look of a fixed samples; with the one-sided error the lift spends at it on the pass
    side and on the fail side, each side of the boundaries at ``(1 - level) / 2``."""
    alpha = (1 - level) / 2
    planned = AUTO_LOOKS if look is not None else (samples,)
    index = look or 0
    agreements, scored = transfer.agreements
    counts = [taken.scored for taken in previous] + [scored]
    here = sequential.plan(threshold, alpha, counts, planned)[index]
    looks = [*previous, Look(samples, scored, agreements, here.pass_at, here.fail_at)]
    passes, fails = sequential.spending(planned, alpha)
    pass_alpha = passes[index] - (passes[index - 1] if index else 0.0)
    fail_alpha = fails[index] - (fails[index - 1] if index else 0.0)
    return looks, pass_alpha, fail_alpha


def lift_interval(
    baseline: Condition, transfer: Condition, pass_alpha: float, fail_alpha: float
) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval for transfer minus baseline agreement per sample
    (two independent samples: different prompts), its lower bound at one-sided
    ``pass_alpha`` and its upper bound at ``fail_alpha`` (0: that side is not judged)."""
    x, n = transfer.agreements
    y, m = baseline.agreements
    if n == 0 or m == 0:
        return None
    low = -1.0
    if pass_alpha > 0:
        low = stats.difference_interval(x, n, y, m, 1 - 2 * pass_alpha)[0]
    high = 1.0
    if fail_alpha > 0:
        high = stats.difference_interval(x, n, y, m, 1 - 2 * fail_alpha)[1]
    return (low, high)


def gives_up(looks: Sequence[Look], level: float | None, threshold: float) -> bool:
    """Whether the consistency is undecided at the last of ``looks`` and a verdict on it
    has become unlikely (:func:`unlikely`)."""
    look = looks[-1] if looks else None
    if look is None or look.verdict != "inconclusive" or level is None:
        return False
    alpha = (1 - level) / 2
    counts = [taken.scored for taken in looks]
    bounds = sequential.plan(threshold, alpha, counts, AUTO_LOOKS)
    return unlikely(bounds, len(looks) - 1, look.agreements)


def unlikely(bounds: Sequence[sequential.Boundary], look: int, agreements: float) -> bool:
    """Whether ``samples="auto"`` gives up at ``look`` with ``agreements``: a verdict by
    the last look has a chance below :data:`AUTO_GIVE_UP` even at either end of a 50%
    interval of the rate so far. Giving up only turns verdicts into "inconclusive", so
    the error rates of the boundaries still hold."""
    if look >= len(bounds) - 1:
        return False
    return sequential.chance_to_decide(bounds, look, agreements) < AUTO_GIVE_UP


def samples_to_decide(
    what: str,
    transfer: tuple[float, int],
    baseline: tuple[float, int],
    threshold: float,
    level: float | None,
    used: int,
) -> int | None:
    """The fewest samples above ``used`` at which a fixed sample at the observed rates
    (``transfer`` and ``baseline``: agreements and scored samples) would decide ``what``
    (``consistency`` or ``lift``) against ``threshold`` at ``level``, or ``None`` (none up
    to :data:`MOST_SAMPLES_ADVISED`)."""
    level = level if level is not None else AUTO_CONFIDENCE
    alpha = (1 - level) / 2
    start = used + 1
    if what == "consistency":
        agreements, scored = transfer
        if not scored:
            return None
        return sequential.samples_to_decide(
            agreements / scored, threshold, alpha, start, MOST_SAMPLES_ADVISED
        )
    (x, n), (y, m) = transfer, baseline
    if not n or not m:
        return None
    after, before = x / n, y / m
    for samples in range(start, MOST_SAMPLES_ADVISED + 1):
        low, high = stats.difference_interval(
            after * samples,
            samples,
            before * samples,
            samples,
            1 - 2 * alpha,
        )
        if low >= threshold or high < threshold:
            return samples
    return None


def auto_note(stopped: str, used: int, level: float | None) -> str:
    """How far ``samples="auto"`` went (``used`` samples), and why it ``stopped`` there."""
    shown = level or AUTO_CONFIDENCE
    if stopped == "verdict":
        return (
            f"samples='auto': stopped after {used} of at most {AUTO_MAX_SAMPLES} samples, "
            f"the verdict reached on {shown:.0%} sequential boundaries"
        )
    if stopped == "unlikely":
        return (
            f"samples='auto': stopped after {used} of at most {AUTO_MAX_SAMPLES} samples "
            f"without a verdict at {shown:.0%}: one by {AUTO_MAX_SAMPLES} had become unlikely"
        )
    return f"samples='auto': no verdict at {shown:.0%} after the maximum of {used} samples"
