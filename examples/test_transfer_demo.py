"""Transfer checks on the embedded models: Qwen2.5-Coder-0.5B explains, Qwen and
SmolLM2-135M are the evaluators (`[tool.xgen]` in pyproject.toml sets them, with 3
samples per evaluator and condition).

These are small models, and the suite says so: the checks they pass, pass; the ones they
fail are strict ``xfail`` with the reason, so a model upgrade that fixes one shows up as
XPASS. To read a failure's explanation table, run for example::

    make demo ARGS="--runxfail -k distance"
"""

from __future__ import annotations

import pytest

from examples import problems as p
from pytest_xgen import TransferFailed


@pytest.mark.transfers(min_consistency=0.8, min_lift=0.3, require_correct=True)
def test_candies_explanation_transfers(xgen):
    # A real pass: without the explanation the two models disagree (0.33); with Qwen's
    # explanation, answer removed, both say 8, and 8 is right.
    r = xgen.check(p.CANDIES, expected=8)
    assert r.accuracy == {"qwen": 1.0, "smollm": 1.0}


@pytest.mark.transfers(min_consistency=0.5, min_lift=0.3)
def test_apples_explanation_lifts_agreement(xgen):
    r = xgen.check(p.APPLES, expected=7)
    assert r.lift >= 0.3


@pytest.mark.transfers(min_consistency=0.5, confidence=0.9, on_inconclusive="xfail")
def test_apples_with_confidence_is_inconclusive(xgen):
    # The same check asking for 90% confidence: with 3 samples the interval is too wide to
    # decide, and the verdict says "raise samples" (here as an xfail, by choice).
    xgen.check(p.APPLES, expected=7)


@pytest.mark.transfers(min_consistency=0.6)
def test_bat_and_ball_agreement_is_not_correctness(xgen):
    # The explanation makes the models agree, on a wrong answer: consistency passes, and
    # the breakdown shows every agreement is consistent-wrong.
    r = xgen.check(p.BAT, expected=0.05, tolerance=0.005)
    assert r.transfer.breakdown.consistent_wrong == r.consistency
    assert r.accuracy == {"qwen": 0.0, "smollm": 0.0}


@pytest.mark.xfail(raises=TransferFailed, strict=True, reason="the agreement is on a wrong answer")
@pytest.mark.transfers(min_consistency=0.6, require_correct=True)
def test_bat_and_ball_with_require_correct(xgen):
    xgen.check(p.BAT, expected=0.05, tolerance=0.005)


WEAK = [
    pytest.param(p.DISTANCE, 180, {}, id="distance"),
    pytest.param(p.CENTIMETRES, 250, {}, id="centimetres"),
    pytest.param(p.MINUTES, 210, {}, id="minutes"),
    pytest.param(p.DISCOUNT, 15, {}, id="discount"),
    pytest.param(p.WEEKDAY, "Thursday", {"answer": "text"}, id="weekday"),
    pytest.param(p.CATS, "C", {"answer": "choice", "choices": p.CATS_CHOICES}, id="cats"),
]


@pytest.mark.xfail(raises=TransferFailed, strict=True, reason="beyond these small models today")
@pytest.mark.transfers(min_consistency=0.6)
@pytest.mark.parametrize(("prompt", "expected", "spec"), WEAK)
def test_explanations_these_models_cannot_share_yet(xgen, prompt, expected, spec):
    xgen.check(prompt, expected=expected, **spec)


FLAWED = (
    "1. Tom starts with 3 apples.\n"
    "2. He buys 4 more apples.\n"
    "3. 3 + 4 = 8.\n"
    "4. So Tom has 8 apples."
)


def test_review_of_a_flawed_explanation(xgen):
    # Peer review: each evaluator judges every step and names the first that breaks.
    r = xgen.review(p.APPLES, explanation=FLAWED)
    print(r.explain())
    assert len(r.steps) == 4
    assert r.first_disputed["qwen"] == 3  # Qwen catches "3 + 4 = 8"
