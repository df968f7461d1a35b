"""The tutor in ``examples/tutor`` under test: a product's own explanation, prompts and
client, on the embedded models.

``xgen.patch_openai("qwen")`` routes the client the tutor builds itself to the embedded
Qwen, recorded like every other call; the checks take the tutor's explanation
(``explanation=tutor.explain``) and hand it over with the product's checker prompts
(``prompts=CHECKER_PROMPTS``).

Findings, as recorded: the tutor's explanation of the candies problem transfers (the
checkers agree 0.33 -> 0.67), and what it transfers is a mistake: its step
"12 x 4 - 12 = 48 - 12 = 36" takes Qwen to 36 in 3 of 3 samples and SmolLM in 2 of 3.
Agreement is not correctness; ``require_correct=True`` is the check that catches it.
Renamed to Alice, the tutor gets 8 right, and that explanation transfers less (0.00 ->
0.33: Qwen follows it, SmolLM does not), so the perturbation test fails on its first
renamed example.

Under perturbation, the product's own answer is what moves: ``xgen.invariant(...,
explanation=tutor.explain)`` compares the tutor's answer (and the checkers' answers given
its explanation) on each renamed prompt with the base prompt's, and finds that the tutor
answers 36 for Sara and 8 for Alice.
"""

from __future__ import annotations

import pytest
from hypothesis import given

from examples import problems as p
from examples.tutor.app import CHECKER_PROMPTS, Tutor
from pytest_xgen import TransferFailed
from pytest_xgen import strategies as xst

pytestmark = pytest.mark.transfers(prompts=CHECKER_PROMPTS, min_consistency=0.6, min_lift=0.3)


@pytest.fixture
def tutor(xgen):
    xgen.patch_openai("qwen")  # the tutor's own openai.OpenAI() goes through the recorder
    return Tutor()


def test_the_tutors_explanation_transfers_its_mistake(xgen, tutor):
    r = xgen.check(p.CANDIES, expected=8, explanation=tutor.explain)
    assert r.explanation.origin == "callable examples.tutor.app.Tutor.explain"
    assert r.explanation.answer == 36  # the tutor's wrong answer, stripped before hand-over
    assert r.transfer.breakdown.consistent_wrong == r.consistency  # every agreement is on 36


@pytest.mark.xfail(
    raises=TransferFailed, strict=True, reason="the tutor's 36 transfers, 8 is right"
)
@pytest.mark.transfers(require_correct=True)
def test_the_tutors_explanation_is_right(xgen, tutor):
    xgen.check(p.CANDIES, expected=8, explanation=tutor.explain)


@pytest.mark.xfail(
    raises=TransferFailed,
    strict=True,
    reason="renamed to Alice, the tutor's explanation is right (8) but SmolLM does not follow it",
)
@pytest.mark.transfers(max_examples=3)
@given(prompt=xst.perturbed(p.CANDIES, xst.renamed()))
def test_the_tutor_explains_renamed_problems_alike(xgen, tutor, prompt):
    # Each renamed problem gets the tutor's own explanation of it, and must transfer as well.
    # See it: make demo ARGS="--runxfail -k renamed"
    xgen.check(prompt, expected=8, explanation=tutor.explain)


@pytest.mark.xfail(
    raises=TransferFailed,
    strict=True,
    reason="the tutor answers 36 for Sara and 8 for Alice: its answer depends on a name",
)
@pytest.mark.transfers(max_examples=3)
@given(prompt=xst.perturbed(p.CANDIES, xst.renamed(pool=["Alice"])))
def test_the_tutors_answer_survives_renaming(xgen, tutor, prompt):
    # The product under perturbation: the tutor explains the base and each drawn prompt,
    # its answer must not change, nor the checkers' answers given its explanation. The
    # base prompt is only the reference, so its wrong 36 does not end the search.
    # See it: make demo ARGS="--runxfail -k survives"
    xgen.invariant(p.CANDIES, prompt, expected=8, explanation=tutor.explain)
