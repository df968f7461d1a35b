"""The transfer check's own parts on a scripted ``ask``: its plan of calls, the verdict's
reasons on point estimates and on exact looks, and each generator's own explanation
measured beside an ensembled one."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_xgen.checks import transfer
from pytest_xgen.checks.transfer_report import TransferResult
from pytest_xgen.core import prompts
from pytest_xgen.core.answers import answer_spec
from tests.options import check_context, check_options
from tests.scripted import Call, ScriptedAsk

SPEC = answer_spec("number")


options = check_options


def extract(text: str, spec: Any) -> Any:
    return spec.extract(text)


def answers(transferred: dict[str, list[Any]], baseline: dict[str, list[Any]]) -> ScriptedAsk:
    """Evaluators answer sample i from their list (cycling), transfer or baseline; every
    generator explains ``3 + 4 = 7`` in its own words."""

    def reply(call: Call) -> str:
        if call.model not in transferred:
            return f"{call.model} says: 3 + 4 = 7.\nAnswer: 7"
        moved = call.system == prompts.TRANSFER_SYSTEM
        values = (transferred if moved else baseline)[call.model]
        return f"Answer: {values[call.sample % len(values)]}"

    return ScriptedAsk(reply)


def run(ask: Any, expected: Any = None, **changes: Any) -> TransferResult:
    return transfer.check("q", options(**changes), SPEC, expected, ask, extract)


@pytest.mark.parametrize(
    ("changes", "planned"),
    [
        ({"samples": 3}, (1 + 2 * 2 * 3, False)),
        ({"samples": 3, "strip_with": "s"}, (2 + 2 * 2 * 3, False)),
        ({"samples": 3, "evaluators": ("a", "b", "c")}, (1 + 2 * 3 * 3, False)),
        ({"samples": "auto"}, (1 + 2 * 2 * 30, True)),
        ({"samples": 4, "explanation": "given text"}, (2 * 2 * 4, False)),
        ({"samples": 4, "explanation": "ensemble"}, (1 + 2 * 2 * 4, False)),
    ],
)
def test_the_plan_counts_the_explanation_the_stripper_and_every_sample(
    changes: dict[str, Any], planned: tuple[int, bool]
) -> None:
    assert transfer.planned_calls(options(**changes)) == planned


def test_a_fixed_sample_calls_exactly_its_plan() -> None:
    ask = answers({"a": [7], "b": [7]}, {"a": [7], "b": [8]})
    result = run(ask, samples=3, confidence=None)
    assert len(ask.calls) == transfer.planned_calls(result.options)[0]
    assert result.samples_used == 3 and result.looks == [] and result.stopped == ""


def test_on_point_estimates_each_threshold_is_judged_at_its_value() -> None:
    ask = answers({"a": [7], "b": [7, 7, 8]}, {"a": [7], "b": [8]})
    result = run(ask, samples=3, confidence=None, min_consistency=0.6, min_lift=0.6)
    assert result.consistency == pytest.approx(2 / 3)
    assert result.lift == pytest.approx(2 / 3)
    assert (result.verdict, result.reasons) == ("pass", [])
    assert result.interval_level is None and result.lift_interval is None
    failed = run(ask, samples=3, confidence=None, min_consistency=0.7, min_lift=0.7)
    assert failed.verdict == "fail"
    assert failed.reasons == [
        "consistency 0.67 vs min_consistency 0.7",
        "lift +0.67 vs min_lift 0.7",
    ]


def test_a_check_with_no_pair_read_fails_and_says_so() -> None:
    ask = answers({"a": ["none"], "b": ["none"]}, {"a": [7], "b": [7]})
    result = run(ask, samples=2, confidence=None)
    assert result.consistency is None and result.lift is None
    assert result.verdict == "fail"
    assert result.reasons == [
        "consistency n/a vs min_consistency 0.8",
        "lift n/a vs min_lift 0",
        "no evaluator pair had two parseable answers",
    ]


def test_require_correct_fails_on_agreement_on_a_wrong_answer_only() -> None:
    wrong = answers({"a": [8], "b": [8]}, {"a": [7], "b": [8]})
    result = run(wrong, 7, samples=2, confidence=None, require_correct=True, min_lift=0.0)
    assert result.verdict == "fail"
    assert result.reasons == ["consistent-wrong 1.00 > 0 with require_correct=True"]
    right = answers({"a": [7], "b": [7]}, {"a": [7], "b": [8]})
    result = run(right, 7, samples=2, confidence=None, require_correct=True)
    assert (result.verdict, result.reasons) == ("pass", [])
    unasked = run(wrong, 7, samples=2, confidence=None, min_lift=0.0)
    assert unasked.verdict == "pass"


def test_an_undecided_fixed_sample_says_to_raise_samples() -> None:
    ask = answers({"a": [7], "b": [7, 7, 8, 7]}, {"a": [7], "b": [8]})
    result = run(ask, samples=8, confidence=0.9, min_lift=0.0)
    assert result.verdict == "inconclusive"
    assert result.reasons == [
        "consistency 0.75 [0.40, 0.95] vs min_consistency 0.8: the interval straddles the "
        "threshold; raise samples (now 8); at this rate a fixed samples=173 would decide it"
    ]


def test_an_undecided_lift_says_what_would_decide_it() -> None:
    ask = answers({"a": [7], "b": [7]}, {"a": [7], "b": [7, 7, 7, 7, 8]})
    result = run(ask, samples=17, confidence=0.95, min_lift=0.0)
    assert result.looks[-1].verdict == "pass"
    assert result.reasons == [
        "lift +0.18 [-0.04, +0.41] vs min_lift 0: the interval straddles the threshold; raise "
        "samples (now 17); at this rate a fixed samples=24 would decide it"
    ]


def test_one_evaluator_is_noted_against_the_generators_answer() -> None:
    ask = answers({"a": [7]}, {"a": [8]})
    result = run(ask, samples=2, confidence=None, evaluators=("a",))
    assert result.notes == [
        "one evaluator: consistency is the agreement of a's samples with the generator gen's answer"
    ]
    assert result.consistency == 1.0


def test_each_generator_of_an_ensemble_is_measured_on_the_same_samples() -> None:
    ask = answers({"a": [7], "b": [7, 8]}, {"a": [7], "b": [7, 8]})
    result = run(ask, 7, samples=2, confidence=None, min_lift=0.0, temperature=0.3)
    assert result.baseline_consistency == 0.5
    before = len(ask.calls)
    log: list[Call] = []
    reply = ask.reply
    ask.reply = lambda call: (log.append(call), reply(call))[1]
    seen: list[Any] = []

    def fan_out(calls: Any, models: Any) -> list[Any]:
        seen.append(list(models))
        return [call() for call in calls]

    transfer.compare_singles(result, ["g1", "g2"], ask, extract, fan_out)
    made = ask.calls[before:]
    # Each generator explains once, then every evaluator answers 2 samples given it.
    assert [(m, s) for m, _, s in made] == [
        ("g1", 0),
        ("a", 0),
        ("a", 1),
        ("b", 0),
        ("b", 1),
        ("g2", 0),
        ("a", 0),
        ("a", 1),
        ("b", 0),
        ("b", 1),
    ]
    assert seen == [["a", "b"], ["a", "b"]]
    assert list(result.singles) == ["g1", "g2"]
    single = result.singles["g2"]
    assert single.generator == "g2" and single.explanation.generator == "g2"
    assert single.answer == 7
    assert single.explanation.text == "g2 says: 3 + 4 = 7."
    assert single.transfer.name == "transfer"
    assert single.consistency == 0.5
    assert single.lift == 0.0
    assert single.transfer.accuracy == {"a": 1.0, "b": 0.5}
    asked = [c for c in log if c.model in ("a", "b")]
    assert {c.params["temperature"] for c in asked} == {0.3}
    assert all(
        c.messages == prompts.transfer("q", "g1 says: 3 + 4 = 7.", "user", result.options.prompts)
        for c in asked[:4]
    )


def test_run_check_plans_runs_and_returns_the_check_to_keep() -> None:
    ask = answers({"a": [7], "b": [7]}, {"a": [7], "b": [8]})
    ctx = check_context(ask, samples=2, confidence=None)
    ran = transfer.run_check(ctx, "q", 7.0, min_lift=0.0)
    result = ran.value
    assert isinstance(result, TransferResult)
    assert ran.checks == [(result, True)]
    assert ctx.progress == [(1 + 2 * 2 * 2, False, False)]
    assert (result.expected, result.verdict, result.options.min_lift) == (7, "pass", 0.0)
    assert result.explanation.origin == "generator"
    assert len(ask.calls) == 1 + 2 * 2 * 2


def test_run_check_reads_the_answer_as_asked() -> None:
    def reply(call: Call) -> str:
        return "Answer: 7.1" if call.model in ("a", "b") else "3 + 4 = 7.\nAnswer: 7"

    ctx = check_context(ScriptedAsk(reply), samples=1, confidence=None)
    close = transfer.run_check(ctx, "q", 7, tolerance=0.2).value
    assert close.spec.correct(7.1, 7) and close.accuracy == {"a": 1.0, "b": 1.0}
    relative = transfer.run_check(ctx, "q", 7, rel_tolerance=0.05).value
    assert relative.accuracy == {"a": 1.0, "b": 1.0}
    exact = transfer.run_check(ctx, "q", 7, fallback=True).value
    assert exact.accuracy == {"a": 0.0, "b": 0.0}


def test_run_check_with_a_given_text_or_a_callable_asks_no_generator() -> None:
    ask = answers({"a": [7], "b": [7]}, {"a": [7], "b": [8]})
    ctx = check_context(ask, samples=1, confidence=None)
    given = transfer.run_check(ctx, "q", explanation="3 + 4 = 7.\nAnswer: 7").value
    assert given.explanation.origin == "given"
    assert given.explanation.text == "3 + 4 = 7."
    assert [model for model, _, _ in ask.calls if model not in ("a", "b")] == []
    assert ctx.progress[-1] == (2 * 2 * 1, False, False)

    def tutor(prompt: str) -> str:
        return f"For {prompt}: 3 + 4 = 7."

    made = transfer.run_check(ctx, "q", explanation=tutor, strip_with="s").value
    assert made.explanation.origin.startswith("callable ") and made.explanation.origin.endswith(
        "tutor"
    )
    assert made.explanation.output == "For q: 3 + 4 = 7."
    assert [model for model, _, _ in ask.calls if model not in ("a", "b")] == ["s"]
    assert ctx.progress[-1] == (1 + 2 * 2 * 1, False, False)


def test_run_check_reads_choices() -> None:
    ask = answers({"a": ["B"], "b": ["B"]}, {"a": ["A"], "b": ["B"]})
    ctx = check_context(ask, samples=1, confidence=None)
    result = transfer.run_check(ctx, "q", answer="choice", choices=("yes", "no")).value
    assert result.spec.choices == ("yes", "no")
    assert result.transfer.answers == {"a": ["B"], "b": ["B"]}
