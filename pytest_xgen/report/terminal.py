"""The table of transfer checks printed after the run."""

from __future__ import annotations

from typing import Any

from pytest_xgen.core.printable import money, printable, rate
from pytest_xgen.report.build import test_metrics
from pytest_xgen.report.groups import INTERVENTIONS, TRANSFER, in_group
from pytest_xgen.report.status import check_status, label, row_status, tally


def _rate(value: float | None) -> str:
    return rate(value, missing="  -  ")


def _interval(checks: list[dict[str, Any]]) -> str:
    transfers = in_group(checks, TRANSFER)
    interval = transfers[-1]["conditions"]["transfer"]["interval"] if transfers else None
    return "-" if interval is None else f"[{interval[0]:.2f},{interval[1]:.2f}]"


def summary_lines(tests: dict[str, dict[str, Any]], *, verbose: bool) -> list[str]:
    """One row per test with checks of the transfer group (all columns with ``verbose``),
    then totals, then the interventions (:func:`intervention_lines`).

    Each row has the checks' verdict (``measured, not asserted`` where no check decided the
    test, ``error`` where it stopped on one: :mod:`pytest_xgen.report.status`) beside
    pytest's outcome. Columns line up whatever their contents: each is as wide as its
    widest cell, numbers to the right, words to the left.
    """
    rows = []
    statuses = []
    for nodeid, entry in sorted(tests.items()):
        checks = entry["checks"]
        metrics = test_metrics(checks)
        transfers = in_group(checks, TRANSFER)
        if metrics is None or not transfers:
            continue
        status = row_status(entry)
        statuses.append(status)
        accuracy = metrics["accuracy"]["value"] if metrics["accuracy"] else None
        lift = metrics["lift"]
        columns = [
            _rate(metrics["baseline_consistency"]["value"]),
            _rate(metrics["consistency"]["value"]),
            "  -  " if lift is None else f"{lift:+.2f}",
            _rate(accuracy),
            label(status),
            str(entry.get("outcome", "-")),
        ]
        if verbose:
            first = transfers[0]
            columns += [
                _interval(checks),
                f"{entry['calls']} ({entry['live']} live)",
                str(entry["tokens"] + entry.get("replayed_tokens", 0)),
                money(entry.get("cost", 0) + entry.get("replayed_cost", 0)),
                str(len(checks)),
                f"{first['generator']}->{','.join(first['evaluators'])}",
            ]
        rows.append([nodeid, *columns])
    if not rows:
        return intervention_lines(tests, verbose=verbose)
    header = ["transfer check", "base", "xfer", "lift", "acc", "verdict", "pytest"]
    if verbose:
        header += ["interval", "calls", "tokens", "cost", "checks", "models"]
    # Words (the test, the verdict, the outcome, the interval, the models) to the left,
    # numbers right.
    left = {0, 5, 6, 7, 12}
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return (
            "  "
            + "  ".join(
                c.ljust(w) if i in left else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()
        )

    lines = [line(header), *(line(row) for row in rows)]
    lines.append(f"xgen transfer checks: {len(rows)} test(s): {tally(statuses)}")
    return lines + intervention_lines(tests, verbose=verbose)


def intervention_lines(tests: dict[str, dict[str, Any]], *, verbose: bool) -> list[str]:
    """The checks of the interventions group (every kind registered in it, mirrored
    questions too): a tally (of their statuses, as the table's:
    measured where nothing asserted them, error where their test stopped on one), then each
    one that failed or was inconclusive (every one with ``verbose``) with its one-line
    summary."""
    found = [
        (nodeid, check, check_status(check, entry.get("outcome")))
        for nodeid, entry in sorted(tests.items())
        for check in in_group(entry["checks"], INTERVENTIONS)
    ]
    if not found:
        return []
    lines = [f"xgen interventions: {len(found)} check(s): {tally(s for *_, s in found)}"]
    for nodeid, check, status in found:
        if verbose or status in ("fail", "inconclusive"):
            kind = check["kind"].replace("_", " ")
            # Summaries quote model answers: untrusted text, shown escaped.
            lines.append(f"  {nodeid}  {kind}: {label(status)}: {printable(check['summary'])}")
    return lines
