"""The demo suite: real calls to the embedded models, recorded once, replayed after.

Run it with ``make demo``. The first run on a machine without cassettes starts the local
llama.cpp server and records every call; later runs, and a fresh clone with the committed
cassettes in ``fixtures/cassettes/examples/``, replay without starting it.
"""

from __future__ import annotations

import pytest

from examples.helpers import final_number

APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"
BAT = (
    "A bat and a ball cost $1.10 in total. The bat costs $1.00 more than the ball. "
    "How much does the ball cost in dollars?"
)
STEPS = "Solve step by step. End with \\boxed{answer}."


def test_qwen_solves_a_word_problem(xgen):
    answer = xgen.model("qwen")(APPLES, system=STEPS)
    assert final_number(answer.text) == 7, answer.text


@pytest.mark.xfail(strict=True, reason="qwen2.5-coder-0.5b falls for the bat-and-ball trap")
def test_qwen_solves_the_bat_and_ball(xgen):
    # A known weakness, recorded: strict xfail turns a model upgrade that fixes it into a
    # visible XPASS, so the suite is updated on purpose.
    answer = xgen.model("qwen")(BAT, system=STEPS)
    assert final_number(answer.text) == pytest.approx(0.05, abs=0.005), answer.text


@pytest.mark.parametrize("model", ["qwen", "smollm"])
def test_both_models_name_the_capital(xgen, model):
    answer = xgen.model(model)("What is the capital of France?")
    assert "Paris" in answer.text


def test_samples_are_separate_recordings(xgen):
    smollm = xgen.model("smollm")
    texts = [
        smollm("Name a colour.", sample=i, temperature=1.0, max_tokens=12).text for i in range(3)
    ]
    assert len(set(texts)) > 1, texts  # three samples, not one answer replayed three times


def test_gemma_scores_fluent_text_above_scrambled(xgen):
    gemma = xgen.model("gemma")

    def mean_logprob(text: str) -> float:
        scored = gemma.complete(text, echo=True, logprobs=1, max_tokens=1, temperature=0)
        values = [v for v in scored.token_logprobs[: len(scored.tokens) - 1] if v is not None]
        return sum(values) / len(values)

    assert mean_logprob("The cat sat on the mat.") > mean_logprob("Mat the on sat cat the.")
