"""How a product's answer is read, end to end: a tutor (its own ``openai.OpenAI()`` client and
system prompt, routed by ``xgen.patch_openai``) ends its explanation with an answer written
as a sentence, and one follower answers the number the explanation leads to. With one
evaluator the follower is compared with the explanation's answer, so reading the sentence's
answer wrong fails a check whose product is right."""

from __future__ import annotations

import pytest

from tests.helpers import pinned
from tests.scripted import conftest

CONFTEST = conftest(
    """
from pytest_xgen.core import prompts

import tutor


def reply(call):
    if call.model == "tutor":
        assert call.system == tutor.TUTOR_SYSTEM, "the tutor's model got another prompt"
        return tutor.REPLY
    if call.system == prompts.TRANSFER_SYSTEM:
        return "Following the steps: 5 x 6 = 30.\\nAnswer: 30"
    return tutor.GUESS  # without the explanation the follower guesses
""",
    usage=(5, 3, 8),
)

TUTOR = """
import openai

TUTOR_SYSTEM = "You are a maths tutor. Number your steps. End with `Answer: <number>`."
REPLY = {reply!r}
GUESS = {guess!r}
ANSWER_LINE = REPLY.splitlines()[-1]


def explain(problem):
    client = openai.OpenAI(api_key="unused")
    reply = client.chat.completions.create(
        model="tutor-v1",
        messages=[{{"role": "system", "content": TUTOR_SYSTEM}}, {{"role": "user", "content": problem}}],
        temperature=0,
    )
    return reply.choices[0].message.content
"""

MODELS = "\n".join(
    f'[tool.xgen.models.{name}]\nbase_url = "http://scripted.invalid/v1"\nmodel = "{name}"\n'
    for name in ("tutor", "follower")
)

TEST = """
import pytest

import tutor

PENCILS = "A box holds 6 pencils. How many pencils are in 5 boxes?"


@pytest.mark.transfers(evaluators=["follower"], samples=3, min_consistency=0.8)
def test_pencils(xgen):
    xgen.patch_openai("tutor")
    r = xgen.check(PENCILS, expected=30, explanation=tutor.explain)
    assert r.explanation.answer == 30
    assert r.explanation.stripped.removed == (tutor.ANSWER_LINE,)
"""


def product(
    pytester: pytest.Pytester, reply: str, guess: str = "Some pencils.\nAnswer: 25"
) -> pytest.Pytester:
    """A project whose tutor's model replies ``reply`` and whose follower, without the
    explanation, replies ``guess``."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(tutor=TUTOR.format(reply=reply, guess=guess), test_pencils=TEST)
    pytester.makepyprojecttoml(pinned(MODELS))
    return pytester


def test_the_number_a_sentence_asserts_is_the_products_answer(
    pytester: pytest.Pytester,
) -> None:
    product(
        pytester,
        "1. Each box holds 6 pencils.\n2. 5 boxes hold 5 x 6 = 30 pencils.\n"
        "Answer: The total number of pencils in 5 boxes is 30.",
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    # The tutor's call and 1 follower x 3 samples x 2 conditions, through the recorder.
    result.stdout.fnmatch_lines(["*xgen: 7 model calls: 0 replayed, 7 live*"])
    replay = pytester.runpytest("--xgen-record-mode=none")
    replay.assert_outcomes(passed=1)


def test_an_answer_that_cannot_be_read_names_the_line_it_was_looked_for_in(
    pytester: pytest.Pytester,
) -> None:
    # No number anywhere, so no fallback reads one either.
    product(
        pytester,
        "Count the pencils box by box.\nAnswer: thirty pencils in all",
        guess="Boxes hold pencils.\nI cannot tell how many.",
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*TransferFailed: transfer check FAIL*",
            "*explanation made by tutor.explain answers ? (expected 30: wrong)*",
            '*  no number answer read from the explanation\'s line "Answer: thirty pencils in all"',
            "*(? = unparseable: 3 answer(s), left out of their pairs)",
            "*  no number answer read from follower's baseline (empty) sample 1, line "
            '"I cannot tell how many."',
        ]
    )
