"""Mirrored questions on a scripted ``ask``: which calls are made, how contradictions are
counted for each relation, the rate and its interval, and the verdict and its words."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from pytest_xgen.checks import mirror
from pytest_xgen.core import prompts
from pytest_xgen.core.answers import answer_spec
from pytest_xgen.core.stats import wilson_interval
from pytest_xgen.errors import XgenConfigError
from tests.options import check_context, check_options
from tests.scripted import Call, ScriptedAsk

YES_NO = answer_spec("choice", choices=("yes", "no"))
QUESTION = "Is 9 larger than 7?"
MIRRORED = "Is 7 larger than 9?"


options = functools.partial(check_options, generator=None, samples=3)


def extract(text: str, spec: Any) -> Any:
    return spec.extract(text)


def scripted(table: dict[tuple[str, str], list[str]]) -> ScriptedAsk:
    """``table[(model, question)][sample]`` is the answer (cycling)."""

    def reply(call: Call) -> str:
        answers = table[(call.model, call.user)]
        return f"Answer: {answers[call.sample % len(answers)]}"

    return ScriptedAsk(reply)


def run(ask: ScriptedAsk, relation: str = "opposite", **changes: Any) -> mirror.MirrorResult:
    return mirror.mirror(QUESTION, MIRRORED, relation, options(**changes), YES_NO, ask, extract)


CONSISTENT = {
    ("a", QUESTION): ["yes"],
    ("a", MIRRORED): ["no"],
    ("b", QUESTION): ["yes", "yes", "no"],
    ("b", MIRRORED): ["yes", "no", "maybe"],
}


def test_both_questions_are_asked_of_every_evaluator_as_an_own_answer() -> None:
    got: list[tuple[Any, ...]] = []

    def ask(model: str, messages: Any, sample: int, params: Any) -> Any:
        got.append((model, messages, sample, params))
        return scripted(CONSISTENT)(model, messages, sample, params)

    opts = options(samples=2, temperature=0.3)
    mirror.mirror(QUESTION, MIRRORED, "opposite", opts, YES_NO, ask, extract)
    asked = [
        (model, prompts.baseline(text, "own", opts.prompts), i, {"temperature": 0.3})
        for text in (QUESTION, MIRRORED)
        for model in ("a", "b")
        for i in range(2)
    ]
    assert got == asked


def test_opposite_questions_contradict_when_both_get_the_same_answer() -> None:
    ask = scripted(CONSISTENT)
    result = run(ask, confidence=None)
    assert len(ask.calls) == 2 * 2 * 3
    assert result.answers == {"a": ["A", "A", "A"], "b": ["A", "A", "B"]}
    assert result.mirrored == {"a": ["B", "B", "B"], "b": ["A", "B", None]}
    # b: yes/yes contradicts, yes/no does not, no/unread is not a pair.
    assert result.contradictions == {"a": (0, 3), "b": (1, 2)}
    assert result.rate == pytest.approx(1 / 5)
    assert result.interval is None
    assert result.summary == "1 of 5 answer pairs contradict each other (a 0/3, b 1/2)"
    assert result.verdict == "pass" and result.passed
    assert result.reasons == ["reported only: assert it with max_contradiction_rate=..."]


def test_same_questions_contradict_when_their_answers_differ() -> None:
    result = run(scripted(CONSISTENT), "same", confidence=0.9)
    assert result.relation == "same"
    assert result.contradictions == {"a": (3, 3), "b": (1, 2)}
    assert result.rate == pytest.approx(4 / 5)
    assert result.interval == wilson_interval(4, 5, 0.9)


def test_an_unknown_relation_is_refused_with_the_choices() -> None:
    with pytest.raises(XgenConfigError) as raised:
        run(scripted(CONSISTENT), "inverse")
    assert str(raised.value) == (
        "xgen.mirror(): relation 'inverse' is not one of opposite, same: 'opposite' when the "
        "mirror's answer must differ (is X larger than Y / is Y larger than X), 'same' when "
        "it must be equal"
    )
    assert mirror.RELATIONS == ("opposite", "same")


@pytest.mark.parametrize(
    ("threshold", "confidence", "verdict", "reason"),
    [
        (0.2, None, "pass", None),
        (0.19, None, "fail", "contradiction rate 0.20 against max_contradiction_rate=0.19: fail"),
        (
            0.5,
            0.9,
            "inconclusive",
            "contradiction rate 0.20 [{low:.2f}, {high:.2f}] against "
            "max_contradiction_rate=0.5: inconclusive",
        ),
        (0.9, 0.9, "pass", None),
    ],
)
def test_the_rate_is_asserted_at_most_the_threshold(
    threshold: float, confidence: float | None, verdict: str, reason: str | None
) -> None:
    result = run(scripted(CONSISTENT), confidence=confidence, max_contradiction_rate=threshold)
    assert result.threshold == threshold
    assert result.verdict == verdict
    if reason is None:
        assert result.reasons == []
    else:
        low, high = result.interval or (0.0, 0.0)
        assert result.reasons == [reason.format(low=low, high=high)]


def test_no_pair_read_is_inconclusive_when_asserted_and_passes_when_only_reported() -> None:
    unread = {(m, q): ["maybe"] for m in ("a", "b") for q in (QUESTION, MIRRORED)}
    result = run(scripted(unread), max_contradiction_rate=0.1)
    assert result.contradictions == {"a": (0, 0), "b": (0, 0)}
    assert (result.verdict, result.rate) == ("inconclusive", None)
    assert result.reasons == ["no pair of answers could be read"]
    assert result.summary == "no pair of answers could be read"
    assert not result.passed
    reported = run(scripted(unread))
    assert reported.verdict == "pass"
    assert reported.reasons == ["no pair of answers could be read"]


def test_the_account_and_the_data_name_choices_by_their_text() -> None:
    result = run(scripted(CONSISTENT), confidence=None, max_contradiction_rate=0.1)
    assert result.label("A") == "yes" and result.label("B") == "no"
    assert result.label("C") == "C" and result.label("AB") == "AB" and result.label(3) == 3
    assert result.explain().splitlines() == [
        "mirrored questions FAIL: 1 of 5 answer pairs contradict each other (a 0/3, b 1/2)",
        "  contradiction rate 0.20 against max_contradiction_rate=0.1: fail",
        f"  question: {QUESTION}",
        f"  mirror:   {MIRRORED}",
        "    a            0/3 contradictory  (yes/no, yes/no, yes/no)",
        "    b            1/2 contradictory  (yes/yes, yes/no, no/None)",
    ]
    assert result.to_dict() == {
        "kind": "mirrored",
        "prompt": QUESTION,
        "mirror": MIRRORED,
        "relation": "opposite",
        "evaluators": ["a", "b"],
        "answers": {"a": ["yes", "yes", "yes"], "b": ["yes", "yes", "no"]},
        "mirrored": {"a": ["no", "no", "no"], "b": ["yes", "no", None]},
        "contradictions": {
            "a": {"contradictory": 0, "pairs": 3},
            "b": {"contradictory": 1, "pairs": 2},
        },
        "rate": pytest.approx(0.2),
        "interval": None,
        "threshold": 0.1,
        "verdict": "fail",
        "reasons": ["contradiction rate 0.20 against max_contradiction_rate=0.1: fail"],
        "summary": "1 of 5 answer pairs contradict each other (a 0/3, b 1/2)",
    }
    with_interval = run(scripted(CONSISTENT), confidence=0.9)
    assert with_interval.to_dict()["interval"] == list(wilson_interval(1, 5, 0.9))


def test_the_plan_is_both_questions_for_every_evaluators_samples() -> None:
    assert mirror.planned_calls(options(samples=3)) == 12
    assert mirror.planned_calls(options(samples="auto", evaluators=("a",))) == 10


def test_run_check_reads_the_choices_plans_and_returns_the_check_to_keep() -> None:
    ctx = check_context(scripted(CONSISTENT), generator=None, samples=3, confidence=None)
    ran = mirror.run_check(ctx, QUESTION, MIRRORED, max_contradiction_rate=0.5)
    result = ran.value
    assert isinstance(result, mirror.MirrorResult)
    assert ran.checks == [(result, True)]
    assert ctx.progress == [(12, False, False)]
    assert (result.relation, result.threshold, result.verdict) == ("opposite", 0.5, "pass")
    assert result.spec.choices == ("yes", "no")
    assert result.contradictions == {"a": (0, 3), "b": (1, 2)}
    same = mirror.run_check(ctx, QUESTION, MIRRORED, "same").value
    assert same.relation == "same" and same.threshold is None


def test_run_check_with_a_number_answer_has_no_choices() -> None:
    table = {(m, q): ["3"] for m in ("a", "b") for q in (QUESTION, MIRRORED)}
    ctx = check_context(scripted(table), generator=None, samples=1, confidence=None)
    result = mirror.run_check(ctx, QUESTION, MIRRORED, answer="number").value
    assert result.spec.kind == "number" and result.spec.choices == ()
    assert result.contradictions == {"a": (1, 1), "b": (1, 1)}
    with pytest.raises(XgenConfigError, match="xgen.mirror\\(\\): "):
        mirror.run_check(ctx, QUESTION, MIRRORED, answer="colour")


def test_all_calls_go_to_the_fan_out_at_once_with_the_evaluators() -> None:
    seen: list[Any] = []

    def fan_out(calls: Any, models: Any) -> list[Any]:
        seen.append((len(calls), list(models)))
        return [call() for call in calls]

    opts = options(confidence=None)
    found = mirror.mirror(
        QUESTION, MIRRORED, "opposite", opts, YES_NO, scripted(CONSISTENT), extract, fan_out
    )
    assert seen == [(12, ["a", "b"])]
    assert found.contradictions == {"a": (0, 3), "b": (1, 2)}
