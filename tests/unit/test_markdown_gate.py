"""The Markdown summary of a comparison: the gate's head line in each outcome, the suite
table, the regressed tests, and the cut of a summary past its limit, on constructed runs."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_xgen.report.gate import compare, gate
from pytest_xgen.report.markdown import OPEN_ROWS, _cut_at, _p, render_markdown, size
from tests.helpers import golden
from tests.unit.test_compare import metrics, report


def compared(
    before: dict[str, Any],
    after: dict[str, Any],
    thresholds: dict[str, float] | None,
    on_underpowered: str = "warn",
) -> dict[str, Any]:
    """AFTER's report with the comparison, as ``xgen compare --markdown`` writes it."""
    comparison = compare(before, after, thresholds=thresholds)
    result = None if thresholds is None else gate(comparison, on_underpowered)
    data = {"baseline": "main", **comparison.to_dict()}
    data["gate"] = None if result is None else result.to_dict()
    return {**after, "comparison": data}


def runs() -> tuple[dict[str, Any], dict[str, Any]]:
    before = report(
        {
            "t::down": metrics(14, 15, accuracy=(28, 30)),
            "t::up": metrics(3, 15),
            "t::new_explanation": metrics(10, 15, explanations=("b",)),
            "t::same": metrics(10, 15),
            "t::gone": metrics(10, 15),
        }
    )
    after = report(
        {
            "t::down": metrics(3, 15, accuracy=(10, 30)),
            "t::up": metrics(15, 15),
            "t::new_explanation": metrics(11, 15, explanations=("c",)),
            "t::same": metrics(10, 15),
            "t::added": metrics(10, 15),
        }
    )
    after["run"]["calls"].update(replayed=7, live=3, tokens=120, cost=0.25, replayed_cost=0.5)
    return before, after


def test_a_failed_gate_in_the_summary() -> None:
    before, after = runs()
    summary = render_markdown(compared(before, after, {"consistency": 0.05, "lift": 0.1}))
    golden("gate-unit.md", summary)


@pytest.mark.parametrize(
    ("gate_data", "head", "listed"),
    [
        (
            {"result": "fail", "failures": ["f"], "underpowered": [], "warnings": []},
            "failed: a drop beyond DELTA shown",
            ["- `f`"],
        ),
        (
            {"result": "inconclusive", "failures": [], "underpowered": ["u"], "warnings": []},
            "inconclusive: a drop beyond DELTA not ruled out (fails the run)",
            ["- `u`"],
        ),
        (
            {"result": "pass", "failures": [], "underpowered": ["u", "v"], "warnings": ["u", "v"]},
            "passed with 2 warning(s): no drop beyond DELTA shown, none ruled out",
            ["- warning: `u`", "- warning: `v`"],
        ),
        (
            {"result": "pass", "failures": [], "underpowered": [], "warnings": []},
            "passed: a drop beyond DELTA ruled out",
            [],
        ),
        # Written before warnings were stored: the underpowered lines warned unless strict.
        (
            {"result": "pass", "failures": [], "underpowered": ["u"], "on_underpowered": "warn"},
            "passed with 1 warning(s): no drop beyond DELTA shown, none ruled out",
            ["- warning: `u`"],
        ),
        (
            {"result": "pass", "failures": [], "underpowered": ["u"], "on_underpowered": "fail"},
            "passed: a drop beyond DELTA ruled out",
            ["- `u`"],
        ),
        (
            {"result": "pass", "failures": [], "underpowered": ["u"]},
            "passed: a drop beyond DELTA ruled out",
            ["- `u`"],
        ),
    ],
)
def test_the_gate_s_head_line_and_list(
    gate_data: dict[str, Any], head: str, listed: list[str]
) -> None:
    doc = report({"t::a": metrics(10, 15)})
    doc["comparison"] = {
        "baseline": "main",
        "alpha": 0.05,
        "adjust": "holm",
        "counts": {"regressed": 0, "improved": 0, "unchanged": 1},
        "tests": [],
        "suite": {},
        "gate": {"thresholds": {"consistency": 0.05, "lift": 0.1}, **gate_data},
    }
    lines = render_markdown(doc).splitlines()
    start = lines.index(f"**Gate (consistency:0.05, lift:0.1): {head}**")
    assert lines[start + 1] == ""
    if listed:
        assert lines[start + 2 : start + 2 + len(listed)] == listed
        assert lines[start + 2 + len(listed)] == ""
        start += len(listed) + 1
    assert lines[start + 2] == (
        "Compared with `main`: 0 regressed, 0 improved, 1 unchanged (alpha 0.05, adjusted: holm)."
    )


def test_the_comparison_line_counts_what_was_not_compared() -> None:
    doc = report({"t::a": metrics(10, 15)})
    doc["comparison"] = {
        "baseline": "main",
        "alpha": 0.1,
        "adjust": "bh",
        "counts": {"regressed": 1, "improved": 2, "unchanged": 3, "unpaired": 4, "new": 0},
        "pairing": {"paired": 3, "compared": 3},
        "tests": [],
        "suite": {},
        "gate": None,
    }
    summary = render_markdown(doc)
    assert (
        "Compared with `main`: 1 regressed, 2 improved, 3 unchanged, 4 unpaired (alpha 0.1, "
        "adjusted: bh). 3 of 3 compared test(s) read the same explanation in both runs (tested "
        "one by one).\n"
    ) in summary
    assert "**Gate" not in summary
    doc["comparison"]["counts"].update(new=5, missing=6)
    doc["comparison"]["pairing"] = {"paired": 0, "compared": 0}
    assert (
        "3 unchanged, 4 unpaired, 5 new, 6 missing (alpha 0.1, adjusted: bh).\n"
        in render_markdown(doc)
    )


def test_many_regressed_tests_fold() -> None:
    names = [f"t::{i:02}" for i in range(OPEN_ROWS + 1)]
    before = report({name: metrics(15, 15) for name in names})
    after = report({name: metrics(0, 15) for name in names})
    summary = render_markdown(compared(before, after, {"consistency": 0.05}))
    fold = summary.split(f"<summary>{OPEN_ROWS + 1} regressed</summary>")
    assert len(fold) == 2 and fold[0].endswith("<details>\n")
    assert fold[1].startswith("\n\n| regressed test | metric |")
    assert fold[1].count("| `t::") == OPEN_ROWS + 1
    # Ten fit open.
    before = report({name: metrics(15, 15) for name in names[:OPEN_ROWS]})
    after = report({name: metrics(0, 15) for name in names[:OPEN_ROWS]})
    assert "<details>" not in render_markdown(compared(before, after, {"consistency": 0.05}))


@pytest.mark.parametrize(
    ("p", "shown"),
    [(None, "-"), (0.5, "0.500"), (0.001, "0.001"), (0.000999, "<0.001"), (0.0, "<0.001")],
)
def test_p_values_in_the_tables(p: float | None, shown: str) -> None:
    assert _p(p) == shown


TEXT = "### h\n\n<details>\n<summary>s</summary>\n\nrow 1\nrow 2\n\n</details>\n\nend\n"
NOTE = "*Cut to fit {:,} bytes: the JSON report has the rest.*"


def test_a_summary_cut_at_a_line_keeps_its_folds_closed() -> None:
    # Kept free: the note, a closing tag per fold of the whole text, and the blank line
    # before the note.
    reserve = size(NOTE.format(100)) + size("\n</details>") + 2
    opened = "### h\n\n<details>\n<summary>s</summary>\n\n"
    first = reserve + size(opened + "row 1\n")
    assert _cut_at(TEXT, first) == f"{opened}row 1\n</details>\n\n{NOTE.format(first)}\n"
    # A byte less: the fold would hold nothing, so it is left out whole.
    assert _cut_at(TEXT, first - 1) == f"### h\n\n{NOTE.format(first - 1)}\n"
    second = reserve + size(opened + "row 1\nrow 2\n")
    assert _cut_at(TEXT, second) == (f"{opened}row 1\nrow 2\n</details>\n\n{NOTE.format(second)}\n")
    assert _cut_at(TEXT, second - 1) == _cut_at(TEXT, first).replace(str(first), str(second - 1))
    # A fold closed in the text needs no closing tag; everything fits.
    whole = reserve + size(TEXT)
    assert _cut_at(TEXT, whole) == f"{TEXT}\n{NOTE.format(whole)}\n"
    assert _cut_at(TEXT, whole - 1).endswith("</details>\n\n" + NOTE.format(whole - 1) + "\n")
    for limit in range(100, whole + 1):
        assert size(_cut_at(TEXT, limit)) <= limit
    two = "<details>\n<summary>a</summary>\n\nx\n\n<details>\n<summary>b</summary>\n\ny\n"
    assert _cut_at(two, 10_000) == f"{two}</details>\n</details>\n\n{NOTE.format(10_000)}\n"


def suite_row(verdict: str, **fields: Any) -> dict[str, Any]:
    return {
        "verdict": verdict,
        "mean_change": -0.01,
        "standard_error": 0.02,
        "tests": 3,
        "margin": 0.05,
        "p_regressed": 0.9,
        "p_noninferior": 0.02,
        "detectable_drop": 0.12,
        **fields,
    }


def change_data(**fields: Any) -> dict[str, Any]:
    return {
        "before": 0.9,
        "after": 0.5,
        "delta": -0.4,
        "p_value": 0.01,
        "p_adjusted": 0.02,
        **fields,
    }


def test_the_suite_and_regressed_tables_of_any_report() -> None:
    doc = report({"t::a": metrics(10, 15)})
    long_line = "t::a: " + "x" * 300
    doc["comparison"] = {
        "baseline": "main",
        "alpha": 0.05,
        "adjust": "holm",
        "counts": {"regressed": 2, "improved": 0, "unchanged": 0},
        "suite": {
            "consistency": suite_row("pass", gated=True),
            "lift": suite_row("regressed", gated=False),
            "accuracy": suite_row("underpowered"),  # written before "gated" was stored
            "follow": suite_row("underpowered", tests=0),
        },
        "tests": [
            {
                "nodeid": "t::a",
                "verdict": "regressed",
                "changes": {
                    "consistency": change_data(regressed=False, significant=True),
                    "lift": change_data(regressed=True, delta=-0.25),
                    "accuracy": change_data(significant=True),  # before "regressed"
                    "explanation": change_data(significant=True, delta=0.0),
                    "follow": change_data(significant=True, delta=None),
                },
            },
            {
                "nodeid": "t::b",
                "verdict": "improved",
                "changes": {"lift": change_data(regressed=True)},
            },
        ],
        "gate": {
            "result": "fail",
            "thresholds": {"consistency": 0.05},
            "failures": [long_line],
            "underpowered": [],
            "warnings": [],
        },
    }
    lines = render_markdown(doc).splitlines()
    assert f"- `{long_line}`" in lines  # a gate line is shortened at 400 characters, not 160
    assert "| consistency | pass | -0.01 | 0.02 | 3 | 0.05 | 0.020 | 0.12 |" in lines
    assert "| lift | regressed (not gated) | -0.01 | 0.02 | 3 | 0.05 | 0.900 | 0.12 |" in lines
    assert "| accuracy | underpowered | -0.01 | 0.02 | 3 | 0.05 | 0.900 | 0.12 |" in lines
    assert not any(line.startswith("| follow |") for line in lines)
    rows = [line for line in lines if line.startswith("| `t::")]
    assert rows == [
        "| `t::a` | lift | 0.90 | 0.50 | -0.25 | 0.010 | 0.020 |",
        "| `t::a` | accuracy | 0.90 | 0.50 | -0.40 | 0.010 | 0.020 |",
    ]


def test_a_cut_gate_list_says_how_many_lines_it_left_out() -> None:
    from pytest_xgen.report.markdown import _Cut, _Gate, _gate

    parts = _Gate(head=["**Gate**", ""], shown=["- a", "- b"], compared="Compared.")
    assert _gate(parts, _Cut(0)) == [
        "**Gate**",
        "",
        "*2 more gate line(s) left out to fit the size limit.*",
        "",
        "Compared.",
        "",
    ]
    assert _gate(parts, _Cut(1)) == [
        "**Gate**",
        "",
        "- a",
        "",
        "*1 more gate line(s) left out to fit the size limit.*",
        "",
        "Compared.",
        "",
    ]
    assert _gate(_Gate(compared="Compared."), _Cut(None)) == ["Compared.", ""]


def test_each_open_fold_is_closed_and_kept_free() -> None:
    two = "<details>\n<summary>a</summary>\n\nx\n\n<details>\n<summary>b</summary>\n\ny\n"
    reserve = size(NOTE.format(100)) + 2 * size("\n</details>") + 2
    assert _cut_at(two, reserve + size(two)) == (
        f"{two}</details>\n</details>\n\n{NOTE.format(reserve + size(two))}\n"
    )
    less = reserve + size(two) - 1
    assert _cut_at(two, less) == (
        f"<details>\n<summary>a</summary>\n\nx\n</details>\n\n{NOTE.format(less)}\n"
    )
