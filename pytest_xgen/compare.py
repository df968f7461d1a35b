"""The model-upgrade gate: compare two saved runs test by test and fail on real regressions.

Each test's ``metrics`` block in a JSON report holds pooled counts: agreements for the
consistency of the transfer and baseline conditions, and correct answers for the accuracy.
Between two runs (before and after a model upgrade, say) a metric changes *significantly*
when a test says the counts differ: Fisher's exact test for consistency and accuracy,
a Wald z-test for lift (see :mod:`pytest_xgen.stats`). ``--fail METRIC:DELTA`` then fails
only on a drop that is both significant and larger than ``DELTA``: significance alone would
fail on tiny real drops of a large suite, a size threshold alone on noise of a small one.

Values, deltas and p-values are computed from the counts, not from the stored ``value``
fields, so a value and its p-value always describe the same data.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_xgen.report.build import FORMAT, VERSION
from pytest_xgen.stats import fisher_exact, lift_change_p

METRICS = ("consistency", "lift", "accuracy")
VERDICTS = ("regressed", "improved", "unchanged", "new", "missing")
DEFAULT_RUNS_DIR = Path(".xgen/runs")
# The name of each metric's test, as the gate lines show it.
_TESTS = {"consistency": "Fisher", "lift": "Wald", "accuracy": "Fisher"}
_THRESHOLD_FORM = (
    "use METRIC:DELTA[,METRIC:DELTA...] with METRIC one of "
    f"{', '.join(METRICS)} and DELTA a number >= 0, e.g. consistency:0.05,accuracy:0.02"
)
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
    """Two-sided; ``None`` when either side is missing."""
    significant: bool
    """``p_value < alpha``."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "before": self.before,
            "after": self.after,
            "delta": self.delta,
            "p_value": self.p_value,
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
    """Every test of two runs, sorted by node id, and the significance level used."""

    tests: list[TestComparison]
    alpha: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: ``alpha``, ``counts`` and per test its verdict and changes."""
        return {
            "alpha": self.alpha,
            "counts": self.counts(),
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


def compare(before: dict[str, Any], after: dict[str, Any], *, alpha: float = 0.05) -> Comparison:
    """Compare two reports test by test.

    A test only in ``after`` is ``"new"``, only in ``before`` ``"missing"``. A test without
    metrics in either run is ``"unchanged"`` with no changes. Otherwise consistency and
    accuracy get Fisher's exact test on their counts and lift the Wald test; a metric that
    cannot be computed on one side (no accuracy, a zero total) gets a change with no
    p-value. The verdict is ``"regressed"`` if any metric dropped significantly, else
    ``"improved"`` if any rose significantly, else ``"unchanged"``.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be strictly between 0 and 1; got {alpha}")
    old = {t["nodeid"]: t for t in before["tests"]}
    new = {t["nodeid"]: t for t in after["tests"]}
    tests = []
    for nodeid in sorted(old.keys() | new.keys()):
        if nodeid not in old:
            tests.append(TestComparison(nodeid, "new", {}))
        elif nodeid not in new:
            tests.append(TestComparison(nodeid, "missing", {}))
        else:
            tests.append(
                _compare_test(nodeid, old[nodeid]["metrics"], new[nodeid]["metrics"], alpha)
            )
    return Comparison(tests=tests, alpha=alpha)


def parse_thresholds(text: str) -> dict[str, float]:
    """``"consistency:0.05,accuracy:0.02"`` as ``{"consistency": 0.05, "accuracy": 0.02}``.

    Raises :class:`ValueError` saying what is wrong and which form is expected.
    """
    thresholds: dict[str, float] = {}
    # A trailing comma is harmless, so empty entries are skipped rather than rejected.
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if not entries:
        raise ValueError(f"no thresholds given; {_THRESHOLD_FORM}")
    for entry in entries:
        metric, colon, number = (part.strip() for part in entry.partition(":"))
        if not colon:
            raise ValueError(f"{entry!r} has no ':'; {_THRESHOLD_FORM}")
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r} in {entry!r}; {_THRESHOLD_FORM}")
        if metric in thresholds:
            raise ValueError(f"metric {metric!r} is given twice; {_THRESHOLD_FORM}")
        try:
            delta = float(number)
        except ValueError:
            raise ValueError(
                f"DELTA {number!r} in {entry!r} is not a number; {_THRESHOLD_FORM}"
            ) from None
        if not math.isfinite(delta) or delta < 0:
            raise ValueError(f"DELTA in {entry!r} must be a number >= 0; {_THRESHOLD_FORM}")
        thresholds[metric] = delta
    return thresholds


def gate(comparison: Comparison, thresholds: Mapping[str, float]) -> list[str]:
    """One line per test and metric that dropped by more than its threshold *and*
    significantly; an empty list means the gate passes. Metrics without a threshold are
    not gated."""
    failures = []
    for test in comparison.tests:
        for metric, change in test.changes.items():
            threshold = thresholds.get(metric)
            if (
                threshold is None
                or change.delta is None
                or change.p_value is None
                or not change.significant
                or change.delta >= -threshold - _DELTA_SLACK
            ):
                continue
            failures.append(
                f"{test.nodeid}: {metric} {_value(change.before)} -> {_value(change.after)} "
                f"({change.delta:+.2f} > {threshold:g}, "
                f"{_TESTS[metric]} p={_p(change.p_value)})"
            )
    return failures


def format_comparison(comparison: Comparison, *, verbose: bool = False) -> str:
    """A terminal table, one row per test: its verdict and each metric as
    ``before -> after (delta, p)``, then a totals line. Without ``verbose`` the unchanged
    tests are left out."""
    shown = [t for t in comparison.tests if verbose or t.verdict != "unchanged"]
    lines = []
    if shown:
        header = ["verdict", "test", *METRICS]
        rows = [[t.verdict, t.nodeid, *(_cell(t.changes.get(m)) for m in METRICS)] for t in shown]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            lines.append(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
    counts = comparison.counts()
    totals = ", ".join(f"{counts[v]} {v}" for v in VERDICTS)
    lines.append(f"xgen compare: {totals} (alpha {comparison.alpha:g})")
    return "\n".join(lines)


def main_compare(argv: Sequence[str]) -> int:
    """``xgen compare BEFORE AFTER [--fail METRIC:DELTA,...] [--alpha A] [-v]``.

    Prints the comparison and, with ``--fail``, the gate's verdict. Returns 1 when the gate
    fails, 2 on bad input (the message goes to stderr), else 0.
    """
    parser = argparse.ArgumentParser(
        prog="xgen compare",
        description="Compare two runs saved with --xgen-save (or written with "
        "--xgen-report), test by test.",
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
        "--runs-dir",
        default=str(DEFAULT_RUNS_DIR),
        help=f"where saved runs are (default {DEFAULT_RUNS_DIR})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show unchanged tests too")
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
    comparison = compare(before, after, alpha=args.alpha)
    print(format_comparison(comparison, verbose=args.verbose))
    if thresholds is None:
        return 0
    failures = gate(comparison, thresholds)
    limits = ", ".join(f"{m}:{d:g}" for m, d in thresholds.items())
    if not failures:
        print(f"xgen compare: gate passed ({limits})")
        return 0
    print(f"xgen compare: gate failed ({limits}): {len(failures)} significant drop(s)")
    for line in failures:
        print(f"  {line}")
    return 1


def _compare_test(
    nodeid: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    alpha: float,
) -> TestComparison:
    if before is None or after is None:
        return TestComparison(nodeid, "unchanged", {})
    changes = {
        "consistency": _proportion_change(
            "consistency", _agree(before["consistency"]), _agree(after["consistency"]), alpha
        ),
        "lift": _lift_change(before, after, alpha),
        "accuracy": _proportion_change(
            "accuracy", _correct(before["accuracy"]), _correct(after["accuracy"]), alpha
        ),
    }
    significant = [c.delta for c in changes.values() if c.significant and c.delta is not None]
    if any(delta < 0 for delta in significant):
        verdict = "regressed"
    elif any(delta > 0 for delta in significant):
        verdict = "improved"
    else:
        verdict = "unchanged"
    return TestComparison(nodeid, verdict, changes)


def _agree(count: dict[str, Any]) -> tuple[int, int]:
    return (count["agree"], count["total"])


def _correct(count: dict[str, Any] | None) -> tuple[int, int] | None:
    return None if count is None else (count["correct"], count["total"])


def _rate(counts: tuple[int, int] | None) -> float | None:
    return None if counts is None or counts[1] == 0 else counts[0] / counts[1]


def _proportion_change(
    metric: str, before: tuple[int, int] | None, after: tuple[int, int] | None, alpha: float
) -> MetricChange:
    old, new = _rate(before), _rate(after)
    if before is None or after is None or old is None or new is None:
        return MetricChange(metric, old, new, None, None, False)
    # One row per run: successes and failures.
    p = fisher_exact(before[0], before[1] - before[0], after[0], after[1] - after[0])
    return MetricChange(metric, old, new, new - old, p, p < alpha)


def _lift_counts(metrics: dict[str, Any]) -> tuple[int, int, int, int] | None:
    transfer, baseline = _agree(metrics["consistency"]), _agree(metrics["baseline_consistency"])
    if transfer[1] == 0 or baseline[1] == 0:
        return None
    return (*transfer, *baseline)


def _lift(counts: tuple[int, int, int, int] | None) -> float | None:
    return None if counts is None else counts[0] / counts[1] - counts[2] / counts[3]


def _lift_change(before: dict[str, Any], after: dict[str, Any], alpha: float) -> MetricChange:
    old_counts, new_counts = _lift_counts(before), _lift_counts(after)
    old, new = _lift(old_counts), _lift(new_counts)
    if old_counts is None or new_counts is None or old is None or new is None:
        return MetricChange("lift", old, new, None, None, False)
    p = lift_change_p(old_counts, new_counts)
    return MetricChange("lift", old, new, new - old, p, p < alpha)


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
        for name, success in (
            ("consistency", "agree"),
            ("baseline_consistency", "agree"),
            ("accuracy", "correct"),
        ):
            count = metrics.get(name)
            if name == "accuracy" and count is None:
                continue
            if not _valid_count(count, success):
                return (
                    f"{where}: metrics.{name} needs integers {success} and total "
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
    return "-" if value is None else f"{value:.2f}"


def _p(p: float) -> str:
    # Three decimals read well down to 0.001; below that they would all show as 0.000.
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _cell(change: MetricChange | None) -> str:
    if change is None or (change.before is None and change.after is None):
        return "-"
    text = f"{_value(change.before)} -> {_value(change.after)}"
    if change.delta is None or change.p_value is None:
        return text
    return f"{text} ({change.delta:+.2f}, p={_p(change.p_value)})"
