"""The model-upgrade gate: compare two saved runs and fail only on regressions that are real.

What is counted: each test's ``metrics.units`` in a JSON report, one unit per independent
draw (a sample whose evaluators all agree; an evaluator's answer that is right), never an
evaluator pair. What is tested, for each metric:

- per test, the change between the runs: Fisher's exact test (consistency, accuracy) or a
  Wald test (lift, a difference of differences), see :mod:`pytest_xgen.core.significance`;
- over the suite, the mean of the per-test changes, paired by test (both runs asked the same
  prompts), against the margin ``DELTA`` of ``--fail METRIC:DELTA``: a non-inferiority test.

The p-values of the per-test tests and of the gated suite tests form one family, adjusted
with Holm (default: the chance of any false alarm stays at most alpha at any suite size),
Benjamini-Hochberg (``bh``: the share of false alarms among alarms) or not at all. The gate
fails when a test dropped by more than ``DELTA`` with an adjusted p below alpha, or the suite
did. When the suite can neither show that its metric held within ``DELTA`` nor that it fell,
the gate is *inconclusive: underpowered*, never a pass; the report gives the drop the suite
could detect with 80% power. Whether an inconclusive gate fails the run is a choice
(``on_underpowered``), ``fail`` by default.

Values, deltas and p-values are computed from the counts, not from the stored ``value``
fields, so a value and its p-value always describe the same data.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_xgen.core.printable import rate
from pytest_xgen.core.significance import (
    ADJUSTMENTS,
    PairedChange,
    adjust,
    binomial_variance,
    fisher_p,
    lift_change_p,
    paired_margin,
)
from pytest_xgen.report.build import FORMAT, VERSION
from pytest_xgen.settings.options import METRICS, ON_UNDERPOWERED, parse_thresholds

VERDICTS = ("regressed", "improved", "unchanged", "new", "missing")
DEFAULT_RUNS_DIR = Path(".xgen/runs")
# The name of each metric's test, as the gate lines show it.
_TESTS = {"consistency": "Fisher", "lift": "Wald", "accuracy": "Fisher", "follow": "Fisher"}
# Deltas are differences of floats; without slack a drop of exactly DELTA (0.80 -> 0.75
# against 0.05) would count as "more than DELTA" by a rounding error.
_DELTA_SLACK = 1e-9


@dataclass(frozen=True)
class MetricChange:
    """One metric of one test in both runs."""

    metric: str
    before: float | None
    after: float | None
    delta: float | None
    """``after - before``; ``None`` when either side is missing."""
    p_value: float | None
    """Two-sided, before adjustment; ``None`` when either side is missing."""
    significant: bool = False
    """``p_adjusted < alpha``."""
    p_adjusted: float | None = None
    """``p_value`` adjusted for the family of all tests compared."""
    variance: float = 0.0
    """The sampling variance of ``delta`` from the counts (for the suite-level test)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "before": self.before,
            "after": self.after,
            "delta": self.delta,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "significant": self.significant,
        }


@dataclass(frozen=True)
class TestComparison:
    """One test in both runs and its verdict."""

    # pytest would otherwise try to collect this class from test modules that import it.
    __test__ = False

    nodeid: str
    verdict: str
    """``"improved"``, ``"unchanged"``, ``"regressed"``, ``"new"`` or ``"missing"``."""
    changes: dict[str, MetricChange]
    """By metric name; empty for a new or missing test and for one without metrics."""


@dataclass(frozen=True)
class Comparison:
    """Every test of two runs, sorted by node id, the suite-level comparison per metric,
    and how significance was decided."""

    tests: list[TestComparison]
    alpha: float
    adjust: str = "holm"
    suite: dict[str, PairedChange] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    """The margins the suite-level tests used (``--fail``); ungated metrics use 0."""
    labels: dict[str, str] = field(default_factory=dict)
    """Model names as the after run labels them, e.g. ``{"qwen": "qwen→smollm"}``."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: ``alpha``, ``adjust``, ``counts``, ``suite`` and per test its
        verdict and changes."""
        return {
            "alpha": self.alpha,
            "adjust": self.adjust,
            "counts": self.counts(),
            "suite": {m: s.to_dict() for m, s in self.suite.items()},
            "tests": [
                {
                    "nodeid": t.nodeid,
                    "verdict": t.verdict,
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


@dataclass(frozen=True)
class GateResult:
    """What the gate decided: ``"pass"``, ``"fail"`` or ``"inconclusive"``."""

    result: str
    thresholds: dict[str, float]
    failures: list[str]
    """One line per significant drop beyond its DELTA (a test's, or the suite's)."""
    underpowered: list[str]
    """One line per gated metric the suite could not decide."""
    on_underpowered: str = "fail"

    @property
    def failed(self) -> bool:
        """Whether the run should exit non-zero."""
        return self.result == "fail" or (
            self.result == "inconclusive" and self.on_underpowered == "fail"
        )

    def lines(self) -> list[str]:
        """The gate's verdict for a terminal, first line the summary."""
        limits = ", ".join(f"{m}:{d:g}" for m, d in self.thresholds.items())
        if self.result == "pass":
            return [f"gate passed ({limits})"]
        if self.result == "fail":
            head = [f"gate failed ({limits}): {len(self.failures)} significant drop(s)"]
            return head + [f"  {line}" for line in self.failures + self.underpowered]
        effect = "fails the run" if self.on_underpowered == "fail" else "does not fail the run"
        head = [f"gate inconclusive ({limits}): {effect}"]
        return head + [f"  {line}" for line in self.underpowered]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "result": self.result,
            "thresholds": dict(self.thresholds),
            "failures": list(self.failures),
            "underpowered": list(self.underpowered),
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
    with no changes. Otherwise each metric gets its
    per-test test (Fisher, or Wald for lift); a metric that cannot be computed on one side
    (no accuracy, a zero total) gets a change with no p-value. Every metric also gets the
    suite-level paired test against its threshold in ``thresholds`` (0 without one).

    The per-test p-values and the suite p-values of the metrics in ``thresholds`` are
    adjusted together (``adjust_with``). The verdict is ``"regressed"`` if any metric
    dropped with an adjusted p below alpha, else ``"improved"`` if any rose so, else
    ``"unchanged"``.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be strictly between 0 and 1; got {alpha}")
    if adjust_with not in ADJUSTMENTS:
        raise ValueError(f"adjust must be one of {', '.join(ADJUSTMENTS)}; got {adjust_with!r}")
    margins = dict(thresholds or {})
    old = {t["nodeid"]: t for t in before["tests"]}
    new = {t["nodeid"]: t for t in after["tests"]}
    raw: list[tuple[str, str | None, dict[str, MetricChange]]] = []
    for nodeid in sorted(old.keys() | new.keys()):
        if nodeid not in old:
            raw.append((nodeid, "new", {}))
        elif nodeid not in new or (old[nodeid]["metrics"] and not new[nodeid]["metrics"]):
            raw.append((nodeid, "missing", {}))
        elif new[nodeid]["metrics"] and not old[nodeid]["metrics"]:
            raw.append((nodeid, "new", {}))
        else:
            raw.append((nodeid, None, _changes(old[nodeid]["metrics"], new[nodeid]["metrics"])))
    suite_raw = {}
    for metric in METRICS:
        paired = [
            changes[metric]
            for _, verdict, changes in raw
            if verdict is None and metric in changes and changes[metric].delta is not None
        ]
        suite_raw[metric] = paired_margin(
            metric,
            [c.delta for c in paired if c.delta is not None],
            [c.variance for c in paired],
            margins.get(metric, 0.0),
            alpha,
        )
    # One family: every per-test p-value, and the suite's for each gated metric.
    family: list[float] = []
    for _, _, changes in raw:
        family += [c.p_value for c in changes.values() if c.p_value is not None]
    gated = [m for m in METRICS if m in margins and suite_raw[m].p_regressed is not None]
    family += [suite_raw[m].p_regressed for m in gated]  # type: ignore[misc]
    adjusted = iter(adjust(family, adjust_with))
    tests = []
    for nodeid, verdict, changes in raw:
        final = {}
        for metric, change in changes.items():
            if change.p_value is None:
                final[metric] = change
                continue
            p = next(adjusted)
            final[metric] = replace(change, significant=p < alpha, p_adjusted=p)
        tests.append(TestComparison(nodeid, verdict or _verdict(final), final))
    suite = dict(suite_raw)
    for metric in gated:
        result = suite_raw[metric]
        p = next(adjusted)
        verdict = result.verdict
        if verdict == "regressed" and p >= alpha:
            verdict = "inconclusive"  # significant alone, but not after the adjustment
        suite[metric] = replace(result, p_regressed=p, verdict=verdict)
    return Comparison(
        tests=tests,
        alpha=alpha,
        adjust=adjust_with,
        suite=suite,
        thresholds=margins,
        labels=_labels(after),
    )


def gate(comparison: Comparison, on_underpowered: str = "fail") -> GateResult:
    """The gate over ``comparison.thresholds``: a failure line per test and metric that
    dropped by more than its threshold with an adjusted p below alpha, and per gated metric
    whose suite-level mean dropped so; an underpowered line per gated metric the suite could
    not decide. ``on_underpowered`` (``"fail"`` or ``"warn"``) says whether an inconclusive
    gate fails the run."""
    if on_underpowered not in ON_UNDERPOWERED:
        raise ValueError(
            f"on_underpowered must be one of {', '.join(ON_UNDERPOWERED)}; got {on_underpowered!r}"
        )
    thresholds = comparison.thresholds
    failures = []
    for test in comparison.tests:
        for metric, change in test.changes.items():
            threshold = thresholds.get(metric)
            if (
                threshold is None
                or change.delta is None
                or change.p_adjusted is None
                or not change.significant
                or change.delta >= -threshold - _DELTA_SLACK
            ):
                continue
            failures.append(
                f"{test.nodeid}: {metric} {_value(change.before)} -> {_value(change.after)} "
                f"({change.delta:+.2f} > {threshold:g}, "
                f"{_TESTS[metric]} p={_p(change.p_value or 0.0)}, "
                f"{comparison.adjust} p={_p(change.p_adjusted)})"
            )
    underpowered = []
    for metric in METRICS:
        if metric not in thresholds:
            continue
        suite = comparison.suite.get(metric)
        if suite is None or suite.tests == 0:
            underpowered.append(
                f"suite: {metric}: inconclusive: no test has {metric} counts in both runs"
            )
            continue
        if suite.verdict == "regressed":
            failures.append(f"suite: {_suite_line(suite)}")
        elif suite.verdict == "inconclusive":
            detectable = suite.detectable_drop or 0.0
            why = (
                f"underpowered: {suite.tests} test(s) detect a mean drop of {detectable:.2f} "
                f"with 80% power, DELTA is {suite.margin:g}; add samples or tests, or raise "
                "DELTA"
                if detectable > suite.margin
                else f"the mean change {suite.mean_change:+.3f} is within noise of DELTA "
                f"{suite.margin:g}"
            )
            underpowered.append(f"suite: {metric}: inconclusive: {why}")
    if failures:
        result = "fail"
    elif underpowered:
        result = "inconclusive"
    else:
        result = "pass"
    return GateResult(result, dict(thresholds), failures, underpowered, on_underpowered)


def format_comparison(comparison: Comparison, *, verbose: bool = False) -> str:
    """A terminal table, one row per test: its verdict and each metric as
    ``before -> after (delta, p)`` with the adjusted p, then one line per metric for the
    suite, then a totals line. Without ``verbose`` the unchanged tests are left out."""
    shown = [t for t in comparison.tests if verbose or t.verdict != "unchanged"]
    lines = []
    if shown:
        # A metric no test measured in either run (follow, without added mistakes) is left out.
        metrics = [
            m
            for m in METRICS
            if m != "follow"
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
            lines.append(f"xgen compare: suite {_suite_line(suite)}")
    mapped = [label for name, label in sorted(comparison.labels.items()) if label != name]
    if mapped:
        lines.append(f"xgen compare: models of the new run: {', '.join(mapped)}")
    counts = comparison.counts()
    totals = ", ".join(f"{counts[v]} {v}" for v in VERDICTS)
    lines.append(
        f"xgen compare: {totals} (alpha {comparison.alpha:g}, adjusted: {comparison.adjust})"
    )
    return "\n".join(lines)


def main_compare(argv: Sequence[str]) -> int:
    """``xgen compare BEFORE AFTER [--fail METRIC:DELTA,...] [--alpha A] [--adjust M]
    [--on-underpowered fail|warn] [-v]``.

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
        help="exit 1 if a metric dropped by more than DELTA and significantly; "
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
        default="fail",
        help="whether a gate the suite cannot decide fails (default) or only warns",
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
    from pytest_xgen import files
    from pytest_xgen.report.formats import json_text
    from pytest_xgen.report.markdown import render_markdown

    doc = {
        **after,
        "comparison": {
            "baseline": args.before,
            **comparison.to_dict(),
            "gate": None if result is None else result.to_dict(),
        },
    }
    for path, text in ((args.report, json_text), (args.markdown, render_markdown)):
        if path:
            files.write_text(Path(path), text(doc))
            print(f"xgen compare: wrote {path}")


def _labels(document: dict[str, Any]) -> dict[str, str]:
    model_map = document.get("run", {}).get("model_map") or {}
    return {old: f"{old}\u2192{new}" for old, new in model_map.items()}


def _suite_line(suite: PairedChange) -> str:
    mean = "-" if suite.mean_change is None else f"{suite.mean_change:+.3f}"
    se = "-" if suite.standard_error is None else f"{suite.standard_error:.3f}"
    p = "-" if suite.p_regressed is None else _p(suite.p_regressed)
    return (
        f"{suite.metric}: {suite.verdict}, mean change {mean} (se {se}) over {suite.tests} "
        f"paired test(s), margin {suite.margin:g}, p(drop > margin)={p}, "
        f"detectable drop {_value(suite.detectable_drop)}"
    )


def _verdict(changes: Mapping[str, MetricChange]) -> str:
    significant = [c.delta for c in changes.values() if c.significant and c.delta is not None]
    if any(delta < 0 for delta in significant):
        return "regressed"
    if any(delta > 0 for delta in significant):
        return "improved"
    return "unchanged"


def _changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> dict[str, MetricChange]:
    if before is None or after is None:
        return {}
    old, new = before["units"], after["units"]
    return {
        "consistency": _proportion_change(
            "consistency", _agree(old["consistency"]), _agree(new["consistency"])
        ),
        "lift": _lift_change(old, new),
        "accuracy": _proportion_change(
            "accuracy", _correct(old["accuracy"]), _correct(new["accuracy"])
        ),
        "follow": _proportion_change(
            "follow", _followed(old.get("follow")), _followed(new.get("follow"))
        ),
    }


def _followed(count: dict[str, Any] | None) -> tuple[int, int] | None:
    """Answers that followed an added mistake, and all given one (None: no mistake added)."""
    return None if count is None else (count["followed"], count["total"])


def _agree(count: dict[str, Any]) -> tuple[int, int]:
    return (count["agree"], count["total"])


def _correct(count: dict[str, Any] | None) -> tuple[int, int] | None:
    return None if count is None else (count["correct"], count["total"])


def _rate(counts: tuple[int, int] | None) -> float | None:
    return None if counts is None or counts[1] == 0 else counts[0] / counts[1]


def _proportion_change(
    metric: str, before: tuple[int, int] | None, after: tuple[int, int] | None
) -> MetricChange:
    old, new = _rate(before), _rate(after)
    if before is None or after is None or old is None or new is None:
        return MetricChange(metric, old, new, None, None)
    # One row per run: successes and failures.
    p = fisher_p(before[0], before[1] - before[0], after[0], after[1] - after[0])
    variance = binomial_variance(*before) + binomial_variance(*after)
    return MetricChange(metric, old, new, new - old, p, variance=variance)


def _lift_counts(units: dict[str, Any]) -> tuple[int, int, int, int] | None:
    transfer, baseline = _agree(units["consistency"]), _agree(units["baseline_consistency"])
    if transfer[1] == 0 or baseline[1] == 0:
        return None
    return (*transfer, *baseline)


def _lift(counts: tuple[int, int, int, int] | None) -> float | None:
    return None if counts is None else counts[0] / counts[1] - counts[2] / counts[3]


def _lift_change(before: dict[str, Any], after: dict[str, Any]) -> MetricChange:
    old_counts, new_counts = _lift_counts(before), _lift_counts(after)
    old, new = _lift(old_counts), _lift(new_counts)
    if old_counts is None or new_counts is None or old is None or new is None:
        return MetricChange("lift", old, new, None, None)
    p = lift_change_p(old_counts, new_counts)
    variance = sum(
        binomial_variance(counts[i], counts[i + 1])
        for counts in (old_counts, new_counts)
        for i in (0, 2)
    )
    return MetricChange("lift", old, new, new - old, p, variance=variance)


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
            ("follow", "followed"),
        ):
            count = units.get(name)
            if name in ("accuracy", "follow") and count is None:
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


def _cell(change: MetricChange | None) -> str:
    if change is None or (change.before is None and change.after is None):
        return "-"
    text = f"{_value(change.before)} -> {_value(change.after)}"
    if change.delta is None or change.p_adjusted is None:
        return text
    return f"{text} ({change.delta:+.2f}, p={_p(change.p_adjusted)})"
