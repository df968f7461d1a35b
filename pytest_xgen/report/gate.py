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

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pytest_xgen.core.gate_metrics import GATE_METRIC, METRICS
from pytest_xgen.core.significance import ADJUSTMENTS, PairedChange, adjust, paired_margin
from pytest_xgen.report import gate_changes, gate_text
from pytest_xgen.report.gate_changes import MetricChange
from pytest_xgen.report.gate_text import suite_line
from pytest_xgen.settings.options import ON_UNDERPOWERED

VERDICTS = ("regressed", "improved", "unchanged", "unpaired", "new", "missing")
# Deltas are differences of floats; without slack a drop of exactly DELTA (0.80 -> 0.75
# against 0.05) would count as "more than DELTA" by a rounding error.
_DELTA_SLACK = 1e-9


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
        of = gate_text.tests(compared)
        if paired == compared:
            return (
                f"{of} read the same explanation in both runs (the baseline's "
                "generator calls replayed): per-test tests"
            )
        new = compared - paired
        if paired == 0:
            return (
                f"0 of {of} read the same explanation in both runs (the "
                "generator changed, re-recorded or sampled anew): per-test changes are shown, "
                "not tested; the suite tests decide"
            )
        return (
            f"{paired} of {of} read the same explanation in both runs: per-test "
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
            same = gate_changes.paired(old[nodeid], new[nodeid])
            found = gate_changes.changes(
                old[nodeid]["metrics"], new[nodeid]["metrics"], margins, same
            )
            raw.append((nodeid, None, same, found))
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
                gate_text.failure_line(
                    test.nodeid, change, change.delta, threshold, comparison.adjust
                )
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
            underpowered.append(gate_text.underpowered_line(suite, comparison.alpha))
    if failures:
        result = "fail"
    elif underpowered and on_underpowered == "fail":
        result = "inconclusive"
    else:
        result = "pass"
    return GateResult(result, dict(thresholds), failures, underpowered, on_underpowered)


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
            if GATE_METRIC[m].always_shown
            or any(
                c.before is not None or c.after is not None
                for t in comparison.tests
                if (c := t.changes.get(m)) is not None
            )
        ]
        header = ["verdict", "test", *metrics]
        rows = [
            [t.verdict, t.nodeid, *(gate_text.cell(t.changes.get(m)) for m in metrics)]
            for t in shown
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            lines.append("  ".join(text.ljust(widths[i]) for i, text in enumerate(row)).rstrip())
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


def _labels(document: dict[str, Any]) -> dict[str, str]:
    model_map = document.get("run", {}).get("model_map") or {}
    return {old: f"{old}\u2192{new}" for old, new in model_map.items()}


def _verdict(found: Mapping[str, MetricChange]) -> str:
    """``regressed`` if a metric dropped beyond its margin, else ``improved`` if one rose
    (a significant change that is not a drop), else ``unchanged``."""
    if any(c.regressed for c in found.values()):
        return "regressed"
    if any(c.significant and not c.regressed for c in found.values()):
        return "improved"
    return "unchanged"
