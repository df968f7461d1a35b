"""The gate's words, each branch on constructed values: p-values, table cells, failure
lines, the suite test of a metric and what an underpowered one can and cannot see."""

from __future__ import annotations

from dataclasses import replace
from statistics import NormalDist

import pytest

from pytest_xgen.core.significance import PairedChange
from pytest_xgen.report import gate_text
from pytest_xgen.report.gate_changes import MetricChange
from pytest_xgen.report.gate_text import STRICT_HINT, cell, p_text, pv, suite_line


@pytest.mark.parametrize(
    ("p", "shown"),
    [
        (0.5, "0.500"),
        (0.001, "0.001"),
        (0.0009996, "1.0e-03"),
        (0.00012345, "1.2e-04"),
        (1e-16, "1.0e-16"),
        (9.9e-17, "<1e-16"),
        (0.0, "<1e-16"),
    ],
)
def test_p_values_keep_three_decimals_then_their_exponent(p: float, shown: str) -> None:
    assert p_text(p) == shown


def test_a_p_value_in_a_line() -> None:
    assert pv(0.0123) == "p=0.012"
    assert pv(3.1e-5) == "p=3.1e-05"
    assert pv(1e-20) == "p<1e-16"
    assert pv(None) == "p<1e-16"


def test_tests_are_counted_in_words() -> None:
    assert (gate_text.tests(1), gate_text.tests(0), gate_text.tests(2)) == (
        "1 test",
        "0 tests",
        "2 tests",
    )


def change(**fields: object) -> MetricChange:
    base = MetricChange("accuracy", 0.8, 0.5, -0.3, 0.01, p_rise=0.99)
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_cell_shows_what_was_measured_and_the_p_of_its_question() -> None:
    assert cell(None) == "-"
    assert cell(change(before=None, after=None)) == "-"
    assert cell(change(before=None, delta=None)) == "- -> 0.50"
    assert cell(change(p_value=None)) == "0.80 -> 0.50 (-0.30)"  # a new explanation
    assert cell(change(p_rise=None)) == "0.80 -> 0.50 (-0.30)"
    # Outside the family: the raw p of the drop, or of the rise.
    assert cell(change()) == "0.80 -> 0.50 (-0.30, raw p=0.010)"
    assert cell(change(after=0.9, delta=0.1, p_rise=0.02)) == "0.80 -> 0.90 (+0.10, raw p=0.020)"
    # In the family: the adjusted one.
    judged = change(p_adjusted=0.04, p_rise_adjusted=0.5)
    assert cell(judged) == "0.80 -> 0.50 (-0.30, p=0.040)"
    risen = replace(judged, after=0.9, delta=0.1)
    assert cell(risen) == "0.80 -> 0.90 (+0.10, p=0.500)"
    assert cell(replace(judged, delta=0.0)) == "0.80 -> 0.50 (+0.00, p=0.040)"
    assert cell(replace(judged, p_adjusted=1e-20)) == "0.80 -> 0.50 (-0.30, p<1e-16)"


def test_a_failure_line_names_the_test_and_both_p_values() -> None:
    found = change(p_adjusted=0.04, margin=0.05)
    assert gate_text.failure_line("t::a", found, -0.3, 0.05, "holm") == (
        "t::a: accuracy 0.80 -> 0.50 (-0.30, a drop beyond 0.05 shown: Farrington-Manning "
        "p=0.010, holm p=0.040)"
    )
    exact = replace(found, margin=0.0)
    assert "shown: Fisher p=0.010, holm" in gate_text.failure_line("t::a", exact, -0.3, 0, "holm")
    lift = replace(found, metric="lift", margin=0.0)
    assert gate_text.failure_line("t::b", lift, -0.25, 0, "bh") == (
        "t::b: lift 0.80 -> 0.50 (-0.25, a drop beyond 0 shown: Wald p=0.010, bh p=0.040)"
    )


def suite(**fields: object) -> PairedChange:
    base = PairedChange(
        metric="consistency",
        tests=12,
        mean_change=-0.02,
        standard_error=0.03,
        margin=0.05,
        p_regressed=0.8,
        p_noninferior=0.2,
        detectable_drop=0.125,
        verdict="underpowered",
        df=11,
        sampling_error=0.01,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_the_suite_line_of_each_verdict() -> None:
    assert suite_line(suite(mean_change=None)) == (
        "consistency: no test has consistency counts in both runs"
    )
    assert suite_line(suite(standard_error=None, tests=1)) == (
        "consistency: not tested (mean change -0.020, one test, with a new explanation)"
    )
    assert suite_line(suite(verdict="regressed", p_regressed=0.001, adjusted="holm")) == (
        "consistency: REGRESSED: mean change -0.020 beyond the margin 0.05 (se 0.030, "
        "12 tests, t-test; holm p=0.001)"
    )
    assert suite_line(suite(verdict="regressed", p_regressed=0.001, df=None, tests=1)) == (
        "consistency: REGRESSED: mean change -0.020 beyond the margin 0.05 (se 0.030, "
        "1 test, z-test p=0.001)"
    )
    assert suite_line(suite(verdict="pass", adjusted="bh", p_noninferior=0.0004)) == (
        "consistency: held: a mean drop beyond 0.05 ruled out (mean change -0.020, se 0.030, "
        "12 tests, t-test p=4.0e-04)"
    )
    assert suite_line(suite(adjusted="none")) == (
        "consistency: no drop beyond 0.05 shown (mean change -0.020, se 0.030, 12 tests, "
        "t-test; none p=0.800); 80% power for a mean drop of 0.12"
    )
    assert suite_line(suite(detectable_drop=None)).endswith("a mean drop of -")


def test_what_an_underpowered_suite_sees_and_what_to_add() -> None:
    line = gate_text.underpowered_line
    assert line(suite(standard_error=None, tests=1), 0.05) == (
        "consistency: not tested: one test, and it read a new explanation (a test of one "
        "explanation per run cannot tell a change of the model from a change of the "
        "explanation); compare more tests, or keep the generator so its explanation is "
        "replayed"
    )
    assert line(suite(detectable_drop=None), 0.05).startswith("consistency: not tested: one")
    sees = (
        "consistency: no drop beyond 0.05 shown, none ruled out: 12 tests find a mean drop of "
        "0.12 with 80% power (DELTA 0.05)"
    )
    # (z[0.95] + z[0.8]) * 0.03 = 0.0746: (0.0746 / 0.05) ** 2 = 2.2, so 3x.
    assert line(suite(), 0.05) == (
        f"{sees}; to rule out a drop of 0.05 when nothing changed, about 3x the tests (the "
        f"spread between tests sets the error, more samples shrink only part of it); "
        f"{STRICT_HINT}"
    )
    assert line(suite(sampling_error=0.03), 0.05) == (
        f"{sees}; to rule out a drop of 0.05 when nothing changed, about 3x the samples per "
        f"test or tests; {STRICT_HINT}"
    )
    assert line(suite(sampling_error=0.0299), 0.05).count("the spread between tests") == 1
    assert line(suite(sampling_error=None), 0.05).count("the spread between tests") == 1
    # At alpha 0.5 the reach is z[0.8] * 0.03 = 0.0252: within the margin, too close to tell.
    assert line(suite(), 0.5) == (
        f"{sees}; the mean change -0.020 is too close to -0.05 to tell; {STRICT_HINT}"
    )
    assert "the mean change +0.000 is too" in line(suite(mean_change=None), 0.5)
    # A reach of exactly the margin is too close to tell.
    reach = (NormalDist().inv_cdf(0.95) + NormalDist().inv_cdf(0.8)) * 0.5
    assert "is too close to" in line(suite(standard_error=0.5, margin=reach), 0.05)
    one = line(suite(tests=1, margin=0.0), 0.05)
    assert one.startswith(
        "consistency: no drop beyond 0 shown, none ruled out: 1 test finds a mean drop of "
    )
    assert "; a drop of more than 0 can never be ruled out: set DELTA above 0; " in one
    explanation = line(suite(metric="explanation", sampling_error=0.03), 0.05)
    assert "about 3x the tests or checks per test (one explanation per check: samples add " in (
        explanation
    )
