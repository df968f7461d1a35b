"""Replay misses a user can act on: the closest recorded request of the same test and model,
and a diff of how the call that missed differs from it."""

from __future__ import annotations

import pytest

from tests.helpers import fake_model
from tests.server import OpenAIServer

ONE = """
def test_one(xgen):
    assert xgen.model("echo")("What is 2+2?").text
"""


def test_a_dropped_parameter_is_named_and_diffed(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    table = f"[tool.xgen.models.echo]\n{fake_model(fake)}\n"
    pytester.makepyprojecttoml(table + "params = { temperature = 0, max_tokens = 16 }\n")
    pytester.makepyfile(test_calls=ONE)
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.makepyprojecttoml(table)  # params left out of the model's table
    replay = pytester.runpytest("--xgen-record-mode=none")
    replay.assert_outcomes(errors=1)  # a miss is an error, never a failed test
    replay.stdout.fnmatch_lines(
        [
            "*RecordingMissError: no recording for this call in replay-only mode*",
            "*The closest recording (this test, this model, in *test_calls.jsonl) differs in params:",
            "*--- recorded",
            "*+++ this call",
            "*-params.max_tokens: 16",
            "*-params.temperature: 0",
        ]
    )
    assert "Hypothesis test" not in replay.stdout.str()


HYPOTHESIS = """
from hypothesis import given, strategies as st

@given(st.integers(0, 10**6))
def test_named(xgen, n):
    answer = xgen.model("echo")(f"Tom has {n} apples and buys 4 more. How many?").text
    assert answer.endswith("How many?"), EXPECTED
"""


def test_an_edited_hypothesis_test_says_why_it_draws_other_examples(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    pytester.makepyprojecttoml(
        f"[tool.xgen.models.echo]\n{fake_model(fake)}\nparams = {{ temperature = 0 }}\n"
    )
    pytester.makepyfile(test_named="EXPECTED = 8\n" + HYPOTHESIS)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    recorded = fake.calls
    # The same test, one edit later: expected=8 becomes expected=4 + 4.
    pytester.makepyfile(
        test_named="EXPECTED = 4 + 4\n" + HYPOTHESIS.replace("EXPECTED", "(EXPECTED)")
    )
    replay = pytester.runpytest("-p", "no:randomly", "--xgen-record-mode=none")
    replay.assert_outcomes(errors=1)
    assert fake.calls == recorded
    text = replay.stdout.str()
    assert "The closest recording (this test, this model, in" in text
    assert "differs in messages" in text
    assert "-messages[0] user: " in text and "+messages[0] user: " in text
    assert (
        "This is a Hypothesis test: its examples come from a seed made from the test's source"
        in text
    )


def test_a_mapped_model_is_named_with_what_runs_in_its_place(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    tables = (
        f"[tool.xgen.models.echo]\n{fake_model(fake)}\n"
        f"[tool.xgen.models.echo2]\n{fake_model(fake, model='echo2')}\n"
    )
    pytester.makepyprojecttoml(tables)
    pytester.makepyfile(test_calls=ONE)
    # Progress lines of live calls name the model the test asks for and the one answering.
    live = pytester.runpytest("--xgen-model-map", "echo=echo2", "-p", "no:randomly")
    live.assert_outcomes(passed=1)
    live.stdout.fnmatch_lines(["xgen: live call 1 of test_calls.py::test_one (echo\u2192echo2*)"])
    pytester.makepyfile(test_calls=ONE.replace("2+2", "3+3"))
    replay = pytester.runpytest("--xgen-model-map", "echo=echo2", "--xgen-record-mode=none")
    replay.assert_outcomes(errors=1)
    replay.stdout.fnmatch_lines(
        [
            "*RecordingMissError: no recording for this call in replay-only mode "
            "(--xgen-record-mode=none): test test_calls.py::test_one, model 'echo\u2192echo2', "
            "prompt 'What is 3+3?'*"
        ]
    )
