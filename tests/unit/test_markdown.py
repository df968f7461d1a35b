"""The Markdown summary of a report: the demo's report against a golden file, long tables
folded, hostile test ids, model names and report fields that stay text when a Markdown
library renders them, and a summary that fits GitHub's size limits."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from pytest_xgen.report.build import schema_problem
from pytest_xgen.report.markdown import OPEN_ROWS, code, render_markdown, shorten, size, text
from pytest_xgen.report.markdown_limits import COMMENT_LIMIT, JOB_SUMMARY_LIMIT, MIN_LIMIT
from tests.helpers import golden

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "reports" / "demo.json"
RENDER = MarkdownIt("gfm-like")


def demo() -> dict:
    return json.loads(DEMO.read_text(encoding="utf-8"))


def test_the_demo_report_folds_its_long_table_and_keeps_what_failed_open() -> None:
    doc = demo()
    rendered = render_markdown(doc)
    golden("demo.md", rendered)
    page = RENDER.render(rendered)
    transfer = [t for t in doc["tests"] if t["metrics"] is not None]
    assert len(transfer) > OPEN_ROWS
    assert "<details>" in page and f"<summary>All {len(transfer)} transfer checks</summary>" in page
    # What did not pass is listed open above the fold, and again inside it.
    opened = page.split("<details>")[0]
    assert opened.count("<strong>fail</strong>") + opened.count("<em>inconclusive</em>") == (
        opened.count("<tr>") - 1
    )
    assert "<a " not in page


def test_a_short_table_is_not_folded() -> None:
    doc = demo()
    doc["tests"] = [t for t in doc["tests"] if t["metrics"] is not None][:3]
    page = RENDER.render(render_markdown(doc))
    assert "<details>" not in page and page.count("<table>") == 1


HOSTILE = [
    "t.py::test[a|b]",
    "t.py::test[`x`]",
    "t.py::test[<script>alert(1)</script>]",
    "t.py::test[[click](https://evil.invalid)]",
    "t.py::test[\x1b[31mred\x1b[0m]",
    "t.py::test[line\nbreak]",
    "t.py::test[https://evil.invalid/x and www.evil.invalid]",
    "t.py::test[**bold** _it_ ~~s~~ ![i](x.png)]",
]


def test_hostile_test_ids_stay_text_in_their_cell() -> None:
    doc = demo()
    [sample] = [t for t in doc["tests"] if t["metrics"] is not None][:1]
    doc["tests"] = [{**copy.deepcopy(sample), "nodeid": nodeid} for nodeid in HOSTILE]
    assert schema_problem(doc) is None
    rendered = render_markdown(doc)
    assert "\x1b" not in rendered and "\\x1b[31mred" in rendered
    page = RENDER.render(rendered)
    for forbidden in ("<script", "<a ", "<img", "<strong>bold", "<em>it", "<s>"):
        assert forbidden not in page
    body = page.split("<tbody>")[1]
    rows = body.split("<tr>")[1:]
    assert len(rows) == len(HOSTILE)
    assert all(r.count("<td") == 9 for r in rows)  # no "|" opened a cell


def test_text_and_code_spans() -> None:
    # Plain words stay plain; anything that could be markup, a link or a mention is code.
    assert text("regressed (not gated)") == "regressed (not gated)"
    assert text("consistency:0.05, lift:0") == "consistency:0.05, lift:0"
    assert text("a*b_c [x](y) <b> `z` | ~~") == "``a*b_c [x](y) <b> `z` \\| ~~``"
    assert RENDER.renderInline(text("*not em* [no](link)")) == "<code>*not em* [no](link)</code>"
    linked_words = ("www.evil.example", "deadbeef12", "GH-12", "TICKET-9", ":shipit:")
    for linked in ("@octocat", "a@b.example", "#12", "http://x", *linked_words):
        assert text(linked).startswith("`"), linked
    assert code("a`b") == "``a`b``" and code("`x") == "`` `x ``" and code("") == "` `"
    assert RENDER.renderInline(code("<i>x</i>")) == "<code>&lt;i&gt;x&lt;/i&gt;</code>"


def outside_code(page: str) -> str:
    """The rendered page without the contents of its code spans."""
    return re.sub(r"<code>.*?</code>", "", page, flags=re.DOTALL)


def test_every_text_field_of_a_report_stays_text() -> None:
    """Model names, metric names, the baseline's name, gate lines and limits come from a
    report file: none may become an @mention, a link or HTML."""
    doc = demo()
    hostile = "@octocat https://evil.example/login www.evil.example <b>x</b> [y](z)"
    doc["run"]["calls"]["unpriced"] = ["@octocat", "https://evil.example/login", "<img src=x>"]
    doc["comparison"] = {
        "baseline": hostile,
        "alpha": 0.05,
        "adjust": "holm",
        "counts": {"regressed": 1, "improved": 0, "unchanged": 0},
        "tests": [
            {
                "nodeid": "t.py::test_x",
                "verdict": "regressed",
                "changes": {
                    hostile: {"before": 1.0, "after": 0.0, "delta": -1.0, "regressed": True}
                },
            }
        ],
        "suite": {
            hostile: {
                "metric": hostile,
                "tests": 3,
                "margin": 0.05,
                "verdict": "regressed",
                "detectable_drop": 0.3,
                "mean_change": -0.5,
                "standard_error": 0.1,
                "p_regressed": 0.01,
            }
        },
        "gate": {
            "result": "fail",
            "thresholds": {"@octocat": 0.05},
            "failures": [hostile],
            "underpowered": [hostile],
            "warnings": [],
        },
    }
    assert schema_problem(doc) is None
    page = RENDER.render(render_markdown(doc))
    assert "<code>@octocat</code>" in page and "<code>https://evil.example/login</code>" in page
    rest = outside_code(page)
    for forbidden in ("@", "evil", "<a ", "<img", "<b>"):
        assert forbidden not in rest, forbidden


def many_tests(
    count: int, nodeid: str = "tests/regression/test_word_problems.py::test_transfer[{i:03}]"
) -> dict:
    """The demo's report with ``count`` ordinary transfer checks, the last one failing."""
    doc = demo()
    [sample] = [t for t in doc["tests"] if t["metrics"] is not None][:1]
    tests = [{**copy.deepcopy(sample), "nodeid": nodeid.format(i=i)} for i in range(count)]
    tests[-1]["checks"][0]["verdict"] = "fail"
    doc["tests"] = tests
    return doc


def folds_balance(markdown: str) -> bool:
    return markdown.count("<details>") == markdown.count("</details>")


def test_600_ordinary_tests_fit_a_pull_request_comment() -> None:
    doc = many_tests(600)
    # The helper's reports are valid (checked on a few tests: validating 600 takes seconds).
    assert schema_problem(many_tests(3)) is None
    assert size(render_markdown(doc, limit=JOB_SUMMARY_LIMIT)) > COMMENT_LIMIT  # uncut
    summary = render_markdown(doc)  # the default: a comment's limit
    assert COMMENT_LIMIT - 1_000 < size(summary) <= COMMENT_LIMIT  # cut no more than needed
    assert folds_balance(summary)
    [note] = [line for line in summary.splitlines() if line.startswith("*Shortened")]
    left_out = int(note.split(": ")[1].split(" ")[0])
    shown = summary.count("tests/regression/test_word_problems.py::test_transfer[")
    # The failed check is open above the fold and first inside it; the rest are counted.
    assert shown - 2 + left_out == 599
    assert f"*{left_out} more transfer check(s) left out to fit the size limit.*" in summary
    page = RENDER.render(summary)
    assert page.split("<details>")[0].count("<strong>fail</strong>") == 1
    # A job summary (1 MiB) holds them all.
    whole = render_markdown(doc, limit=JOB_SUMMARY_LIMIT)
    assert "Shortened" not in whole and whole.count("test_transfer[") == 601


def test_a_two_megabyte_test_id_is_shortened_in_the_middle() -> None:
    nodeid = "t.py::test_big[" + "x" * 2_000_000 + "-the-end]"
    doc = many_tests(3, nodeid=nodeid + "{i}")
    summary = render_markdown(doc)
    assert size(summary) < 5_000
    assert "`t.py::test_big[xxx" in summary and "xxx-the-end]2`" in summary
    assert shorten("a" * 10 + "b" * 10, 9) == "aaaa\u2026bbbb"
    assert shorten("short", 9) == "short"


@pytest.mark.parametrize("limit", [MIN_LIMIT, 1_500, 3_000, 10_000, COMMENT_LIMIT])
def test_the_summary_never_passes_its_limit(limit: int) -> None:
    """Whatever the report holds: long lists, long names, a gate line per test."""
    doc = many_tests(400, nodeid="t.py::" + "y" * 500 + "[{i}]")
    doc["run"]["calls"]["unpriced"] = [f"model-{i}-" + "m" * 300 for i in range(300)]
    lines = [f"t.py::test[{i}]: consistency 1.00 -> 0.00" for i in range(300)]
    doc["comparison"] = {
        "baseline": "main-" + "b" * 500,
        "alpha": 0.05,
        "adjust": "holm",
        "counts": {"regressed": 0, "improved": 0, "unchanged": 400},
        "tests": [],
        "suite": {},
        "gate": {
            "result": "fail",
            "thresholds": {f"metric{i}": 0.05 for i in range(40)},
            "failures": lines,
            "underpowered": [],
            "warnings": [],
        },
    }
    summary = render_markdown(doc, limit=limit)
    assert size(summary) <= limit
    assert folds_balance(summary)
    assert summary.startswith("### pytest-xgen: 400 transfer check(s)")
    if limit == MIN_LIMIT:  # even empty lists do not fit: cut at a line, the folds closed
        assert summary.endswith(f"\n*Cut to fit {limit:,} bytes: the JSON report has the rest.*\n")
    elif limit >= 3_000:
        assert "*Shortened to fit" in summary and "Model calls: 179" in summary


def test_a_limit_below_the_smallest_is_refused() -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_LIMIT} bytes; got 100"):
        render_markdown(demo(), limit=100)


def test_a_long_table_keeps_what_pytest_failed_open_and_measured_checks_folded() -> None:
    """Past the fold, what stays open is what did not pass in the checks or in pytest: a
    failed check, a test that errored, a passing check in a test that failed; checks nothing
    asserted are measured (no pass or fail) and fold with the passes."""
    doc = many_tests(15)  # the last check fails
    tests = doc["tests"]
    tests[0]["outcome"] = "failed"  # its check passed; the test failed on its own assert
    for test in tests[1:4]:  # unmarked: the thresholds fail, nothing asserts them
        test["checks"][0].update(verdict="fail", asserted=False)
    tests[4]["outcome"] = "error"  # stopped on a replay miss after its check
    assert schema_problem(doc) is None
    summary = render_markdown(doc)
    assert summary.startswith(
        "### pytest-xgen: 15 transfer check(s): 10 pass, 1 fail, 0 inconclusive, "
        "3 measured (not asserted), 1 error\n"
    )
    opened = summary.split("<details>")[0]
    rows = [line for line in opened.splitlines() if line.startswith("| `")]
    assert [(row.split(" | ")[0][-6:], row.split(" | ")[5:7]) for row in rows] == [
        ("[014]`", ["**fail**", "passed"]),
        ("[004]`", ["**error**", "**error**"]),
        ("[000]`", ["pass", "**failed**"]),
    ]
    folded = summary.split("<details>")[1]
    assert folded.count("| measured, not asserted | passed |") == 3
    assert folded.count("**fail**") == 1  # the asserted one


def test_interventions_nothing_asserted_are_measured_not_failed() -> None:
    """An intervention's verdict counts as pass or fail only where the test asserted it; the
    terminal and the Markdown summary tally and list them alike."""
    from pytest_xgen.report.terminal import intervention_lines

    def check(kind: str, verdict: str, asserted: bool) -> dict:
        summary = f"{kind} summary"
        return dict(
            kind=kind, prompt="p", verdict=verdict, reasons=[], summary=summary, asserted=asserted
        )

    doc = demo()
    doc["tests"] = [
        {
            "nodeid": "t.py::test_unmarked",
            "outcome": "passed",
            "checks": [
                check("early_answering", "fail", False),
                check("filler_control", "pass", False),
            ],
        },
        {
            "nodeid": "t.py::test_marked",
            "outcome": "failed",
            "checks": [check("added_mistake", "fail", True), check("mirrored", "pass", True)],
        },
        {
            "nodeid": "t.py::test_miss",
            "outcome": "error",
            "checks": [check("mirrored", "fail", True)],
        },
    ]
    tally = "5 check(s): 1 pass, 1 fail, 0 inconclusive, 2 measured (not asserted), 1 error"
    summary = render_markdown(doc)
    assert f"Interventions: {tally}." in summary
    listed = [line for line in summary.splitlines() if line.startswith("- ")]
    assert listed == ["- `t.py::test_marked` added mistake: **fail**: `added_mistake summary`"]
    tests = {t["nodeid"]: t for t in doc["tests"]}
    assert intervention_lines(tests, verbose=False) == [
        f"xgen interventions: {tally}",
        "  t.py::test_marked  added mistake: fail: added_mistake summary",
    ]
    verbose = intervention_lines(tests, verbose=True)
    assert (
        "  t.py::test_unmarked  early answering: measured, not asserted: early_answering summary"
        in verbose
    )
    assert "  t.py::test_miss  mirrored: error: mirrored summary" in verbose
