"""The one rule every check's verdict comes from, at and around its thresholds, and the
exact one-sided tests the interventions decide on at the ends of the scale."""

from __future__ import annotations

import pytest

from pytest_xgen.checks.verdicts import above_p, exact_verdict, judge
from pytest_xgen.core.significance import EXACT_CELLS, drop_beyond_p


@pytest.mark.parametrize(
    ("value", "interval", "expected"),
    [
        (None, None, "fail"),  # nothing measured
        (None, (0.9, 1.0), "fail"),
        (0.5, None, "pass"),  # the point estimate at the threshold passes
        (0.49, None, "fail"),
        (0.9, (0.5, 0.9), "pass"),  # a lower bound at the threshold passes
        (0.6, (0.49, 0.7), "inconclusive"),
        (0.3, (0.2, 0.5), "inconclusive"),  # an upper bound at the threshold is not below
        (0.3, (0.2, 0.49), "fail"),
    ],
)
def test_at_least_passes_from_the_threshold_and_fails_below_it(
    value: float | None, interval: tuple[float, float] | None, expected: str
) -> None:
    assert judge(value, interval, 0.5) == expected
    assert judge(value, interval, 0.5, "at_least") == expected


@pytest.mark.parametrize(
    ("value", "interval", "expected"),
    [
        (0.5, None, "pass"),
        (0.51, None, "fail"),
        (0.1, (0.0, 0.5), "pass"),  # an upper bound at the threshold passes
        (0.5, (0.3, 0.51), "inconclusive"),
        (0.6, (0.5, 0.7), "inconclusive"),  # a lower bound at the threshold is not above
        (0.6, (0.51, 0.7), "fail"),
        (-0.6, None, "pass"),  # far below the threshold, as within would not have it
        (-0.6, (-0.9, -0.55), "pass"),
        (None, None, "fail"),
    ],
)
def test_at_most_passes_up_to_the_threshold_and_fails_above_it(
    value: float | None, interval: tuple[float, float] | None, expected: str
) -> None:
    assert judge(value, interval, 0.5, "at_most") == expected


@pytest.mark.parametrize(
    ("value", "interval", "expected"),
    [
        (0.2, None, "pass"),
        (-0.2, None, "pass"),
        (0.21, None, "fail"),
        (-0.21, None, "fail"),
        (0.0, (-0.2, 0.2), "pass"),  # both ends inside, at the edges
        (0.0, (-0.21, 0.2), "inconclusive"),
        (0.0, (-0.2, 0.21), "inconclusive"),
        (0.3, (0.2, 0.4), "inconclusive"),  # a lower bound at +threshold is not outside
        (0.3, (0.21, 0.4), "fail"),
        (-0.3, (-0.4, -0.2), "inconclusive"),
        (-0.3, (-0.4, -0.21), "fail"),
        (None, None, "fail"),
    ],
)
def test_within_passes_inside_plus_or_minus_the_threshold_and_fails_outside(
    value: float | None, interval: tuple[float, float] | None, expected: str
) -> None:
    assert judge(value, interval, 0.2, "within") == expected


def test_above_p_is_the_drop_test_inside_the_scale_and_certain_at_its_ends() -> None:
    assert above_p((7, 10, 2, 10), 0.0) == drop_beyond_p(7, 10, 2, 10, 0.0)
    assert above_p((7, 10, 2, 10), 0.3) == drop_beyond_p(7, 10, 2, 10, 0.3)
    assert above_p((7, 10, 2, 10), -0.99) == drop_beyond_p(7, 10, 2, 10, -0.99)
    # No difference exceeds 1.
    assert above_p((10, 10, 0, 10), 1.0) == 1.0
    assert above_p((10, 10, 0, 10), 1.5) == 1.0
    # Every difference exceeds -1 except the one at -1 itself.
    assert above_p((0, 10, 10, 10), -1.0) == 1.0
    assert above_p((0, 10, 10, 10), -2.0) == 1.0
    assert above_p((1, 10, 10, 10), -1.0) == 0.0
    assert above_p((0, 10, 9, 10), -1.0) == 0.0


@pytest.mark.parametrize(
    ("direction", "hits", "threshold", "verdict"),
    [
        ("at_least", (10, 10, 0, 10), 0.0, "pass"),
        ("at_least", (0, 10, 10, 10), 0.0, "fail"),
        ("at_least", (5, 10, 5, 10), 0.0, "inconclusive"),
        ("at_most", (0, 10, 10, 10), 0.0, "pass"),
        ("at_most", (10, 10, 0, 10), 0.0, "fail"),
        ("at_most", (5, 10, 5, 10), 0.0, "inconclusive"),
        ("within", (20, 20, 20, 20), 0.3, "pass"),
        ("within", (20, 20, 0, 20), 0.3, "fail"),
        ("within", (0, 20, 20, 20), 0.3, "fail"),
        ("within", (5, 10, 5, 10), 0.3, "inconclusive"),
    ],
)
def test_each_direction_decides_on_its_own_side(
    direction: str, hits: tuple[int, int, int, int], threshold: float, verdict: str
) -> None:
    assert exact_verdict(direction, hits, threshold, 0.025)[0] == verdict


def test_a_verdict_needs_its_p_value_below_the_level_not_at_it() -> None:
    hits = (9, 10, 2, 10)
    p = above_p(hits, 0.0)
    assert exact_verdict("at_least", hits, 0.0, p)[0] == "inconclusive"
    assert exact_verdict("at_least", hits, 0.0, p + 1e-12)[0] == "pass"
    # The fail side tests the swapped samples.
    assert exact_verdict("at_least", (2, 10, 9, 10), 0.0, p + 1e-12)[0] == "fail"
    assert exact_verdict("at_least", (2, 10, 9, 10), 0.0, p)[0] == "inconclusive"
    assert exact_verdict("at_most", (2, 10, 9, 10), 0.0, p + 1e-12)[0] == "pass"
    assert exact_verdict("at_most", (9, 10, 2, 10), 0.0, p + 1e-12)[0] == "fail"


@pytest.mark.parametrize(
    ("hits", "threshold", "name"),
    [
        ((9, 10, 2, 20), 0.0, "Fisher's exact test"),
        ((9, 10, 2, 20), 0.2, "Chan's exact unconditional score test"),
        ((9, 50, 2, 50), -0.2, "Chan's exact unconditional score test"),  # 2500 cells: exact
        ((9, 50, 2, 51), 0.2, "the Farrington-Manning score test"),
    ],
)
def test_the_verdict_names_the_test_it_came_from(
    hits: tuple[int, int, int, int], threshold: float, name: str
) -> None:
    assert EXACT_CELLS == 50 * 50
    found = exact_verdict("at_least", hits, threshold, 0.01)[1]
    assert found == f"{name}, one-sided at 0.01"
