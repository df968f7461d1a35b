"""The gate's words: values, p-values, a test's change in a table cell, the suite test of
a metric and what an underpowered one can and cannot see."""

from __future__ import annotations

import math
from statistics import NormalDist

from pytest_xgen.core.gate_metrics import GATE_METRIC
from pytest_xgen.core.significance import POWER, PairedChange
from pytest_xgen.report.gate_changes import MetricChange

STRICT_HINT = (
    "--xgen-compare-underpowered=fail (xgen compare --on-underpowered fail) makes the gate "
    "require a drop beyond DELTA to be ruled out (release gates)"
)


def value(metric: str, found: float | None) -> str:
    """One value of ``metric`` as its row prints it (``-`` when not measured)."""
    return GATE_METRIC[metric].value_text(found)


def p_text(p: float) -> str:
    """A p-value in three decimals, in scientific notation below 0.001, ``<1e-16`` below
    that."""
    # Three decimals read well down to 0.001; below that they would all show as 0.000, and
    # a normal tail rounds to exactly 0 long before it is 0.
    if p < 1e-16:
        return "<1e-16"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def pv(p: float | None) -> str:
    """``p=0.012``, ``p=3.1e-05`` or ``p<1e-16``."""
    shown = p_text(p or 0.0)
    return f"p{shown}" if shown.startswith("<") else f"p={shown}"


def tests(n: int) -> str:
    """``1 test`` or ``N tests``."""
    return "1 test" if n == 1 else f"{n} tests"


def cell(change: MetricChange | None) -> str:
    """A test's change of one metric for the comparison's table: ``before -> after``, then
    the change and the p of the question it answers (adjusted in the gate's family, ``raw
    p`` outside it; none for a test that read a new explanation); ``-`` when not measured."""
    if change is None or (change.before is None and change.after is None):
        return "-"
    text = f"{value(change.metric, change.before)} -> {value(change.metric, change.after)}"
    if change.delta is None:
        return text
    if change.p_value is None or change.p_rise is None:
        return f"{text} ({change.delta:+.2f})"  # a new explanation: shown, not tested
    rose = change.delta > 0
    if change.in_family:
        p = change.p_rise_adjusted if rose else change.p_adjusted
        label = "p"
    else:
        p, label = (change.p_rise if rose else change.p_value), "raw p"
    return f"{text} ({change.delta:+.2f}, {label}{pv(p)[1:]})"


def failure_line(
    nodeid: str, change: MetricChange, delta: float, threshold: float, adjust: str
) -> str:
    """A test's drop (``delta``) beyond its DELTA, shown: the values, the change, the test
    and both p-values."""
    metric = change.metric
    return (
        f"{nodeid}: {metric} {value(metric, change.before)} -> {value(metric, change.after)} "
        f"({delta:+.2f}, a drop beyond {threshold:g} shown: "
        f"{GATE_METRIC[metric].test.label(change.margin)} {pv(change.p_value)}, "
        f"{adjust} {pv(change.p_adjusted)})"
    )


def suite_line(suite: PairedChange) -> str:
    """The suite test of one metric in words: what was shown, the mean change, its error,
    the number of tests and the p-value of the question the verdict answers."""
    metric, margin, n = suite.metric, suite.margin, suite.tests
    if suite.mean_change is None:
        return f"{metric}: no test has {metric} counts in both runs"
    mean = f"{suite.mean_change:+.3f}"
    if suite.standard_error is None:
        return f"{metric}: not tested (mean change {mean}, one test, with a new explanation)"
    se = f"{suite.standard_error:.3f}"
    test = "z-test" if suite.df is None else "t-test"
    adjusted = test if suite.adjusted is None else f"{test}; {suite.adjusted}"
    if suite.verdict == "regressed":
        return (
            f"{metric}: REGRESSED: mean change {mean} beyond the margin {margin:g} (se {se}, "
            f"{tests(n)}, {adjusted} {pv(suite.p_regressed)})"
        )
    if suite.verdict == "pass":
        return (
            f"{metric}: held: a mean drop beyond {margin:g} ruled out (mean change {mean}, "
            f"se {se}, {tests(n)}, {test} {pv(suite.p_noninferior)})"
        )
    return (
        f"{metric}: no drop beyond {margin:g} shown (mean change {mean}, se {se}, {tests(n)}, "
        f"{adjusted} {pv(suite.p_regressed)}); {POWER:.0%} power for a mean drop of "
        f"{value(metric, suite.detectable_drop)}"
    )


def underpowered_line(suite: PairedChange, alpha: float) -> str:
    """What an underpowered suite test can and cannot see, and what to add."""
    metric, margin = suite.metric, suite.margin
    if suite.standard_error is None or suite.detectable_drop is None:
        return (
            f"{metric}: not tested: one test, and it read a new explanation (a test of one "
            "explanation per run cannot tell a change of the model from a change of the "
            "explanation); compare more tests, or keep the generator so its explanation is "
            "replayed"
        )
    normal = NormalDist()
    sees = (
        f"{metric}: no drop beyond {margin:g} shown, none ruled out: {tests(suite.tests)} "
        f"{'finds' if suite.tests == 1 else 'find'} a mean drop of "
        f"{suite.detectable_drop:.2f} with {POWER:.0%} power (DELTA {margin:g})"
    )
    reach = (normal.inv_cdf(1 - alpha) + normal.inv_cdf(POWER)) * suite.standard_error
    if margin <= 0:
        advice = "a drop of more than 0 can never be ruled out: set DELTA above 0"
    elif reach <= margin:
        mean = suite.mean_change or 0.0
        advice = f"the mean change {mean:+.3f} is too close to -{margin:g} to tell"
    else:
        times = math.ceil((reach / margin) ** 2)
        more = GATE_METRIC[metric].adds
        if more is None:
            sampling = suite.sampling_error
            more = (
                "samples per test or tests"
                if sampling is not None and sampling >= suite.standard_error
                else "tests (the spread between tests sets the error, more samples shrink "
                "only part of it)"
            )
        advice = f"to rule out a drop of {margin:g} when nothing changed, about {times}x the {more}"
    return f"{sees}; {advice}; {STRICT_HINT}"
