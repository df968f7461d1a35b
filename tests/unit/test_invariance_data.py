"""An invariance check's JSON data (``InvariantResult.to_dict``, kind invariant in
``report.schema.json``): each field named as the schema names it, holding what the check
found, for a check whose answers flip under a perturbation."""

from __future__ import annotations

from pytest_xgen.checks.invariance import SCREEN_P, invariant
from tests.helpers import golden
from tests.unit.test_invariance import BASE, SPEC, Scripted, extract, options

FIELDS = {
    "kind",
    "prompt",
    "perturbed",
    "perturbation",
    "evaluators",
    "options",
    "answer_spec",
    "expected",
    "models",
    "flipped",
    "level",
    "search_size",
    "confirmations",
    "spent",
    "confirmation_samples",
    "screen_p",
    "power_drop",
    "problem",
    "explanation",
    "tests",
    "verdict",
    "reasons",
}


def test_a_flipped_check_as_json() -> None:
    ask = Scripted(lambda m, perturbed, i, rng: 9 if perturbed else 7)
    moved = BASE + " Sam reads."
    result = invariant(BASE, moved, options(("a", "b")), SPEC, 7, ask, extract)
    found = result.to_dict()

    assert set(found) == FIELDS
    assert found["kind"] == "invariant"
    assert found["prompt"] == BASE and found["perturbed"] == moved
    assert found["perturbation"]["base"] == BASE and found["perturbation"]["edits"] == []
    assert "{+ Sam reads.+}" in found["perturbation"]["diff"]
    assert found["evaluators"] == ["a", "b"]
    assert found["options"]["evaluators"] == ["a", "b"]
    assert found["answer_spec"] == SPEC.describe() and found["expected"] == 7
    for model in ("a", "b"):
        assert found["models"][model] == {
            "base": [7.0] * 10,
            "perturbed": [9.0] * 10,
            "agree": 0,
            "total": 10,
        }
    assert found["flipped"] == ["a", "b"]
    assert found["level"] == 0.05 and found["search_size"] == 1
    assert found["confirmations"] == 1 and found["spent"] == 1
    assert found["confirmation_samples"] == 40
    assert found["screen_p"] == SCREEN_P == 0.3
    assert found["power_drop"] == result.power_drop
    assert found["problem"] is None and found["explanation"] is None
    assert found["tests"] == {m: t.to_dict() for m, t in result.tests.items()}
    assert found["tests"]["a"]["failed"] is True
    assert found["tests"]["a"]["base_rate"] == 1.0
    assert found["tests"]["a"]["perturbed_rate"] == 0.0
    assert found["verdict"] == "fail"
    assert found["reasons"] == result.reasons and len(found["reasons"]) == 2
    assert found["reasons"][0].startswith("a: accuracy fell from 1.00 to 0.00")


def test_the_account_of_a_flipped_check() -> None:
    ask = Scripted(lambda m, perturbed, i, rng: 9 if perturbed and m == "a" else 7)
    result = invariant(BASE, BASE + " Sam reads.", options(("a", "b")), SPEC, 7, ask, extract)
    golden("invariant_explain_flipped.txt", result.explain())


def test_the_account_of_a_product_whose_answer_changed() -> None:
    def tutor(prompt: str) -> str:
        return "3 + 4 = 7.\nAnswer: 7" if prompt == BASE else "3 + 5 = 8.\nAnswer: 8"

    ask = Scripted(lambda m, perturbed, i, rng: 7)
    moved = BASE + " Sam reads."
    result = invariant(BASE, moved, options(), SPEC, 7, ask, extract, explanation=tutor)
    golden("invariant_explain_product.txt", result.explain())
    data = result.to_dict()["explanation"]
    assert data["origin"] == result.explanation.origin
    assert data["base"] == {"answer": 7.0, "output": tutor(BASE)}
    assert data["perturbed"] == {"answer": 8.0, "output": tutor(moved)}
    assert data["changed"] is True
