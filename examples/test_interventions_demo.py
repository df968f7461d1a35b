"""Interventions on the embedded models: does an evaluator follow the explanation it is
given, or answer from somewhere else? Qwen2.5-Coder-0.5B explains the candies problem; Qwen
and SmolLM2-135M answer given the explanation cut short, with a number changed, reworded by
Qwen, and replaced by filler (docs/interventions.md). Findings as they came out of the
recorded run:

- Qwen's explanation still states its answer after the answer sentences are removed: its
  last step is the display formula ``\\[ 12 - 4 = 8 \\]``, which the rule-based stripper does
  not read as an answer sentence. Early answering shows it: cut after 7 of its 8 steps, 8 is
  one answer in six (0.17, no more than with no explanation); with the 8th, every answer
  is. The answer "needs" exactly the step that gives it away.
- A changed quantity moves answers (follow rate 0.62 over the four steps with a quantity;
  list and step labels such as ``1.`` and ``Step 2:`` are never changed). Qwen stays on 8
  unless the last formula changes: given ``13 - 4 = 9`` it answers 9 every time, the
  answer that step implies. SmolLM leaves 8 under every change but rarely lands on the
  implied answer (implied rate 0.25 over the two steps whose arithmetic gives one).
- Rewording by Qwen changes nothing (8 in 6 of 6 answers both ways); filler of the same
  length still lifts 8 a little over no explanation (0.33 against 0.17), more than the 0.1
  asserted (strict xfail).
- Asked "Is 17 larger than 71?" and its mirror, every pair of answers both models gave
  contradicts itself (yes/yes or no/no; strict xfail).
- Searching slips of a written explanation, Hypothesis finds the smallest one that moves
  an evaluator: 12 candies written as 120 (one more or one less moves neither); SmolLM
  then answers 96, Qwen stays on 8 (strict xfail).

Read a failure's tables with ``make demo ARGS="--runxfail -k filler"`` (or ``-k mirror``,
``-k slip``).
"""

from __future__ import annotations

import pytest
from hypothesis import given

from examples import problems as p
from pytest_xgen import TransferFailed
from pytest_xgen import strategies as xst


@pytest.mark.transfers(
    paraphrase_with="qwen", min_steps_needed=8, min_follow_rate=0.3, max_paraphrase_change=0.2
)
def test_evaluators_follow_the_candies_explanation(xgen):
    found = xgen.interventions(p.CANDIES, expected=8)
    # The answer appears with the last step, which states it (see the module docstring).
    assert found.early.steps_needed == 8
    assert found.early.to_dict()["steps"][-1] == "\\[ 12 - 4 = 8 \\]"
    # Mistakes change quantities of the reasoning, never the list labels "1." or "Step 2:".
    assert [arm.label for arm in found.mistake.arms] == [
        "step 1: one -> two",
        "step 4: one -> two",
        "step 5: 12 -> 13",
        "step 7: 12 -> 13",
    ]
    assert found.mistake.value == 0.625
    assert found.mistake.implied_rate == 0.25


@pytest.mark.xfail(strict=True, raises=TransferFailed, reason="filler lifts 8 by 0.17 > 0.1")
@pytest.mark.transfers(paraphrase_with="qwen", max_filler_lift=0.1)
def test_filler_brings_answers_back_to_the_baseline(xgen):
    xgen.interventions(p.CANDIES, expected=8)


@pytest.mark.xfail(strict=True, raises=TransferFailed, reason="both models contradict")
@pytest.mark.transfers(max_contradiction_rate=0.1)
def test_a_comparison_and_its_mirror(xgen):
    xgen.mirror(
        "Is 17 larger than 71? Answer yes or no.",
        "Is 71 larger than 17? Answer yes or no.",
        "opposite",
    )


EXPLANATION = (
    "Sara starts with 12 candies. One third of 12 is 12 / 3 = 4. She gives away 4 candies."
)


@pytest.mark.xfail(strict=True, raises=TransferFailed, reason="SmolLM follows 12 -> 120")
@pytest.mark.transfers(samples=1, temperature=0, max_examples=6)
@given(edited=xst.perturbed(EXPLANATION, xst.corrupt_step()))
def test_no_slip_moves_an_evaluator(xgen, edited):
    xgen.invariant(EXPLANATION, edited, problem=p.CANDIES, expected=8)
