"""Which summary a check is counted in: its kind's ``group`` in the registry
(:data:`pytest_xgen.checks.kinds.KINDS`), so that a kind registered later is summed up
with its group without an edit to the reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_xgen.checks.kinds import KINDS

TRANSFER = "transfer"
INTERVENTIONS = "interventions"


def group(check: Mapping[str, Any]) -> str | None:
    """The group of a check's kind; ``None`` for a kind not registered (a report written
    by a run with a plugin that is not installed here)."""
    found = KINDS.get(str(check.get("kind")))
    return None if found is None else found.group


def in_group(checks: Any, name: str) -> list[Mapping[str, Any]]:
    """The checks among ``checks`` whose kind is of group ``name``, in order."""
    return [check for check in checks if group(check) == name]
