"""Prompt perturbations on the embedded models: Hypothesis searches for the smallest
meaning-preserving change that flips an answer, and every example's calls are recorded.

Replays are derandomized, so a fresh clone draws the same examples, shrinks along the same
path and replays every call from the committed cassette.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examples import problems as p
from examples.helpers import final_number
from pytest_xgen import TransferFailed
from pytest_xgen import strategies as xst

STEPS = "Solve step by step. End with \\boxed{answer}."


@pytest.mark.xfail(
    raises=TransferFailed,
    strict=True,
    reason="'The bus to the harbour leaves every 20 minutes.' turns Qwen's 7 apples into 10",
)
@pytest.mark.transfers(evaluators=["qwen"], samples=1, temperature=0, max_examples=8)
@given(prompt=xst.perturbed(p.APPLES, xst.distractors()))
def test_qwen_ignores_distractors(xgen, prompt):
    # Hypothesis inserts irrelevant sentences; the minimal flip it shrinks to is one
    # distractor with a number. See it: make demo ARGS="--runxfail -k distractors"
    xgen.invariant(p.APPLES, prompt, expected=7)


@settings(max_examples=5)
@given(
    problem=xst.templated(
        "Tom has {a} apples and buys {b} more. How many apples does he have?",
        answer=lambda a, b: a + b,
        a=st.integers(2, 9),
        b=st.integers(2, 9),
    )
)
def test_qwen_adds_any_small_numbers(xgen, problem):
    # Metamorphic: a family of problems whose expected answer is computed from the fields.
    prompt, expected = problem
    answer = xgen.model("qwen")(prompt, system=STEPS)
    assert final_number(answer.text) == expected, answer.text
