"""Cost: model prices, the cost of each call, test and run in every output, a cost budget
shared by pytest-xdist workers, and a dry run whose estimate bounds what the run makes.

The fake endpoint reports 7 prompt and 5 completion tokens per call; at 1000 per million
prompt tokens and 2000 per million completion tokens a call costs 0.017."""

from __future__ import annotations

import json

import pytest
from markdown_it import MarkdownIt

from tests.fakeserver import FakeOpenAI
from tests.helpers import fake_model

PER_CALL = 0.017

CALLS = """
def test_0(xgen):
    assert xgen.model('echo')('question 0').text.endswith('question 0')

def test_1(xgen):
    assert xgen.model('echo')('question 1').text.endswith('question 1')

def test_2(xgen):
    for i in range(2):
        assert xgen.model('echo')(f'question 2.{i}').text.endswith(f'2.{i}')
"""


def priced(pytester: pytest.Pytester, fake: FakeOpenAI, price: str | None) -> None:
    line = f"price = {price}" if price else ""
    pytester.makepyprojecttoml(
        f"""
        [tool.xgen]
        record_mode = "once"

        [tool.xgen.models.echo]
        {fake_model(fake)}
        params = {{ temperature = 0, max_tokens = 16 }}
        {line}
        """
    )


PRICE = "{ input = 1000, output = 2000 }"


def test_costs_per_call_test_and_run_in_every_output(
    pytester: pytest.Pytester, fake: FakeOpenAI
) -> None:
    priced(pytester, fake, PRICE)
    pytester.makepyfile(test_calls=CALLS)
    live = pytester.runpytest(
        "--xgen-report=run.json", "--xgen-markdown=run.md", "--xgen-html=run.html", "-v"
    )
    live.assert_outcomes(passed=3)
    live.stdout.fnmatch_lines(
        [
            "*xgen: live call 1 of test_calls.py::test_0 (echo, cost 0.017)*",
            "*xgen: 4 model calls: 0 replayed, 4 live (48 tokens, cost 0.068)",
            "*xgen: model calls and cost per test:",
            "*xgen:      2     0.034  test_calls.py::test_2",
            "*xgen:      1     0.017  test_calls.py::test_0",
        ]
    )
    doc = json.loads((pytester.path / "run.json").read_text())
    assert doc["run"]["calls"]["cost"] == pytest.approx(4 * PER_CALL)
    assert doc["run"]["calls"]["replayed_cost"] == 0 and doc["run"]["calls"]["unpriced"] == []
    by_test = {t["nodeid"]: t for t in doc["tests"]}
    assert by_test["test_calls.py::test_2"]["cost"] == pytest.approx(2 * PER_CALL)
    assert "cost 0.068" in (pytester.path / "run.md").read_text()
    page = (pytester.path / "run.html").read_text()
    assert "0.068" in page and "cost" in page.lower()

    # A replay costs nothing now, and says what its calls took when they were recorded.
    replay = pytester.runpytest("--xgen-record-mode=none", "--xgen-report=replay.json")
    replay.assert_outcomes(passed=3)
    replay.stdout.fnmatch_lines(
        [
            "*xgen: 4 model calls: 4 replayed, 0 live (0 tokens, cost 0); the replayed calls "
            "took 48 tokens (cost 0.068) when recorded"
        ]
    )
    calls = json.loads((pytester.path / "replay.json").read_text())["run"]["calls"]
    assert (calls["cost"], calls["replayed_tokens"]) == (0, 48)
    assert calls["replayed_cost"] == pytest.approx(4 * PER_CALL)
    md = MarkdownIt("gfm-like").render((pytester.path / "run.md").read_text())
    assert "Live: 48 tokens, cost 0.068." in md


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_the_cost_budget_is_shared_and_never_exceeded(
    pytester: pytest.Pytester, fake: FakeOpenAI, workers: list[str]
) -> None:
    priced(pytester, fake, PRICE)
    pytester.makepyfile(
        test_calls="\n".join(
            f"def test_{i}(xgen):\n    assert xgen.model('echo')('question {i}').text\n"
            for i in range(8)
        )
    )
    budget = 0.1
    result = pytester.runpytest(f"--xgen-max-cost={budget}", "--xgen-report=run.json", *workers)
    made = fake.calls
    # Each call sets aside what it may cost (16 completion tokens, the prompt's characters / 4)
    # before it is made: the spent cost never passes the budget.
    assert 1 <= made < 8
    result.assert_outcomes(passed=made, errors=8 - made)
    result.stdout.fnmatch_lines(
        ["*BudgetExhaustedError: the cost budget of 0.1 (--xgen-max-cost) is spent*"]
    )
    doc = json.loads((pytester.path / "run.json").read_text())
    assert doc["run"]["calls"]["cost"] == pytest.approx(made * PER_CALL)
    assert doc["run"]["calls"]["cost"] <= budget
    # What was made is kept: a rerun with a larger budget makes only the rest.
    again = pytester.runpytest("--xgen-max-cost=1", "--xgen-record-mode=new_episodes", *workers)
    again.assert_outcomes(passed=8)
    assert fake.calls == 8


def test_a_cost_budget_needs_prices(pytester: pytest.Pytester, fake: FakeOpenAI) -> None:
    priced(pytester, fake, None)
    pytester.makepyfile(test_calls=CALLS)
    result = pytester.runpytest("--xgen-max-cost=5")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*model 'echo' has no price, so a cost budget (--xgen-max-cost) cannot hold*"
            "Add price = { input = ..., output = ... }*"
        ]
    )
    assert fake.calls == 0
    bad = pytester.runpytest("--xgen-max-cost=-1")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR


HYPOTHESIS = """
from hypothesis import given, strategies as st

@given(st.integers(0, 1000))
def test_passes(xgen, n):
    assert xgen.model('echo')(f'count {n}').text is not None

@given(st.integers(0, 1000))
def test_fails_and_shrinks(xgen, n):
    assert n < 500 or not xgen.model('echo')(f'big {n}').text
"""


def test_a_dry_run_estimate_bounds_the_run_and_shows_no_verdicts(
    pytester: pytest.Pytester, fake: FakeOpenAI
) -> None:
    priced(pytester, fake, PRICE)
    pytester.makepyfile(test_calls=NO_STOP, test_hyp=HYPOTHESIS)
    dry = pytester.runpytest("--xgen-dry-run", "-rs", "-p", "no:randomly")
    assert fake.calls == 0
    text = dry.stdout.str()
    assert "live call" not in text and "transfer check" not in text
    line = next(x for x in dry.stdout.lines if "call(s) would be made live" in x)
    assert line.startswith("xgen dry run: at most ") and "estimated cost" in line
    estimate = int(line.split("at most ")[1].split(" ")[0])
    # Every example of a Hypothesis test counts (10 by default), not the first one only.
    dry.stdout.fnmatch_lines(
        [
            "*test_hyp.py::test_fails_and_shrinks: * each shrink step makes at most 1 more*",
            "*test_hyp.py::test_passes: 10 Hypothesis example(s), every one counted*",
        ]
    )
    real = pytester.runpytest("-p", "no:randomly", "-k", "not fails")
    real.assert_outcomes(passed=4)
    planned_here = sum(
        1
        for x in dry.stdout.lines
        if x.startswith(("xgen dry run:   test_hyp.py::test_passes ", "xgen dry run:   test_calls"))
    )
    assert fake.calls == planned_here <= estimate  # exact where no example fails

    # The failing Hypothesis test shrinks: each of its live calls has a line of its own.
    shrinking = pytester.runpytest(
        "-p", "no:randomly", "-k", "fails", "--xgen-record-mode=new_episodes"
    )
    shrinking.assert_outcomes(failed=1)
    progress = [x for x in shrinking.stdout.lines if x.startswith("xgen: live call ")]
    assert len(progress) > 2 and len(set(progress)) == len(progress)

    # A test that asserts on an answer before its next call stops at the blank answer: the
    # dry run says the count is a floor and names it.
    pytester.makepyfile(test_midway=MIDWAY)
    floor = pytester.runpytest("--xgen-dry-run", "-rs", "-p", "no:randomly", "test_midway.py")
    floor.stdout.fnmatch_lines(
        [
            "*xgen dry run: at least 1 call(s) would be made live*",
            "*xgen dry run: 1 test(s) stopped at a blank answer, so their later calls are not "
            "counted: test_midway.py::test_two_steps",
            "*dry run: 1 call(s) of this test would be made live or more (it stopped at a blank answer*",
        ]
    )


# Tests whose assertions hold on blank answers: a dry run counts every call they make.
NO_STOP = """
def test_0(xgen):
    xgen.model('echo')('question 0')

def test_1(xgen):
    assert xgen.model('echo')('question 1').text is not None

def test_2(xgen):
    answers = [xgen.model('echo')(f'question 2.{i}').text for i in range(2)]
    assert len(answers) == 2
"""

MIDWAY = """
def test_two_steps(xgen):
    first = xgen.model('echo')('first step').text
    assert first.endswith('first step')
    assert xgen.model('echo')('second step').text
"""
