"""The shifted-null test "a rate dropped by more than a margin" (significance.drop_beyond_p):
its restricted estimates, its exact size at the margin, and its agreement with Fisher's
test at margin 0."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import binom, fisher_exact, norm

from pytest_xgen.core import significance
from pytest_xgen.core.significance import drop_beyond_p, restricted_rates


def test_the_restricted_rates_maximise_the_likelihood_under_a_drop_of_the_margin() -> None:
    rng = random.Random(7)
    for _ in range(200):
        n, m = rng.randint(1, 40), rng.randint(1, 40)
        a, b = rng.randint(0, n), rng.randint(0, m)
        margin = rng.choice((0.05, 0.1, 0.3, 0.5))
        r1, r2 = restricted_rates(a / n, n, b / m, m, margin)
        assert r1 - r2 == pytest.approx(margin)

        def minus_log_likelihood(p: float, a: int, n: int, b: int, m: int, margin: float) -> float:
            return -(binom.logpmf(a, n, p) + binom.logpmf(b, m, p - margin))

        best = minimize_scalar(
            minus_log_likelihood,
            args=(a, n, b, m, margin),
            bounds=(margin + 1e-9, 1 - 1e-9),
            method="bounded",
            options={"xatol": 1e-10},
        )
        assert r1 == pytest.approx(best.x, abs=1e-5)


def test_at_margin_zero_it_is_fishers_one_sided_test() -> None:
    for a, n, b, m in ((16, 20, 10, 20), (5, 5, 0, 5), (3, 10, 7, 10), (0, 4, 0, 9)):
        expected = fisher_exact([[a, n - a], [b, m - b]], alternative="greater").pvalue
        assert drop_beyond_p(a, n, b, m) == pytest.approx(expected)


@pytest.mark.parametrize("n", [5, 10, 20, 40])
@pytest.mark.parametrize("margin", [0.05, 0.3])
def test_a_drop_of_exactly_the_margin_is_significant_at_most_alpha_of_the_time(
    n: int, margin: float
) -> None:
    # Every outcome of two samples of n, weighted by its chance at rates a margin apart.
    significant = [
        (a, b)
        for a in range(n + 1)
        for b in range(n + 1)
        if drop_beyond_p(a, n, b, n, margin) < 0.05
    ]
    assert significant  # the test can reject at all
    for before in (0.5, 0.8, 0.95, 1.0):
        after = before - margin
        size = sum(binom.pmf(a, n, before) * binom.pmf(b, n, after) for a, b in significant)
        assert size <= 0.05 + 1e-9, (before, size)


def test_it_has_power_against_a_larger_drop() -> None:
    # 0.9 -> 0.4 with 20 samples each, margin 0.1: found in most samples.
    power = sum(
        binom.pmf(a, 20, 0.9) * binom.pmf(b, 20, 0.4)
        for a in range(21)
        for b in range(21)
        if drop_beyond_p(a, 20, b, 20, 0.1) < 0.05
    )
    assert power > 0.8
    assert drop_beyond_p(18, 20, 8, 20, 0.1) < drop_beyond_p(18, 20, 12, 20, 0.1) < 0.5
    # No drop at all is never evidence of one.
    assert drop_beyond_p(10, 20, 10, 20, 0.1) > 0.5


def test_large_samples_use_the_score_tests_normal_tail() -> None:
    a, n, b, m, margin = 300, 400, 220, 400, 0.1
    assert n * m > significance.EXACT_CELLS
    r1, r2 = restricted_rates(a / n, n, b / m, m, margin)
    z = (a / n - b / m - margin) / math.sqrt(r1 * (1 - r1) / n + r2 * (1 - r2) / m)
    assert drop_beyond_p(a, n, b, m, margin) == pytest.approx(norm.sf(z))


def test_empty_samples_show_nothing_and_bad_counts_are_refused() -> None:
    assert drop_beyond_p(0, 0, 3, 5, 0.1) == 1.0
    assert drop_beyond_p(3, 5, 0, 0) == 1.0
    with pytest.raises(ValueError, match="before: hits must be between 0 and a total"):
        drop_beyond_p(6, 5, 1, 5)
    with pytest.raises(ValueError, match="after: hits must be between 0 and a total"):
        drop_beyond_p(1, 5, -1, 5)
    with pytest.raises(ValueError, match="margin must be above -1 and below 1"):
        drop_beyond_p(1, 5, 1, 5, 1.0)
    with pytest.raises(ValueError, match="margin must be above -1 and below 1"):
        drop_beyond_p(1, 5, 1, 5, -1.0)


def test_the_restricted_rates_maximise_the_likelihood_under_a_negative_difference() -> None:
    rng = random.Random(11)
    for _ in range(200):
        n, m = rng.randint(1, 40), rng.randint(1, 40)
        a, b = rng.randint(0, n), rng.randint(0, m)
        margin = rng.choice((-0.05, -0.1, -0.3, -0.5, -0.9))
        r1, r2 = restricted_rates(a / n, n, b / m, m, margin)
        assert r1 - r2 == pytest.approx(margin)
        assert 0 <= r1 <= 1 + margin and -margin <= r2 <= 1

        def minus_log_likelihood(p: float, a: int, n: int, b: int, m: int, margin: float) -> float:
            return -(binom.logpmf(a, n, p) + binom.logpmf(b, m, p - margin))

        best = minimize_scalar(
            minus_log_likelihood,
            args=(a, n, b, m, margin),
            bounds=(1e-9, 1 + margin - 1e-9),
            method="bounded",
            options={"xatol": 1e-10},
        )
        assert r1 == pytest.approx(best.x, abs=1e-5)


@pytest.mark.parametrize(("n", "m"), [(5, 5), (10, 20), (20, 10), (30, 30)])
@pytest.mark.parametrize("margin", [-0.05, -0.3])
def test_a_difference_of_exactly_a_negative_margin_is_significant_at_most_alpha_of_the_time(
    n: int, m: int, margin: float
) -> None:
    # The rejection set once per (n, m, margin); its chance at every p1 = p2 + margin.
    significant = [
        (a, b)
        for a in range(n + 1)
        for b in range(m + 1)
        if drop_beyond_p(a, n, b, m, margin) < 0.05
    ]
    assert significant  # the test can reject at all
    for after in (-margin, 0.4, 0.6, 0.8, 0.95, 1.0):
        before = after + margin
        size = sum(binom.pmf(a, n, before) * binom.pmf(b, m, after) for a, b in significant)
        assert size <= 0.05 + 1e-9, (after, size)


def test_the_exact_p_value_at_a_negative_margin_is_the_largest_tail_over_the_null() -> None:
    # An independent enumeration: the chance of a score at least the observed one at every
    # p2 of a fine grid of [0.2, 1] with p1 = p2 - 0.2, maximised.
    a, n, b, m, margin = 5, 10, 8, 20, -0.2
    score = significance._score
    observed = score(a, n, b, m, margin)
    extreme = [
        (x, y)
        for x in range(n + 1)
        for y in range(m + 1)
        if score(x, n, y, m, margin) >= observed - 1e-9
    ]
    xs, ys = np.array([x for x, _ in extreme]), np.array([y for _, y in extreme])
    grid = np.linspace(0.2, 1.0, 1001)[:, None]
    largest = float(
        (binom.pmf(xs[None, :], n, grid + margin) * binom.pmf(ys[None, :], m, grid)).sum(1).max()
    )
    assert drop_beyond_p(a, n, b, m, margin) == pytest.approx(largest, abs=2e-3)
    assert drop_beyond_p(a, n, b, m, margin) <= largest + 1e-12


def test_a_negative_margin_mirrors_a_positive_one_with_the_samples_swapped() -> None:
    # "p1 - p2 > -t" and "p2 - p1 > t" are opposite tails of one score: in the normal
    # range their p-values add up to 1.
    a, n, b, m = 150, 400, 200, 400
    assert n * m > significance.EXACT_CELLS
    for t in (0.05, 0.1, 0.2):
        assert drop_beyond_p(a, n, b, m, -t) + drop_beyond_p(b, m, a, n, t) == pytest.approx(1)
    # 5 of 10 against 8 of 20: no worse than 0.2 below is clear, no worse than 0.05 is not.
    assert drop_beyond_p(5, 10, 8, 20, -0.4) < 0.05 < drop_beyond_p(5, 10, 8, 20, -0.05)
