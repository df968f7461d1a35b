"""Verdicts: the one rule that turns a measure and its threshold into pass, fail or
inconclusive, and the exact one-sided tests the interventions decide on."""

from __future__ import annotations

from pytest_xgen.core.significance import EXACT_CELLS, drop_beyond_p


def judge(
    value: float | None,
    interval: tuple[float, float] | None,
    threshold: float,
    direction: str = "at_least",
) -> str:
    """A verdict from a measured ``value`` (``None``: nothing could be measured, a fail), its
    ``interval`` (``None``: the point estimate decides) and a threshold: pass when all of
    the interval is on the asserted side (``at_least``, ``at_most``, or ``within``
    ±threshold), fail when all of it is on the other side, inconclusive otherwise."""
    if value is None:
        return "fail"
    low, high = interval if interval is not None else (value, value)
    t = threshold
    if direction == "at_least":
        return "pass" if low >= t else "fail" if high < t else "inconclusive"
    if direction == "at_most":
        return "pass" if high <= t else "fail" if low > t else "inconclusive"
    inside = -t <= low and high <= t
    outside = low > t or high < -t
    return "pass" if inside else "fail" if outside else "inconclusive"


def above_p(hits: tuple[int, int, int, int], bound: float) -> float:
    """The one-sided p-value for "``a/n - b/m`` is above ``bound``" (the null: at most
    ``bound``), by :func:`~pytest_xgen.core.significance.drop_beyond_p`. A bound of 1 or more
    cannot be exceeded (``1.0``); a bound of -1 or less is exceeded unless both samples are
    at the extremes, ``a == 0`` and ``b == m``."""
    a, n, b, m = hits
    if bound >= 1:
        return 1.0
    if bound <= -1:
        return 1.0 if a == 0 and b == m else 0.0
    return drop_beyond_p(a, n, b, m, bound)


def exact_verdict(
    direction: str, hits: tuple[int, int, int, int], threshold: float, level: float
) -> tuple[str, str]:
    """A verdict on the difference ``d = a/n - b/m`` of ``hits`` from exact one-sided tests,
    each at ``level``, and the name of the test.

    ``at_least``: pass when "d <= threshold" is rejected, fail when "d >= threshold" is;
    ``at_most``: the mirror image; ``within``: pass when both "d <= -threshold" and
    "d >= threshold" are rejected (two one-sided tests), fail when "d <= threshold" or
    "d >= -threshold" is. So a pass when ``d`` is not on the asserted side, and a fail
    when it is, each happen with a chance of at most ``level`` (``within``: per side).
    Each test is :func:`~pytest_xgen.core.significance.drop_beyond_p`: Fisher's exact test
    at a bound of 0, Chan's exact unconditional score test at other bounds (the
    Farrington-Manning score's normal tail above its ``EXACT_CELLS`` outcomes)."""
    a, n, b, m = hits
    swapped = (b, m, a, n)
    t = threshold

    def above(bound: float) -> bool:  # "d > bound" shown
        return above_p(hits, bound) < level

    def below(bound: float) -> bool:  # "d < bound" shown
        return above_p(swapped, -bound) < level

    if direction == "at_least":
        verdict = "pass" if above(t) else "fail" if below(t) else "inconclusive"
    elif direction == "at_most":
        verdict = "pass" if below(t) else "fail" if above(t) else "inconclusive"
    else:
        inside = above(-t) and below(t)
        verdict = "pass" if inside else "fail" if above(t) or below(-t) else "inconclusive"
    if t == 0:
        name = "Fisher's exact test"
    elif n * m <= EXACT_CELLS:
        name = "Chan's exact unconditional score test"
    else:
        name = "the Farrington-Manning score test"
    return verdict, f"{name}, one-sided at {level:g}"
