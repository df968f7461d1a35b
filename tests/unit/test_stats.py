"""Wilson and bootstrap intervals: known values, determinism and the paired lift."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

import pytest

from pytest_xgen.core.stats import (
    bootstrap_interval,
    lift_interval,
    wilson_interval,
    wilson_rate_interval,
)


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
SOLVED = [1] * 18 + [0] * 12


def mean_of(data: Sequence[float]) -> Callable[[Sequence[int]], float]:
    def statistic(indices: Sequence[int]) -> float:
        return statistics.fmean(data[i] for i in indices)

    return statistic


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    def draws(seed: int) -> list[list[int]]:
        seen: list[list[int]] = []

        def record(indices: Sequence[int]) -> float:
            seen.append(list(indices))
            return statistics.fmean(SOLVED[i] for i in indices)

        bootstrap_interval(record, len(SOLVED), resamples=100, seed=seed)
        return seen

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    first = bootstrap_interval(mean_of(SOLVED), len(SOLVED), seed=7)
    assert first == bootstrap_interval(mean_of(SOLVED), len(SOLVED), seed=7)


def test_bootstrap_resamples_problem_indices() -> None:
    seen: list[list[int]] = []

    def record(indices: Sequence[int]) -> float:
        seen.append(list(indices))
        return 0.0

    bootstrap_interval(record, 5, resamples=50)
    assert len(seen) == 50
    assert all(len(draw) == 5 and set(draw) <= set(range(5)) for draw in seen)
    # With replacement: some draw repeats an index.
    assert any(len(set(draw)) < 5 for draw in seen)


def test_bootstrap_interval_contains_the_point_estimate() -> None:
    interval = bootstrap_interval(mean_of(SOLVED), len(SOLVED))
    assert interval is not None
    lower, upper = interval
    assert lower < 0.6 < upper
    # Roughly the Wilson interval for 18/30, (0.423, 0.754): same data, same question.
    assert lower == pytest.approx(0.42, abs=0.05)
    assert upper == pytest.approx(0.77, abs=0.05)


def test_bootstrap_drops_none_results() -> None:
    # Resamples containing problem 0 cannot be scored; the rest all give 1.0.
    def unless_zero(indices: Sequence[int]) -> float | None:
        return None if 0 in indices else 1.0

    assert bootstrap_interval(unless_zero, 10) == (1.0, 1.0)
    assert bootstrap_interval(lambda indices: None, 10) is None
    assert bootstrap_interval(mean_of(SOLVED), 0) is None


def test_bootstrap_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="resamples must be >= 1; got 0"):
        bootstrap_interval(mean_of(SOLVED), 30, resamples=0)
    with pytest.raises(ValueError, match="n must be >= 0"):
        bootstrap_interval(mean_of(SOLVED), -1)
    with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
        bootstrap_interval(mean_of(SOLVED), 30, confidence=1.5)


def test_lift_interval_above_zero_when_transfer_clearly_wins() -> None:
    # 40 problems: the baseline solves 10; the transfer condition solves those 10 and 20 more.
    # Lift = 30/40 - 10/40 = 0.5.
    baseline = [1] * 10 + [0] * 30
    transfer = [1] * 30 + [0] * 10
    interval = lift_interval(mean_of(baseline), mean_of(transfer), 40)
    assert interval is not None
    lower, upper = interval
    assert 0 < lower < 0.5 < upper


def test_lift_interval_contains_zero_without_a_lift() -> None:
    # Identical results: every paired resample gives a lift of exactly 0.
    same = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1]
    assert lift_interval(mean_of(same), mean_of(same), len(same)) == (0.0, 0.0)
    # Transfer wins 4 problems and loses 4 others: lift 0, uncertain in both directions.
    baseline = [1] * 4 + [0] * 4 + [1] * 6 + [0] * 6
    transfer = [0] * 4 + [1] * 4 + [1] * 6 + [0] * 6
    interval = lift_interval(mean_of(baseline), mean_of(transfer), len(baseline))
    assert interval is not None
    lower, upper = interval
    assert lower < 0 < upper


def test_lift_interval_drops_resamples_either_condition_cannot_score() -> None:
    def baseline(indices: Sequence[int]) -> float | None:
        return None if 0 in indices else 0.25

    def transfer(indices: Sequence[int]) -> float | None:
        return None if 1 in indices else 0.75

    assert lift_interval(baseline, transfer, 10) == (0.5, 0.5)
    assert lift_interval(baseline, lambda indices: None, 10) is None


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


def noisy(indices: Sequence[int]) -> float:
    """A statistic that tells resamples apart: the mean of some irregular values."""
    return statistics.fmean((i * 7919) % 101 / 101 for i in indices)


def test_bootstrap_defaults_are_2000_resamples_seeded_with_0() -> None:
    explicit = bootstrap_interval(noisy, 30, confidence=0.95, resamples=2000, seed=0)
    assert bootstrap_interval(noisy, 30) == explicit
    assert bootstrap_interval(noisy, 30, resamples=2001) != explicit
    assert bootstrap_interval(noisy, 30, seed=1) != explicit
    paired = lift_interval(lambda i: 0.0, noisy, 30)
    assert paired == explicit
    tuned = lift_interval(lambda i: 0.0, noisy, 30, confidence=0.8, resamples=300, seed=4)
    assert tuned == bootstrap_interval(noisy, 30, confidence=0.8, resamples=300, seed=4)
    assert tuned != bootstrap_interval(noisy, 30, confidence=0.8, resamples=300, seed=5)


def test_one_resample_is_enough_and_none_is_refused() -> None:
    assert bootstrap_interval(noisy, 5, resamples=1) is not None
    with pytest.raises(ValueError) as raised:
        bootstrap_interval(noisy, 5, resamples=0)
    assert str(raised.value) == "resamples must be >= 1; got 0"


def test_bootstrap_bounds_are_linearly_interpolated_quantiles() -> None:
    import random

    rng = random.Random(0)
    values = sorted(noisy(rng.choices(range(12), k=12)) for _ in range(50))
    lower, upper = bootstrap_interval(noisy, 12, confidence=0.9, resamples=50) or (0, 0)

    def quantile(q: float) -> float:
        position = (len(values) - 1) * q
        below = int(position)
        return values[below] + (position - below) * (values[below + 1] - values[below])

    assert lower == pytest.approx(quantile(0.05), abs=1e-12)
    assert upper == pytest.approx(quantile(0.95), abs=1e-12)


@pytest.mark.parametrize(
    ("q", "expected"), [(0.0, 0.0), (0.25, 7.5), (0.5, 15.0), (0.9, 27.0), (1.0, 30.0)]
)
def test_quantiles_interpolate_between_neighbours(q: float, expected: float) -> None:
    from pytest_xgen.core.stats import _quantile

    assert _quantile([0.0, 10.0, 20.0, 30.0], q) == pytest.approx(expected)
    assert _quantile([5.0], q) == 5.0
