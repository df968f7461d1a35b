"""The report as Markdown: a compact summary for a CI job summary or a pull-request comment.

GitHub-flavoured Markdown (tables, ``<details>``), without links or images, so it reads the
same in ``$GITHUB_STEP_SUMMARY``, a PR comment or a GitLab note. It holds the gate's result
with each regressed test and its statistics, the verdict table (tests that did not pass
first; folded under ``<details>`` when long), and the run's calls, tokens and cost. Every
text that comes from the suite (test ids, model names) is escaped: it cannot start a link,
close a table cell or inject HTML.
"""

from __future__ import annotations

import html
import re
from typing import Any

from pytest_xgen.core.printable import printable, rate
from pytest_xgen.recording.cost import money
from pytest_xgen.report.build import worst_verdict

# Rows shown open before a table folds under <details>.
OPEN_ROWS = 10
_ORDER = {"fail": 0, "inconclusive": 1, "pass": 2}
_MARK = {"pass": "pass", "fail": "**fail**", "inconclusive": "*inconclusive*"}
# What could start emphasis, a link, an image, a code span, a table cell or strike-through
# inside a line (no text here starts a line, so list and heading marks stay plain).
_SPECIAL = re.compile(r"([\\`*_\[\]|~!#])")


def text(value: object) -> str:
    """``value`` safe in Markdown and in a table cell: control characters escaped, HTML
    escaped, Markdown punctuation backslashed, on one line."""
    one_line = " ".join(printable(str(value)).split())
    return _SPECIAL.sub(r"\\\1", html.escape(one_line, quote=False))


def code(value: object) -> str:
    """``value`` as an inline code span for a table cell: literal (no link, emphasis or
    HTML inside), control characters escaped, on one line, ``|`` escaped for the table."""
    one_line = " ".join(printable(str(value)).split()) or " "
    ticks = max((len(run) for run in re.findall(r"`+", one_line)), default=0) + 1
    pad = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    fence = "`" * ticks
    return f"{fence}{pad}{one_line}{pad}{fence}".replace("|", "\\|")


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.2f}" if signed else rate(value, missing="-")


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    align = ["---:" if i in right else ":---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _fold(summary: str, body: list[str], *, fold: bool) -> list[str]:
    if not fold:
        return body
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


def _verdicts(doc: dict[str, Any]) -> tuple[list[list[str]], dict[str, int]]:
    counts = {"pass": 0, "fail": 0, "inconclusive": 0}
    ranked = []
    for test in doc["tests"]:
        metrics = test.get("metrics")
        if metrics is None or not any(c["kind"] == "transfer" for c in test["checks"]):
            continue  # no transfer check (interventions alone): no row of this table
        verdict = worst_verdict(test["checks"]) or "pass"
        counts[verdict] += 1
        accuracy = metrics["accuracy"]["value"] if metrics["accuracy"] else None
        cost = test.get("cost", 0) + test.get("replayed_cost", 0)
        row = [
            code(test["nodeid"]),
            _num(metrics["baseline_consistency"]["value"]),
            _num(metrics["consistency"]["value"]),
            _num(metrics["lift"], signed=True),
            _num(accuracy),
            _MARK[verdict],
            str(test["calls"]),
            money(cost),
        ]
        ranked.append((_ORDER[verdict], test["nodeid"], row))
    return [row for *_, row in sorted(ranked, key=lambda r: (r[0], r[1]))], counts


def _gate(comparison: dict[str, Any]) -> list[str]:
    gate = comparison.get("gate")
    counts = comparison["counts"]
    tally = ", ".join(f"{counts[v]} {v}" for v in ("regressed", "improved", "unchanged"))
    extra = ", ".join(f"{counts[v]} {v}" for v in ("unpaired", "new", "missing") if counts.get(v))
    lines = []
    if gate is not None:
        limits = ", ".join(f"{m}:{d:g}" for m, d in gate["thresholds"].items())
        warnings = gate.get("warnings")
        if warnings is None:  # a report written before warnings were stored
            warn = gate.get("on_underpowered", "fail") == "warn"
            warnings = gate["underpowered"] if warn else []
        if gate["result"] == "fail":
            head = "failed: a drop beyond DELTA shown"
        elif gate["result"] == "inconclusive":
            head = "inconclusive: a drop beyond DELTA not ruled out (fails the run)"
        elif warnings:
            head = (
                f"passed with {len(warnings)} warning(s): no drop beyond DELTA shown, none "
                "ruled out"
            )
        else:
            head = "passed: a drop beyond DELTA ruled out"
        lines.append(f"**Gate ({text(limits)}): {head}**")
        lines.append("")
        shown = [f"- {code(line)}" for line in gate["failures"]]
        shown += [
            f"- {'warning: ' if line in warnings else ''}{code(line)}"
            for line in gate["underpowered"]
        ]
        if shown:
            lines += [*shown, ""]
    pairing = comparison.get("pairing")
    paired = ""
    if pairing and pairing.get("compared"):
        paired = (
            f" {pairing['paired']} of {pairing['compared']} compared test(s) read the same "
            "explanation in both runs (tested one by one)"
        )
        if pairing["paired"] < pairing["compared"]:
            paired += "; the others read a new one and count in the suite tests only"
        paired += "."
    lines.append(
        f"Compared with {code(comparison['baseline'])}: {tally}{', ' + extra if extra else ''} "
        f"(alpha {comparison['alpha']:g}, adjusted: {text(comparison['adjust'])}).{paired}"
    )
    lines.append("")
    suite = [
        [
            text(metric),
            text(s["verdict"] if s.get("gated", True) else f"{s['verdict']} (not gated)"),
            _num(s.get("mean_change"), signed=True),
            _num(s.get("standard_error")),
            str(s["tests"]),
            _num(s.get("margin")),
            _p(s.get("p_noninferior") if s["verdict"] == "pass" else s.get("p_regressed")),
            _num(s.get("detectable_drop")),
        ]
        for metric, s in comparison["suite"].items()
        if s["tests"]
    ]
    if suite:
        header = [
            "suite metric",
            "verdict",
            "mean change",
            "se",
            "tests",
            "margin",
            "p",
            "80% power at a drop of",
        ]
        lines += [*_table(header, suite, {2, 3, 4, 5, 6, 7}), ""]
        lines += [
            "p: for a pass, of a mean drop of at least the margin; otherwise, of a mean drop "
            "beyond the margin (near 1: nothing dropped).",
            "",
        ]
    regressed = []
    for test in comparison["tests"]:
        if test["verdict"] != "regressed":
            continue
        for metric, change in test["changes"].items():
            if (
                not change.get("regressed", change.get("significant"))
                or (change.get("delta") or 0) >= 0
            ):
                continue
            regressed.append(
                [
                    code(test["nodeid"]),
                    text(metric),
                    _num(change["before"]),
                    _num(change["after"]),
                    _num(change["delta"], signed=True),
                    _p(change.get("p_value")),
                    _p(change.get("p_adjusted")),
                ]
            )
    if regressed:
        header = ["regressed test", "metric", "before", "after", "change", "p", "p adjusted"]
        body = _table(header, regressed, {2, 3, 4, 5, 6})
        lines += [
            *_fold(f"{len(regressed)} regressed", body, fold=len(regressed) > OPEN_ROWS),
            "",
        ]
    return lines


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _totals(doc: dict[str, Any]) -> str:
    calls = doc["run"]["calls"]
    line = (
        f"Model calls: {calls['live'] + calls['replayed']} ({calls['replayed']} replayed, "
        f"{calls['live']} live). Live: {calls['tokens']} tokens, cost "
        f"{money(calls.get('cost', 0))}. Replayed: {calls.get('replayed_tokens', 0)} tokens, "
        f"cost {money(calls.get('replayed_cost', 0))} when recorded."
    )
    if calls.get("unpriced"):
        line += f" No price for {text(', '.join(calls['unpriced']))} (counted at 0)."
    return line


def render_markdown(doc: dict[str, Any]) -> str:
    """The Markdown summary of a report document (with its comparison, if any)."""
    rows, counts = _verdicts(doc)
    lines = [
        f"### pytest-xgen: {len(rows)} transfer check(s): {counts['pass']} pass, "
        f"{counts['fail']} fail, {counts['inconclusive']} inconclusive",
        "",
    ]
    if "comparison" in doc:
        lines += _gate(doc["comparison"])
    if rows:
        header = ["test", "base", "xfer", "lift", "acc", "verdict", "calls", "cost"]
        right = {1, 2, 3, 4, 6, 7}
        if len(rows) <= OPEN_ROWS:
            lines += [*_table(header, rows, right), ""]
        else:
            # Long: what did not pass stays open (when it is short), everything folds.
            open_rows = [r for r in rows if r[5] != _MARK["pass"]]
            if open_rows and len(open_rows) <= OPEN_ROWS:
                lines += [*_table(header, open_rows, right), ""]
            table = _table(header, rows, right)
            lines += [*_fold(f"All {len(rows)} transfer checks", table, fold=True), ""]
    lines += _interventions(doc)
    lines.append(_totals(doc))
    return "\n".join(lines) + "\n"


def _interventions(doc: dict[str, Any]) -> list[str]:
    """A tally of the interventions and mirrored questions, and each that did not pass."""
    from pytest_xgen.report.terminal import INTERVENTIONS

    found = [
        (test["nodeid"], check)
        for test in doc["tests"]
        for check in test["checks"]
        if check["kind"] in INTERVENTIONS
    ]
    if not found:
        return []
    counts = {v: sum(c["verdict"] == v for _, c in found) for v in ("pass", "fail", "inconclusive")}
    lines = [
        f"Interventions: {len(found)} check(s): {counts['pass']} pass, {counts['fail']} fail, "
        f"{counts['inconclusive']} inconclusive.",
        "",
    ]
    failed = [
        f"- {code(nodeid)} {text(check['kind'].replace('_', ' '))}: {_MARK[check['verdict']]}: "
        f"{code(check.get('summary', ''))}"
        for nodeid, check in found
        if check["verdict"] != "pass"
    ]
    return [*lines, *failed, ""] if failed else lines
