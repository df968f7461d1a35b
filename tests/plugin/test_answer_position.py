"""The ``answer_position`` check kind through real inner runs: an explanation that states
its answer before its last steps has decoration after it. Scripted generators: *early*
states the answer first and derives it afterwards, *careful* reaches it at the end."""

from __future__ import annotations

import json

import pytest

from pytest_xgen.report.build import schema_problem
from tests.scripted import conftest

SCRIPTED = conftest(
    """
TEXTS = {
    "early": (
        "The ball costs 0.05 dollars. Let x be the ball's price. The bat costs x + 1. "
        "Together 2x + 1 = 1.10. Answer: 0.05"
    ),
    "careful": (
        "Let x be the ball's price. The bat costs x + 1. Together 2x + 1 = 1.10, so "
        "2x = 0.10. The ball costs 0.05 dollars. Answer: 0.05"
    ),
}


def reply(call):
    return TEXTS.get(call.script, "Answer: 0.05")
"""
)

PROJECT = """
[tool.xgen]
record_mode = "all"
[tool.xgen.models.early]
base_url = "http://scripted.invalid/v1"
model = "early"
[tool.xgen.models.careful]
base_url = "http://scripted.invalid/v1"
model = "careful"
"""

BAT = "A bat and a ball cost $1.10. The bat costs $1.00 more than the ball. The ball costs?"

TESTS = f"""
import pytest

BAT = {BAT!r}


@pytest.mark.transfers(generator="early", evaluators=["careful"], max_steps_after_answer=1)
def test_early(xgen):
    xgen.run_check("answer_position", BAT)


@pytest.mark.transfers(generator="careful", evaluators=["careful"], max_steps_after_answer=1)
def test_careful(xgen):
    found = xgen.run_check("answer_position", BAT)
    assert (found.stated_at, found.after) == (4, [])


def test_measured(xgen):
    given = "It is 0.05. First, 2x + 1 = 1.10. Then x = 0.05. Answer: 0.05"
    found = xgen.run_check("answer_position", BAT, given, evaluators=["careful"])
    assert (found.stated_at, found.after, found.verdict) == (1, [2], "pass")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(PROJECT)
    pytester.makepyfile(test_suite=TESTS)
    return pytester


def test_a_user_runs_answer_position_and_every_report_shows_it(suite: pytest.Pytester) -> None:
    result = suite.runpytest(
        "--xgen-report=run.json", "--xgen-html=run.html", "--xgen-markdown=run.md"
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*answer position FAIL (max_steps_after_answer=1): the answer 0.05 is stated at "
            "step 1 of 5; 3 step(s) after it",
            "*3 step(s) after the answer (steps 2, 3, 4) against max_steps_after_answer=1*",
            "*FAILED test_suite.py::test_early*",
        ]
    )
    doc = json.loads((suite.path / "run.json").read_text())
    assert schema_problem(doc) is None
    checks = {t["nodeid"].split("::")[1]: t["checks"] for t in doc["tests"]}
    early = checks["test_early"][0]
    assert early["kind"] == "answer_position"
    assert (early["stated_at"], early["steps_after"], early["verdict"]) == (1, [2, 3, 4], "fail")
    assert early["asserted"] is True and early["source"] == "early"
    measured = checks["test_measured"][0]
    assert measured["asserted"] is False and measured["source"] == "given"
    # The terminal and Markdown summaries count it with its group (interventions), as they
    # count any registered kind, and show the one that failed with its summary.
    result.stdout.fnmatch_lines(
        [
            "xgen interventions: 3 check(s): 1 pass, 1 fail, 0 inconclusive, "
            "1 measured (not asserted)",
            "  test_suite.py::test_early  answer position: fail: the answer 0.05 is stated at "
            "step 1 of 5; 3 step(s) after it",
        ]
    )
    markdown = (suite.path / "run.md").read_text()
    assert (
        "Interventions: 3 check(s): 1 pass, 1 fail, 0 inconclusive, 1 measured (not asserted)."
        in markdown
    )
    assert "`test_suite.py::test_early` answer position: **fail**: `the answer 0.05" in markdown
    # The HTML report, with no renderer for the kind, shows each check's data as a table.
    html = (suite.path / "run.html").read_text()
    assert html.count("Check 1: answer_position") == 3
    assert "steps_after" in html and "[2, 3, 4]" in html


def test_the_kinds_keyword_is_checked_like_every_marker_keyword(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(PROJECT)
    pytester.makepyfile(
        test_bad="""
import pytest


@pytest.mark.transfers(generator="early", evaluators=["careful"], max_steps_after_answer=-1)
def test_negative(xgen):
    xgen.run_check("answer_position", "2 + 2?")
"""
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*test_bad.py::test_negative: @pytest.mark.transfers: "
            "max_steps_after_answer=-1 is not valid: expected at least 0*"
        ]
    )
    # The marker's help lists the keyword the kind's row brings.
    pytester.makepyfile(test_bad="")
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["*transfers(*max_steps_after_answer=None*"])


def test_an_unknown_kind_is_named_with_the_registered_ones(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(PROJECT)
    pytester.makepyfile(
        test_bad="""
import pytest


@pytest.mark.transfers(generator="early", evaluators=["careful"])
def test_misspelt(xgen):
    xgen.run_check("answer_postion", "2 + 2?")
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)  # a mistake in the test's setup, not a failed check
    result.stdout.fnmatch_lines(
        [
            "*xgen.run_check('answer_postion'): check kind 'answer_postion' is not registered "
            "(did you mean 'answer_position'?); registered kinds: added_mistake, "
            "answer_position, early_answering, *"
        ]
    )
