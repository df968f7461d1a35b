"""Significance tests behind the verdicts, cross-checked against scipy and enumerations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_xgen.core import significance


def holm_by_definition(p_values: list[float], alpha: float) -> list[bool]:
    """Holm's procedure as written: reject in order of p while p_(k) <= alpha / (m - k)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    rejected = [False] * m
    for rank, index in enumerate(order):
        if p_values[index] > alpha / (m - rank):
            break
        rejected[index] = True
    return rejected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=30),
    st.sampled_from([0.01, 0.05, 0.1]),
)
def test_holm_adjusted_p_values_reject_what_the_procedure_rejects(
    p_values: list[float], alpha: float
) -> None:
    adjusted = significance.adjust(p_values, "holm")
    # Ties in the closed-form definition are decided on <=; adjusted p-values on <.
    expected = holm_by_definition(p_values, alpha)
    got = [p <= alpha for p in adjusted]
    assert got == expected


def test_bh_is_scipys_false_discovery_control() -> None:
    from scipy.stats import false_discovery_control

    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]
    assert significance.adjust(p, "bh") == pytest.approx(list(false_discovery_control(p)))
    assert significance.adjust(p, "none") == p
    with pytest.raises(ValueError, match="unknown adjustment 'bonf'"):
        significance.adjust(p, "bonf")


@pytest.mark.parametrize("table", [(8, 2, 1, 5), (5, 0, 0, 5), (3, 2, 2, 3), (10, 10, 3, 17)])
def test_one_sided_fisher_is_the_hypergeometric_tail(table: tuple[int, int, int, int]) -> None:
    from scipy.stats import hypergeom

    a, b, c, d = table
    tail = hypergeom.sf(a - 1, a + b + c + d, a + c, a + b)
    assert significance.fisher_p(a, b, c, d, "greater") == pytest.approx(tail)


def test_paired_margin_is_scipys_one_sample_t_test_against_the_margin() -> None:
    from scipy.stats import t, ttest_1samp

    changes = [-0.1, 0.0, 0.05, -0.05, 0.1, -0.2, 0.0, 0.05]
    result = significance.paired_margin("consistency", changes, [0.0] * 8, 0.05, 0.05)
    # H0: the mean change is at least -0.05 (a drop of at most the margin).
    below = ttest_1samp(changes, popmean=-0.05, alternative="less")
    above = ttest_1samp(changes, popmean=-0.05, alternative="greater")
    assert result.p_regressed == pytest.approx(below.pvalue, rel=1e-9)
    assert result.p_noninferior == pytest.approx(above.pvalue, rel=1e-9)
    n = len(changes)
    mean = sum(changes) / n
    se = (sum((c - mean) ** 2 for c in changes) / (n - 1) / n) ** 0.5
    assert result.standard_error == pytest.approx(se)
    assert result.df == n - 1 and result.paired == n
    assert result.detectable_drop == pytest.approx(0.05 + (t.ppf(0.95, 7) + t.ppf(0.8, 7)) * se)
    assert result.verdict == "underpowered"


def test_the_detectable_drop_is_found_with_80_percent_power() -> None:
    """At a true mean drop equal to ``detectable_drop`` (and a known standard error) the
    t-test's statistic crosses its critical value in about 80% of suites: the noncentral t
    says so exactly."""
    from scipy.stats import nct, t

    n, sd, margin, alpha = 20, 0.1, 0.05, 0.05
    se = sd / n**0.5
    changes = [(-1) ** i * sd * ((n - 1) / n) ** 0.5 for i in range(n)]  # sample sd = sd
    result = significance.paired_margin("m", changes, [0.0] * n, margin, alpha)
    assert result.standard_error == pytest.approx(se)
    drop = result.detectable_drop
    assert drop is not None
    # The statistic (mean + margin) / se has noncentrality (margin - drop) / se.
    power = nct.cdf(t.ppf(alpha, n - 1), n - 1, (margin - drop) / se)
    assert power == pytest.approx(0.8, abs=0.02)


def test_one_test_is_tested_only_on_the_same_explanation() -> None:
    from scipy.stats import norm

    # Paired: its binomial error is all its error, and the normal is the reference.
    one = significance.paired_margin("accuracy", [-0.5], [0.01], 0.02, 0.05)
    assert one.standard_error == pytest.approx(0.1) and one.df is None
    assert one.p_regressed == pytest.approx(norm.cdf((-0.5 + 0.02) / 0.1))
    assert one.verdict == "regressed" and one.paired == 1
    assert one.detectable_drop == pytest.approx(0.02 + (norm.ppf(0.95) + norm.ppf(0.8)) * 0.1)
    # Unpaired: a new explanation in one run; nothing can separate it from the model.
    alone = significance.paired_margin("accuracy", [-0.5], [0.01], 0.02, 0.05, paired=[False])
    assert (alone.verdict, alone.p_regressed, alone.detectable_drop) == ("underpowered", None, None)
    assert alone.mean_change == -0.5 and alone.paired == 0
    assert significance.paired_margin("lift", [], [], 0.1, 0.05).verdict == "underpowered"
    with pytest.raises(ValueError, match="one entry per test"):
        significance.paired_margin("m", [0.1, 0.2], [0.0], 0.1, 0.05)


def test_unchanged_counts_at_zero_or_one_are_never_certain() -> None:
    """Every test at 10/10 in both runs: no spread, but the binomial variance with one
    success and one failure added keeps the error above zero, so nothing is certain."""
    variance = 2 * significance.binomial_variance(10, 10)
    for n in (1, 2, 5):
        result = significance.paired_margin("m", [0.0] * n, [variance] * n, 0.05, 0.05)
        assert result.standard_error is not None and result.standard_error > 0
        assert 0.5 < result.p_regressed < 1  # type: ignore[operator]
        assert 0 < result.p_noninferior < 0.5  # type: ignore[operator]


def test_a_shifted_lift_test_is_a_one_sided_wald_test() -> None:
    from scipy.stats import norm

    before, after = (12, 15, 3, 15), (6, 15, 3, 15)
    variance = sum(
        significance.binomial_variance(a, n) for a, n in ((12, 15), (3, 15), (6, 15), (3, 15))
    )
    change = (6 / 15 - 3 / 15) - (12 / 15 - 3 / 15)
    for margin in (0.0, 0.1, 0.3):
        expected = norm.cdf((change + margin) / variance**0.5)
        assert significance.lift_drop_p(before, after, margin) == pytest.approx(expected)
    # A rise is the same test the other way round; all at 0/n or n/n is still uncertain.
    assert significance.lift_drop_p(after, before) == pytest.approx(norm.sf(change / variance**0.5))
    assert 0 < significance.lift_drop_p((15, 15, 0, 15), (0, 15, 0, 15)) < 1e-6
    assert significance.lift_drop_p((15, 15, 0, 15), (15, 15, 0, 15)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="after: each count must be between 0 and a total > 0"):
        significance.lift_drop_p((1, 2, 1, 2), (1, 0, 1, 2))


# -- exact values and edges -----------------------------------------------------------------
@pytest.mark.parametrize("cell", range(4))
def test_a_negative_cell_is_named(cell: int) -> None:
    table = [1, 2, 3, 4]
    table[cell] = -2
    with pytest.raises(ValueError) as raised:
        significance.fisher_p(*table)
    assert str(raised.value) == f"cell {'abcd'[cell]} must be >= 0; got -2"


@pytest.mark.parametrize(
    "table", [(1, 0, 0, 5), (5, 0, 0, 1), (0, 1, 5, 0), (0, 5, 1, 0), (0, 0, 3, 4), (3, 0, 4, 0)]
)
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_fisher_is_scipys_for_thin_tables(
    table: tuple[int, int, int, int], alternative: str
) -> None:
    from scipy.stats import fisher_exact

    a, b, c, d = table
    expected = fisher_exact([[a, b], [c, d]], alternative=alternative).pvalue
    assert significance.fisher_p(a, b, c, d, alternative) == pytest.approx(expected, abs=1e-15)
    assert significance.fisher_p(1, 0, 0, 5) == pytest.approx(1 / 6)


def test_holm_is_the_default_adjustment_and_an_unknown_one_lists_the_choices() -> None:
    p = [0.01, 0.04, 0.03]
    assert significance.adjust(p) == significance.adjust(p, "holm")
    assert significance.adjust(p) == pytest.approx([0.03, 0.06, 0.06])
    assert significance.adjust([], "holm") == [] and significance.adjust([], "bh") == []
    with pytest.raises(ValueError) as raised:
        significance.adjust(p, "bonf")
    assert str(raised.value) == "unknown adjustment 'bonf'; use one of holm, bh, none"


def test_a_paired_change_is_plain_data() -> None:
    result = significance.paired_margin("lift", [0.5, -0.5], [0.0, 0.0], 0.1, 0.05)
    assert result.to_dict() == {
        "metric": "lift",
        "tests": 2,
        "paired": 2,
        "mean_change": 0.0,
        "standard_error": pytest.approx(0.5),  # the spread of two changes
        "margin": 0.1,
        "p_regressed": result.p_regressed,
        "p_noninferior": result.p_noninferior,
        "detectable_drop": result.detectable_drop,
        "df": 1,
        "sampling_error": 0.0,
        "adjusted": None,
        "verdict": "underpowered",
    }
    empty = significance.paired_margin("accuracy", [], [], 0.2, 0.05)
    assert empty.to_dict() == {
        "metric": "accuracy",
        "tests": 0,
        "paired": 0,
        "mean_change": None,
        "standard_error": None,
        "margin": 0.2,
        "p_regressed": None,
        "p_noninferior": None,
        "detectable_drop": None,
        "df": None,
        "sampling_error": None,
        "adjusted": None,
        "verdict": "underpowered",
    }


@pytest.mark.parametrize(
    ("change", "alpha", "p_regressed", "p_noninferior", "verdict"),
    [
        (0.1, 0.05, 1.0, 0.0, "pass"),
        (-0.3, 0.05, 0.0, 1.0, "regressed"),
        (-0.1, 0.05, 1.0, 1.0, "underpowered"),  # exactly at the margin
    ],
)
def test_a_change_without_any_noise_is_decided_by_its_sign(
    change: float, alpha: float, p_regressed: float, p_noninferior: float, verdict: str
) -> None:
    # Zero variances are only possible when passed in (binomial_variance is never zero).
    result = significance.paired_margin("m", [change, change], [0.0, 0.0], 0.1, alpha)
    assert result.standard_error == 0.0 and result.detectable_drop == pytest.approx(0.1)
    assert (result.p_regressed, result.p_noninferior, result.verdict) == (
        p_regressed,
        p_noninferior,
        verdict,
    )


def test_binomial_variance_adds_one_success_and_one_failure() -> None:
    assert significance.binomial_variance(0, 0) == 0.25
    assert significance.binomial_variance(3, -1) == 0.25
    assert significance.binomial_variance(0, 1) == pytest.approx(2 / 9)
    assert significance.binomial_variance(1, 1) == pytest.approx(2 / 9)
    assert significance.binomial_variance(3, 4) == pytest.approx((4 / 6) * (2 / 6) / 4)
