"""The kinds of value a setting or marker keyword takes, each stated once.

A kind knows its allowed values and derives from them everything that must agree: the
parser of a command-line or ini string (:meth:`Kind.parse`), the check of a Python value
from TOML or a marker (:meth:`Kind.check`), the JSON Schema fragment of
``config.schema.json`` (:meth:`Kind.schema`) and the words that describe it in messages.
A range therefore cannot differ between ``--xgen-confidence``, ``[tool.xgen]`` and
``@pytest.mark.transfers(confidence=...)``.

``parse`` and ``check`` raise :class:`ValueError` (a value out of range) or
:class:`TypeError` (a value of the wrong type) whose message completes "expected ...".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pytest_xgen.core import prompts
from pytest_xgen.errors import did_you_mean


class Unparsable(ValueError):
    """A command-line value that is wrong in a way its own message says in full."""


class Kind:
    """The base of every kind: ``parse`` defaults to ``check`` of the stripped string."""

    def describe(self) -> str:
        raise NotImplementedError

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def parse(self, text: str) -> Any:
        return self.check(text.strip())

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Choice(Kind):
    """One of a few words. Command-line spellings are case-free and may use ``-`` for
    ``_`` (``new-episodes``)."""

    values: tuple[str, ...]

    def describe(self) -> str:
        return "one of " + ", ".join(map(repr, self.values))

    def check(self, value: Any) -> Any:
        if value not in self.values:
            raise ValueError(self.describe())
        return value

    def parse(self, text: str) -> Any:
        return self.check(text.strip().lower().replace("-", "_"))

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.values)}


@dataclass(frozen=True)
class Flag(Kind):
    """``True`` or ``False``; on the command line on/off, true/false, yes/no, 1/0."""

    def describe(self) -> str:
        return "on or off (true/false)"

    def check(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise TypeError("True or False")
        return value

    def parse(self, text: str) -> Any:
        word = text.strip().lower()
        if word in ("1", "true", "yes", "on"):
            return True
        if word in ("0", "false", "no", "off"):
            return False
        raise ValueError(self.describe())

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Whole(Kind):
    """A whole number, at least ``minimum`` when one is given."""

    minimum: int | None = None

    def describe(self) -> str:
        return "a whole number" + ("" if self.minimum is None else f" of at least {self.minimum}")

    def check(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("a whole number")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"at least {self.minimum}")
        return value

    def parse(self, text: str) -> Any:
        return self.check(_converted(text, int))

    def schema(self) -> dict[str, Any]:
        fragment: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            fragment["minimum"] = self.minimum
        return fragment


@dataclass(frozen=True)
class Real(Kind):
    """A finite number within bounds; an open bound excludes its end."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    def span(self) -> str:
        low, high = _g(self.low), _g(self.high)
        if self.low is not None and self.high is not None:
            if self.open_low and self.open_high:
                return f"between {low} and {high}"
            if not self.open_low and not self.open_high:
                return f"from {low} to {high}"
            return (
                f"more than {low} and at most {high}"
                if self.open_low
                else f"from {low} to less than {high}"
            )
        if self.low is not None:
            return f"more than {low}" if self.open_low else f"at least {low}"
        if self.high is not None:
            return f"less than {high}" if self.open_high else f"at most {high}"
        return "any number"

    def describe(self) -> str:
        return f"a number {self.span()}"

    def check(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("a number")
        number = float(value)
        if not math.isfinite(number) or not self._within(number):
            raise ValueError(self.span())
        return value

    def _within(self, number: float) -> bool:
        if self.low is not None and (number <= self.low if self.open_low else number < self.low):
            return False
        if self.high is not None:
            return number < self.high if self.open_high else number <= self.high
        return True

    def parse(self, text: str) -> Any:
        return self.check(_converted(text, float))

    def schema(self) -> dict[str, Any]:
        fragment: dict[str, Any] = {"type": "number"}
        if self.low is not None:
            fragment["exclusiveMinimum" if self.open_low else "minimum"] = self.low
        if self.high is not None:
            fragment["exclusiveMaximum" if self.open_high else "maximum"] = self.high
        return fragment


@dataclass(frozen=True)
class Text(Kind):
    """A non-empty string (a path, a model name), matching ``pattern`` when one is given.
    ``optional``: on the command line ``none`` or an empty value stands for no value."""

    what: str = "a non-empty text"
    pattern: str | None = None
    optional: bool = False

    def describe(self) -> str:
        return self.what + (", or none" if self.optional else "")

    def check(self, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise TypeError(self.what)
        if self.pattern is not None and (not re.fullmatch(self.pattern, value) or ".." in value):
            raise ValueError(self.what)
        return value.strip()

    def parse(self, text: str) -> Any:
        if self.optional and text.strip().lower() in ("", "none"):
            return None
        return self.check(text.strip())

    def schema(self) -> dict[str, Any]:
        if self.pattern is not None:
            return {"type": "string", "pattern": f"^{self.pattern}$"}
        return {"type": "string", "minLength": 1}


@dataclass(frozen=True)
class Source(Kind):
    """One of a few words naming a built-in way (``modes``), or the thing itself: a text of
    more than one word, or a callable taking the prompt and returning a text. A single word
    that is not a mode is a misspelt mode, never a text. Never a setting, so it has no
    command-line form."""

    modes: tuple[str, ...]
    what: str

    def describe(self) -> str:
        return f"one of {', '.join(map(repr, self.modes))}, {self.what}"

    def check(self, value: Any) -> Any:
        if callable(value) or value in self.modes:
            return value
        if not isinstance(value, str) or not value.strip():
            raise TypeError(self.describe())
        if len(value.split()) < 2:
            raise ValueError(f"{self.describe()}{did_you_mean(value, self.modes, n=1)}")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1}


@dataclass(frozen=True)
class PromptTexts(Kind):
    """A table of prompt texts by name (``pytest_xgen.core.prompts.Prompts``), each checked:
    a known name, a non-empty text, a template with exactly its placeholders."""

    def describe(self) -> str:
        return "a table of prompt texts by name"

    def check(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"{self.describe()} (a dict)")
        try:
            return prompts.check(value)
        except ValueError as exc:
            raise ValueError(f"{self.describe()}: {exc}") from None

    def schema(self) -> dict[str, Any]:
        text = {"type": "string", "minLength": 1}
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: text for name in prompts.NAMES},
        }


@dataclass(frozen=True)
class Names(Kind):
    """One or more model names: a list in TOML and markers, commas on the command line."""

    def describe(self) -> str:
        return "model names separated by commas"

    def check(self, value: Any) -> Any:
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise TypeError("a list of model names")
        names = list(value)
        if not all(isinstance(name, str) and name for name in names):
            raise TypeError("a list of model names")
        if not names:
            raise ValueError("at least one model name")
        return names

    def parse(self, text: str) -> Any:
        return self.check([part.strip() for part in text.split(",") if part.strip()])

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}


@dataclass(frozen=True)
class Either(Kind):
    """``kind``, or one word standing for a special value (``samples = "auto"``,
    ``confidence = "none"``, which TOML needs for want of a null)."""

    kind: Kind
    word: str
    value: Any
    meaning: str

    def describe(self) -> str:
        return f"{self.kind.describe()}, or {self.word}"

    def check(self, value: Any) -> Any:
        if value == self.word or (value is None and self.value is None):
            return self.value
        try:
            return self.kind.check(value)
        except TypeError as exc:
            raise TypeError(f"{exc} or {self.word!r}") from None
        except ValueError as exc:
            raise ValueError(f"{exc}, or {self.word!r}") from None

    def parse(self, text: str) -> Any:
        if text.strip().lower() == self.word:
            return self.value
        try:
            return self.kind.parse(text)
        except (TypeError, ValueError):
            raise ValueError(self.describe()) from None

    def schema(self) -> dict[str, Any]:
        return {
            "description": self.describe(),
            "anyOf": [self.kind.schema(), {"const": self.word, "description": self.meaning}],
        }


@dataclass(frozen=True)
class Maybe(Kind):
    """``kind`` or ``None`` (a marker keyword with no value); never on the command line."""

    kind: Kind

    def describe(self) -> str:
        return f"{self.kind.describe()}, or None"

    def check(self, value: Any) -> Any:
        return None if value is None else self.kind.check(value)

    def schema(self) -> dict[str, Any]:
        return self.kind.schema()


@dataclass(frozen=True)
class Pairs(Kind):
    """``OLD=NEW[,OLD2=NEW2]`` on the command line, a table of strings in TOML."""

    example: str

    def describe(self) -> str:
        return f"OLD=NEW[,OLD2=NEW2] (example: {self.example})"

    def check(self, value: Any) -> Any:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items()
        ):
            raise TypeError("a table of model names")
        return dict(value)

    def parse(self, text: str) -> Any:
        mapping: dict[str, str] = {}
        for part in (p.strip() for p in text.split(",") if p.strip()):
            old, sep, new = part.partition("=")
            if not sep or not old.strip() or not new.strip():
                raise ValueError(self.describe())
            mapping[old.strip()] = new.strip()
        return mapping

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": {"type": "string"}}


@dataclass(frozen=True)
class Thresholds(Kind):
    """``METRIC:DELTA[,...]``: per gated metric, the drop the upgrade gate tolerates."""

    metrics: tuple[str, ...]
    parser: Callable[[str], dict[str, float]] = field(compare=False)

    def describe(self) -> str:
        return f"METRIC:DELTA[,...] with METRIC one of {', '.join(self.metrics)}"

    def check(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError("a table of METRIC = DELTA")
        for metric, delta in value.items():
            if metric not in self.metrics:
                raise ValueError(f"metrics {', '.join(self.metrics)}; got {metric!r}")
            Real(0).check(delta)
        return dict(value)

    def parse(self, text: str) -> Any:
        try:
            return self.parser(text)
        except ValueError as exc:
            raise Unparsable(str(exc)) from None

    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {m: Real(0).schema() for m in self.metrics},
        }


def _converted(text: str, convert: Callable[[str], Any]) -> Any:
    """``convert(text)``; a string that is no number is a ``TypeError``."""
    try:
        return convert(text.strip())
    except ValueError:
        raise TypeError("not a number") from None


def _g(number: float | None) -> str:
    return f"{number:g}" if number is not None else ""
