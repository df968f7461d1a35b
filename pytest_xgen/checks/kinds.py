"""The kinds of check: one protocol every check result follows, and the registry the
reports dispatch on.

A check kind is a module in this folder with a result type that has ``kind``, ``verdict``
(pass, fail or inconclusive), ``reasons``, ``explain()`` (the failure message) and
``to_dict()`` (its JSON data), and a row in :data:`KINDS`. The JSON report, the HTML report
(``report.html.RENDERERS``, a table of the data for a kind it has no renderer for) and the
upgrade gate (the kinds with ``gated``) look the kind up here; ``docs/contributing.md``
lists the files a new kind touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

VERDICTS = ("pass", "fail", "inconclusive")


@runtime_checkable
class CheckResult(Protocol):
    """What every check returns."""

    kind: ClassVar[str]
    verdict: str
    reasons: list[str]

    def explain(self) -> str:
        """A self-contained account of the check, shown when it fails."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """The check as JSON data, with ``kind``, ``prompt``, ``verdict`` and ``reasons``."""
        ...


@dataclass(frozen=True)
class CheckKind:
    """One kind of check, as the reports know it."""

    kind: str
    result: str  # "module:Type" of its result, imported only when asked for
    gated: bool = False  # its checks give the test's metrics, which the gate compares

    def result_type(self) -> type[Any]:
        import importlib

        module, _, name = self.result.partition(":")
        found: type[Any] = getattr(importlib.import_module(module), name)
        return found


KINDS: dict[str, CheckKind] = {
    kind.kind: kind
    for kind in (
        CheckKind("transfer", "pytest_xgen.checks.transfer:TransferResult", gated=True),
        CheckKind("invariant", "pytest_xgen.checks.invariance:InvariantResult"),
        CheckKind("review", "pytest_xgen.checks.review:ReviewResult"),
        CheckKind("weak_steps", "pytest_xgen.checks.weak:WeakSteps"),
        CheckKind("repair", "pytest_xgen.checks.weak:Repair"),
        CheckKind("early_answering", "pytest_xgen.checks.interventions:EarlyAnswering"),
        CheckKind("added_mistake", "pytest_xgen.checks.interventions:AddedMistake", gated=True),
        CheckKind("paraphrase_control", "pytest_xgen.checks.interventions:ParaphraseControl"),
        CheckKind("filler_control", "pytest_xgen.checks.interventions:FillerControl"),
        CheckKind("mirrored", "pytest_xgen.checks.interventions:MirrorResult"),
    )
}


def gated(kind: object) -> bool:
    """Whether checks of ``kind`` feed the test's metrics (and so the upgrade gate)."""
    found = KINDS.get(str(kind))
    return found is not None and found.gated


def check_data(result: CheckResult) -> dict[str, Any]:
    """``result`` as the JSON report holds it, after checking it follows the protocol and
    that its data is JSON (no custom answer type, no NaN)."""
    if result.kind not in KINDS:
        raise TypeError(
            f"check kind {result.kind!r} is not registered in pytest_xgen.checks.kinds.KINDS"
        )
    data = result.to_dict()
    if data.get("kind") != result.kind or data.get("verdict") not in VERDICTS:
        raise TypeError(
            f"{type(result).__name__}.to_dict() must give kind {result.kind!r} and a verdict "
            f"in {', '.join(VERDICTS)}; got kind {data.get('kind')!r}, "
            f"verdict {data.get('verdict')!r}"
        )
    from pytest_xgen.checks.data import not_json

    problem = not_json(data)
    if problem is not None:
        raise TypeError(
            f"check kind {result.kind!r}: {type(result).__name__}.to_dict() must give JSON "
            f"data; at {problem}, which is not: pass answers (a custom answer type) and "
            "other values through pytest_xgen.checks.data.jsonable"
        )
    return data
