"""docs/api.md names every public field of the results a test asserts on, so what a check
returns is found in the docs, not with ``dir()``."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from pytest_xgen import (
    ChatResult,
    Condition,
    Explanation,
    InvariantResult,
    TransferResult,
)
from pytest_xgen.checks.confirmation import ModelTest
from pytest_xgen.core.strip import Stripped

API = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def public(cls: type) -> list[str]:
    """A result class's fields, properties and methods a test may use."""
    fields = [f.name for f in dataclasses.fields(cls)]
    members = [
        name
        for name, value in inspect.getmembers(cls)
        if not name.startswith("_")
        and "ǁ" not in name  # mutation testing (mutmut) adds copies of every method so named
        and (isinstance(value, property) or inspect.isfunction(value))
        and name not in ("to_record",)
    ]
    return list(dict.fromkeys(fields + members))


@pytest.mark.parametrize(
    "cls",
    [TransferResult, Explanation, Condition, InvariantResult, ModelTest, Stripped, ChatResult],
)
def test_the_api_reference_names_every_public_field(cls: type) -> None:
    text = API.read_text()
    named = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)", text)) | set(
        re.findall(r"`[^`]*?\b([a-z_][a-z0-9_]*)[`(]", text)
    )
    missing = [name for name in public(cls) if name not in named]
    assert not missing, f"docs/api.md does not name {cls.__name__}.{missing}"


def test_the_api_reference_is_listed_in_the_docs_index() -> None:
    assert "(api.md)" in (API.parent / "index.md").read_text()
