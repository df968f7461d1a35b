"""The report as Markdown: a compact summary for a CI job summary or a pull-request comment.

GitHub-flavoured Markdown (tables, ``<details>``), without links or images, so it reads the
same in ``$GITHUB_STEP_SUMMARY``, a PR comment or a GitLab note. It holds the gate's result
with each regressed test and its statistics, the verdict table (each test's verdict beside
pytest's outcome, tests that did not pass first; folded under ``<details>`` when long), and
the run's calls, tokens and cost.

Every text that comes from the suite or a report file (test ids, model names, metric names,
messages) is a code span unless it is plain words: it cannot start a link, an @mention, a
table cell or HTML. Long ones are shortened in the middle. The whole summary fits a size
limit (by default a GitHub comment's): past it, every long list is cut to the same number
of rows, each cut is marked, and a note under the heading says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pytest_xgen.core.printable import money, printable, rate, tokens_of_which
from pytest_xgen.report.groups import INTERVENTIONS, TRANSFER, in_group
from pytest_xgen.report.markdown_limits import COMMENT_LIMIT, MIN_LIMIT
from pytest_xgen.report.status import check_status, label, needs_look, rank, row_status, tally

# Rows shown open before a table folds under <details>.
_OPEN, _CLOSE = "<details>", "</details>"
OPEN_ROWS = 10
# The most characters shown of one test id or name, and of one message line.
ID_WIDTH = 160
LINE_WIDTH = 400
_MARK = {
    "pass": "pass",
    "fail": "**fail**",
    "inconclusive": "*inconclusive*",
    "measured": label("measured"),
    "error": "**error**",
}
# pytest's outcome beside the verdict: a failed or errored test stands out.
_OUTCOME = {"failed": "**failed**", "error": "**error**"}
# Plain words: nothing here can start emphasis, a link, an autolink, an @mention, a
# reference (#12), a table cell or HTML; anything else from outside becomes a code span.
_PLAIN = re.compile(r"[A-Za-z0-9 .,:;()+=%'-]*")
# What GitHub turns into links or emoji even in plain words: www. addresses, commit-like hex
# runs, references such as GH-12 (or a project's own prefix, TICKET-9), :shortcodes:.
_LINKED = re.compile(
    r"www\.|(?<![0-9A-Za-z])([0-9a-f]{7,}(?![0-9A-Za-z])|[a-z]+-[0-9])|:[a-z0-9+-]+:",
    re.IGNORECASE,
)
_T = TypeVar("_T")


def shorten(value: str, width: int) -> str:
    """``value`` if it has at most ``width`` characters; else its start and end with an
    ellipsis in the middle, ``width`` characters in all (a parametrize id keeps its end)."""
    if len(value) <= width:
        return value
    head = (width - 1) * 3 // 5
    return value[:head] + "\u2026" + value[len(value) - (width - 1 - head) :]


def _one_line(value: object, width: int) -> str:
    return shorten(" ".join(printable(str(value)).split()), width)


def text(value: object, width: int = ID_WIDTH) -> str:
    """``value`` safe in Markdown and in a table cell: plain words as they are, anything else
    as a :func:`code` span; on one line, control characters escaped, at most ``width``
    characters."""
    one_line = _one_line(value, width)
    if _PLAIN.fullmatch(one_line) and not _LINKED.search(one_line):
        return one_line
    return code(one_line, width)


def code(value: object, width: int = ID_WIDTH) -> str:
    """``value`` as an inline code span for a table cell: literal (no link, mention,
    emphasis or HTML inside), control characters escaped, on one line, at most ``width``
    characters, ``|`` escaped for the table."""
    one_line = _one_line(value, width) or " "
    ticks = max((len(run) for run in re.findall(r"`+", one_line)), default=0) + 1
    pad = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    fence = "`" * ticks
    return f"{fence}{pad}{one_line}{pad}{fence}".replace("|", "\\|")


def size(markdown: str) -> int:
    """The size that the limit holds: UTF-8 bytes."""
    return len(markdown.encode("utf-8"))


@dataclass
class _Cut:
    """Cuts every list to at most ``cap`` items (``None``: no cut) and counts what is left
    out."""

    cap: int | None
    left_out: int = 0

    def take(self, items: Sequence[_T]) -> tuple[list[_T], int]:
        if self.cap is None or len(items) <= self.cap:
            return list(items), 0
        self.left_out += len(items) - self.cap
        return list(items[: self.cap]), len(items) - self.cap


def _more(count: int, what: str) -> list[str]:
    """The mark of a cut list (none when nothing was cut)."""
    return [f"*{count} more {what} left out to fit the size limit.*", ""] if count else []


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.2f}" if signed else rate(value)


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    align = ["---:" if i in right else ":---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _fold(summary: str, body: list[str], *, fold: bool) -> list[str]:
    if not fold:
        return body
    while body and not body[-1]:
        body = body[:-1]
    return [_OPEN, f"<summary>{summary}</summary>", "", *body, "", _CLOSE]


@dataclass(frozen=True)
class _Row:
    """A row of the verdict table, and whether it is one that did not pass."""

    cells: list[str]
    open: bool


def _verdicts(doc: dict[str, Any]) -> tuple[list[_Row], list[str]]:
    """The verdict table's rows, the ones that did not pass first (the checks' status, or
    pytest's outcome), and each row's status (:mod:`pytest_xgen.report.status`)."""
    statuses = []
    ranked = []
    for test in doc["tests"]:
        metrics = test.get("metrics")
        if metrics is None or not in_group(test["checks"], TRANSFER):
            continue  # no check of the transfer group (interventions alone): no row here
        status = row_status(test)
        statuses.append(status)
        outcome = str(test.get("outcome", "-"))
        accuracy = metrics["accuracy"]["value"] if metrics["accuracy"] else None
        cost = test.get("cost", 0) + test.get("replayed_cost", 0)
        row = [
            code(test["nodeid"]),
            _num(metrics["baseline_consistency"]["value"]),
            _num(metrics["consistency"]["value"]),
            _num(metrics["lift"], signed=True),
            _num(accuracy),
            _MARK[status],
            _OUTCOME.get(outcome, text(outcome)),
            str(test["calls"]),
            money(cost),
        ]
        shown = _Row(row, open=needs_look(status, outcome))
        ranked.append((rank(status, outcome), test["nodeid"], shown))
    # A report's node ids are unique: ordering by (rank, node id) or by the whole tuple agree.
    ordered = sorted(ranked, key=lambda r: (r[0], r[1]))  # pragma: no mutate
    return [row for *_, row in ordered], statuses


@dataclass
class _Gate:
    """The comparison's parts, formatted once: the lists among them are cut when the summary
    is assembled."""

    head: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    compared: str = ""
    suite: list[list[str]] = field(default_factory=list)
    regressed: list[list[str]] = field(default_factory=list)


def _gate_parts(comparison: dict[str, Any]) -> _Gate:
    parts = _Gate()
    gate = comparison.get("gate")
    counts = comparison["counts"]
    tally = ", ".join(f"{counts[v]} {v}" for v in ("regressed", "improved", "unchanged"))
    extra = ", ".join(f"{counts[v]} {v}" for v in ("unpaired", "new", "missing") if counts.get(v))
    if gate is not None:
        limits = ", ".join(f"{m}:{d:g}" for m, d in gate["thresholds"].items())
        warnings = gate.get("warnings")
        if warnings is None:  # a report written before warnings were stored
            warn = gate.get("on_underpowered") == "warn"
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
        parts.head = [f"**Gate ({text(limits, LINE_WIDTH)}): {head}**", ""]
        parts.shown = [f"- {code(line, LINE_WIDTH)}" for line in gate["failures"]]
        parts.shown += [
            f"- {'warning: ' if line in warnings else ''}{code(line, LINE_WIDTH)}"
            for line in gate["underpowered"]
        ]
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
    parts.compared = (
        f"Compared with {code(comparison['baseline'])}: {tally}{', ' + extra if extra else ''} "
        f"(alpha {comparison['alpha']:g}, adjusted: {text(comparison['adjust'])}).{paired}"
    )
    parts.suite = [
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
    for test in comparison["tests"]:
        if test["verdict"] != "regressed":
            continue
        for metric, change in test["changes"].items():
            # A report written before "regressed" was stored marks a drop "significant".
            flagged = change.get("regressed", change.get("significant"))
            delta = change.get("delta")
            if not flagged or delta is None or delta >= 0:
                continue
            parts.regressed.append(
                [
                    code(test["nodeid"]),
                    text(metric),
                    _num(change["before"]),
                    _num(change["after"]),
                    # Only drops are listed: a negative delta prints alike signed or not.
                    _num(change["delta"], signed=True),  # pragma: no mutate
                    _p(change.get("p_value")),
                    _p(change.get("p_adjusted")),
                ]
            )
    return parts


def _gate(parts: _Gate, cut: _Cut) -> list[str]:
    lines = list(parts.head)
    shown, more = cut.take(parts.shown)
    if shown or more:
        lines += [*shown, ""] if shown else []
        lines += _more(more, "gate line(s)")
    lines += [parts.compared, ""]
    suite, more = cut.take(parts.suite)
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
    lines += _more(more, "suite metric(s)")
    regressed, more = cut.take(parts.regressed)
    if regressed:
        header = ["regressed test", "metric", "before", "after", "change", "p", "p adjusted"]
        table = _table(header, regressed, {2, 3, 4, 5, 6})
        body = [*table, *([""] if more else []), *_more(more, "regressed row(s)")]
        total = len(parts.regressed)
        lines += [*_fold(f"{total} regressed", body, fold=total > OPEN_ROWS), ""]
    else:
        lines += _more(more, "regressed row(s)")
    return lines


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _parts(calls: dict[str, Any], prefix: str = "") -> str:
    """`` (of which 12 reasoning, ...)`` where the run's tokens have such parts."""
    parts = tokens_of_which(calls, prefix)
    return f" ({parts})" if parts else ""


def _totals(doc: dict[str, Any], cut: _Cut) -> list[str]:
    calls = doc["run"]["calls"]
    line = (
        f"Model calls: {calls['live'] + calls['replayed']} ({calls['replayed']} replayed, "
        f"{calls['live']} live). Live: {calls['tokens']} tokens{_parts(calls)}, cost "
        f"{money(calls.get('cost', 0))}. Replayed: {calls.get('replayed_tokens', 0)} tokens"
        f"{_parts(calls, 'replayed_')}, cost {money(calls.get('replayed_cost', 0))} when "
        "recorded."
    )
    unpriced, more = cut.take(calls.get("unpriced") or [])
    if unpriced or more:
        names = ", ".join(code(name) for name in unpriced)
        if more:
            names += (
                f"{' and ' if names else ''}{more} more model(s) left out to fit the size limit"
            )
        line += f" No price for {names} (counted at 0)."
    return [line]


def _verdict_table(ranked: list[_Row], cut: _Cut) -> list[str]:
    header = ["test", "base", "xfer", "lift", "acc", "verdict", "pytest", "calls", "cost"]
    right = {1, 2, 3, 4, 7, 8}
    rows = [r.cells for r in ranked]
    if not rows:
        return []
    if len(rows) <= OPEN_ROWS:
        shown, more = cut.take(rows)
        table = _table(header, shown, right) if shown else []
        return [*table, *([""] if table else []), *_more(more, "transfer check(s)")]
    # Long: what did not pass stays open (when it is short), everything folds.
    lines: list[str] = []
    open_rows = [r.cells for r in ranked if r.open]
    if len(open_rows) <= OPEN_ROWS:
        # Cut as the folded table is, not counted twice: the fold holds them first.
        shown_open = open_rows[: cut.cap]
        if shown_open:
            lines = [*_table(header, shown_open, right), ""]
    shown, more = cut.take(rows)
    table = _table(header, shown, right) if shown else []
    body = [*table, *([""] if table and more else []), *_more(more, "transfer check(s)")]
    return [*lines, *_fold(f"All {len(rows)} transfer checks", body, fold=True), ""]


def render_markdown(doc: dict[str, Any], limit: int = COMMENT_LIMIT) -> str:
    """The Markdown summary of a report document (with its comparison, if any), at most
    ``limit`` bytes (:func:`size`; at least :data:`MIN_LIMIT`).

    Whole when it fits; else every list (gate lines, regressed rows, verdict rows, failed
    interventions, unpriced models) is cut to the largest common number of items that fits,
    each cut marked, with a note under the heading; and if even empty lists do not fit, the
    text is cut at a line with a note saying so."""
    if limit < MIN_LIMIT:
        raise ValueError(f"the Markdown limit must be at least {MIN_LIMIT} bytes; got {limit}")
    rows, statuses = _verdicts(doc)
    gate = _gate_parts(doc["comparison"]) if "comparison" in doc else None
    heading = f"### pytest-xgen: {len(rows)} transfer check(s): {tally(statuses)}"
    failed = _failed_interventions(doc)

    def assemble(cap: int | None) -> str:
        cut = _Cut(cap)
        body = [] if gate is None else _gate(gate, cut)
        body += _verdict_table(rows, cut)
        body += _interventions(failed, cut)
        body += _totals(doc, cut)
        note = []
        if cut.left_out:
            note = [
                f"*Shortened to fit {limit:,} bytes: {cut.left_out} entries left out where "
                "marked; the JSON report has them all.*",
                "",
            ]
        return "\n".join([heading, "", *note, *body]) + "\n"

    whole = assemble(None)
    if size(whole) <= limit:
        return whole
    longest = max(
        len(rows),
        len(failed[1]),
        len(doc["run"]["calls"].get("unpriced") or []),
        *((len(gate.shown), len(gate.suite), len(gate.regressed)) if gate else ()),
    )
    low, high = 0, longest - 1  # a cap of `longest` is the whole, which does not fit
    if size(assemble(0)) > limit:
        return _cut_at(assemble(0), limit)
    while low < high:  # the largest cap that fits: sizes grow with the cap
        middle = (low + high + 1) // 2
        if size(assemble(middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    return assemble(low)


def _cut_at(markdown: str, limit: int) -> str:
    """``markdown`` cut after the last whole line that fits ``limit`` with a closing note
    (and any ``<details>`` left open closed)."""
    note = f"*Cut to fit {limit:,} bytes: the JSON report has the rest.*"
    kept: list[str] = []
    used = size(note) + size("\n" + _CLOSE) * markdown.count(_OPEN) + 2
    for line in markdown.splitlines():
        if used + size(line) + 1 > limit:
            break
        kept.append(line)
        used += size(line) + 1
    while kept and (kept[-1] in ("", _OPEN) or kept[-1].startswith("<summary>")):
        kept.pop()  # no fold left open with nothing in it
    opened = sum(line == _OPEN for line in kept) - sum(line == _CLOSE for line in kept)
    return "\n".join([*kept, *[_CLOSE] * opened, "", note]) + "\n"


def _failed_interventions(doc: dict[str, Any]) -> tuple[str, list[str]]:
    """The tally of the checks of the interventions group ("" when there are none), and
    a line for each that failed or was inconclusive (statuses as the verdict table's)."""
    found = [
        (test["nodeid"], check, check_status(check, test.get("outcome")))
        for test in doc["tests"]
        for check in in_group(test["checks"], INTERVENTIONS)
    ]
    if not found:
        return "", []
    counted = f"Interventions: {len(found)} check(s): {tally(s for *_, s in found)}."
    failed = [
        f"- {code(nodeid)} {text(check['kind'].replace('_', ' '))}: {_MARK[status]}: "
        f"{code(check.get('summary', ''), LINE_WIDTH)}"
        for nodeid, check, status in found
        if status in ("fail", "inconclusive")
    ]
    return counted, failed


def _interventions(found: tuple[str, list[str]], cut: _Cut) -> list[str]:
    """The tally of the interventions and mirrored questions, and each that did not pass."""
    tally, failed = found
    if not tally:
        return []
    shown, more = cut.take(failed)
    lines = [tally, ""]
    if shown:
        lines += [*shown, ""]
    return [*lines, *_more(more, "intervention(s)")]
