"""What a transfer check asks, and how ``xgen.check()`` runs one: the messages and sampling
parameters of the baseline and transfer calls, the prompts a project replaced, the calls
planned for the progress line, and a given or ensembled explanation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pytest_xgen.checks import transfer
from pytest_xgen.core import prompts
from pytest_xgen.core.answers import answer_spec
from pytest_xgen.models.base import CompletionResult
from tests.options import check_context, check_options
from tests.scripted import Call, ScriptedAsk

SPEC = answer_spec("number")
EXPLAINED = "She has 3 apples.\nShe buys 4 more, so 3 + 4 = 7.\nAnswer: 7"
TEXT = "She has 3 apples.\nShe buys 4 more, so 3 + 4 = 7."


class Recorded(ScriptedAsk):
    """A scripted ask that keeps every call whole."""

    def __init__(self, evaluator: dict[str, Any]) -> None:
        self.seen: list[Call] = []

        def reply(call: Call) -> Any:
            self.seen.append(call)
            return evaluator.get(call.model, EXPLAINED)

        super().__init__(reply)

    def of(self, model: str) -> list[Call]:
        return [c for c in self.seen if c.model == model]


def extract(text: str, spec: Any) -> Any:
    return spec.extract(text)


def test_the_baseline_and_transfer_calls() -> None:
    ask = Recorded({"a": "Answer: 7", "b": "Answer: 7"})
    options = check_options(samples=2, confidence=None, baseline="own", temperature=0.7)
    result = transfer.check("Sam has 3 apples.", options, SPEC, 7, ask, extract)
    (made,) = ask.of("gen")
    assert made.user == "Sam has 3 apples."
    for model in ("a", "b"):
        calls = ask.of(model)
        assert len(calls) == 4
        base = [c for c in calls if c.system != prompts.TRANSFER_SYSTEM]
        moved = [c for c in calls if c.system == prompts.TRANSFER_SYSTEM]
        assert [c.sample for c in base] == [0, 1] and [c.sample for c in moved] == [0, 1]
        assert all(c.messages == prompts.baseline("Sam has 3 apples.", "own") for c in base)
        assert all(c.params == {"temperature": 0} for c in base)
        shown = prompts.transfer("Sam has 3 apples.", TEXT, "user")
        assert all(c.messages == shown for c in moved)
        assert all(c.params == {"temperature": 0.7} for c in moved)
    assert result.samples_used == 2 and result.passed


def test_replaced_prompts_and_a_prefilled_explanation() -> None:
    ask = Recorded({"a": "Answer: 7", "b": "Answer: 7"})
    own = replace(prompts.DEFAULT, baseline_system="Answer only, please.")
    options = check_options(samples=1, confidence=None, prompts=own, delivery="prefill")
    transfer.check("q", options, SPEC, None, ask, extract)
    calls = ask.of("a")
    assert calls[0].messages == prompts.baseline("q", "empty", own)
    assert calls[0].system == "Answer only, please."
    assert calls[0].params == {"temperature": 0.7}
    assert calls[1].messages == prompts.transfer("q", TEXT, "prefill", own)


def test_xgen_check_plans_its_calls_and_runs_the_check() -> None:
    ask = Recorded({"a": "Answer: 7", "b": "Answer: 8"})
    ctx = check_context(ask, samples=2, confidence=None)
    ran = transfer.run_check(ctx, "q", 7, answer="number")
    result = ran.value
    assert list(ran.checks) == [(result, True)]
    assert ctx.progress == [(1 + 2 * 2 * 2, False, False)]
    assert len(ask.seen) == 1 + 2 * 2 * 2
    assert result.expected == 7.0 and result.explanation.origin == "generator"
    assert result.spec.kind == "number" and result.ensemble is None


def test_xgen_check_with_a_given_explanation() -> None:
    ask = Recorded({"a": "Answer: 7", "b": "Answer: 7"})
    ctx = check_context(ask, samples=1, confidence=None, generator=None)
    result = transfer.run_check(ctx, "q", explanation=EXPLAINED).value
    assert ctx.progress == [(2 * 2, False, False)]
    assert ask.of("gen") == []
    e = result.explanation
    assert (e.origin, e.source, e.generator) == ("given", "given", "explanation")
    assert e.text == TEXT and e.answer == 7.0


def test_xgen_check_with_an_ensembled_explanation() -> None:
    completions: list[tuple[str, str, int]] = []

    def complete(model: str, text: str, sample: int, params: dict[str, Any]) -> Any:
        completions.append((model, text, sample))
        return CompletionResult(text=" Answer: 7", finish_reason="stop")

    ask = Recorded({"a": "Answer: 7", "b": "Answer: 7"})
    ctx = replace(check_context(ask, samples=2, confidence=None), complete=complete)
    result = transfer.run_check(
        ctx, "Sam has 3 apples.", explanation="ensemble", generators=["g1", "g2"], candidates=1
    ).value
    per_single = 1 + (1 + 2 * 2 * 2 - 1) // 2
    planned = 1 + 2 * 2 * 2 + 2 * 1 * 8 + 2 * per_single
    assert ctx.progress == [(planned, True, False)]
    assert {m for m, _, _ in completions} == {"g1", "g2"}
    assert all("Sam has 3 apples." in text for _, text, _ in completions)
    assert result.ensemble is not None and result.ensemble.generators == ("g1", "g2")
    e = result.explanation
    assert (e.origin, e.generator, e.answer) == ("ensemble", "ensemble", 7.0)
    assert e.output == result.ensemble.text
    assert list(result.singles) == ["g1", "g2"]
    assert all(s.explanation.answer == 7.0 for s in result.singles.values())
    # Each generator's own explanation goes to the evaluators as the ensemble's did.
    moved = [c for c in ask.of("a") if c.system == prompts.TRANSFER_SYSTEM]
    assert len(moved) == 2 + 2 * 2
    assert [len(ask.of(g)) for g in ("g1", "g2")] == [1, 1]
