"""A check's data must be JSON: the report writer takes it as it is."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar

import pytest

from pytest_xgen.checks.data import jsonable, not_json
from pytest_xgen.checks.kinds import check_data


def test_not_json_names_where_the_first_value_that_is_not_json_is() -> None:
    assert not_json({"a": [1, 2.5, "x", None, True], "b": {"c": []}}) is None
    assert not_json({"arms": [{"answers": {"m": [7, Fraction(7)]}}]}) == (
        "arms[0].answers.m[1]: a Fraction (Fraction(7, 1))"
    )
    assert not_json({"value": math.nan}) == "value: nan"
    assert not_json({"value": [math.inf]}) == "value[0]: inf"
    assert not_json({"counts": {7: 1}}) == "counts: a key 7 (int)"
    assert not_json(object()) is not None
    # What jsonable makes of anything is JSON.
    assert not_json(jsonable({"a": [Fraction(1, 2), math.nan, (1, 2)], 3: {4}})) is None


@dataclass
class Fractional:
    kind: ClassVar[str] = "added_mistake"
    verdict: str = "pass"
    reasons: list[str] = field(default_factory=list)

    def explain(self) -> str:
        return "fractional"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "prompt": "p",
            "verdict": self.verdict,
            "reasons": [],
            "reference": Fraction(7, 2),
        }


def test_a_result_whose_data_is_not_json_is_refused_naming_its_kind() -> None:
    with pytest.raises(TypeError) as raised:
        check_data(Fractional())
    assert str(raised.value) == (
        "check kind 'added_mistake': Fractional.to_dict() must give JSON data; at reference: "
        "a Fraction (Fraction(7, 2)), which is not: pass answers (a custom answer type) and "
        "other values through pytest_xgen.checks.data.jsonable"
    )
