"""The gate's tables in the Markdown summary when the size limit cuts them: the suite table
and the regressed rows each say how many rows they left out, a folded table keeps its
mark inside the fold, and a missing figure shows as ``-``."""

from __future__ import annotations

from typing import Any

from pytest_xgen.report.markdown import OPEN_ROWS, _Cut, _Gate, _gate, _gate_parts

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
