"""A transfer check's JSON data (``TransferResult.to_dict``, kind transfer in
``report.schema.json``): every field named as the schema names it and holding what the
check found, for a check against an expected answer, one without, and an ensemble."""

from __future__ import annotations

from typing import Any

from pytest_xgen.checks import transfer
from pytest_xgen.checks.ensemble import EnsembleExplanation, Step
from pytest_xgen.core import prompts
from pytest_xgen.core.answers import answer_spec
from pytest_xgen.core.perturb import Edit, PerturbedPrompt
from tests.options import check_options
from tests.scripted import Call, ScriptedAsk

SPEC = answer_spec("number")
EXPLAINED = "She has 3 apples.\nShe buys 4 more, so 3 + 4 = 7.\nAnswer: 7"
FIELDS = {
    "kind",
    "prompt",
    "perturbation",
    "generator",
    "evaluators",
    "options",
    "answer_spec",
    "expected",
    "explanation",
    "conditions",
    "lift",
    "lift_interval",
    "samples_used",
    "interval_level",
    "looks",
    "stopped",
    "diverged",
    "verdict",
    "reasons",
    "notes",
}


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


def test_a_check_against_an_expected_answer() -> None:
    ask = scripted({"a": [7, 7], "b": [7, None]}, {"a": [6], "b": [5, 7]})
    options = check_options(samples=2, confidence=0.9)
    result = transfer.check("q", options, SPEC, 7, ask, extract)
    result.notes.append("a note")
    found = result.to_dict()

    assert set(found) == FIELDS
    assert found["kind"] == "transfer" and found["prompt"] == "q"
    assert found["perturbation"] is None
    assert found["generator"] == "gen" and found["evaluators"] == ["a", "b"]
    assert found["options"]["samples"] == 2 and found["options"]["confidence"] == 0.9
    assert found["answer_spec"] == SPEC.describe() and found["expected"] == 7
    assert found["explanation"] == {
        "origin": "generator",
        "source": "text",
        "output": EXPLAINED,
        "text": "She has 3 apples.\nShe buys 4 more, so 3 + 4 = 7.",
        "removed": ["Answer: 7"],
        "method": "rules",
        "answer": 7.0,
        "correct": True,
    }
    moved = found["conditions"]["transfer"]
    assert set(found["conditions"]) == {"baseline", "transfer"}
    assert set(moved) == {
        "name",
        "consistency",
        "interval",
        "breakdown",
        "sample_agreement",
        "models",
    }
    assert moved["name"] == "transfer"
    assert moved["consistency"]["mean"] == 1.0 and moved["consistency"]["total"] == 1
    assert moved["interval"] == list(result.transfer.interval or ())
    assert moved["breakdown"]["counts"]["consistent_correct"] == 1
    assert moved["sample_agreement"] == [True, None]
    assert moved["models"] == {
        "a": {
            "outputs": ["Answer: 7", "Answer: 7"],
            "answers": [7.0, 7.0],
            "correct": [True, True],
            "accuracy": 1.0,
            "unparseable": 0,
        },
        "b": {
            "outputs": ["Answer: 7", "I am not sure"],
            "answers": [7.0, None],
            "correct": [True, False],
            "accuracy": 0.5,
            "unparseable": 1,
        },
    }
    base = found["conditions"]["baseline"]
    assert base["name"] == "baseline (empty)"
    assert base["models"]["b"]["answers"] == [5.0, 7.0]
    assert base["models"]["a"]["correct"] == [False, False]
    assert found["lift"] == result.lift == 1.0
    assert found["lift_interval"] == list(result.lift_interval or ())
    assert len(found["lift_interval"]) == 2
    assert found["samples_used"] == 2 and found["interval_level"] == 0.9
    assert found["looks"] == [look.to_dict() for look in result.looks]
    assert len(found["looks"]) == 1
    assert found["stopped"] is None
    assert found["diverged"] is None
    assert found["verdict"] == "inconclusive"
    assert found["reasons"] == result.reasons and len(found["reasons"]) == 1
    assert found["notes"] == ["a note"]


def test_a_check_without_an_expected_answer_on_a_perturbed_prompt() -> None:
    ask = scripted({"a": [7], "b": [8]}, {"a": [7], "b": [7]})
    rename = Edit("rename", "Ann -> Sam", lambda text: text.replace("Ann", "Sam"))
    prompt = PerturbedPrompt("Sam has 3 apples.", "Ann has 3 apples.", (rename,))
    options = check_options(samples=2, confidence=None, generator=None)
    made = transfer.given("tutor.explain", EXPLAINED, options, SPEC, ask, extract, "given", "t")
    result = transfer.check(prompt, options, SPEC, None, ask, extract, explainer=lambda: made)
    result.stopped = "maximum"
    found = result.to_dict()

    assert found["prompt"] == "Sam has 3 apples."
    assert found["perturbation"]["base"] == "Ann has 3 apples."
    assert found["generator"] == "t"
    assert found["expected"] is None
    assert found["explanation"]["origin"] == "t" and found["explanation"]["correct"] is None
    assert found["explanation"]["source"] == "given"
    for condition in found["conditions"].values():
        assert all(m["correct"] is None for m in condition["models"].values())
        assert all(m["accuracy"] is None for m in condition["models"].values())
        assert condition["interval"] is None
    assert found["lift_interval"] is None and found["interval_level"] is None
    assert found["looks"] == [] and found["stopped"] == "maximum"
    assert found["diverged"] == "b"
    assert found["verdict"] == "fail"


def test_an_ensemble_and_its_generators() -> None:
    ask = scripted({"a": [7], "b": [7, 8]}, {"a": [7], "b": [8]})
    result = transfer.check(
        "q", check_options(samples=2, confidence=None, min_lift=0.0), SPEC, None, ask, extract
    )
    assert "ensemble" not in result.to_dict() and "singles" not in result.to_dict()
    steps = (
        Step("She has 3 apples.", "g1", None, (), 0),
        Step("Answer: 7", "g2", None, (), 0),
    )
    result.ensemble = EnsembleExplanation("q", ("g1", "g2"), None, steps, "answer", 3, 9)
    transfer.compare_singles(result, ["g1", "g2"], ask, extract)
    found = result.to_dict()

    assert set(found) == FIELDS | {"ensemble", "singles"}
    assert found["ensemble"] == result.ensemble.to_dict()
    assert found["singles"] == [
        {
            "generator": name,
            "consistency": single.consistency,
            "lift": single.lift,
            "answer": 7.0,
        }
        for name, single in result.singles.items()
    ]
    assert [s["generator"] for s in found["singles"]] == ["g1", "g2"]
    assert all(s["consistency"] is not None for s in found["singles"])


def test_whose_answer_a_single_evaluator_is_compared_with() -> None:
    from dataclasses import replace

    from pytest_xgen.checks.transfer_report import answer_source, came_from

    ask = scripted({"a": [7], "b": [7]}, {"a": [7], "b": [7]})
    made = transfer.check("q", check_options(samples=1), SPEC, None, ask, extract).explanation
    assert answer_source(made) == "the generator gen's answer"
    assert answer_source(replace(made, origin="given")) == (
        "the explanation's answer (an explanation given to the check)"
    )
    assert answer_source(replace(made, origin="ensemble")) == (
        "the explanation's answer (an ensembled explanation)"
    )
    assert answer_source(replace(made, origin="callable t")) == (
        "the explanation's answer (made by callable t)"
    )
    assert came_from(made) == "text"
    assert came_from(replace(made, source="thinking")) == "thinking (anthropic)"
    assert came_from(replace(made, source="reasoning summary")) == (
        "reasoning summary (openai-responses)"
    )
