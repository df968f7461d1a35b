"""The model-upgrade gate: compare two saved runs and fail only on regressions that are shown.

What is counted: each test's ``metrics.units`` in a JSON report, one unit per independent
draw (a sample whose evaluators all agree; an evaluator's answer that is right; a check's
explanation whose own answer is right), never an evaluator pair.

The unit of comparison is a test *and the explanation its evaluators read*. Two runs of a
test are **paired** when their checks gave the evaluators the same explanations
(``metrics.explanations``, digests of the texts): the later run replayed the baseline's
recorded generator call, which happens when only evaluators are changed (``--xgen-model-map``
of an evaluator). Then the comparison is conditional on one explanation and a per-test
two-sample test is valid. When the explanations differ (the generator is mapped, a
re-record, another seed), the explanation's own variation moves all of a test's samples
together: a per-test test that treats it as fixed would raise false alarms, so the change
is shown, not tested, and counts in the suite test only.

What is tested, for each metric:

- per paired test, "dropped by more than the margin": the shifted-null tests of
  :func:`~pytest_xgen.core.significance.drop_beyond_p` (consistency, accuracy,
  explanation, follow) or a shifted Wald test (lift), and "rose" at margin 0;
- over the suite, the mean of the per-test changes (paired by test: both runs asked the same
  prompts) against the margin ``DELTA`` of ``--fail METRIC:DELTA``: a t-test of the
  changes (:func:`~pytest_xgen.core.significance.paired_margin`).

With ``--fail``, only the gated metrics are judged: their per-test drop tests and their
suite tests form one family, adjusted with Holm (default: the chance of any false alarm
stays at most alpha at any suite size), Benjamini-Hochberg (``bh``) or not at all; the
other metrics are shown with unadjusted p-values and never make a test "regressed".
Without ``--fail`` every metric is compared at margin 0 as a plain report.

The gate fails only on evidence: a paired test's drop beyond ``DELTA`` with an adjusted p
below alpha, or a suite mean shown to have dropped by more than ``DELTA``. A gated metric
whose suite test can show neither that nor that the metric held within ``DELTA`` is
*underpowered*: by default the gate passes with a warning that gives the drop the suite
finds with 80% power and what to add (``on_underpowered="warn"``); release gates can
require non-inferiority to be shown (``on_underpowered="fail"``).

Values, deltas and p-values are computed from the counts, not from the stored ``value``
fields, so a value and its p-value always describe the same data.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_xgen.core.printable import rate
from pytest_xgen.core.significance import (
    ADJUSTMENTS,
    POWER,
    PairedChange,
    adjust,
    binomial_variance,
    drop_beyond_p,
    lift_drop_p,
    paired_margin,
)
from pytest_xgen.report.build import FORMAT, VERSION
from pytest_xgen.settings.options import METRICS, ON_UNDERPOWERED, parse_thresholds

VERDICTS = ("regressed", "improved", "unchanged", "unpaired", "new", "missing")
DEFAULT_RUNS_DIR = Path(".xgen/runs")
STRICT_HINT = (
    "--xgen-compare-underpowered=fail (xgen compare --on-underpowered fail) makes the gate "
    "require a drop beyond DELTA to be ruled out (release gates)"
)
# Deltas are differences of floats; without slack a drop of exactly DELTA (0.80 -> 0.75
# against 0.05) would count as "more than DELTA" by a rounding error.
_DELTA_SLACK = 1e-9


def _test_name(metric: str, margin: float) -> str:
    """The name of a metric's per-test drop test, as the gate lines show it."""
    if metric == "lift":
        return "Wald"
    return "Fisher" if margin == 0 else "Farrington-Manning"


@dataclass(frozen=True)
class MetricChange:
    """One metric of one test in both runs."""

    metric: str
    before: float | None
    after: float | None
    delta: float | None
    """``after - before``; ``None`` when either side is missing."""
    p_value: float | None
    """One-sided, before adjustment: the p-value for "dropped by more than ``margin``".
    ``None`` when not tested: either side is missing, or the test read a new explanation."""
    significant: bool = False
    """A change shown after the adjustment, either way: a drop beyond ``margin``
    (``regressed``) or a rise (``improved``). Only metrics in the gate's family can be."""
    p_adjusted: float | None = None
    """``p_value`` adjusted for the family (``None`` outside it: an ungated metric)."""
    variance: float = 0.0
    """The sampling variance of ``delta`` from the counts (for the suite-level test)."""
    margin: float = 0.0
    """The margin the drop was tested against: the metric's DELTA when gated, else 0."""
    p_rise: float | None = None
    """One-sided, before adjustment: the p-value for "rose"."""
    p_rise_adjusted: float | None = None
    """``p_rise`` adjusted among the family's rise tests (``None`` outside it)."""
    regressed: bool = False
    """A drop beyond ``margin`` shown: ``p_adjusted < alpha`` and ``delta < -margin``."""

    @property
    def in_family(self) -> bool:
        """Whether the change was judged (adjusted with the gate's family)."""
        return self.p_adjusted is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "before": self.before,
            "after": self.after,
            "delta": self.delta,
            "margin": self.margin,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "p_rise": self.p_rise,
            "p_rise_adjusted": self.p_rise_adjusted,
            "significant": self.significant,
            "regressed": self.regressed,
        }


@dataclass(frozen=True)
class TestComparison:
    """One test in both runs and its verdict."""

    # pytest would otherwise try to collect this class from test modules that import it.
    __test__ = False

    nodeid: str
    verdict: str
    """``"regressed"``, ``"improved"``, ``"unchanged"``, ``"unpaired"`` (a new explanation:
    shown, not tested), ``"new"`` or ``"missing"``."""
    changes: dict[str, MetricChange]
    """By metric name; empty for a new or missing test and for one without metrics."""
    paired: bool | None = None
    """Whether both runs read the same explanations; ``None`` when not compared."""


@dataclass(frozen=True)
class Comparison:
    """Every test of two runs, sorted by node id, the suite-level comparison per metric,
    and how significance was decided."""

    tests: list[TestComparison]
    alpha: float
    adjust: str = "holm"
    suite: dict[str, PairedChange] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    """The margins of the gated metrics (``--fail``); ungated metrics use 0."""
    labels: dict[str, str] = field(default_factory=dict)
    """Model names as the after run labels them, e.g. ``{"qwen": "qwen→smollm"}``."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: ``alpha``, ``adjust``, ``counts``, ``pairing``, ``suite`` and per
        test its verdict, whether it was paired, and its changes."""
        paired, compared = self.pairing()
        return {
            "alpha": self.alpha,
            "adjust": self.adjust,
            "counts": self.counts(),
            "pairing": {"paired": paired, "compared": compared},
            "suite": {
                m: {**s.to_dict(), "gated": m in self.thresholds} for m, s in self.suite.items()
            },
            "tests": [
                {
                    "nodeid": t.nodeid,
                    "verdict": t.verdict,
                    "paired": t.paired,
                    "changes": {m: c.to_dict() for m, c in t.changes.items()},
                }
                for t in self.tests
            ],
        }

    def counts(self) -> dict[str, int]:
        """The number of tests per verdict, every verdict present even at zero."""
        found = dict.fromkeys(VERDICTS, 0)
        for test in self.tests:
            found[test.verdict] += 1
        return found

    def pairing(self) -> tuple[int, int]:
        """``(paired, compared)``: the tests measured in both runs, and how many of them
        read the same explanations in both."""
        compared = [t for t in self.tests if t.paired is not None]
        return sum(bool(t.paired) for t in compared), len(compared)

    def pairing_line(self) -> str | None:
        """How many tests the per-test tests could judge, in words; ``None`` without tests
        measured in both runs."""
        paired, compared = self.pairing()
        if not compared:
            return None
        if paired == compared:
            return (
                f"{_tests(compared)} read the same explanation in both runs (the baseline's "
                "generator calls replayed): per-test tests"
            )
        new = compared - paired
        if paired == 0:
            return (
                f"0 of {_tests(compared)} read the same explanation in both runs (the "
                "generator changed, re-recorded or sampled anew): per-test changes are shown, "
                "not tested; the suite tests decide"
            )
        return (
            f"{paired} of {_tests(compared)} read the same explanation in both runs: per-test "
            f"tests; {new} read a new one: their changes count in the suite test only"
        )


@dataclass(frozen=True)
class GateResult:
    """What the gate decided: ``"pass"``, ``"fail"`` (a drop beyond DELTA shown) or
    ``"inconclusive"`` (an underpowered gated metric with ``on_underpowered="fail"``)."""

    result: str
    thresholds: dict[str, float]
    failures: list[str]
    """One line per drop beyond its DELTA shown (a test's, or the suite's)."""
    underpowered: list[str]
    """One line per gated metric the suite could not decide: what it can and cannot see."""
    on_underpowered: str = "warn"

    @property
    def failed(self) -> bool:
        """Whether the run should exit non-zero."""
        return self.result in ("fail", "inconclusive")

    @property
    def warnings(self) -> list[str]:
        """The underpowered lines when they did not fail the run (``on_underpowered="warn"``)."""
        return list(self.underpowered) if self.on_underpowered == "warn" else []

    def headline(self) -> str:
        """The verdict in one line."""
        limits = ", ".join(f"{m}:{d:g}" for m, d in self.thresholds.items())
        if self.result == "fail":
            return f"gate failed ({limits}): {len(self.failures)} drop(s) beyond DELTA shown"
        if self.result == "inconclusive":
            return (
                f"gate inconclusive ({limits}): fails the run (on_underpowered=fail: a drop "
                "beyond DELTA must be ruled out)"
            )
        if self.warnings:
            return (
                f"gate passed with {len(self.warnings)} warning(s) ({limits}): no drop beyond "
                "DELTA shown, but the suite could not rule one out"
            )
        return f"gate passed ({limits}): a drop beyond DELTA ruled out"

    def lines(self) -> list[str]:
        """The gate's verdict for a terminal, first line the summary."""
        body = [*self.failures]
        tag = "warning: " if self.on_underpowered == "warn" else ""
        body += [f"{tag}{line}" for line in self.underpowered]
        return [self.headline(), *(f"  {line}" for line in body)]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "result": self.result,
            "thresholds": dict(self.thresholds),
            "failures": list(self.failures),
            "underpowered": list(self.underpowered),
            "warnings": self.warnings,
            "on_underpowered": self.on_underpowered,
        }


def load_run(ref: str, runs_dir: Path) -> dict[str, Any]:
    """The report that ``ref`` names: a saved run's NAME (``runs_dir / "NAME.json"``) or the
    path of a ``.json`` report.

    Raises :class:`FileNotFoundError` when there is no such file, saying how to create one,
    and :class:`ValueError` naming the file when it is not a pytest-xgen report of this
    version or lacks the counts the comparison needs.
    """
    is_path = ref.endswith(".json") or "/" in ref or "\\" in ref
    path = Path(ref) if is_path else runs_dir / f"{ref}.json"
    if not path.is_file():
        what = f"no run report at {path}" if is_path else f"no saved run {ref!r} at {path}"
        name = "NAME" if is_path else ref
        raise FileNotFoundError(f"{what}; save a run with --xgen-save={name}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a pytest-xgen report: not JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise ValueError(
            f"{path} is not a pytest-xgen report: format {found!r}, expected {FORMAT!r}"
        )
    if document.get("version") != VERSION:
        raise ValueError(
            f"{path} is a pytest-xgen report of version {document.get('version')!r}; "
            f"this pytest-xgen reads version {VERSION}"
        )
    from pytest_xgen.report.build import schema_problem

    problem = _structure_problem(document) or schema_problem(document)
    if problem is not None:
        raise ValueError(
            f"{path} is not a valid pytest-xgen report: {problem}; regenerate it with "
            "pytest --xgen-report=PATH (or --xgen-save=NAME)"
        )
    return document


def compare(
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    alpha: float = 0.05,
    adjust_with: str = "holm",
    thresholds: Mapping[str, float] | None = None,
) -> Comparison:
    """Compare two reports test by test and over the suite.

    A test only in ``after`` is ``"new"``, only in ``before`` ``"missing"``; so is a test
    whose metrics are only in one run (it measured nothing in the other: it errored, was
    skipped, or no longer checks). A test without metrics in either run is ``"unchanged"``
    with no changes. A test whose explanations differ between the runs is ``"unpaired"``:
    its changes are shown without p-values and count in the suite tests only.

    For a paired test each metric gets its one-sided tests: a drop beyond the metric's
    margin (its threshold in ``thresholds`` when gated, else 0) and a rise; ``explanation``
    is the exception (the same explanations cannot change their correctness), tested over
    the suite only. A metric that cannot be computed on one side (no accuracy, a zero
    total) gets a change with no p-value. Every metric gets the suite-level test against
    its margin.

    The family adjusted together (``adjust_with``) holds the drop tests of the gated metrics
    (every metric without ``thresholds``) and the suite tests of the gated metrics. When it
    has both, alpha is split in half between them: each part is adjusted on its own and its
    p-values doubled (Bonferroni over the two parts), which keeps the chance of any false
    alarm at most alpha and the suite test's power whatever the number of tests. The rise
    tests are adjusted as a family of their own. A paired test's verdict is
    ``"regressed"`` if a metric of the family dropped beyond its margin with an adjusted p
    below alpha, else ``"improved"`` if one rose so, else ``"unchanged"``.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be strictly between 0 and 1; got {alpha}")
    if adjust_with not in ADJUSTMENTS:
        raise ValueError(f"adjust must be one of {', '.join(ADJUSTMENTS)}; got {adjust_with!r}")
    margins = dict(thresholds or {})
    judged = {m for m in METRICS if m in margins} if margins else set(METRICS)
    old = {t["nodeid"]: t for t in before["tests"]}
    new = {t["nodeid"]: t for t in after["tests"]}
    raw: list[tuple[str, str | None, bool | None, dict[str, MetricChange]]] = []
    for nodeid in sorted(old.keys() | new.keys()):
        if nodeid not in old:
            raw.append((nodeid, "new", None, {}))
        elif nodeid not in new or (old[nodeid]["metrics"] and not new[nodeid]["metrics"]):
            raw.append((nodeid, "missing", None, {}))
        elif new[nodeid]["metrics"] and not old[nodeid]["metrics"]:
            raw.append((nodeid, "new", None, {}))
        elif not old[nodeid]["metrics"]:
            raw.append((nodeid, None, None, {}))
        else:
            same = _paired(old[nodeid], new[nodeid])
            changes = _changes(old[nodeid]["metrics"], new[nodeid]["metrics"], margins, same)
            raw.append((nodeid, None, same, changes))
    suite_raw = {}
    for metric in METRICS:
        measured = [
            (changes[metric], bool(paired))
            for _, verdict, paired, changes in raw
            if verdict is None and metric in changes and changes[metric].delta is not None
        ]
        suite_raw[metric] = paired_margin(
            metric,
            [c.delta for c, _ in measured if c.delta is not None],
            [c.variance for c, _ in measured],
            margins.get(metric, 0.0),
            alpha,
            paired=[p for _, p in measured],
        )
    # One family of claims: the judged metrics' per-test drop tests and the gated suite
    # tests. Alpha is split in half between the two parts when both have tests (Bonferroni
    # across the parts, the chosen adjustment within each), so that a hundred per-test
    # tests do not cost the suite test a factor of a hundred.
    per_test: list[float] = []
    rises: list[float] = []
    for _, _, _, changes in raw:
        for metric, change in changes.items():
            if metric in judged and change.p_value is not None and change.p_rise is not None:
                per_test.append(change.p_value)
                rises.append(change.p_rise)
    gated = [m for m in METRICS if m in margins and suite_raw[m].p_regressed is not None]
    suite_ps = [suite_raw[m].p_regressed for m in gated]
    parts = 2 if per_test and suite_ps and adjust_with != "none" else 1
    adjusted = iter(min(1.0, parts * p) for p in adjust(per_test, adjust_with))
    suite_adjusted = iter(
        min(1.0, parts * p) for p in adjust([p for p in suite_ps if p is not None], adjust_with)
    )
    rise_adjusted = iter(adjust(rises, adjust_with))
    tests = []
    for nodeid, verdict, paired, changes in raw:
        final = {}
        for metric, change in changes.items():
            if metric not in judged or change.p_value is None or change.p_rise is None:
                final[metric] = change
                continue
            p, p_rise = next(adjusted), next(rise_adjusted)
            delta = change.delta or 0.0
            regressed = p < alpha and delta < -change.margin - _DELTA_SLACK
            improved = p_rise < alpha and delta > 0
            final[metric] = replace(
                change,
                p_adjusted=p,
                p_rise_adjusted=p_rise,
                regressed=regressed,
                significant=regressed or improved,
            )
        if verdict is None:
            verdict = _verdict(final) if paired or not changes else "unpaired"
        tests.append(TestComparison(nodeid, verdict, final, paired if changes else None))
    suite = dict(suite_raw)
    for metric in gated:
        result = suite_raw[metric]
        p = next(suite_adjusted)
        verdict = result.verdict
        if verdict == "regressed" and p >= alpha:
            verdict = "underpowered"  # significant alone, but not after the adjustment
        suite[metric] = replace(result, p_regressed=p, verdict=verdict, adjusted=adjust_with)
    return Comparison(
        tests=tests,
        alpha=alpha,
        adjust=adjust_with,
        suite=suite,
        thresholds=margins,
        labels=_labels(after),
    )


def gate(comparison: Comparison, on_underpowered: str = "warn") -> GateResult:
    """The gate over ``comparison.thresholds``.

    A failure line per paired test and gated metric that dropped beyond its threshold with
    an adjusted p below alpha, and per gated metric whose suite mean was shown to drop so.
    An underpowered line per gated metric whose suite test could show neither a drop beyond
    its threshold nor that the metric held: the drop it finds with 80% power and what to
    add. The result is ``"fail"`` with a failure; else ``"inconclusive"`` when a metric is
    underpowered and ``on_underpowered == "fail"`` (release gates: non-inferiority must be
    shown); else ``"pass"`` (with the underpowered lines as warnings).
    """
    if on_underpowered not in ON_UNDERPOWERED:
        raise ValueError(
            f"on_underpowered must be one of {', '.join(ON_UNDERPOWERED)}; got {on_underpowered!r}"
        )
    thresholds = comparison.thresholds
    failures = []
    for test in comparison.tests:
        for metric, change in test.changes.items():
            threshold = thresholds.get(metric)
            if threshold is None or not change.regressed or change.delta is None:
                continue
            failures.append(
                f"{test.nodeid}: {metric} {_value(change.before)} -> {_value(change.after)} "
                f"({change.delta:+.2f}, a drop beyond {threshold:g} shown: "
                f"{_test_name(metric, change.margin)} {_pv(change.p_value)}, "
                f"{comparison.adjust} {_pv(change.p_adjusted)})"
            )
    underpowered = []
    for metric in METRICS:
        if metric not in thresholds:
            continue
        suite = comparison.suite.get(metric)
        if suite is None or suite.tests == 0:
            underpowered.append(
                f"{metric}: no test has {metric} counts in both runs: nothing to compare"
            )
        elif suite.verdict == "regressed":
            failures.append(f"suite: {suite_line(suite)}")
        elif suite.verdict == "underpowered":
            underpowered.append(_underpowered_line(suite, comparison.alpha))
    if failures:
        result = "fail"
    elif underpowered and on_underpowered == "fail":
        result = "inconclusive"
    else:
        result = "pass"
    return GateResult(result, dict(thresholds), failures, underpowered, on_underpowered)


def _underpowered_line(suite: PairedChange, alpha: float) -> str:
    """What an underpowered suite test can and cannot see, and what to add."""
    metric, margin = suite.metric, suite.margin
    if suite.standard_error is None or suite.detectable_drop is None:
        return (
            f"{metric}: not tested: one test, and it read a new explanation (a test of one "
            "explanation per run cannot tell a change of the model from a change of the "
            "explanation); compare more tests, or keep the generator so its explanation is "
            "replayed"
        )
    from statistics import NormalDist

    normal = NormalDist()
    sees = (
        f"{metric}: no drop beyond {margin:g} shown, none ruled out: {_tests(suite.tests)} "
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
        if metric == "explanation":
            more = "tests or checks per test (one explanation per check: samples add none)"
        elif suite.sampling_error is not None and suite.sampling_error >= suite.standard_error:
            more = "samples per test or tests"
        else:
            more = (
                "tests (the spread between tests sets the error, more samples shrink only "
                "part of it)"
            )
        advice = f"to rule out a drop of {margin:g} when nothing changed, about {times}x the {more}"
    return f"{sees}; {advice}; {STRICT_HINT}"


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
            f"{_tests(n)}, {adjusted} {_pv(suite.p_regressed)})"
        )
    if suite.verdict == "pass":
        return (
            f"{metric}: held: a mean drop beyond {margin:g} ruled out (mean change {mean}, "
            f"se {se}, {_tests(n)}, {test} {_pv(suite.p_noninferior)})"
        )
    return (
        f"{metric}: no drop beyond {margin:g} shown (mean change {mean}, se {se}, {_tests(n)}, "
        f"{adjusted} {_pv(suite.p_regressed)}); {POWER:.0%} power for a mean drop of "
        f"{_value(suite.detectable_drop)}"
    )


def format_comparison(comparison: Comparison, *, verbose: bool = False) -> str:
    """A terminal table, one row per test: its verdict and each metric as
    ``before -> after (delta, p)`` (the adjusted p of the family's metrics; ``raw p`` for
    the others; no p for a test that read a new explanation), then one line per metric for
    the suite, how many tests were paired, then a totals line. Without ``verbose`` the
    unchanged and unpaired tests are left out."""
    hidden = ("unchanged", "unpaired")
    shown = [t for t in comparison.tests if verbose or t.verdict not in hidden]
    lines = []
    if shown:
        # A metric no test measured in either run (follow, without added mistakes) is left out.
        metrics = [
            m
            for m in METRICS
            if m not in ("follow", "explanation")
            or any(
                c.before is not None or c.after is not None
                for t in comparison.tests
                if (c := t.changes.get(m)) is not None
            )
        ]
        header = ["verdict", "test", *metrics]
        rows = [[t.verdict, t.nodeid, *(_cell(t.changes.get(m)) for m in metrics)] for t in shown]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            lines.append(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
    for metric in METRICS:
        suite = comparison.suite.get(metric)
        gated = metric in comparison.thresholds
        if suite is not None and suite.tests and (gated or verbose):
            lines.append(f"xgen compare: suite {suite_line(suite)}")
    pairing = comparison.pairing_line()
    if pairing is not None and (comparison.thresholds or verbose or "not tested" in pairing):
        lines.append(f"xgen compare: {pairing}")
    mapped = [label for name, label in sorted(comparison.labels.items()) if label != name]
    if mapped:
        lines.append(f"xgen compare: models of the new run: {', '.join(mapped)}")
    counts = comparison.counts()
    totals = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if v != "unpaired" or counts[v])
    lines.append(
        f"xgen compare: {totals} (alpha {comparison.alpha:g}, adjusted: {comparison.adjust})"
    )
    return "\n".join(lines)


def main_compare(argv: Sequence[str]) -> int:
    """``xgen compare BEFORE AFTER [--fail METRIC:DELTA,...] [--alpha A] [--adjust M]
    [--on-underpowered warn|fail] [-v]``.

    Prints the comparison and, with ``--fail``, the gate's verdict. Returns 1 when the gate
    fails (or is inconclusive with ``--on-underpowered fail``), 2 on bad input (the message
    goes to stderr), else 0.
    """
    parser = argparse.ArgumentParser(
        prog="xgen compare",
        description="Compare two runs saved with --xgen-save (or written with "
        "--xgen-report), test by test and over the suite.",
    )
    parser.add_argument("before", help="saved run NAME or path of a .json report")
    parser.add_argument("after", help="saved run NAME or path of a .json report")
    parser.add_argument(
        "--fail",
        metavar="METRIC:DELTA,...",
        help="exit 1 if a drop beyond DELTA is shown (a test's or the suite's mean); "
        f"METRIC is one of {', '.join(METRICS)}",
    )
    parser.add_argument(
        "--alpha", type=float, default=0.05, help="significance level (default 0.05)"
    )
    parser.add_argument(
        "--adjust",
        choices=ADJUSTMENTS,
        default="holm",
        help="correction for the number of tests: holm (default), bh or none",
    )
    parser.add_argument(
        "--on-underpowered",
        choices=ON_UNDERPOWERED,
        default="warn",
        help="when the suite can neither show a drop beyond DELTA nor rule one out: pass "
        "with a warning (default), or fail (release gates)",
    )
    parser.add_argument(
        "--runs-dir",
        default=str(DEFAULT_RUNS_DIR),
        help=f"where saved runs are (default {DEFAULT_RUNS_DIR})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show unchanged tests too")
    parser.add_argument(
        "--markdown",
        metavar="PATH",
        help="write the Markdown summary of AFTER with this comparison and the gate "
        "(a CI job summary or pull-request comment)",
    )
    from pytest_xgen.report.markdown_limits import LIMIT_HELP, limit_argument

    parser.add_argument(
        "--markdown-limit", type=limit_argument, default=None, metavar="BYTES", help=LIMIT_HELP
    )
    parser.add_argument(
        "--report", metavar="PATH", help="write AFTER's JSON report with this comparison"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse has printed its usage message; --help exits with 0.
        return exc.code if isinstance(exc.code, int) else 2
    if not 0 < args.alpha < 1:
        print(f"xgen compare: --alpha must be between 0 and 1; got {args.alpha:g}", file=sys.stderr)
        return 2
    thresholds = None
    if args.fail is not None:
        try:
            thresholds = parse_thresholds(args.fail)
        except ValueError as exc:
            print(f"xgen compare: --fail: {exc}", file=sys.stderr)
            return 2
    try:
        before = load_run(args.before, Path(args.runs_dir))
        after = load_run(args.after, Path(args.runs_dir))
    except (OSError, ValueError) as exc:
        print(f"xgen compare: {exc}", file=sys.stderr)
        return 2
    comparison = compare(
        before, after, alpha=args.alpha, adjust_with=args.adjust, thresholds=thresholds
    )
    print(format_comparison(comparison, verbose=args.verbose))
    result = None if thresholds is None else gate(comparison, args.on_underpowered)
    if result is not None:
        for line in result.lines():
            print(f"xgen compare: {line}" if not line.startswith("  ") else line)
    if args.markdown or args.report:
        _write_compared(args, after, comparison, result)
    return 1 if result is not None and result.failed else 0


def _write_compared(
    args: argparse.Namespace,
    after: dict[str, Any],
    comparison: Comparison,
    result: GateResult | None,
) -> None:
    """AFTER's report with the comparison (as ``--xgen-compare`` would have added it)."""
    from functools import partial

    from pytest_xgen import files
    from pytest_xgen.report.formats import json_text
    from pytest_xgen.report.markdown import render_markdown
    from pytest_xgen.report.markdown_limits import COMMENT_LIMIT

    summary = partial(render_markdown, limit=args.markdown_limit or COMMENT_LIMIT)
    doc = {
        **after,
        "comparison": {
            "baseline": args.before,
            **comparison.to_dict(),
            "gate": None if result is None else result.to_dict(),
        },
    }
    for path, text in ((args.report, json_text), (args.markdown, summary)):
        if path:
            files.write_text(Path(path), text(doc))
            print(f"xgen compare: wrote {path}")


def _labels(document: dict[str, Any]) -> dict[str, str]:
    model_map = document.get("run", {}).get("model_map") or {}
    return {old: f"{old}\u2192{new}" for old, new in model_map.items()}


def _tests(n: int) -> str:
    return "1 test" if n == 1 else f"{n} tests"


def _verdict(changes: Mapping[str, MetricChange]) -> str:
    if any(c.regressed for c in changes.values()):
        return "regressed"
    if any(c.significant and (c.delta or 0.0) > 0 for c in changes.values()):
        return "improved"
    return "unchanged"


def _digests(test: Mapping[str, Any]) -> list[str]:
    """The test's explanation digests: stored in its metrics, or (a report written before
    they were) computed from its checks."""
    stored = (test.get("metrics") or {}).get("explanations")
    if stored is not None:
        return [str(d) for d in stored]
    from pytest_xgen.report.build import explanation_digests

    return explanation_digests(test.get("checks") or [])


def _paired(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """Whether both runs of a test gave their evaluators the same explanations."""
    old = _digests(before)
    # In any order: Hypothesis may replay a test's examples in another order.
    return bool(old) and sorted(old) == sorted(_digests(after))


def _changes(
    before: dict[str, Any], after: dict[str, Any], margins: Mapping[str, float], paired: bool
) -> dict[str, MetricChange]:
    old, new = before["units"], after["units"]

    def proportion(metric: str, hits: str) -> MetricChange:
        # A paired test read the same explanations in both runs, so their own correctness
        # cannot change: the explanation metric has no per-test test, only the suite's.
        return _proportion_change(
            metric,
            _hits(old.get(metric), hits),
            _hits(new.get(metric), hits),
            margins.get(metric, 0.0),
            paired and metric != "explanation",
        )

    return {
        "consistency": proportion("consistency", "agree"),
        "lift": _lift_change(old, new, margins.get("lift", 0.0), paired),
        "accuracy": proportion("accuracy", "correct"),
        "explanation": proportion("explanation", "correct"),
        "follow": proportion("follow", "followed"),
    }


def _hits(count: dict[str, Any] | None, name: str) -> tuple[int, int] | None:
    """``(successes, total)`` of a unit count (None: not measured)."""
    return None if count is None else (count[name], count["total"])


def _agree(count: dict[str, Any]) -> tuple[int, int]:
    return (count["agree"], count["total"])


def _rate(counts: tuple[int, int] | None) -> float | None:
    return None if counts is None or counts[1] == 0 else counts[0] / counts[1]


def _proportion_change(
    metric: str,
    before: tuple[int, int] | None,
    after: tuple[int, int] | None,
    margin: float,
    paired: bool,
) -> MetricChange:
    old, new = _rate(before), _rate(after)
    if before is None or after is None or old is None or new is None:
        return MetricChange(metric, old, new, None, None, margin=margin)
    variance = binomial_variance(*before) + binomial_variance(*after)
    change = MetricChange(metric, old, new, new - old, None, variance=variance, margin=margin)
    if not paired:
        return change
    # A drop of more than 1 is impossible; drop_beyond_p takes margins below 1.
    p = 1.0 if margin >= 1 else drop_beyond_p(*before, *after, margin=margin)
    return replace(change, p_value=p, p_rise=drop_beyond_p(*after, *before))


def _lift_counts(units: dict[str, Any]) -> tuple[int, int, int, int] | None:
    transfer, baseline = _agree(units["consistency"]), _agree(units["baseline_consistency"])
    if transfer[1] == 0 or baseline[1] == 0:
        return None
    return (*transfer, *baseline)


def _lift(counts: tuple[int, int, int, int] | None) -> float | None:
    return None if counts is None else counts[0] / counts[1] - counts[2] / counts[3]


def _lift_change(
    before: dict[str, Any], after: dict[str, Any], margin: float, paired: bool
) -> MetricChange:
    old_counts, new_counts = _lift_counts(before), _lift_counts(after)
    old, new = _lift(old_counts), _lift(new_counts)
    if old_counts is None or new_counts is None or old is None or new is None:
        return MetricChange("lift", old, new, None, None, margin=margin)
    variance = sum(
        binomial_variance(counts[i], counts[i + 1])
        for counts in (old_counts, new_counts)
        for i in (0, 2)
    )
    change = MetricChange("lift", old, new, new - old, None, variance=variance, margin=margin)
    if not paired:
        return change
    return replace(
        change,
        p_value=lift_drop_p(old_counts, new_counts, margin),
        p_rise=lift_drop_p(new_counts, old_counts),
    )


def _structure_problem(document: dict[str, Any]) -> str | None:
    # Only what compare() reads is checked: enough to turn a hand-edited or truncated file
    # into a message instead of a KeyError deep inside the comparison.
    tests = document.get("tests")
    if not isinstance(tests, list):
        return "'tests' is not a list"
    for index, test in enumerate(tests):
        if not isinstance(test, dict) or not isinstance(test.get("nodeid"), str):
            return f"tests[{index}] has no string 'nodeid'"
        metrics = test.get("metrics", ...)
        where = f"tests[{index}] ({test['nodeid']})"
        if metrics is None:
            continue
        if not isinstance(metrics, dict):
            return f"{where} has no 'metrics' object or null"
        units = metrics.get("units")
        if not isinstance(units, dict):
            return (
                f"{where}: metrics has no per-sample 'units' counts (a report of an older "
                "pytest-xgen)"
            )
        for name, success in (
            ("consistency", "agree"),
            ("baseline_consistency", "agree"),
            ("accuracy", "correct"),
            ("explanation", "correct"),
            ("follow", "followed"),
        ):
            count = units.get(name)
            if name in ("accuracy", "explanation", "follow") and count is None:
                continue
            if not _valid_count(count, success):
                return (
                    f"{where}: metrics.units.{name} needs integers {success} and total "
                    f"with 0 <= {success} <= total"
                )
    return None


def _valid_count(count: Any, success: str) -> bool:
    if not isinstance(count, dict):
        return False
    hits, total = count.get(success), count.get("total")
    return (
        isinstance(hits, int)
        and isinstance(total, int)
        and not isinstance(hits, bool)
        and not isinstance(total, bool)
        and 0 <= hits <= total
    )


def _value(value: float | None) -> str:
    return rate(value, missing="-")


def _p(p: float) -> str:
    # Three decimals read well down to 0.001; below that they would all show as 0.000, and
    # a normal tail rounds to exactly 0 long before it is 0.
    if p < 1e-16:
        return "<1e-16"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _pv(p: float | None) -> str:
    """``p=0.012``, ``p=3.1e-05`` or ``p<1e-16``."""
    shown = _p(p or 0.0)
    return f"p{shown}" if shown.startswith("<") else f"p={shown}"


def _cell(change: MetricChange | None) -> str:
    if change is None or (change.before is None and change.after is None):
        return "-"
    text = f"{_value(change.before)} -> {_value(change.after)}"
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
    return f"{text} ({change.delta:+.2f}, {label}{_pv(p)[1:]})"
