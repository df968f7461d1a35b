"""The kinds of check: one protocol every check result follows, and the registry the
reports dispatch on.

A check kind is a module with a result type that has ``kind``, ``verdict`` (pass, fail or
inconclusive), ``reasons``, ``explain()`` (the failure message) and ``to_dict()`` (its JSON
data), a ``run(ctx, ...)`` that the fixture calls with a
:class:`~pytest_xgen.checks.context.CheckContext`, and a row in :data:`KINDS`. The fixture
(``xgen.run_check(kind)`` and the methods built on it), the marker (a kind's own
keywords), the JSON report, the HTML report (the kind's ``html`` renderer, a table of the
data for a kind without one), the summaries (its ``group``) and the upgrade gate (the kinds
with ``units``) look the kind up here. A plugin adds rows with the
``pytest_xgen_check_kinds`` hook (:func:`register`, for one run); ``docs/contributing.md``
lists the files a new kind touches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pytest_xgen.errors import XgenConfigError, did_you_mean
from pytest_xgen.settings import marker
from pytest_xgen.settings.marker import Keyword
from pytest_xgen.settings.values import Maybe, Whole

if TYPE_CHECKING:
    from pytest_xgen.checks.units import CheckUnits

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
    """One kind of check: everything the fixture, the reports and the gate know about it.

    Every reference to code is a ``"module:name"`` string, imported only when used, so
    reading the registry loads no check module."""

    kind: str
    result: str  # "module:Type" of its result
    group: str  # the summary it is counted in: transfer, invariance, interventions, ...
    html: str | None = None  # "module:function" rendering a check's data as HTML
    units: str | None = None  # gated kinds: "module:function" giving a check's metric units
    run: str | None = None  # "module:function": run(ctx, *args, **kwargs) -> Ran
    keywords: Mapping[str, Keyword] = field(default_factory=dict, hash=False)
    """The marker keywords that are the kind's own (its thresholds and settings); a
    keyword the marker does not know yet is added when the kind is registered."""

    @property
    def gated(self) -> bool:
        """Whether its checks give the test's metrics, which the gate compares."""
        return self.units is not None

    def result_type(self) -> type[Any]:
        return load(self.result)  # type: ignore[no-any-return]

    def html_renderer(self) -> Callable[[Mapping[str, Any]], str] | None:
        """Its ``html`` function, which renders a check's data as HTML; ``None`` for a kind
        without one (the HTML report shows such a check's data as a table)."""
        return None if self.html is None else load(self.html)

    def unit_counts(self) -> Callable[[Mapping[str, Any]], CheckUnits] | None:
        """Its ``units`` function, which gives a check's counts for the gate and the text
        its evaluators read (:mod:`pytest_xgen.checks.units`); ``None`` for a kind the gate
        does not read."""
        return None if self.units is None else load(self.units)


def load(reference: str) -> Any:
    """The object a ``"module:name"`` reference names (imported now: a registry row names
    its parts without importing them, so a run loads only the kinds it runs)."""
    import importlib

    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


_C = "pytest_xgen.checks."
_H = "pytest_xgen.report.html."


def _own(*names: str) -> dict[str, Keyword]:
    return {name: marker.KEYWORDS[name] for name in names}


SHARED_KEYWORDS = (
    *("generator", "evaluators", "samples", "confidence", "temperature", "require_correct"),
    *("strip_with", "delivery", "on_inconclusive", "max_examples", "explanation", "prompts"),
    # the ensemble's, which xgen.ensemble(), the transfer check and weak steps read
    *("generators", "scorer", "candidates", "max_sentences"),
)
"""The marker keywords every kind reads; the others belong to one kind's row."""
_INTERVENE = _C + "interventions:run_check"  # one run makes every intervention
KINDS: dict[str, CheckKind] = {
    kind.kind: kind
    for kind in (
        CheckKind(
            "transfer",
            _C + "transfer_report:TransferResult",
            "transfer",
            html=_H + "transfer:render_transfer",
            units=_C + "units:transfer_units",
            run=_C + "transfer:run_check",
            keywords=_own("min_consistency", "min_lift", "baseline"),
        ),
        CheckKind(
            "invariant",
            _C + "invariance:InvariantResult",
            "invariance",
            html=_H + "invariance:render_invariant",
            run=_C + "invariance:run_check",
            keywords=_own("min_invariance", "max_drop"),
        ),
        CheckKind(
            "review",
            _C + "review:ReviewResult",
            "review",
            html=_H + "review:render_review",
            run=_C + "review:run_check",
            keywords=_own("min_step_agreement"),
        ),
        CheckKind(
            "weak_steps",
            _C + "weak:WeakSteps",
            "diagnosis",
            html=_H + "weak:render_weak_steps",
            run=_C + "weak:run_weak_steps",
        ),
        CheckKind(
            "repair",
            _C + "weak:Repair",
            "diagnosis",
            html=_H + "weak:render_repair",
            run=_C + "weak:run_repair",
        ),
        CheckKind(
            "early_answering",
            _C + "interventions:EarlyAnswering",
            "interventions",
            html=_H + "interventions:render_early_answering",
            run=_INTERVENE,
            keywords=_own("min_steps_needed", "max_intervention_steps"),
        ),
        CheckKind(
            "added_mistake",
            _C + "interventions:AddedMistake",
            "interventions",
            html=_H + "interventions:render_intervention",
            units=_C + "units:added_mistake_units",
            run=_INTERVENE,
            keywords=_own("min_follow_rate"),
        ),
        CheckKind(
            "paraphrase_control",
            _C + "interventions:ParaphraseControl",
            "interventions",
            html=_H + "interventions:render_intervention",
            run=_INTERVENE,
            keywords=_own("paraphrase_with", "max_paraphrase_change"),
        ),
        CheckKind(
            "filler_control",
            _C + "interventions:FillerControl",
            "interventions",
            html=_H + "interventions:render_intervention",
            run=_INTERVENE,
            keywords=_own("max_filler_lift"),
        ),
        CheckKind(
            "mirrored",
            _C + "mirror:MirrorResult",
            "interventions",
            html=_H + "interventions:render_mirrored",
            run=_C + "mirror:run_check",
            keywords=_own("max_contradiction_rate"),
        ),
        CheckKind(
            "answer_position",
            _C + "answer_position:AnswerPosition",
            "interventions",  # tallied with the other checks of what an explanation does
            run=_C + "answer_position:run_check",
            keywords={
                "max_steps_after_answer": Keyword(
                    Maybe(Whole(0)),
                    None,
                    "answer position: steps an explanation may give after stating its answer",
                )
            },
        ),
    )
}
for _row in KINDS.values():
    marker.add_keywords(_row.keywords, _row.kind)  # a kind's new keywords, from its row


def runner(kind: str) -> Callable[..., Any]:
    """The ``run`` of check kind ``kind`` (``run(ctx, ...)``, giving a
    :class:`~pytest_xgen.checks.context.Ran`); a kind not registered, or one without a run of
    its own, is an :class:`XgenConfigError` that lists those that can be run."""
    found = KINDS.get(kind)
    if found is None or found.run is None:
        runnable = sorted(name for name, row in KINDS.items() if row.run is not None)
        what = "is not registered" if found is None else "has no run of its own"
        what += did_you_mean(kind, runnable, n=1)
        raise XgenConfigError(
            f"xgen.run_check({kind!r}): check kind {kind!r} {what}; "
            f"registered kinds: {', '.join(runnable)} (a plugin adds one with the "
            "pytest_xgen_check_kinds hook)"
        )
    return load(found.run)  # type: ignore[no-any-return]


def register(rows: Iterable[object], where: str) -> list[str]:
    """Add the check kinds a plugin gives (``pytest_xgen_check_kinds``) to :data:`KINDS`,
    and their own new marker keywords to the marker; returns the kinds added (for
    :func:`unregister`). A row that is not a :class:`CheckKind`, a kind name that is taken,
    or a reference that is not ``"module:name"`` is an :class:`XgenConfigError`."""
    added: list[str] = []
    try:
        for row in rows:
            if not isinstance(row, CheckKind):
                raise XgenConfigError(
                    f"{where}: pytest_xgen_check_kinds must return a list of "
                    f"pytest_xgen.checks.kinds.CheckKind rows; got {type(row).__name__} {row!r}"
                )
            existing = KINDS.get(row.kind)
            if existing == row:
                continue  # the same row twice (from two conftest files, say)
            if existing is not None:
                raise XgenConfigError(
                    f"{where}: check kind {row.kind!r} is registered already (its result is "
                    f"{existing.result}); give yours another name"
                )
            _check_row(row, where)
            try:
                marker.add_keywords(row.keywords, row.kind)
            except XgenConfigError as exc:
                raise XgenConfigError(f"{where}: {exc}") from None
            KINDS[row.kind] = row
            added.append(row.kind)
    except XgenConfigError:
        unregister(added)
        raise
    return added


def _check_row(row: CheckKind, where: str) -> None:
    if not row.kind.isidentifier():
        raise XgenConfigError(
            f"{where}: check kind name {row.kind!r} must be a Python name (letters, digits, _)"
        )
    for name in ("result", "run", "html", "units"):
        reference = getattr(row, name)
        if name in ("result", "run") and reference is None:
            raise XgenConfigError(f"{where}: check kind {row.kind!r} needs {name}='module:name'")
        module, colon, attribute = (reference or "m:n").partition(":")
        if not (colon and module and attribute.isidentifier()):
            raise XgenConfigError(
                f"{where}: check kind {row.kind!r}: {name}={reference!r} must be "
                "'module:name', e.g. 'my_package.checks:run'"
            )


def unregister(kinds: Iterable[str]) -> None:
    """Remove kinds :func:`register` added, and the marker keywords they brought."""
    for kind in kinds:
        row = KINDS.pop(kind, None)
        if row is not None:
            marker.remove_keywords(row.keywords)


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
