"""An intervention's arms and its reference answer: how answers are counted against the
reference, shown and grouped, which separate samples the reference comes from, and the
doubts that leave it unfit to measure on."""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any

import pytest

from pytest_xgen.checks import arms
from pytest_xgen.checks.arms import Arm
from pytest_xgen.core import prompts
from pytest_xgen.core.answers import answer_spec
from tests.options import check_options
from tests.scripted import Call, ScriptedAsk

SPEC = answer_spec("number")
options = functools.partial(check_options, samples=2)


def arm(answers: dict[str, list[Any]]) -> Arm:
    return Arm("x", "text", answers, {m: [str(a) for a in v] for m, v in answers.items()})


def test_an_arm_counts_the_reference_among_all_its_answers_unread_ones_included() -> None:
    found = arm({"a": [7, 7.0, None], "b": [8, 7]})
    assert found.flat() == [7, 7.0, None, 8, 7]
    assert found.hits(7, SPEC) == (3, 5)
    assert found.share(7, SPEC) == pytest.approx(0.6)
    assert found.hits(None, SPEC) == (0, 5)
    assert found.hits(9, SPEC) == (0, 5)
    assert arm({"a": []}).share(7, SPEC) is None


def test_an_arm_as_json_has_its_answers_their_distribution_and_the_references_share() -> None:
    found = Arm("cut", "1 step", {"a": [7, None], "b": [Fraction(7, 2), 7]}, {"a": ["o1", "o2"]})
    found.note["keep"] = 1
    assert found.to_dict(7, answer_spec("number")) == {
        "label": "cut",
        "explanation": "1 step",
        "answers": {"a": [7, None], "b": ["7/2", 7]},
        "outputs": {"a": ["o1", "o2"]},
        "distribution": {"7": 2, "7/2": 1, "unparsed": 1},
        "reference": {"hits": 2, "total": 4, "rate": 0.5},
        "keep": 1,
    }
    empty = Arm("none", None, {}, {}).to_dict(7, SPEC)
    assert empty["reference"] == {"hits": 0, "total": 0, "rate": None}
    text = arm({"a": ["yes"]}).to_dict("yes", answer_spec("text"))
    assert text["distribution"] == {"yes": 1}


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        (7.0, "7"),
        (7.5, "7.5"),
        (7, "7"),
        ("yes", "'yes'"),
        (True, "True"),
        (None, "None"),
        (Fraction(7, 2), "7/2"),
    ],
)
def test_answers_are_shown_as_the_summaries_write_them(answer: Any, text: str) -> None:
    assert arms.shown(answer) == text


def test_answers_are_grouped_by_the_spec_most_common_first() -> None:
    spec = answer_spec("number", tolerance=0.3)
    answers = [8, None, 7.0, 7.1, 9, 8.05, 7.2]
    assert arms.tally(answers, spec) == [(7.0, 3), (8, 2), (9, 1)]
    assert arms.modal(answers, spec) == 7.0
    assert arms.modal([None, None], spec) is None
    assert arms.tally([], spec) == []
    # Equal counts keep the order first seen.
    assert arms.tally([9, 8, 8, 9], SPEC) == [(9, 2), (8, 2)]


def test_a_tied_or_unexpected_reference_is_doubted_and_says_why() -> None:
    chosen = arm({"a": [7, 8], "b": [8, 7]})
    assert arms.doubts(None, True, chosen, 9, SPEC) == []
    assert arms.doubts(7, False, chosen, None, SPEC) == []
    assert arms.doubts(7, False, chosen, 7.0, SPEC) == []
    assert arms.doubts(7, True, chosen, None, SPEC) == [
        "the reference answer 7 came from a tie: 7 and 8 each 2 of the 4 separate samples, "
        "the first seen taken; ask more samples (samples=...) to decide it"
    ]
    assert arms.doubts(7, False, chosen, 8, SPEC) == [
        "the reference answer 7 (2 of 4 separate samples) is not the expected 8: the "
        "evaluators given the explanation do not reach the expected answer, so whether they "
        "follow its reasoning cannot be told from their answers"
    ]
    assert len(arms.doubts(7, True, chosen, 8, SPEC)) == 2


def test_the_reference_samples_are_the_original_condition_past_the_compared_ones() -> None:
    def reply(call: Call) -> str:
        return f"Answer: {call.sample}" if call.model == "a" else "no answer"

    ask = ScriptedAsk(reply)
    seen: list[Any] = []

    def fan_out(calls: Any, models: Any) -> list[Any]:
        seen.append(list(models))
        return [call() for call in calls]

    opts = options(temperature=0.4, delivery="user")
    found = arms.reference_samples(
        "q", "3 + 4 = 7.", opts, SPEC, ask, lambda t, s: s.extract(t), fan_out
    )
    assert seen == [["a", "b"]]
    assert [(m, s) for m, _, s in ask.calls] == [("a", 2), ("a", 3), ("b", 2), ("b", 3)]
    assert found.label == "reference samples" and found.text == "3 + 4 = 7."
    assert found.answers == {"a": [2, 3], "b": [None, None]}
    assert found.outputs == {"a": ["Answer: 2", "Answer: 3"], "b": ["no answer", "no answer"]}


def test_the_reference_samples_are_asked_as_the_transfer_condition() -> None:
    got: list[Any] = []

    def reply(call: Call) -> str:
        got.append((call.messages, call.params))
        return "Answer: 7"

    opts = options(samples=1, temperature=0.4, evaluators=("a",))
    arms.reference_samples(
        "q", "E.", opts, SPEC, ScriptedAsk(reply), lambda t, s: s.extract(t), None
    )
    assert got == [(prompts.transfer("q", "E.", opts.delivery, opts.prompts), {"temperature": 0.4})]
