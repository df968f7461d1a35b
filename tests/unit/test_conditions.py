"""The sampling engine every check shares, on a scripted ``ask``: which calls a condition
makes and in what order, how answers are read (text, then reasoning), how explanations
are elicited, given and stripped, and what a condition measures."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from pytest_xgen.checks import conditions
from pytest_xgen.checks.conditions import Condition, Explanation, Samples
from pytest_xgen.core import metrics, prompts
from pytest_xgen.core.answers import answer_spec
from pytest_xgen.core.printable import printable
from pytest_xgen.core.strip import Stripped
from pytest_xgen.errors import XgenConfigError
from pytest_xgen.models.base import ChatResult, Usage
from tests.options import check_options
from tests.scripted import Call, ScriptedAsk

SPEC = answer_spec("number")


def extract(text: str, spec: Any) -> Any:
    return spec.extract(text)


options = functools.partial(check_options, samples=3)


def explanation(answer: Any = 7, generator: str = "gen") -> Explanation:
    text = "3 + 4 = 7."
    return Explanation(generator, text, "text", answer, Stripped(text, (), "rules"))


def chat(text: str, reasoning: str | None = None) -> ChatResult:
    return ChatResult(text=text, finish_reason="stop", usage=Usage(1, 1, 2), reasoning=reasoning)


def by_sample(call: Call) -> str:
    """Each evaluator answers its sample index plus 10 for a, plus 20 for b."""
    return f"Answer: {call.sample + (10 if call.model == 'a' else 20)}"


# -- how many samples, with which parameters ------------------------------------------------


def test_a_check_starts_with_its_samples_or_the_first_round_of_auto() -> None:
    assert conditions.sample_count(options(samples=3)) == 3
    assert conditions.sample_count(options(samples="7")) == 7
    assert conditions.sample_count(options(samples="auto")) == conditions.AUTO_FIRST == 5


@pytest.mark.parametrize(
    ("kind", "temperature"),
    [("own", 0), ("sampled", conditions.SAMPLED_TEMPERATURE), ("empty", 0.7), ("x", 0.7)],
)
def test_each_baseline_samples_at_its_own_temperature(kind: str, temperature: float) -> None:
    assert conditions.condition_params(kind, options(temperature=0.7)) == {
        "temperature": temperature
    }
    assert conditions.SAMPLED_TEMPERATURE == 1.0


# -- calls in order ---------------------------------------------------------------------------


def test_sample_calls_go_evaluator_by_evaluator_over_the_indices_asked() -> None:
    ask = ScriptedAsk(lambda call: "Answer: 1")
    messages = [{"role": "user", "content": "q"}]
    calls = conditions.sample_calls(ask, ["a", "b"], messages, {"temperature": 0.3}, 2, 4)
    assert [call().text for call in calls] == ["Answer: 1"] * 4
    assert ask.calls == [("a", "q", 2), ("a", "q", 3), ("b", "q", 2), ("b", "q", 3)]


def test_samples_take_each_evaluators_share_of_a_round_in_call_order() -> None:
    samples = Samples(["a", "b"])
    first = [chat("Answer: 1"), chat("Answer: 2"), chat("Answer: 3"), chat("no answer")]
    samples.add(first, 2, SPEC, extract)
    samples.add([chat("Answer: 5"), chat("Answer: 6")], 1, SPEC, extract)
    assert samples.evaluators == ["a", "b"]
    assert samples.answers == {"a": [1, 2, 5], "b": [3, None, 6]}
    assert samples.outputs == {
        "a": ["Answer: 1", "Answer: 2", "Answer: 5"],
        "b": ["Answer: 3", "no answer", "Answer: 6"],
    }


def test_a_condition_asks_every_evaluator_its_samples_and_measures_them() -> None:
    ask = ScriptedAsk(by_sample)
    seen: list[Any] = []

    def fan_out(calls: Any, models: Any) -> list[Any]:
        seen.append(list(models))
        return [call() for call in calls]

    messages = prompts.transfer("q", "3 + 4 = 7.", "user")
    params = {"temperature": 0.4}
    found = conditions.run_condition(
        "transfer", messages, params, options(), SPEC, None, explanation(), ask, extract, fan_out
    )
    assert seen == [["a", "b"]]
    assert [(model, sample) for model, _, sample in ask.calls] == [
        ("a", 0),
        ("a", 1),
        ("a", 2),
        ("b", 0),
        ("b", 1),
        ("b", 2),
    ]
    assert found.name == "transfer"
    assert found.answers == {"a": [10, 11, 12], "b": [20, 21, 22]}
    assert found.outputs["b"] == ["Answer: 20", "Answer: 21", "Answer: 22"]
    assert found.mean == 0.0


def test_a_condition_without_a_fan_out_runs_its_calls_in_order() -> None:
    ask = ScriptedAsk(lambda call: "Answer: 4")
    found = conditions.run_condition(
        "baseline", [], {}, options(samples="auto"), SPEC, 4, explanation(), ask, extract
    )
    assert len(ask.calls) == 2 * conditions.AUTO_FIRST
    assert found.mean == 1.0
    assert found.accuracy == {"a": 1.0, "b": 1.0}


# -- reading answers --------------------------------------------------------------------------


def test_an_answer_is_read_from_the_text_first_then_from_the_reasoning() -> None:
    assert conditions.answer_of(chat("Answer: 3", "Answer: 4"), SPEC, extract) == 3
    assert conditions.answer_of(chat("no number", "so it is\nAnswer: 4"), SPEC, extract) == 4
    assert conditions.answer_of(chat("no number"), SPEC, extract) is None
    assert conditions.answer_of(chat("no number", ""), SPEC, extract) is None


# -- explanations -----------------------------------------------------------------------------


ELICITED = "First 3 + 4 = 7.\nSo the total is 7.\nAnswer: 7"
"""The concluding sentence is removed only when the answer it states is known."""


def test_the_generator_explains_once_and_its_answer_sentences_go() -> None:
    ask = ScriptedAsk(lambda call: ELICITED)
    made = conditions.elicit("q", options(), SPEC, ask, extract)
    assert ask.calls == [("gen", "q", 0)]
    assert made.generator == "gen"
    assert made.output == ELICITED
    assert made.source == "text"
    assert made.answer == 7
    assert made.origin == "generator"
    assert made.text == made.stripped.text == "First 3 + 4 = 7."
    assert made.stripped.method == "rules"
    assert made.stripped.removed == ("So the total is 7.", "Answer: 7")


def test_an_elicited_explanation_is_asked_with_the_elicit_prompt_and_no_parameters() -> None:
    got: list[tuple[Any, ...]] = []

    def reply(call: Call) -> str:
        got.append((call.model, call.messages, call.sample, call.params))
        return ELICITED

    opts = options(prompts={"elicit_system": "Explain, then answer."})
    conditions.elicit("q", opts, SPEC, ScriptedAsk(reply), extract)
    assert got == [("gen", prompts.elicit("q", opts.prompts), 0, {})]
    assert got[0][1][0]["content"] == "Explain, then answer."


def test_a_reasoning_model_explains_in_its_reasoning() -> None:
    ask = ScriptedAsk(lambda call: chat("The answer is below.", "3 + 4 = 7, so 7.\nAnswer: 7"))
    made = conditions.elicit("q", options(), SPEC, ask, extract)
    assert made.source == "reasoning"
    assert made.output == "3 + 4 = 7, so 7.\nAnswer: 7"
    assert made.answer == 7


def test_strip_with_asks_that_model_greedily_which_sentences_to_remove() -> None:
    got: list[tuple[Any, ...]] = []

    def reply(call: Call) -> str:
        got.append((call.model, call.sample, call.params, call.messages))
        return '{"remove": [3]}' if call.model == "stripper" else ELICITED

    ask = ScriptedAsk(reply)
    made = conditions.elicit("q", options(strip_with="stripper"), SPEC, ask, extract)
    assert [found[:3] for found in got] == [("gen", 0, {}), ("stripper", 0, {"temperature": 0})]
    sentences = ["First 3 + 4 = 7.", "So the total is 7.", "Answer: 7"]
    assert got[1][3] == prompts.strip(sentences)
    assert made.stripped.method == "model stripper"
    assert made.stripped.removed == ("Answer: 7",)


def test_an_unusable_strip_reply_falls_back_to_the_rules_with_the_answer() -> None:
    ask = ScriptedAsk(lambda call: "I cannot tell.")
    made = conditions.given("mine", ELICITED, options(strip_with="stripper"), SPEC, ask, extract)
    assert [model for model, _, _ in ask.calls] == ["stripper"]
    assert made.stripped.method == "rules (stripper reply unusable)"
    assert made.stripped.removed == ("So the total is 7.", "Answer: 7")


def test_a_given_explanation_is_read_and_stripped_as_an_elicited_one() -> None:
    ask = ScriptedAsk(lambda call: "unused")
    made = conditions.given("mine", ELICITED, options(), SPEC, ask, extract)
    assert ask.calls == []
    assert (made.generator, made.output, made.answer) == ("mine", ELICITED, 7)
    assert (made.source, made.origin) == ("text", "ensemble")
    assert made.stripped.removed == ("So the total is 7.", "Answer: 7")
    given = conditions.given("g", ELICITED, options(), SPEC, ask, extract, "given", "callable t")
    assert (given.source, given.origin) == ("given", "callable t")


def explain_it(prompt: str) -> str:
    return f"About {prompt}: 3 + 4 = 7."


def test_a_given_text_is_the_explanation_and_a_callable_explains_the_prompt() -> None:
    assert conditions.given_text("3 + 4 = 7.", "q") == ("3 + 4 = 7.", "given", "explanation")
    name = f"{__name__}.explain_it"
    assert conditions.given_text(explain_it, "q") == (
        "About q: 3 + 4 = 7.",
        f"callable {name}",
        name,
    )


@pytest.mark.parametrize("returned", [None, "", "  \n", 7])
def test_a_callable_that_returns_no_text_is_a_clear_error(returned: Any) -> None:
    def broken(prompt: str) -> Any:
        return returned

    with pytest.raises(XgenConfigError) as raised:
        conditions.given_text(broken, "q")
    message = str(raised.value)
    assert message.startswith(f"explanation={__name__}.")
    assert f"returned {returned!r}"[:40] in message
    assert message.endswith("for the prompt; it must return the explanation as a non-empty text")


def test_what_a_callable_returned_is_shown_escaped_and_short() -> None:
    def noisy(prompt: str) -> Any:
        return ["\x1b[31m" + "x" * 200]

    with pytest.raises(XgenConfigError) as raised:
        conditions.given_text(noisy, "q")
    message = str(raised.value)
    assert "\x1b" not in message
    shown = message.split(" returned ", 1)[1].split(" for the prompt")[0]
    assert shown == printable(repr(["\x1b[31m" + "x" * 200])[:80])


# -- measuring a condition --------------------------------------------------------------------


def test_two_evaluators_are_compared_with_each_other() -> None:
    answers = {"a": [7, 7, 8], "b": [7, 8, 8]}
    outputs = {m: [f"Answer: {a}" for a in v] for m, v in answers.items()}
    opts = options(confidence=None)
    found = conditions.measure("transfer", outputs, answers, opts, SPEC, 7, explanation())
    assert found.compared == answers
    assert found.correct == {"a": [True, True, False], "b": [True, False, False]}
    assert found.accuracy == pytest.approx({"a": 2 / 3, "b": 1 / 3})
    assert found.consistency.agree == 2 and found.consistency.total == 3
    assert found.sample_agreement == (True, False, True)
    assert found.breakdown is not None
    assert found.breakdown.consistent_correct == pytest.approx(1 / 3)
    assert found.breakdown.consistent_wrong == pytest.approx(1 / 3)
    assert found.interval is None  # no confidence asked
    with_level = conditions.measure("t", outputs, answers, options(), SPEC, 7, explanation())
    assert with_level.interval == conditions.consistency_interval(
        with_level.consistency, with_level.sample_agreement, 0.95
    )


def test_one_evaluator_is_compared_with_the_generators_answer() -> None:
    answers = {"a": [7, 8, None, 7]}
    outputs = {"a": ["Answer: 7", "Answer: 8", "?", "Answer: 7"]}
    opts = options(evaluators=("a",), confidence=0.9)
    found = conditions.measure("transfer", outputs, answers, opts, SPEC, None, explanation(7))
    assert found.compared == {"gen (generator)": [7, 7, 7, 7], "a": [7, 8, None, 7]}
    assert list(found.compared) == ["gen (generator)", "a"]
    assert found.answers == {"a": [7, 8, None, 7]}
    assert found.correct is None and found.compared_correct is None
    assert found.accuracy == {}
    assert found.breakdown is None
    assert found.unparseable == {"a": 1}
    assert found.mean == pytest.approx(2 / 3)
    assert found.agreements == (2.0, 3)
    assert found.interval == conditions.consistency_interval(
        found.consistency, found.sample_agreement, 0.9
    )
    assert found.interval is not None and 0 < found.interval[0] < 2 / 3 < found.interval[1] < 1


def test_the_agreements_of_three_evaluators_are_a_pooled_count_of_samples() -> None:
    answers = {"a": [7, 7, 7], "b": [7, 8, 7], "c": [7, 9, None]}
    found = conditions.measure(
        "transfer", {m: [""] * 3 for m in answers}, answers, options(), SPEC, None, explanation()
    )
    # pairs: sample 0 agree 3 of 3, sample 1 none of 3, sample 2 one pair of 1: 4 of 7
    assert (found.consistency.agree, found.consistency.total) == (4, 7)
    assert found.sample_agreement == (True, False, True)
    assert found.agreements == (round(4 / 7 * 3, 9), 3)


def test_a_condition_with_nothing_read_has_no_agreements_and_the_widest_interval() -> None:
    answers: dict[str, list[Any]] = {"a": [None, None], "b": [None, 7]}
    found = conditions.measure(
        "transfer",
        {m: ["", ""] for m in answers},
        answers,
        options(confidence=0.95),
        SPEC,
        None,
        explanation(),
    )
    assert found.mean is None
    assert found.agreements == (0.0, 0)
    assert found.interval == (0.0, 1.0)
    empty = metrics.pairwise_consistency({"a": [], "b": []}, equal=SPEC.equal)
    assert conditions.consistency_interval(empty, [], 0.95) == (0.0, 1.0)
    # pairs scored but no sample with two answers cannot happen; either zero gives (0, 1)
    assert conditions.consistency_interval(found.consistency, [True], 0.95) == (0.0, 1.0)


def test_a_condition_knows_only_the_evaluators_it_asked() -> None:
    condition = Condition(
        name="x",
        outputs={"a": ["1"]},
        compared={"gen (generator)": [1], "a": [1]},
        compared_correct={"gen (generator)": [True], "a": [False]},
        consistency=metrics.pairwise_consistency({"g": [1], "a": [1]}),
        breakdown=None,
        interval=None,
    )
    assert condition.answers == {"a": [1]}
    assert condition.correct == {"a": [False]}
    assert condition.accuracy == {"a": 0.0}
    assert condition.sample_agreement == ()
    assert condition.agreements == (0.0, 0)


def test_answers_right_within_the_tolerance_agree_and_wrong_ones_compare_by_it() -> None:
    spec = answer_spec("number", tolerance=0.3)
    # Sample 0: both right but 0.45 apart; sample 1: both wrong, 0.1 apart (equal by the
    # tolerance); sample 2: right against wrong.
    answers = {"a": [6.8, 8.0, 7.0], "b": [7.25, 8.1, 9.0]}
    outputs = {m: [""] * 3 for m in answers}
    opts = options(confidence=None)
    found = conditions.measure("t", outputs, answers, opts, spec, 7, explanation())
    assert found.sample_agreement == (True, True, False)
    assert (found.consistency.agree, found.consistency.total) == (2, 3)
    assert found.breakdown is not None
    assert found.breakdown.consistent_correct == pytest.approx(1 / 3)
    assert found.breakdown.consistent_wrong == pytest.approx(1 / 3)
    assert found.breakdown.inconsistent == pytest.approx(1 / 3)


def test_one_scored_sample_has_its_exact_interval() -> None:
    answers = {"a": [7, None], "b": [7, 7]}
    outputs = {m: ["", ""] for m in answers}
    found = conditions.measure("t", outputs, answers, options(), SPEC, None, explanation())
    assert found.agreements == (1.0, 1)
    assert found.interval == pytest.approx((0.025, 1.0))


def test_every_sample_is_asked_with_the_conditions_parameters() -> None:
    log: list[tuple[Any, ...]] = []

    def reply(call: Call) -> str:
        log.append((call.model, call.sample, call.params))
        return "Answer: 7"

    ask = ScriptedAsk(reply)
    for call in conditions.sample_calls(ask, ["a"], [], {"temperature": 0.3}, 0, 2):
        call()
    assert log == [("a", 0, {"temperature": 0.3}), ("a", 1, {"temperature": 0.3})]
    log.clear()
    opts = options(samples=1)
    params = {"temperature": 0}
    conditions.run_condition("b", [], params, opts, SPEC, None, explanation(), ask, extract)
    assert log == [("a", 0, {"temperature": 0}), ("b", 0, {"temperature": 0})]


def test_one_evaluators_condition_is_compared_with_the_explanations_answer() -> None:
    ask = ScriptedAsk(lambda call: "Answer: 7")
    opts = options(evaluators=("a",), samples=2)
    found = conditions.run_condition("t", [], {}, opts, SPEC, None, explanation(8), ask, extract)
    assert found.compared == {"gen (generator)": [8, 8], "a": [7, 7]}
    assert found.mean == 0.0
