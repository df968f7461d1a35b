"""The account a person reads when a transfer check fails, for the shapes a check takes:
two evaluators against an expected answer with unread and diverging answers, one
evaluator with a reasoning model, a given explanation with no answer, a callable's
explanation on a perturbed prompt, and an ensemble beside its generators."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from pytest_xgen.checks import transfer
from pytest_xgen.checks.data import digest
from pytest_xgen.checks.transfer_report import TransferResult, answer_source, maker, show
from pytest_xgen.core import prompts
from pytest_xgen.core.answers import answer_spec
from pytest_xgen.core.perturb import Edit, PerturbedPrompt
from tests.helpers import golden
from tests.options import check_options
from tests.scripted import Call, ScriptedAsk

SPEC = answer_spec("number")
options = functools.partial(check_options, samples=4, confidence=None)
LONG = "Then she counts again, " + "slowly, " * 20 + "to be sure of 4."
EXPLAINED = (
    f"She has 3 apples.\nShe buys 4 more, so 3 + 4 = 7.\n{LONG}\nSo the total is 7.\nAnswer: 7"
)


def extract(text: str, spec: Any) -> Any:
    return spec.extract(text)


def scripted(transferred: dict[str, list[Any]], baseline: dict[str, list[Any]]) -> ScriptedAsk:
    def reply(call: Call) -> Any:
        if call.model not in transferred:
            return EXPLAINED
        moved = call.system == prompts.TRANSFER_SYSTEM
        values = (transferred if moved else baseline)[call.model]
        value = values[call.sample % len(values)]
        return "I am not sure" if value is None else f"Answer: {value}"

    return ScriptedAsk(reply)


def run(ask: ScriptedAsk, prompt: str = "q", expected: Any = None, **changes: Any) -> Any:
    return transfer.check(prompt, options(**changes), SPEC, expected, ask, extract)


def test_two_evaluators_against_an_expected_answer() -> None:
    ask = scripted({"a": [7, 7, 7, 7], "b": [7, 8, None, 8]}, {"a": [6], "b": [5, None]})
    result = run(ask, expected=7, confidence=0.9, min_consistency=0.9)
    golden("transfer_explain_expected.txt", result.explain())
    assert result.diverged() == "b"


def test_one_evaluator_and_a_reasoning_model() -> None:
    def reply(call: Call) -> Any:
        from pytest_xgen.models.base import ChatResult, Usage

        if call.model == "gen":
            return ChatResult(
                text="See above.", finish_reason="stop", usage=Usage(1, 1, 2), reasoning=EXPLAINED
            )
        return "Answer: 7"

    result = transfer.check(
        "q", options(evaluators=("a",)), SPEC, None, ScriptedAsk(reply), extract
    )
    golden("transfer_explain_one_evaluator.txt", result.explain())
    assert result.diverged() is None


def test_a_given_explanation_without_an_answer_says_where_it_looked() -> None:
    ask = scripted({"a": [7], "b": [7]}, {"a": [7], "b": [7]})
    text = "\n".join(["Add one more apple."] * 9 + ["That makes the total we need."])
    made = transfer.given("given", text, options(), SPEC, ask, extract, "given", "given")
    result = transfer.check(
        "q", options(explanation=text), SPEC, 7, ask, extract, explainer=lambda: made
    )
    golden("transfer_explain_given.txt", result.explain())


def test_a_callables_explanation_on_a_perturbed_prompt() -> None:
    ask = scripted({"a": [7], "b": [7, 8]}, {"a": [7], "b": [7]})
    rename = Edit("rename", "Ann -> Sam", lambda text: text.replace("Ann", "Sam"))
    prompt = PerturbedPrompt("Sam has 3 apples.", "Ann has 3 apples.", (rename,))
    made = transfer.given("tutor.explain", "", options(), SPEC, ask, extract, "given", "callable t")
    result = transfer.check(prompt, options(), SPEC, None, ask, extract, explainer=lambda: made)
    golden("transfer_explain_perturbed.txt", result.explain())


def test_an_ensemble_beside_its_generators() -> None:
    from pytest_xgen.checks.ensemble import EnsembleExplanation, Step

    ask = scripted({"a": [7], "b": [7, 8]}, {"a": [7], "b": [8]})
    result = run(ask, min_lift=0.0)
    steps = (
        Step("She has 3 apples.", "g1", None, (), 0),
        Step("So 3 + 4 = 7.", "g2", None, (), 0),
        Step("Answer: 7", "g2", None, (), 0),
    )
    result.ensemble = EnsembleExplanation("q", ("g1", "g2"), None, steps, "answer", 3, 9)
    transfer.compare_singles(result, ["g1", "g2"], ask, extract)
    golden("transfer_explain_ensemble.txt", result.explain())


def test_the_small_parts_of_the_account() -> None:
    assert [show(v) for v in (None, 7.0, 0.125, "yes", "x" * 20)] == [
        "?",
        "7",
        "0.125",
        "yes",
        "x" * 13 + "…",
    ]
    assert show("x" * 14) == "x" * 14
    assert digest("  3 + 4 = 7.\n") == digest("3 + 4 = 7.")
    assert digest("3 + 4 = 7.") == hashlib.sha256(b"3 + 4 = 7.").hexdigest()[:16]
    result: TransferResult = run(scripted({"a": [7], "b": [7]}, {"a": [7], "b": [7]}))
    made = result.explanation
    assert answer_source(made) == "the generator gen's answer"
    assert maker(made, "gen") == "gen" and maker(made, None) == "generator"
