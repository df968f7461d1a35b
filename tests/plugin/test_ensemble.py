"""Sentence-level ensembling, weak steps and repair end to end: the marker, the fixture, the
recorder and the report in inner pytest runs (the algorithm itself:
tests/unit/test_ensemble.py)."""

from __future__ import annotations

import json
from fnmatch import fnmatch

import pytest

from tests.helpers import pinned
from tests.scripted import conftest

# -- end to end: the marker, the fixture, the recorder and the report -----------------------------

SCRIPTED = conftest(
    """
from pytest_xgen.core import prompts
from pytest_xgen.models.base import CompletionResult, Usage

STEPS = {
    "good": ["1. Sara starts with 12 candies.", "2. One third of 12 is 4.", "3. 12 - 4 = 8.", "Answer: 8"],
    "poor": ["1. Candies are nice.", "2. Some are red.", "3. Maybe 6.", "Answer: 6"],
}


def reply(call):
    script = call.settings
    if call.system == prompts.ELICIT_SYSTEM:
        return "\\n".join(STEPS[script["style"]])
    if call.system == prompts.TRANSFER_SYSTEM:
        # the evaluators follow the explanation when it reaches "12 - 4 = 8"; a "moon"
        # sentence confuses one of them
        if "moon" in call.user and script.get("moon") == "confused":
            value = 5
        elif "= 8" in call.user or "is 4" in call.user:
            value = 8
        else:
            value = 6 + call.sample % 2 if script.get("wobble") else 6
        return f"Working.\\nAnswer: {value}"
    return f"Answer: {script.get('baseline', '7')}"


def complete(model, prompt, params):
    script = model.settings
    if params.get("echo") and script.get("logprobs") == "no":
        return CompletionResult(text=prompt, finish_reason="length")
    if params.get("echo"):
        # the scorer: "good" sentences are unsurprising
        tokens = [prompt[:-1], prompt[-1]]
        cost = 0.5 if any(prompt.endswith(s) for s in STEPS["good"]) else 3.0
        return CompletionResult(
            text=prompt, tokens=tokens + ["\\n"], token_logprobs=[None, -cost, -0.1],
            text_offset=[0, len(prompt) - 1, len(prompt)], usage=Usage(5, 1, 6),
        )
    done = prompt.count("\\n") - 2
    steps = STEPS[script["style"]]
    if done >= len(steps):
        return CompletionResult(text="", finish_reason="stop")
    rest = "\\n".join(steps[done:])
    finish = "stop" if done == len(steps) - 1 else "length"
    return CompletionResult(text=rest, finish_reason=finish, usage=Usage(5, 5, 10))
""",
    complete=True,
)

PROJECT = """
[tool.xgen]
generator = "good"
evaluators = ["e1", "e2"]
samples = 2
[tool.xgen.models.good]
base_url = "http://scripted.invalid/v1"
model = "style=good;baseline=7"
[tool.xgen.models.poor]
base_url = "http://scripted.invalid/v1"
model = "style=poor;baseline=7"
[tool.xgen.models.e1]
base_url = "http://scripted.invalid/v1"
model = "style=good;baseline=7;moon=confused"
[tool.xgen.models.e2]
base_url = "http://scripted.invalid/v1"
model = "style=good;baseline=9;wobble=1"
[tool.xgen.models.judge]
base_url = "http://scripted.invalid/v1"
model = "style=good"
[tool.xgen.models.chatonly]
base_url = "http://scripted.invalid/v1"
model = "style=good;logprobs=no"
"""


@pytest.fixture
def scripted(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(pinned(PROJECT))
    return pytester


ENSEMBLE_TEST = """
import pytest

@pytest.mark.transfers(explanation="ensemble", generators=["poor", "good"], scorer="judge",
                       candidates=1, min_consistency=0.9, min_lift=0.5)
def test_ensembled(xgen):
    r = xgen.check("Sara has 12 candies and gives away one third. How many are left?", expected=8)
    assert r.explanation.text == "1. Sara starts with 12 candies.\\n2. One third of 12 is 4.\\n3. 12 - 4 = 8."
    assert r.ensemble.sources == ["good", "good", "good", "good"]
    assert r.ensemble.stop_reason == "answer"
    assert set(r.singles) == {"poor", "good"}
    assert r.singles["poor"].lift < r.lift == r.singles["good"].lift
"""


def test_an_ensembled_explanation_is_checked_and_compared_with_each_generator(
    scripted: pytest.Pytester,
) -> None:
    scripted.makepyfile(test_ens=ENSEMBLE_TEST)
    result = scripted.runpytest("--xgen-report=report.json", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    report = json.loads((scripted.path / "report.json").read_text())
    check = report["tests"][0]["checks"][0]
    assert check["kind"] == "transfer"
    assert check["ensemble"]["sources"] == ["good"] * 4
    assert check["ensemble"]["scorer"] == "judge"
    steps = check["ensemble"]["steps"]
    assert [c["generator"] for c in steps[0]["candidates"]] == ["poor", "good"]
    assert steps[0]["candidates"][1]["chosen"] is True
    assert {s["generator"]: s["lift"] for s in check["singles"]}["good"] == check["lift"]

    # replay: the same verdicts and not one live call
    replay = scripted.runpytest("--xgen-record-mode=none", "-p", "no:randomly")
    replay.assert_outcomes(passed=1)
    replay.stdout.fnmatch_lines(["*0 live*"])


def test_the_failure_message_shows_the_ensemble_next_to_each_generator(
    scripted: pytest.Pytester,
) -> None:
    scripted.makepyfile(
        test_ens="""
        import pytest

        @pytest.mark.transfers(explanation="ensemble", generators=["poor"], candidates=1,
                               scorer="judge", min_lift=0.9)
        def test_poor(xgen):
            xgen.check("Sara has 12 candies and gives away one third. How many are left?")
        """
    )
    result = scripted.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*explanation: ensemble of poor, scored by judge*stopped: answer*",
            "*single generators:*",
            "*poor*lift*",
        ]
    )


def test_weak_steps_and_repair_in_a_test_and_in_the_report(scripted: pytest.Pytester) -> None:
    scripted.makepyfile(
        test_weak="""
        import pytest

        PROBLEM = "Sara has 12 candies and gives away one third. How many are left?"
        TEXT = "1. Sara starts with 12 candies. 2. The moon is bright. 3. 12 - 4 = 8. Answer: 8"

        @pytest.mark.transfers(scorer="judge", generators=["good"], candidates=1)
        def test_weak(xgen):
            w = xgen.weak_steps(TEXT, PROBLEM)
            assert [s.sentence for s in w.sentences] == [
                "1. Sara starts with 12 candies.", "2. The moon is bright.", "3. 12 - 4 = 8."]
            assert w.weak == [1] and w.weakest == 1
            r = xgen.repair(TEXT, PROBLEM)
            assert r.index == 1 and r.replacement == "2. One third of 12 is 4."
            assert r.kept and r.agreement_after > r.agreement_before
        """
    )
    result = scripted.runpytest("--xgen-report=report.json", "--xgen-html=report.html")
    result.assert_outcomes(passed=1)
    report = json.loads((scripted.path / "report.json").read_text())
    kinds = [c["kind"] for c in report["tests"][0]["checks"]]
    assert kinds == ["weak_steps", "repair"]
    sentences = report["tests"][0]["checks"][0]["sentences"]
    assert [s["weak"] for s in sentences] == [False, True, False]
    html = (scripted.path / "report.html").read_text()
    assert 'class="weak weakest"' in html and "The moon is bright." in html


def test_bad_ensemble_input_is_a_clear_error(scripted: pytest.Pytester) -> None:
    scripted.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.transfers(scorer="chatonly", generators=["good"])
        def test_scorer_cannot_score(xgen):
            xgen.ensemble("2+2?")

        def test_text_without_prompt(xgen):
            xgen.weak_steps("1. Two and two. 2. Four.")

        @pytest.mark.transfers(evaluators=["e1"])
        def test_one_evaluator(xgen):
            xgen.weak_steps("1. Two and two. 2. Four.", "2+2?")
        """
    )
    result = scripted.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*scorer 'chatonly' returned no token log-probabilities*pass scorer=None*",
            "*an explanation given as text needs the problem too: pass prompt=...*",
            "*weak steps compare the agreement of evaluators, so they need at least two*",
        ]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('scorer="gemmma"', "*scorer='gemmma' names unknown model 'gemmma'; configured models:*"),
        (
            'explanation="ensembel"',
            "*explanation='ensembel' is not valid: expected one of 'single', 'ensemble'*",
        ),
        ("generators=[]", "*generators=[] is not valid: expected at least one model name*"),
        ("candidates=0", "*candidates=0 is not valid: expected at least 1*"),
    ],
)
def test_bad_ensemble_keywords_stop_the_run_at_collection(
    scripted: pytest.Pytester, marker: str, message: str
) -> None:
    scripted.makepyfile(
        test_bad=f"""
        import pytest

        @pytest.mark.transfers({marker})
        def test_it(xgen):
            xgen.ensemble("2+2?")
        """
    )
    result = scripted.runpytest("-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert any(fnmatch(line, message) for line in result.stdout.lines + result.stderr.lines)
