"""Summaries that agree with pytest: each row has pytest's outcome beside the checks' verdict,
a check nothing asserted reads "measured, not asserted" (no pass or fail), and a test that
stopped on an error is counted as an error, not as a failed check; alike in the terminal,
the Markdown summary, the HTML report and the JSON report."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from pytest_xgen.cli import main as xgen
from tests.helpers import pinned
from tests.plugin.test_reports import WORSE, load
from tests.plugin.test_transfer import SCRIPTED, TOM, models

# Evaluator b answers 6 given the explanation where a answers 7: consistency 0, below
# min_consistency=0.9, so the thresholds give "fail"; at 0.0 they give "pass".
SUITE = """
import pytest

MISS = {miss}
OPTIONS = dict(generator="gen", evaluators=["a", "b"], min_consistency=0.9)


def test_measured(xgen):
    r = xgen.check({tom!r}, expected=7, **OPTIONS)
    assert r.verdict == "fail"  # the thresholds fail; unmarked, nothing asserts them


@pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_consistency=0.0, min_lift=-1)
def test_failed_otherwise(xgen):
    r = xgen.check({tom!r}, expected=7)
    assert r.verdict == "pass"
    assert r.accuracy["b"] == 1.0  # fails the test: b answers 6


def test_miss(xgen):
    xgen.check({tom!r}, expected=7, **OPTIONS)
    if MISS:  # a question never recorded: a replay miss, an error of the test
        xgen.check({tom!r} + " Really?", expected=7, **OPTIONS)
"""


@pytest.fixture
def replayed(pytester: pytest.Pytester) -> tuple[pytest.Pytester, pytest.RunResult]:
    """The suite recorded, then replayed with a question added to ``test_miss``."""
    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(pinned(models(gen="transfer=7", a="baseline=7;transfer=7", b=WORSE)))
    pytester.makepyfile(test_suite=SUITE.format(miss=False, tom=TOM))
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2, failed=1)
    pytester.makepyfile(test_suite=SUITE.format(miss=True, tom=TOM))
    result = pytester.runpytest(
        "-p",
        "no:randomly",
        "--xgen-record-mode=none",
        "--xgen-report=run.json",
        "--xgen-markdown=summary.md",
        "--xgen-html=report.html",
    )
    result.assert_outcomes(passed=1, failed=1, errors=1)
    return pytester, result


TALLY = "3 transfer check(s): 1 pass, 0 fail, 0 inconclusive, 1 measured (not asserted), 1 error"


def test_the_terminal_shows_pytests_outcome_beside_each_verdict(
    replayed: tuple[pytest.Pytester, pytest.RunResult],
) -> None:
    _, result = replayed
    rows = [
        re.split(r"\s{2,}", line.strip())
        for line in result.stdout.lines
        if line.startswith(("  transfer check", "  test_suite.py"))
    ]
    assert rows == [
        ["transfer check", "base", "xfer", "lift", "acc", "verdict", "pytest"],
        ["test_suite.py::test_failed_otherwise", "0.40", "0.00", "-0.40", "0.50", "pass", "failed"],
        [
            "test_suite.py::test_measured",
            "0.40",
            "0.00",
            "-0.40",
            "0.50",
            "measured, not asserted",
            "passed",
        ],
        ["test_suite.py::test_miss", "0.40", "0.00", "-0.40", "0.50", "error", "error"],
    ]
    result.stdout.fnmatch_lines(
        [
            "xgen transfer checks: 3 test(s): 1 pass, 0 fail, 0 inconclusive, "
            "1 measured (not asserted), 1 error"
        ]
    )


def test_the_markdown_summary_shows_them_and_lists_what_pytest_failed_first(
    replayed: tuple[pytest.Pytester, pytest.RunResult], capsys: pytest.CaptureFixture[str]
) -> None:
    pytester, _ = replayed
    summary = (pytester.path / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith(f"### pytest-xgen: {TALLY}\n")
    table = [line for line in summary.splitlines() if line.startswith("| ")]
    assert table == [
        "| test | base | xfer | lift | acc | verdict | pytest | calls | cost |",
        "| :--- | ---: | ---: | ---: | ---: | :--- | :--- | ---: | ---: |",
        "| `test_suite.py::test_miss` | 0.40 | 0.00 | -0.40 | 0.50 | **error** | **error** "
        "| 21 | 0 |",
        "| `test_suite.py::test_failed_otherwise` | 0.40 | 0.00 | -0.40 | 0.50 | pass "
        "| **failed** | 21 | 0 |",
        "| `test_suite.py::test_measured` | 0.40 | 0.00 | -0.40 | 0.50 | "
        "measured, not asserted | passed | 21 | 0 |",
    ]
    assert "**fail**" not in summary
    page = MarkdownIt("gfm-like").render(summary)
    assert all(row.count("<td") == 9 for row in page.split("<tr>")[2:])
    # The same from the saved report.
    capsys.readouterr()
    run = str(pytester.path / "run.json")
    assert xgen(["report", run, "--format", "markdown", "-o", "-"]) == 0
    assert capsys.readouterr().out == summary


def test_the_html_report_shows_them(replayed: tuple[pytest.Pytester, pytest.RunResult]) -> None:
    pytester, _ = replayed
    page = (pytester.path / "report.html").read_text(encoding="utf-8")
    header = page.split('<p class="summary">')[1].split("</p>")[0]
    assert (
        "3 test(s) with transfer checks: "
        '<span class="verdict v-pass">\u2713 1 pass</span> '
        '<span class="verdict v-fail">\u2717 0 fail</span> '
        '<span class="verdict v-inconclusive">? 0 inconclusive</span> '
        '<span class="verdict v-measured">\u2013 1 measured (not asserted)</span> '
        '<span class="verdict v-error">! 1 error</span>'
    ) in header
    overview = page.split('<table class="overview">')[1].split("</table>")[0]
    rows = {
        re.search(r'title="([^"]+)"', row).group(1): row  # type: ignore[union-attr]
        for row in overview.split("<tr>")[2:]
        if 'title="test_suite.py::' in row
    }
    measured = rows["test_suite.py::test_measured"]
    assert '<span class="tag">passed</span>' in measured
    assert '<span class="verdict v-measured">\u2013 measured, not asserted</span>' in measured
    assert "v-fail" not in measured and "v-pass" not in measured
    failed = rows["test_suite.py::test_failed_otherwise"]
    assert '<span class="tag bad">failed</span>' in failed and "v-pass" in failed
    miss = rows["test_suite.py::test_miss"]
    assert '<span class="tag bad">error</span>' in miss
    assert '<span class="verdict v-error">! error</span>' in miss and "v-fail" not in miss
    # The drill-down's check says the same of the unmarked check.
    details = page.split('<details class="test"')
    (measured_details,) = [d for d in details if "test_suite.py::test_measured" in d[:400]]
    assert 'Verdict <span class="verdict v-measured">' in measured_details
    assert "v-fail" not in measured_details


def test_the_json_report_says_which_checks_were_asserted(
    replayed: tuple[pytest.Pytester, pytest.RunResult],
) -> None:
    pytester, _ = replayed
    doc = load(pytester.path / "run.json")  # valid against the schema
    tests = {t["nodeid"].split("::")[1]: t for t in doc["tests"]}
    measured, failed, miss = (
        tests[name] for name in ("test_measured", "test_failed_otherwise", "test_miss")
    )
    assert (measured["outcome"], [(c["verdict"], c["asserted"]) for c in measured["checks"]]) == (
        "passed",
        [("fail", False)],
    )
    assert (failed["outcome"], [(c["verdict"], c["asserted"]) for c in failed["checks"]]) == (
        "failed",
        [("pass", True)],
    )
    assert miss["outcome"] == "error"
    assert [c["asserted"] for c in miss["checks"]] == [False]


def test_junit_verdict_of_an_unmarked_check_is_measured(pytester: pytest.Pytester) -> None:
    """JUnit's ``xgen_verdict`` property reads as the summaries do."""
    import xml.etree.ElementTree as ET

    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(pinned(models(gen="transfer=7", a="baseline=7;transfer=7", b=WORSE)))
    pytester.makepyfile(test_suite=SUITE.format(miss=False, tom=TOM))
    pytester.runpytest("-p", "no:randomly", "--junitxml=junit.xml").assert_outcomes(
        passed=2, failed=1
    )
    cases = ET.parse(pytester.path / "junit.xml").iter("testcase")
    verdicts = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}.get(
            "xgen_verdict"
        )
        for case in cases
    }
    assert verdicts == {
        "test_measured": "measured",
        "test_failed_otherwise": "pass",
        "test_miss": "measured",
    }
