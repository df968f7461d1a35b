"""The ``transfers`` marker: its keywords, validated in one place, and how they combine.

Per keyword, highest precedence first: an argument of ``xgen.check()``, the ``--xgen-*``
option when given on the command line, the closest ``transfers`` marker (function, then
class, then module), then ``xgen_*`` ini values and ``[tool.xgen]``, then the defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_xgen.errors import XgenConfigError, did_you_mean

if TYPE_CHECKING:
    from pytest_xgen.settings.config import Settings

MARKER = "transfers"


def _number(
    low: float | None, high: float | None, *, integer: bool = False
) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("a whole number" if integer else "a number")
        if integer and not isinstance(value, int):
            raise TypeError("a whole number")
        number = float(value)
        if (low is not None and number < low) or (high is not None and number > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise ValueError(span)
        return value

    return check


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


def _choice(*allowed: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in allowed:
            raise ValueError("one of " + ", ".join(map(repr, allowed)))
        return value

    return check


def _samples(value: Any) -> int | str:
    """A whole number of at least 1, or ``"auto"`` (sequential sampling)."""
    if value == "auto":
        return "auto"
    try:
        return int(_number(1, None, integer=True)(value))
    except TypeError:
        raise TypeError("a whole number or 'auto'") from None
    except ValueError:
        raise ValueError("at least 1, or 'auto'") from None


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("True or False")
    return value


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("a model name (str)")
    return value


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError("a list of model names")
    names = tuple(_name(v) for v in value)
    if not names:
        raise ValueError("at least one model name")
    return names


@dataclass(frozen=True)
class Keyword:
    check: Callable[[Any], Any]
    default: Any
    help: str
    setting: str | None = None  # the [tool.xgen] / --xgen-* setting that supplies the default


KEYWORDS: dict[str, Keyword] = {
    "generator": Keyword(_name, None, "model that solves and explains", "generator"),
    "evaluators": Keyword(_names, None, "models given the explanation", "evaluators"),
    "min_consistency": Keyword(
        _number(0, 1), 0.8, "transfer consistency needed", "min_consistency"
    ),
    "min_lift": Keyword(_number(-1, 1), 0.0, "lift over the baseline needed", "min_lift"),
    "samples": Keyword(
        _samples, "auto", "answers per evaluator and condition, or 'auto'", "samples"
    ),
    "confidence": Keyword(
        _optional(_number(0.5, 0.999)),
        0.95,
        "decide on interval bounds at this level (None: point estimates)",
        "confidence",
    ),
    "baseline": Keyword(
        _choice("empty", "own", "sampled"), "empty", "the baseline condition", "baseline"
    ),
    "temperature": Keyword(
        _number(0, 2), 0.7, "sampling temperature of evaluator samples", "temperature"
    ),
    "require_correct": Keyword(_bool, False, "a consistent wrong answer fails the check"),
    "strip_with": Keyword(_optional(_name), None, "model that removes answer sentences"),
    "delivery": Keyword(_choice("user", "prefill"), "user", "where the explanation goes"),
    "on_inconclusive": Keyword(
        _choice("fail", "xfail", "pass"), "fail", "outcome when an interval straddles a threshold"
    ),
    "max_examples": Keyword(
        _number(1, None, integer=True), 10, "Hypothesis examples of this test", "max_examples"
    ),
    "min_invariance": Keyword(
        _number(0, 1),
        1.0,
        "greedy single samples: share of samples whose answer a perturbation may not "
        "change; otherwise max_drop defaults to 1 - min_invariance",
    ),
    "max_drop": Keyword(
        _optional(_number(0, 1)),
        None,
        "invariance: the drop in an evaluator's rate a perturbation may cause "
        "(default 1 - min_invariance)",
    ),
    "min_step_agreement": Keyword(
        _optional(_number(0, 1)), None, "step-level agreement a review needs"
    ),
    "explanation": Keyword(
        _choice("single", "ensemble"), "single", "one generator's explanation, or an ensemble"
    ),
    "generators": Keyword(
        _optional(_names), None, "the ensemble's generators (default: the generator)"
    ),
    "scorer": Keyword(_optional(_name), None, "model that scores ensemble candidates"),
    "candidates": Keyword(
        _number(1, None, integer=True), 3, "candidates per generator and ensemble step"
    ),
    "max_sentences": Keyword(
        _number(1, None, integer=True), 8, "most sentences of an ensembled explanation"
    ),
}

MARKER_HELP = (
    "transfers(generator=NAME, evaluators=[NAME, ...], min_consistency=0.8, min_lift=0.0, "
    "samples='auto'|N, confidence=0.95, baseline='empty', temperature=0.7, "
    "require_correct=False, "
    "strip_with=None, delivery='user', on_inconclusive='fail', max_examples=10, "
    "min_invariance=1.0, max_drop=None, min_step_agreement=None, explanation='single', "
    "generators=None, scorer=None, candidates=3, max_sentences=8): "
    "the test's xgen.check() must show that the generator's explanation, answer removed, makes "
    "the evaluators agree; see docs/transfer.md"
)


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
    explanation: str = "single"
    generators: tuple[str, ...] | None = None
    scorer: str | None = None
    candidates: int = 3
    max_sentences: int = 8

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


def validate(kwargs: Mapping[str, Any], models: Iterable[str], where: str) -> dict[str, Any]:
    """Checked keyword values; a problem raises :class:`XgenConfigError` that lists the
    allowed keywords and echoes what it got."""
    unknown = sorted(set(kwargs) - set(KEYWORDS))
    if unknown:
        raise XgenConfigError(
            f"{where}: unknown keyword(s) {', '.join(unknown)}"
            f"{did_you_mean(unknown[0], KEYWORDS, n=1, cutoff=0.8)} (got {_echo(kwargs)}); "
            f"allowed: {', '.join(KEYWORDS)}"
        )
    known = set(models)
    checked: dict[str, Any] = {}
    for name, value in kwargs.items():
        try:
            checked[name] = KEYWORDS[name].check(value)
        except (TypeError, ValueError) as exc:
            raise XgenConfigError(
                f"{where}: {name}={value!r} is not valid: expected {exc}"
            ) from None
        for model in _models_of(name, checked[name]):
            if model not in known:
                raise XgenConfigError(
                    f"{where}: {name}={value!r} names unknown model {model!r}"
                    f"{did_you_mean(model, known)}; configured models: "
                    f"{', '.join(sorted(known)) or 'none'}"
                )
    return checked


def _models_of(name: str, value: Any) -> tuple[str, ...]:
    if name in ("generator", "strip_with", "scorer") and value is not None:
        return (value,)
    if name in ("evaluators", "generators") and value is not None:
        return tuple(value)
    return ()


def _echo(kwargs: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) or "nothing"


def resolve(
    markers: Iterable[Mapping[str, Any]],
    call: Mapping[str, Any],
    settings: Settings,
    where: str,
    *,
    needs_generator: bool = True,
) -> TransferOptions:
    """Combine ``check()`` arguments, command line, markers (closest first) and settings.

    ``needs_generator=False`` for checks that only ask evaluators (``invariant()``).
    """
    models = settings.models
    layers = [validate(call, models, f"{where}: xgen.check()")]
    command_line = {
        name: getattr(settings, kw.setting)
        for name, kw in KEYWORDS.items()
        if kw.setting and settings.origin.get(kw.setting) == "command line"
    }
    layers.append(validate(command_line, models, "command line"))
    for kwargs in markers:
        layers.append(validate(kwargs, models, f"{where}: @pytest.mark.{MARKER}"))
    values: dict[str, Any] = {}
    for name, kw in KEYWORDS.items():
        for layer in layers:
            if name in layer:
                values[name] = layer[name]
                break
        else:
            values[name] = getattr(settings, kw.setting) if kw.setting else kw.default
    needed = ("generator", "evaluators") if needs_generator else ("evaluators",)
    missing = [n for n in needed if not values[n]]
    if missing:
        raise XgenConfigError(
            f"{where}: no {' and no '.join(missing)} for the check; pass "
            f"@pytest.mark.{MARKER}(generator=..., evaluators=[...]) or set them in [tool.xgen]"
        )
    values["evaluators"] = tuple(values["evaluators"])
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
