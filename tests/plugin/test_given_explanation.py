"""A transfer check on an explanation the project made: a text, or a callable that makes one
for each prompt. Evaluators here follow whatever explanation they are handed (they answer its
last number), so the verdict shows that the given explanation, and not the plugin's
generator, reached them."""

from __future__ import annotations

import json

import pytest

from tests.helpers import pinned
from tests.scripted import conftest

FOLLOWERS = conftest(
    """
import re

from pytest_xgen.core import prompts


def reply(call):
    if call.system == prompts.ELICIT_SYSTEM:
        raise AssertionError("the plugin's generator was asked for an explanation")
    if call.system == prompts.TRANSFER_SYSTEM:
        given = call.messages[1]["content"].split("Explanation:", 1)[1]
        numbers = re.findall(r"\\d+", given)
        return f"Following it.\\nAnswer: {numbers[-1] if numbers else 0}"
    # the baseline: a and b never guess alike
    return f"Answer: {5 + (call.sample + (call.model == 'b')) % 3}"
"""
)

MODELS = "\n".join(
    f'[tool.xgen.models.{name}]\nbase_url = "http://scripted.invalid/v1"\nmodel = "{name}"\n'
    for name in ("a", "b")
)
TOM = "Tom has 3 apples and buys 4 more. How many apples does he have?"
MINE = "Tom starts with 3 apples. He buys 4 more: 3 + 4 = 7. Answer: 7"


@pytest.fixture
def followers(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(FOLLOWERS)
    # No generator configured at all: a given explanation needs none.
    pytester.makepyprojecttoml(pinned('evaluators = ["a", "b"]\n' + MODELS))
    return pytester


def test_a_text_explanation_is_stripped_and_transfers(followers: pytest.Pytester) -> None:
    followers.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(min_consistency=0.8, min_lift=0.5)
        def test_mine(xgen):
            r = xgen.check({TOM!r}, expected=7, explanation={MINE!r})
            assert r.verdict == "pass" and r.consistency == 1.0
            assert r.explanation.origin == "given"
            assert r.explanation.answer == 7.0
            assert r.explanation.stripped.removed == ("Answer: 7",)
            assert r.explanation.text == "Tom starts with 3 apples. He buys 4 more: 3 + 4 = 7."
    """)
    result = followers.runpytest("--xgen-report=run.json")
    result.assert_outcomes(passed=1)
    # 2 evaluators x 5 samples x 2 conditions; no generator call.
    result.stdout.fnmatch_lines(["*xgen: 20 model calls: 0 replayed, 20 live*"])
    check = json.loads((followers.path / "run.json").read_text())["tests"][0]["checks"][0]
    assert check["explanation"]["origin"] == "given"
    assert check["explanation"]["output"] == MINE
    assert check["options"]["explanation"] == "given"
    replay = followers.runpytest("--xgen-record-mode=none")
    replay.assert_outcomes(passed=1)


def test_a_marker_gives_a_fixed_explanation_that_can_fail(followers: pytest.Pytester) -> None:
    """An explanation that leads nowhere (its last number is not the answer, and the
    evaluators follow it) is a failed transfer check with the usual message."""
    followers.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(explanation="Count the apples. There are 2 kinds.", min_lift=0.2)
        def test_fixed(xgen):
            xgen.check({TOM!r}, expected=7, require_correct=True)
    """)
    result = followers.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*TransferFailed: transfer check FAIL*",
            "*explanation given to the check answers 2 (expected 7: wrong); 0 answer "
            "sentence(s) removed by rules",
        ]
    )


def test_a_callable_explains_each_prompt_with_the_products_code(
    followers: pytest.Pytester,
) -> None:
    followers.makepyfile(
        tutor="""
        import re

        SEEN = []

        def explain(problem):
            SEEN.append(problem)
            a, b = map(int, re.findall(r"\\d+", problem)[:2])
            return f"Start with {a}. Add {b}: {a} + {b} = {a + b}. Answer: {a + b}"
    """
    )
    followers.makepyfile(
        test_tutor=f"""
        import pytest
        import tutor

        @pytest.mark.transfers(explanation=tutor.explain, min_consistency=0.8, min_lift=0.5)
        @pytest.mark.parametrize("a, b", [(3, 4), (10, 5)])
        def test_tutor(xgen, a, b):
            prompt = {TOM!r}.replace("3", str(a)).replace("4", str(b))
            r = xgen.check(prompt, expected=a + b)
            assert r.explanation.origin == "callable tutor.explain"
            assert r.explanation.generator == "tutor.explain"
            assert tutor.SEEN[-1] == prompt
    """
    )
    result = followers.runpytest("--xgen-report=run.json")
    result.assert_outcomes(passed=2)
    report = json.loads((followers.path / "run.json").read_text())
    options = [t["checks"][0]["options"]["explanation"] for t in report["tests"]]
    assert options == ["callable tutor.explain"] * 2


@pytest.mark.parametrize(
    ("explanation", "message"),
    [
        (
            "lambda prompt: None",
            "explanation=test_bad.test_bad.<locals>.<lambda> returned None for the prompt; "
            "it must return the explanation as a non-empty text",
        ),
        ("lambda prompt: '  '", "<lambda> returned '  ' for the prompt"),
        (
            "3",
            "explanation=3 is not valid: expected one of 'single', 'ensemble', an "
            "explanation's text (more than one word), or a callable taking the prompt",
        ),
        ("''", "explanation='' is not valid"),
        ("'singel'", "explanation='singel' is not valid: expected one of 'single', 'ensemble'"),
        ("'ensembel'", "or a callable taking the prompt (did you mean 'ensemble'?)"),
    ],
)
def test_an_unusable_explanation_is_a_clear_error(
    followers: pytest.Pytester, explanation: str, message: str
) -> None:
    followers.makepyfile(
        test_bad=f"""
        def test_bad(xgen):
            xgen.check({TOM!r}, explanation={explanation})
    """
    )
    result = followers.runpytest()
    result.assert_outcomes(errors=1)
    assert message in result.stdout.str()
    result.stdout.no_fnmatch_line("*Traceback*pytest_xgen*")
