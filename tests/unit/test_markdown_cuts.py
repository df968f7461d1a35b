"""The gate's tables in the Markdown summary when the size limit cuts them: the suite table
and the regressed rows each say how many rows they left out, a folded table keeps its
mark inside the fold, and a missing figure shows as ``-``."""

from __future__ import annotations

from typing import Any

from pytest_xgen.report.markdown import (
    OPEN_ROWS,
    _Cut,
    _Gate,
    _gate,
    _gate_parts,
    _totals,
    _verdict_table,
    _verdicts,
)

SUITE_HEADER = [
    "| suite metric | verdict | mean change | se | tests | margin | p | 80% power at a drop of |",
    "| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: |",
]
P_NOTE = [
    "p: for a pass, of a mean drop of at least the margin; otherwise, of a mean drop "
    "beyond the margin (near 1: nothing dropped).",
    "",
]
REGRESSED_HEADER = [
    "| regressed test | metric | before | after | change | p | p adjusted |",
    "| :--- | :--- | ---: | ---: | ---: | ---: | ---: |",
]


def row(name: str) -> list[str]:
    return [name, "x", "0.90", "0.50", "-0.40", "0.010", "0.020"]


def cells(name: str) -> str:
    return "| " + " | ".join(row(name)) + " |"


def test_a_cut_suite_table_says_how_many_metrics_it_left_out() -> None:
    suite = [["consistency", *["v"] * 7], ["lift", *["w"] * 7]]
    parts = _Gate(compared="Compared.", suite=suite)
    assert _gate(parts, _Cut(1)) == [
        "Compared.",
        "",
        *SUITE_HEADER,
        "| consistency | v | v | v | v | v | v | v |",
        "",
        *P_NOTE,
        "*1 more suite metric(s) left out to fit the size limit.*",
        "",
    ]
    assert _gate(parts, _Cut(0)) == [
        "Compared.",
        "",
        "*2 more suite metric(s) left out to fit the size limit.*",
        "",
    ]


def test_cut_regressed_rows_are_counted_below_their_table() -> None:
    parts = _Gate(compared="Compared.", regressed=[row("t::a"), row("t::b")])
    assert _gate(parts, _Cut(1)) == [
        "Compared.",
        "",
        *REGRESSED_HEADER,
        cells("t::a"),
        "",
        "*1 more regressed row(s) left out to fit the size limit.*",
        "",
        "",
    ]
    assert _gate(parts, _Cut(0)) == [
        "Compared.",
        "",
        "*2 more regressed row(s) left out to fit the size limit.*",
        "",
    ]
    whole = _gate(parts, _Cut(None))
    assert whole == ["Compared.", "", *REGRESSED_HEADER, cells("t::a"), cells("t::b"), ""]


def test_a_folded_regressed_table_keeps_its_cut_mark_inside_the_fold() -> None:
    names = [f"t::{i:02}" for i in range(OPEN_ROWS + 1)]
    parts = _Gate(compared="Compared.", regressed=[row(name) for name in names])
    assert _gate(parts, _Cut(2)) == [
        "Compared.",
        "",
        "<details>",
        f"<summary>{OPEN_ROWS + 1} regressed</summary>",
        "",
        *REGRESSED_HEADER,
        cells("t::00"),
        cells("t::01"),
        "",
        f"*{OPEN_ROWS - 1} more regressed row(s) left out to fit the size limit.*",
        "",
        "</details>",
        "",
    ]


def comparison(suite: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "baseline": "main",
        "alpha": 0.05,
        "adjust": "holm",
        "counts": {"regressed": 1, "improved": 0, "unchanged": 0},
        "suite": suite,
        "tests": [{"nodeid": "t::a", "verdict": "regressed", "changes": changes}],
    }


def test_a_missing_figure_shows_as_a_dash() -> None:
    suite = {"consistency": {"verdict": "underpowered", "tests": 2, "mean_change": -0.1}}
    change = {"regressed": True, "before": None, "after": 0.5, "delta": -0.25}
    parts = _gate_parts(comparison(suite, {"lift": change}))
    assert parts.suite == [["consistency", "underpowered", "-0.10", "-", "2", "-", "-", "-"]]
    assert parts.regressed == [["`t::a`", "lift", "-", "0.50", "-0.25", "-", "-"]]


def transfer_test(nodeid: str, verdict: str = "pass", **fields: Any) -> dict[str, Any]:
    def value(v: float | None) -> dict[str, Any]:
        return {"value": v}

    return {
        "nodeid": nodeid,
        "outcome": "passed",
        "calls": 4,
        "checks": [{"kind": "transfer", "verdict": verdict}],
        "metrics": {
            "baseline_consistency": value(0.5),
            "consistency": value(0.75),
            "lift": 0.25,
            "accuracy": value(1.0),
        },
        **fields,
    }


def test_a_verdict_row_holds_what_the_test_found() -> None:
    doc = {"tests": [transfer_test("t::a", cost=0.25, replayed_cost=0.5)]}
    (row,), statuses = _verdicts(doc)
    assert row.cells == ["`t::a`", "0.50", "0.75", "+0.25", "1.00", "pass", "passed", "4", "0.75"]
    assert statuses == ["pass"] and not row.open
    bare = transfer_test("t::b", cost=0.25)
    del bare["outcome"]
    bare["metrics"]["accuracy"] = None
    (row,), _ = _verdicts({"tests": [bare]})
    # No expected answer: no accuracy; no pytest outcome stored: a dash.
    assert row.cells[4:] == ["-", "pass", "-", "4", "0.25"]
    (row,), _ = _verdicts({"tests": [transfer_test("t::c", replayed_cost=0.5)]})
    assert row.cells[-1] == "0.5"


def test_what_pytest_failed_comes_first_even_when_its_checks_passed() -> None:
    failed = transfer_test("t::z", outcome="failed")
    doc = {"tests": [transfer_test("t::a"), transfer_test("t::b", "fail"), failed]}
    rows, _ = _verdicts(doc)
    assert [r.cells[0] for r in rows] == ["`t::b`", "`t::z`", "`t::a`"]
    assert [r.open for r in rows] == [True, True, False]


VERDICT_HEADER = [
    "| test | base | xfer | lift | acc | verdict | pytest | calls | cost |",
    "| :--- | ---: | ---: | ---: | ---: | :--- | :--- | ---: | ---: |",
]


def verdict_rows(count: int, failing: int = 0) -> list[Any]:
    tests = [transfer_test(f"t::{i:02}", "fail" if i < failing else "pass") for i in range(count)]
    return _verdicts({"tests": tests})[0]


def test_a_short_verdict_table_cut_says_how_many_checks_it_left_out() -> None:
    rows = verdict_rows(OPEN_ROWS)
    table = _verdict_table(rows, _Cut(None))
    assert "<details>" not in table and table[:2] == VERDICT_HEADER
    assert len(table) == 2 + OPEN_ROWS + 1 and table[-1] == ""
    cut = _verdict_table(rows, _Cut(1))
    more = f"*{OPEN_ROWS - 1} more transfer check(s) left out to fit the size limit.*"
    assert cut == [*VERDICT_HEADER, "| " + " | ".join(rows[0].cells) + " |", "", more, ""]
    assert _verdict_table(rows, _Cut(0)) == [
        f"*{OPEN_ROWS} more transfer check(s) left out to fit the size limit.*",
        "",
    ]
    assert _verdict_table([], _Cut(None)) == []


def test_a_long_verdict_table_keeps_ten_open_rows_open() -> None:
    rows = verdict_rows(OPEN_ROWS + 2, failing=OPEN_ROWS)
    table = _verdict_table(rows, _Cut(None))
    assert table.index("<details>") == 2 + OPEN_ROWS + 1
    assert table[: 2 + OPEN_ROWS] == [
        *VERDICT_HEADER,
        *("| " + " | ".join(r.cells) + " |" for r in rows[:OPEN_ROWS]),
    ]
    assert table[-3:] == ["", "</details>", ""]
    line = "| " + " | ".join(rows[0].cells) + " |"
    cut = _verdict_table(rows, _Cut(1))
    assert cut == [
        *VERDICT_HEADER,
        line,
        "",
        "<details>",
        f"<summary>All {OPEN_ROWS + 2} transfer checks</summary>",
        "",
        *VERDICT_HEADER,
        line,
        "",
        f"*{OPEN_ROWS + 1} more transfer check(s) left out to fit the size limit.*",
        "",
        "</details>",
        "",
    ]
    assert _verdict_table(rows, _Cut(0)) == [
        "<details>",
        f"<summary>All {OPEN_ROWS + 2} transfer checks</summary>",
        "",
        f"*{OPEN_ROWS + 2} more transfer check(s) left out to fit the size limit.*",
        "",
        "</details>",
        "",
    ]
    # More than ten did not pass: none stays open, all fold.
    many = verdict_rows(OPEN_ROWS + 2, failing=OPEN_ROWS + 1)
    assert _verdict_table(many, _Cut(None))[0] == "<details>"


def test_the_totals_line_and_the_unpriced_models() -> None:
    calls = {"live": 3, "replayed": 7, "tokens": 120}
    (line,) = _totals({"run": {"calls": calls}}, _Cut(None))
    assert line == (
        "Model calls: 10 (7 replayed, 3 live). Live: 120 tokens, cost 0. Replayed: 0 tokens, "
        "cost 0 when recorded."
    )
    calls["unpriced"] = ["m1", "m2", "m3"]
    (line,) = _totals({"run": {"calls": calls}}, _Cut(None))
    assert line.endswith(" No price for `m1`, `m2`, `m3` (counted at 0).")
    (line,) = _totals({"run": {"calls": calls}}, _Cut(2))
    assert line.endswith(
        " No price for `m1`, `m2` and 1 more model(s) left out to fit the size limit "
        "(counted at 0)."
    )
    (line,) = _totals({"run": {"calls": calls}}, _Cut(0))
    assert line.endswith(
        "when recorded. No price for 3 more model(s) left out to fit the size limit (counted at 0)."
    )


def test_the_totals_name_reasoning_and_cache_tokens_only_when_a_run_has_them() -> None:
    calls = {"live": 3, "replayed": 2, "tokens": 290, "replayed_tokens": 40}
    (plain,) = _totals({"run": {"calls": calls}}, _Cut(None))
    assert "of which" not in plain
    calls |= {"reasoning_tokens": 12, "cache_write_tokens": 100, "replayed_cache_read_tokens": 9}
    (line,) = _totals({"run": {"calls": calls}}, _Cut(None))
    assert "Live: 290 tokens (of which 12 reasoning, 100 cache write), cost" in line
    assert "Replayed: 40 tokens (of which 9 cache read), cost" in line
