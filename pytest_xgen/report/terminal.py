"""The table of transfer checks printed after the run."""

from __future__ import annotations

from typing import Any

from pytest_xgen.core.printable import rate
from pytest_xgen.report.build import test_metrics, worst_verdict


def _rate(value: float | None) -> str:
    return rate(value, missing="  -  ")


def _interval(checks: list[dict[str, Any]]) -> str:
    transfers = [c for c in checks if c["kind"] == "transfer"]
    interval = transfers[-1]["conditions"]["transfer"]["interval"] if transfers else None
    return "-" if interval is None else f"[{interval[0]:.2f},{interval[1]:.2f}]"


def summary_lines(tests: dict[str, dict[str, Any]], *, verbose: bool) -> list[str]:
    """One row per test with transfer checks (all columns with ``verbose``), then totals."""
    rows = []
    verdicts = {"pass": 0, "fail": 0, "inconclusive": 0}
    for nodeid, entry in sorted(tests.items()):
        checks = entry["checks"]
        metrics = test_metrics(checks)
        if metrics is None:
            continue
        verdict = worst_verdict(checks) or "pass"
        verdicts[verdict] += 1
        accuracy = metrics["accuracy"]["value"] if metrics["accuracy"] else None
        lift = metrics["lift"]
        columns = [
            _rate(metrics["baseline_consistency"]["value"]),
            _rate(metrics["consistency"]["value"]),
            "  -  " if lift is None else f"{lift:+.2f}",
            _rate(accuracy),
            f"{verdict:<12}",
        ]
        if verbose:
            first = next(c for c in checks if c["kind"] == "transfer")
            models = f"{first['generator']}->{','.join(first['evaluators'])}"
            columns += [
                f"{_interval(checks):<13}",
                f"{entry['calls']:>5} ({entry['live']} live)",
                f"{entry['tokens']:>7}",
                f"{len(checks):>3}",
                models,
            ]
        rows.append((nodeid, columns))
    if not rows:
        return []
    header = ["base", "xfer", "lift", "acc", "verdict"]
    if verbose:
        header += ["interval", "calls", "tokens", "checks", "models"]
    width = max(len(n) for n, _ in rows)
    lines = [f"  {'transfer check':<{width}}  " + "  ".join(header)]
    lines += [f"  {n:<{width}}  " + "  ".join(c).rstrip() for n, c in rows]
    lines.append(
        f"xgen transfer checks: {len(rows)} test(s): {verdicts['pass']} pass, "
        f"{verdicts['fail']} fail, {verdicts['inconclusive']} inconclusive"
    )
    return lines
