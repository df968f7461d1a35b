"""Wilson and Newcombe intervals: known values, the ends of the range, and a lift interval
that keeps its width where the percentile bootstrap collapsed."""

from __future__ import annotations

import pytest

from pytest_xgen.core.stats import difference_interval, wilson_interval, wilson_rate_interval


def test_wilson_known_values() -> None:
    # 8/10 at 95%: z = 1.959964, z² = 3.841459, p = 0.8
    #   denominator = 1 + z²/n = 1.384146
    #   centre = (p + z²/2n) / denominator = 0.992073 / 1.384146 = 0.716739
    #   half = z * sqrt(p(1-p)/n + z²/4n²) / denominator
    #        = 1.959964 * sqrt(0.016 + 0.009604) / 1.384146 = 0.226656
    #   -> (0.490, 0.943)
    lower, upper = wilson_interval(8, 10)
    assert lower == pytest.approx(0.4902, abs=1e-4)
    assert upper == pytest.approx(0.9433, abs=1e-4)
    # 50/100: centre 0.5, half = 1.959964 * sqrt(0.0025 + 0.000096) / 1.038415 = 0.0962
    assert wilson_interval(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)


def test_wilson_at_the_edges() -> None:
    # 0/10: upper = z² / (n + z²) = 3.841459 / 13.841459 = 0.2775; the lower bound is exactly 0
    # where the normal approximation would give the useless (0, 0).
    lower, upper = wilson_interval(0, 10)
    assert lower == 0.0
    assert upper == pytest.approx(0.2775, abs=1e-4)
    lower, upper = wilson_interval(10, 10)
    assert lower == pytest.approx(0.7225, abs=1e-4)
    assert upper == 1.0


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 3), (2, 7), (8, 10), (37, 50)])
def test_wilson_is_symmetric(k: int, n: int) -> None:
    # Swapping successes and failures mirrors the interval about 1/2.
    lower, upper = wilson_interval(k, n)
    mirrored_lower, mirrored_upper = wilson_interval(n - k, n)
    assert lower == pytest.approx(1 - mirrored_upper)
    assert upper == pytest.approx(1 - mirrored_lower)


def test_wilson_without_data_and_by_confidence() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    narrow = wilson_interval(8, 10, 0.90)
    wide = wilson_interval(8, 10, 0.99)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


@pytest.mark.parametrize(
    ("successes", "n", "confidence", "message"),
    [
        (11, 10, 0.95, "successes must be between 0 and n=10; got 11"),
        (-1, 10, 0.95, "successes must be between 0 and n=10; got -1"),
        (0, -1, 0.95, "n must be >= 0; got -1"),
        (1, 2, 1.0, "confidence must be strictly between 0 and 1; got 1.0"),
        (1, 2, 0.0, "confidence must be strictly between 0 and 1; got 0.0"),
    ],
)
def test_wilson_rejects_bad_input(successes: int, n: int, confidence: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        wilson_interval(successes, n, confidence)


# 30 problems, 18 solved: a point estimate of 0.6.
def test_wilson_bounds_at_zero_and_all_are_exact_despite_rounding() -> None:
    # The formula itself lands a hair inside [0, 1] here ...
    assert wilson_rate_interval(1.0, 3, 0.5)[1] < 1.0
    assert wilson_rate_interval(0.0, 5)[0] > 0.0
    # ... and a hair outside here: the rate interval is clipped to [0, 1].
    assert wilson_rate_interval(1.0, 9)[1] == 1.0
    assert wilson_rate_interval(0.0, 5, 0.8)[0] == 0.0
    # A count of 0 or n has the exact bound.
    assert wilson_interval(3, 3, 0.5)[1] == 1.0
    assert wilson_interval(0, 5)[0] == 0.0


def test_a_rate_interval_without_units_is_everything() -> None:
    assert wilson_rate_interval(0.5, 0) == (0.0, 1.0)
    assert wilson_rate_interval(0.5, -1) == (0.0, 1.0)
    assert wilson_rate_interval(1.0, 1) == pytest.approx((0.2065, 1.0), abs=1e-4)
    assert wilson_rate_interval(0.5, 10) == wilson_rate_interval(0.5, 10, 0.95)
    assert wilson_rate_interval(0.5, 10) == pytest.approx(wilson_interval(5, 10))


def test_a_pooled_count_need_not_be_whole() -> None:
    # 3.5 agreements of 5 (a pooled pair rate of 0.7 over 5 samples) is the rate 0.7 over 5.
    assert wilson_interval(3.5, 5) == pytest.approx(wilson_rate_interval(0.7, 5))
    low, high = difference_interval(3.5, 5, 1.5, 5)
    assert low < 0.4 < high


def test_the_lift_interval_keeps_its_width_when_both_conditions_always_agree() -> None:
    # Every sample agrees in both conditions: a percentile bootstrap over samples gives
    # [0, 0] here, and a true lift of -0.10 passed min_lift=0 on it. Newcombe's interval is
    # built from the two Wilson intervals, which keep their width at n/n.
    low, high = difference_interval(5, 5, 5, 5)
    assert low == pytest.approx(-(1 - wilson_interval(5, 5)[0]))
    assert low < -0.4 and high > 0.4
    assert difference_interval(30, 30, 30, 30)[0] < -0.1
    # A lift of -0.10 at 30 samples a condition is not shown to be >= 0.
    assert difference_interval(27, 30, 30, 30)[0] < 0
