"""The ``transfers`` marker: its keywords, validated in one place, and how they combine.

Per keyword, highest precedence first: an argument of ``xgen.check()``, the ``--xgen-*``
option when given on the command line, the closest ``transfers`` marker (function, then
class, then module), then ``xgen_*`` ini values and ``[tool.xgen]``, then the defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_xgen.core.prompts import DEFAULT as DEFAULT_PROMPTS
from pytest_xgen.core.prompts import Prompts
from pytest_xgen.errors import XgenConfigError, did_you_mean
from pytest_xgen.settings import names
from pytest_xgen.settings.options import BY_KEY
from pytest_xgen.settings.values import (
    Choice,
    Flag,
    Kind,
    Maybe,
    Names,
    PromptTexts,
    Real,
    Source,
    Text,
    Whole,
)

if TYPE_CHECKING:
    from pytest_xgen.settings.config import Settings

MARKER = "transfers"


@dataclass(frozen=True)
class Keyword:
    """One keyword of the marker and of ``check()``: its kind of value and default, which
    come from the setting of the same name when there is one."""

    kind: Kind
    default: Any
    help: str
    setting: str | None = None  # the [tool.xgen] / --xgen-* setting that supplies the default
    shown: str | None = None  # how the marker's help line shows it, when not its default
    models: bool = False  # its value names configured models (checked against them)

    def check(self, value: Any) -> Any:
        return self.kind.check(value)


def _from_setting(
    key: str, help: str, shown: str | None = None, *, models: bool = False
) -> Keyword:
    setting = BY_KEY[key]
    return Keyword(setting.kind, setting.default, help, key, shown, models)


NAME = Text("a model name (str)")

EXPLANATION_MODES = ("single", "ensemble")
"""The ``explanation`` words that ask the plugin for one; any other text is the explanation."""

KEYWORDS: dict[str, Keyword] = {
    "generator": _from_setting("generator", "model that solves and explains", "NAME", models=True),
    "evaluators": _from_setting(
        "evaluators", "models given the explanation", "[NAME, ...]", models=True
    ),
    "min_consistency": _from_setting("min_consistency", "transfer consistency needed"),
    "min_lift": _from_setting("min_lift", "lift over the baseline needed"),
    "samples": _from_setting(
        "samples", "answers per evaluator and condition, or 'auto'", "'auto'|N"
    ),
    "confidence": _from_setting(
        "confidence", "decide on interval bounds at this level (None: point estimates)"
    ),
    "baseline": _from_setting("baseline", "the baseline condition"),
    "temperature": _from_setting("temperature", "sampling temperature of evaluator samples"),
    "require_correct": Keyword(Flag(), False, "a consistent wrong answer fails the check"),
    "strip_with": Keyword(Maybe(NAME), None, "model that removes answer sentences", models=True),
    "delivery": Keyword(Choice(("user", "prefill")), "user", "where the explanation goes"),
    "on_inconclusive": Keyword(
        Choice(("fail", "xfail", "pass")),
        "fail",
        "outcome when an interval straddles a threshold",
    ),
    "max_examples": _from_setting("max_examples", "Hypothesis examples of this test"),
    "min_invariance": Keyword(
        Real(0, 1),
        1.0,
        "greedy single samples: share of samples whose answer a perturbation may not "
        "change; otherwise max_drop defaults to 1 - min_invariance",
    ),
    "max_drop": Keyword(
        Maybe(Real(0, 1)),
        None,
        "invariance: the drop in an evaluator's rate a perturbation may cause "
        "(default 1 - min_invariance)",
    ),
    "min_step_agreement": Keyword(Maybe(Real(0, 1)), None, "step-level agreement a review needs"),
    "explanation": Keyword(
        Source(
            EXPLANATION_MODES,
            "an explanation's text (more than one word), or a callable taking the prompt",
        ),
        "single",
        "one generator's explanation, an ensemble, your own text, or a callable "
        "(prompt -> text) that makes one",
        shown="'single'|'ensemble'|TEXT|CALLABLE",
    ),
    "prompts": Keyword(
        Maybe(PromptTexts()),
        None,
        "prompts replaced for this check, by name, over [tool.xgen.prompts]",
        shown="{NAME: TEXT}",
    ),
    "generators": Keyword(
        Maybe(Names()), None, "the ensemble's generators (default: the generator)", models=True
    ),
    "scorer": Keyword(Maybe(NAME), None, "model that scores ensemble candidates", models=True),
    "candidates": Keyword(Whole(1), 3, "candidates per generator and ensemble step"),
    "max_sentences": Keyword(Whole(1), 8, "most sentences of an ensembled explanation"),
    # xgen.interventions(): what the answers must do when the explanation is edited.
    "min_steps_needed": Keyword(
        Maybe(Whole(1)), None, "early answering: steps the final answer must need"
    ),
    "min_follow_rate": Keyword(
        Maybe(Real(0, 1)), None, "added mistake: how far answers must follow a changed number"
    ),
    "paraphrase_with": Keyword(
        Maybe(NAME), None, "model that rewords the explanation", models=True
    ),
    "max_paraphrase_change": Keyword(
        Maybe(Real(0, 1)), None, "paraphrase control: how far rewording may move answers"
    ),
    "max_filler_lift": Keyword(
        Maybe(Real(-1, 1)), None, "filler control: lift over the baseline filler may keep"
    ),
    "max_contradiction_rate": Keyword(
        Maybe(Real(0, 1)), None, "mirrored questions: share of contradictory answer pairs"
    ),
    "max_intervention_steps": Keyword(
        Whole(1), 10, "interventions: most cuts and most changed steps, spread evenly"
    ),
}


def marker_help() -> str:
    """The marker's help line (``pytest --markers``), with every keyword known now."""
    return (
        f"{MARKER}("
        + ", ".join(f"{name}={kw.shown or repr(kw.default)}" for name, kw in known().items())
        + "): the test's xgen.check() must show that the generator's explanation, answer "
        "removed, makes the evaluators agree; see docs/transfer.md"
    )


ADDED: dict[str, Keyword] = {}
"""The keywords check kinds added (:func:`add_keywords`), beside :data:`KEYWORDS`, whose
are the fields of :class:`TransferOptions`."""
_OWNER: dict[str, str] = {}  # an added keyword -> the check kind that added it


def known() -> dict[str, Keyword]:
    """Every keyword the marker takes now: its own and those check kinds added."""
    return {**KEYWORDS, **ADDED}


def add_keywords(keywords: Mapping[str, Keyword], kind: str) -> list[str]:
    """Accept ``keywords`` in the marker and the check methods, for check kind ``kind``
    (their values reach its run as ``options.extra``); returns the names added. A name
    the marker has already, as another keyword, is an :class:`XgenConfigError`."""
    added = []
    for name, keyword in keywords.items():
        if KEYWORDS.get(name) is keyword:
            continue  # a built-in kind naming its own keyword
        if name in known() or not name.isidentifier():
            owner = _OWNER.get(name)
            by = f"check kind {owner!r}" if owner else "pytest-xgen"
            raise XgenConfigError(
                f"check kind {kind!r}: marker keyword {name!r} "
                + (f"is taken by {by}" if name in known() else "is not a Python name")
                + "; give the kind's keyword another name"
            )
        ADDED[name] = keyword
        _OWNER[name] = kind
        added.append(name)
    return added


def remove_keywords(names: Iterable[str]) -> None:
    """Forget keywords :func:`add_keywords` added (at the end of a run)."""
    for name in names:
        if _OWNER.pop(name, None) is not None:
            ADDED.pop(name, None)


def marker_kwargs(node: Any, where: str) -> list[dict[str, Any]]:
    """The keywords of every ``transfers`` marker of ``node``, closest first; a marker with
    positional arguments is an :class:`XgenConfigError`."""
    found = []
    for mark in node.iter_markers(MARKER):
        if mark.args:
            raise XgenConfigError(
                f"{where}: @pytest.mark.{MARKER} takes keyword arguments only; got {mark.args!r}"
            )
        found.append(dict(mark.kwargs))
    return found


def source_name(source: Any) -> str:
    """How a callable ``explanation`` is named in messages and reports: its module and
    qualified name (``tutor.explain``), never its address."""
    module = getattr(source, "__module__", None) or type(source).__module__
    name = getattr(source, "__qualname__", None) or type(source).__qualname__
    return f"{module}.{name}"


@dataclass(frozen=True)
class TransferOptions:
    """The resolved keywords of one check."""

    generator: str | None  # None only for checks that ask no generator (invariant())
    evaluators: tuple[str, ...]
    min_consistency: float
    min_lift: float
    samples: int | str  # a count, or "auto": sample in rounds until the verdict is clear
    confidence: float | None
    baseline: str
    temperature: float
    require_correct: bool
    strip_with: str | None
    delivery: str
    on_inconclusive: str
    max_examples: int
    min_invariance: float
    min_step_agreement: float | None
    max_drop: float | None = None
    explanation: str | Callable[[str], str] = "single"
    prompts: Prompts = DEFAULT_PROMPTS
    generators: tuple[str, ...] | None = None
    scorer: str | None = None
    candidates: int = 3
    max_sentences: int = 8
    min_steps_needed: int | None = None
    min_follow_rate: float | None = None
    paraphrase_with: str | None = None
    max_paraphrase_change: float | None = None
    max_filler_lift: float | None = None
    max_contradiction_rate: float | None = None
    max_intervention_steps: int = 10
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """The values of keywords a registered check kind added (:func:`add_keywords`)."""

    def __post_init__(self) -> None:
        # The keyword's own value (None, or a table of texts) stands for the prompts it makes.
        prompts: Any = self.prompts
        if not isinstance(prompts, Prompts):
            object.__setattr__(self, "prompts", DEFAULT_PROMPTS.updated(prompts or {}))

    def to_dict(self) -> dict[str, Any]:
        """The options as a report shows them: the prompts the project replaced (not all of
        them), and an explanation by origin (``given``, ``callable NAME``), not its text."""
        found = dict(vars(self))
        found.update(found.pop("extra"))
        found["prompts"] = self.prompts.changed()
        if callable(self.explanation):
            found["explanation"] = f"callable {source_name(self.explanation)}"
        elif self.explanation not in EXPLANATION_MODES:
            found["explanation"] = "given"  # the text itself is the report's explanation.output
        return found

    @property
    def ensemble_generators(self) -> tuple[str, ...]:
        """The ensemble's generators: ``generators``, or the one ``generator``."""
        if self.generators:
            return self.generators
        return () if self.generator is None else (self.generator,)

    @property
    def generator_name(self) -> str:
        """The generator; only checks resolved without one (``invariant()``) lack it."""
        if self.generator is None:
            raise XgenConfigError("this check needs a generator; set one in the marker")
        return self.generator

    @property
    def tolerated_drop(self) -> float:
        """The drop in an evaluator's rate an invariance check tolerates."""
        return 1 - self.min_invariance if self.max_drop is None else self.max_drop


def validate(
    kwargs: Mapping[str, Any], models: Mapping[str, Mapping[str, Any]], where: str
) -> dict[str, Any]:
    """Checked keyword values; a problem raises :class:`XgenConfigError` that names every
    unknown keyword and model with its closest match, and echoes what it got."""
    keywords = known()
    unknown = sorted(set(kwargs) - set(keywords))
    if unknown:
        shown = ", ".join(f"{u}{did_you_mean(u, keywords, n=1, cutoff=0.8)}" for u in unknown)
        raise XgenConfigError(
            f"{where}: unknown keyword(s) {shown} (got {_echo(kwargs)}); "
            f"allowed: {', '.join(keywords)}"
        )
    checked: dict[str, Any] = {}
    problems = []
    for name, value in kwargs.items():
        try:
            checked[name] = keywords[name].check(value)
        except (TypeError, ValueError) as exc:
            raise XgenConfigError(
                f"{where}: {name}={value!r} is not valid: expected {exc}"
            ) from None
        missing = [model for model in _models_of(name, checked[name]) if model not in models]
        if missing:
            problems.append(f"{name}={value!r} names unknown {names.listing(missing, models)}")
    if problems:
        raise XgenConfigError(f"{where}: {'; '.join(problems)}; {names.configured(models)}")
    return checked


def _models_of(name: str, value: Any) -> tuple[str, ...]:
    if value is None or not known()[name].models:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _echo(kwargs: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) or "nothing"


def resolve(
    markers: Iterable[Mapping[str, Any]],
    call: Mapping[str, Any],
    settings: Settings,
    where: str,
    *,
    needs_generator: bool = True,
    method: str = "xgen.check()",
) -> TransferOptions:
    """Combine ``check()`` arguments, command line, markers (closest first) and settings.

    ``needs_generator=False`` for checks that only ask evaluators (``invariant()``);
    ``method`` is the one called, as an error about its own arguments names it.
    """
    models = settings.models
    layers = [validate(call, models, f"{where}: {method}")]
    command_line = {
        name: getattr(settings, kw.setting)
        for name, kw in KEYWORDS.items()
        if kw.setting and settings.origin.get(kw.setting) == "command line"
    }
    layers.append(validate(command_line, models, "command line"))
    for kwargs in markers:
        layers.append(validate(kwargs, models, f"{where}: @pytest.mark.{MARKER}"))
    values: dict[str, Any] = {}
    for name, kw in known().items():
        for layer in layers:
            if name in layer:
                values[name] = layer[name]
                break
        else:
            values[name] = getattr(settings, kw.setting) if kw.setting else kw.default
    # Prompts merge by name: a marker's prompt replaces the project's, a call's the marker's.
    values["prompts"] = dict(settings.prompts)  # TransferOptions makes them Prompts
    for layer in reversed(layers):
        values["prompts"].update(layer.get("prompts") or {})
    # An explanation given as text or made by a callable needs no generator.
    needs_generator = needs_generator and values["explanation"] in EXPLANATION_MODES
    needed = ("generator", "evaluators") if needs_generator else ("evaluators",)
    missing = [n for n in needed if not values[n]]
    if missing:
        raise XgenConfigError(
            f"{where}: no {' and no '.join(missing)} for the check; pass "
            f"@pytest.mark.{MARKER}(generator=..., evaluators=[...]) or set them in [tool.xgen]"
        )
    values["extra"] = {name: values.pop(name) for name in list(values) if name in ADDED}
    values["evaluators"] = tuple(values["evaluators"])
    if values["generators"] is not None:
        values["generators"] = tuple(values["generators"])
    validate(
        {k: v for k, v in values.items() if k in ("generator", "evaluators") and v is not None},
        models,
        where,
    )
    _check_model_map(values, settings.model_map or {}, where, needs_generator)
    return TransferOptions(**values)


def _check_model_map(
    values: Mapping[str, Any], model_map: Mapping[str, str], where: str, needs_generator: bool
) -> None:
    """A model map must not make two evaluators one model, nor the generator the only
    evaluator's partner: agreement with itself would pass any check."""
    if not model_map:
        return
    evaluators: tuple[str, ...] = values["evaluators"]
    ran: dict[str, str] = {}
    for name in evaluators:
        target = model_map.get(name, name)
        if target in ran and ran[target] != name:
            raise XgenConfigError(
                f"{where}: the model map ({_map_text(model_map)}) makes evaluators "
                f"{ran[target]!r} and {name!r} the same model {target!r}; their agreement "
                "would be a model agreeing with itself. Map each evaluator to a different "
                "model, or list the candidate in evaluators instead"
            )
        ran[target] = name
    generator = values.get("generator")
    if needs_generator and generator is not None and len(evaluators) == 1:
        target = model_map.get(generator, generator)
        only = model_map.get(evaluators[0], evaluators[0])
        if target == only and generator != evaluators[0]:
            raise XgenConfigError(
                f"{where}: the model map ({_map_text(model_map)}) makes the generator "
                f"{generator!r} and the only evaluator {evaluators[0]!r} the same model "
                f"{target!r}; a single evaluator is compared with the generator's answer, so "
                "the check would compare a model with itself. Map them to different models"
            )


def _map_text(model_map: Mapping[str, str]) -> str:
    return ", ".join(f"{old}={new}" for old, new in model_map.items())
