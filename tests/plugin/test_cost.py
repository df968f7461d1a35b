"""Cost: model prices, the cost of each call, test and run in every output, a cost budget
shared by pytest-xdist workers, and a dry run whose estimate bounds what the run makes.

The fake endpoint reports 7 prompt and 5 completion tokens per call; at 1000 per million
prompt tokens and 2000 per million completion tokens a call costs 0.017."""

from __future__ import annotations

import json

import pytest
from markdown_it import MarkdownIt

from tests.helpers import fake_model
from tests.server import OpenAIServer

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


def priced(pytester: pytest.Pytester, fake: OpenAIServer, price: str | None) -> None:
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
    pytester: pytest.Pytester, fake: OpenAIServer
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
    pytester: pytest.Pytester, fake: OpenAIServer, workers: list[str]
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


def test_a_cost_budget_needs_prices(pytester: pytest.Pytester, fake: OpenAIServer) -> None:
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
    pytester: pytest.Pytester, fake: OpenAIServer
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


# A module recorded once, then given a Hypothesis test that has no recording yet.
RECORDED = """
def test_recorded(xgen):
    assert xgen.model('echo')('question 0').text
"""
GROWN = (
    RECORDED
    + """
from hypothesis import given, strategies as st

@given(st.integers(0, 1000))
def test_new(xgen, n):
    assert xgen.model('echo')(f'count {n}').text is not None
"""
)


def test_a_dry_run_counts_the_same_calls_in_every_record_mode(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    priced(pytester, fake, PRICE)
    pytester.makepyfile(test_calls=RECORDED)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    pytester.makepyfile(test_calls=GROWN)
    made = fake.calls
    counted = {}
    for mode in ("new_episodes", "once", "none"):
        dry = pytester.runpytest(
            "--xgen-dry-run", f"--xgen-record-mode={mode}", "-rs", "-p", "no:randomly"
        )
        assert fake.calls == made
        # The recorded test replays; the new one is never PASSED on blank answers.
        dry.assert_outcomes(passed=1, skipped=1)
        counted[mode] = sum(
            x.startswith("xgen dry run:   test_calls.py::test_new ") for x in dry.stdout.lines
        )
        if mode == "new_episodes":
            dry.stdout.fnmatch_lines(["xgen dry run: at most 10 call(s) would be made live, *"])
            assert "(a miss)" not in dry.stdout.str()
        else:
            # A real run in this mode fails on these calls: the dry run says so.
            why = (
                "record mode once: the cassette *test_calls.jsonl exists, so it is taken as "
                "complete"
                if mode == "once"
                else "replay-only mode (--xgen-record-mode=none)"
            )
            dry.stdout.fnmatch_lines(
                [
                    "xgen dry run: at most 0 call(s) would be made live, *",
                    f"xgen dry run: at most 10 call(s) have no recording and would be misses, "
                    f"not made live ({why}): a real run fails on each; record them with "
                    "--xgen-record-mode=new_episodes",
                    "xgen dry run:   test_calls.py::test_new  echo  * 'count *'  (a miss)",
                    f"*dry run: 10 call(s) of this test have no recording, and record mode {mode} "
                    "would not make 10 of them live (a real run fails on a miss)*",
                ]
            )
    assert counted == {"new_episodes": 10, "once": 10, "none": 10}
    real = pytester.runpytest("--xgen-record-mode=once", "-p", "no:randomly")
    real.assert_outcomes(passed=1, errors=1)  # the misses the dry run announced


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


# -- the worst case of a call, streams, and budgets that hold --------------------------------

STREAM = """
HELLO = [{"role": "user", "content": "hello there"}]


def test_stream(xgen):
    chunks = list(xgen.client("echo").chat.completions.create(messages=HELLO, stream=True))
    # The usage the plugin asked for is not handed to an application that did not ask.
    assert chunks and all(c.choices for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks).endswith("hello there")
"""


def test_a_stream_is_asked_for_its_usage_and_priced_by_it(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    priced(pytester, fake, PRICE)
    pytester.makepyfile(test_calls=STREAM)
    live = pytester.runpytest("--xgen-report=run.json", "--xgen-max-cost=1")
    live.assert_outcomes(passed=1)
    assert fake.requests[0]["stream_options"] == {"include_usage": True}
    calls = json.loads((pytester.path / "run.json").read_text())["run"]["calls"]
    assert calls["cost"] == pytest.approx(PER_CALL) and calls["tokens"] == 12
    replay = pytester.runpytest("--xgen-record-mode=none", "--xgen-report=replay.json")
    replay.assert_outcomes(passed=1)
    calls = json.loads((pytester.path / "replay.json").read_text())["run"]["calls"]
    assert calls["replayed_cost"] == pytest.approx(PER_CALL)


BILLED_STREAM = """
def test_stream(xgen):
    stream = xgen.client("paid").chat.completions.create(
        messages=[{"role": "user", "content": "count"}], max_tokens=50, stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "tok " * 50
"""

PAID_PRICE = (1000.0, 2000.0)


def paid(pytester: pytest.Pytester, server: OpenAIServer, price: str = PRICE) -> None:
    pytester.makepyprojecttoml(
        f"""
        [tool.xgen]
        record_mode = "once"

        [tool.xgen.models.paid]
        base_url = "{server.base_url}"
        model = "paid"
        price = {price}
        """
    )


@pytest.mark.parametrize("mode", ["ignores", "rejects"])
def test_a_stream_without_usage_is_priced_by_its_text(pytester: pytest.Pytester, mode: str) -> None:
    server = OpenAIServer("billing", stream_usage=mode).start()
    try:
        paid(pytester, server)
        pytester.makepyfile(test_calls=BILLED_STREAM)
        result = pytester.runpytest("--xgen-report=run.json", "--xgen-max-cost=1")
        result.assert_outcomes(passed=1)
        assert server.calls == 1
        # An endpoint that refuses stream_options gets the stream as the application sent it.
        assert ("stream_options" in server.requests[0]) == (mode == "ignores")
        billed = server.cost(PAID_PRICE)
    finally:
        server.stop()
    cost = json.loads((pytester.path / "run.json").read_text())["run"]["calls"]["cost"]
    # 50 chunks of one token each, and the prompt's characters / 4: about what was billed.
    assert cost == pytest.approx(billed, rel=0.1) and cost >= 50 * 2000 / 1e6


WORST_CASES = """
import json

HELLO = [{"role": "user", "content": "hello there"}]
TOOLS = [{"type": "function", "function": {
    "name": "lookup", "description": "Look a word up in the dictionary. " * 150,
    "parameters": {"type": "object", "properties": {"word": {"type": "string"}}}}}]
SCHEMA = {"type": "json_schema", "json_schema": {"name": "answer", "schema": {
    "type": "object", "description": "The answer, with its reasons. " * 150}}}


def test_choices(xgen):
    xgen.client("echo").chat.completions.create(messages=HELLO, n=8, max_tokens=100)


def test_tools(xgen):
    xgen.client("echo").chat.completions.create(messages=HELLO, tools=TOOLS, max_tokens=10)


def test_schema(xgen):
    xgen.client("echo").chat.completions.create(
        messages=HELLO, response_format=SCHEMA, max_tokens=10
    )


def test_small(xgen):
    xgen.client("echo").chat.completions.create(messages=HELLO, max_tokens=100)
"""


def test_the_worst_case_counts_every_choice_and_every_schema(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    # 8 choices of 100 tokens at 2000 per million: 1.6; 5,000 characters of a tool or
    # response-format schema: over 1,000 prompt tokens at 1000 per million, over 1.0.
    priced(pytester, fake, PRICE)
    pytester.makepyfile(test_calls=WORST_CASES)
    result = pytester.runpytest("--xgen-max-cost=1", "-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=3)
    result.stdout.fnmatch_lines(
        [
            "E *BudgetExhaustedError: the cost budget of 1.00 (--xgen-max-cost) is spent: 0 "
            "spent or set aside, and this call may cost 1.6* (~* prompt + 800 completion "
            "tokens): test test_calls.py::test_choices*",
            "E *BudgetExhaustedError: * this call may cost 1.* prompt + 10 completion tokens): "
            "test test_calls.py::test_tools*",
            "E *BudgetExhaustedError: * this call may cost 1.* prompt + 10 completion tokens): "
            "test test_calls.py::test_schema*",
        ]
    )
    assert fake.calls == 1  # test_small's


@pytest.mark.parametrize("value", ["1e300", "inf", "nan", "-1", "1e10"])
def test_a_budget_out_of_range_is_a_usage_error(
    pytester: pytest.Pytester, fake: OpenAIServer, value: str
) -> None:
    priced(pytester, fake, PRICE)
    pytester.makepyfile(test_calls=CALLS)
    result = pytester.runpytest(f"--xgen-max-cost={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*xgen: --xgen-max-cost: max cost must be a number from 0 to 1e+09; got '{value}'*"]
    )
    assert fake.calls == 0
    pytester.makeini(f"[pytest]\nxgen_max_cost = {value}\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*xgen_max_cost*max cost must be a number from 0 to 1e+09*"])


def test_a_price_past_any_budget_refuses_the_call_clearly(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    # The dearest price a model table takes, and a call that may take ten million tokens:
    # 1e13, past what a count of billionths in a 64-bit integer holds.
    priced(pytester, fake, "{ input = 1e12, output = 1e12 }")
    pytester.makepyfile(
        test_calls="""
def test_long(xgen):
    xgen.client("echo").chat.completions.create(
        messages=[{"role": "user", "content": "go on"}], max_tokens=10_000_000
    )
"""
    )
    result = pytester.runpytest("--xgen-max-cost=1000000")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*BudgetExhaustedError: the cost budget of 1000000.00 (--xgen-max-cost) is spent: "
            "0 spent or set aside, and this call may cost 100000*"
        ]
    )
    assert "TypeError" not in result.stdout.str() and fake.calls == 0


BILLED_SUITE = """
import pytest

TOOLS = [{"type": "function", "function": {
    "name": "lookup", "description": "Look a word up in the dictionary. " * 60,
    "parameters": {"type": "object", "properties": {"word": {"type": "string"}}}}}]


def ask(i):
    return [{"role": "user", "content": f"question {i}"}]


@pytest.mark.parametrize("i", range(6))
def test_stream(xgen, i):
    stream = xgen.client("paid").chat.completions.create(
        messages=ask(i), max_tokens=200, stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream)


@pytest.mark.parametrize("i", range(4))
def test_choices(xgen, i):
    r = xgen.client("paid").chat.completions.create(messages=ask(i), n=4, max_tokens=100)
    assert len(r.choices) == 4


@pytest.mark.parametrize("i", range(4))
def test_tools(xgen, i):
    xgen.client("paid").chat.completions.create(messages=ask(i), tools=TOOLS, max_tokens=50)
"""


@pytest.mark.parametrize("workers", [[], ["-n", "4"]], ids=["serial", "xdist-4"])
def test_the_budget_holds_against_an_endpoint_that_bills_every_choice(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    # A stream costs 0.4, four choices 0.8, a tool schema about 0.5 more: 14 calls ask for
    # about 7.5 against a budget of 2.
    server = OpenAIServer("billing", stream_usage="honours").start()
    try:
        paid(pytester, server)
        pytester.makepyfile(test_calls=BILLED_SUITE)
        result = pytester.runpytest("--xgen-max-cost=2", "--xgen-report=run.json", *workers)
        billed = server.cost(PAID_PRICE)
        made = server.calls
    finally:
        server.stop()
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) == made and outcomes.get("errors", 0) == 14 - made
    assert 2 <= made < 14
    # Every call sets aside its worst case, which the endpoint bills to within a token of
    # the prompt: the budget holds (the promise is the budget and one call's estimate).
    assert billed <= 2.0 + 0.01
    reported = json.loads((pytester.path / "run.json").read_text())["run"]["calls"]["cost"]
    assert reported == pytest.approx(billed)
