"""Numbers read from outside the plugin, made finite and in range or refused by name.

An endpoint's answer (token counts, log-probabilities), a configuration file (prices) and a
report read back (costs, rates) all hand the plugin numbers it did not compute. Python's
``json`` reads ``NaN``, ``Infinity`` and ``1e999`` as floats, TOML has ``nan`` and ``inf``,
and a JSON Schema's ``minimum`` lets ``NaN`` and ``Infinity`` through. What is checked here
never reaches the arithmetic, a recording or a report: each kind of number is a
:class:`Range`, and a number outside it is a :class:`NumberError` whose message names the
field it was read from and what it should have been.

Pure functions on plain data: no pytest, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Where a number sits in a JSON document: its keys and list indices from the top.
Path = tuple[str | int, ...]

# A log-probability below this is a probability of 0 in floating point (exp(-9999) == 0.0).
# Some servers send such a token's log-probability as -Infinity, which JSON cannot hold;
# it is recorded as this floor instead (the value vLLM clamps to for the same reason).
LOGPROB_FLOOR = -9999.0


class NumberError(ValueError):
    """A number read from outside is not a number, not finite or out of range. The message
    names where it was read (a field path) and what it should have been."""


@dataclass(frozen=True)
class Range:
    """A kind of number read from outside: what it is called, its bounds (inclusive) and
    whether it must be whole."""

    what: str
    low: float | None = None
    high: float | None = None
    whole: bool = False

    def describe(self) -> str:
        """``a token count (a whole number from 0 to 1000000000)``."""
        number = "a whole number" if self.whole else "a finite number"
        low, high = _g(self.low), _g(self.high)
        if self.low is not None and self.high is not None:
            bounds = f" from {low} to {high}"
        elif self.low is not None:
            bounds = f" of at least {low}"
        elif self.high is not None:
            bounds = f" of at most {high}"
        else:
            bounds = ""
        return f"{self.what} ({number}{bounds})"

    def check(self, value: object, where: str) -> float:
        """``value`` if it is a finite number within the bounds (an ``int`` when whole);
        :class:`NumberError` naming ``where`` otherwise. Booleans are not numbers."""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or (self.whole and not float(value).is_integer())
            or (self.low is not None and value < self.low)
            or (self.high is not None and value > self.high)
        ):
            raise NumberError(f"{where} is {show(value)}, not {self.describe()}")
        return int(value) if self.whole else value


# More tokens than any context holds; the bound keeps every cost a finite float.
TOKENS = Range("a token count", 0, 10**9, whole=True)
# A probability's logarithm, after -Infinity and anything below the floor became the floor.
LOGPROB = Range("a log-probability", LOGPROB_FLOOR, 0)
# Per million tokens, in any currency: large enough for every price list, small enough that
# a call's cost (at most TOKENS.high tokens) stays a finite float.
PRICE = Range("a price per million tokens", 0, 1e12)

_USAGE = ("prompt_tokens", "completion_tokens", "total_tokens")


def show(value: object, limit: int = 60) -> str:
    """``value`` as a message shows it: ``NaN``, ``Infinity`` and ``-Infinity`` as JSON
    spells them, anything else as its ``repr`` cut to ``limit`` characters."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def dotted(path: Path) -> str:
    """``choices[0].logprobs.token_logprobs[3]``: a field path as an answer's JSON reads."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


def slashed(path: Path) -> str:
    """``run/calls/cost``: a field path as the report's schema messages give it."""
    return "/".join(str(p) for p in path) or "(top level)"


def nonfinite(data: Any, path: Path = ()) -> Iterator[tuple[Path, float]]:
    """Every float in ``data`` (dicts and lists, nested) that is ``NaN`` or infinite, with
    its path, in document order."""
    if isinstance(data, float):
        if not math.isfinite(data):
            yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from nonfinite(value, (*path, str(key)))
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            yield from nonfinite(value, (*path, index))


def first_nonfinite(data: Any) -> str | None:
    """``at run/calls/cost: NaN is not a finite number`` for the first non-finite float in
    ``data``, or None: the words of the report's schema problems."""
    for path, value in nonfinite(data):
        return f"at {slashed(path)}: {show(value)} is not a finite number"
    return None


def json_float(text: str) -> float:
    """A JSON number's text as a float (``parse_float`` of ``json.loads``), refusing one
    beyond a float's range such as ``1e999``, which Python would read as infinite."""
    value = float(text)
    if not math.isfinite(value):
        raise NumberError(f"{show(text)} is beyond the range of a number")
    return value


def usage(data: Any, where: str = "usage") -> dict[str, int]:
    """The token counts of an answer's ``usage`` (missing or null counts are 0), each a
    :data:`TOKENS`; a usage that is not an object counts nothing."""
    if not isinstance(data, dict):
        return dict.fromkeys(_USAGE, 0)
    return {name: int(TOKENS.check(data.get(name) or 0, f"{where}.{name}")) for name in _USAGE}


def logprob(value: object, where: str) -> float | None:
    """One token's log-probability: ``None`` stays (the first token of an echoed prompt has
    none), anything at or below :data:`LOGPROB_FLOOR` (``-Infinity`` included) becomes the
    floor, the rest must be a :data:`LOGPROB`."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value <= LOGPROB_FLOOR:
        return LOGPROB_FLOOR
    return LOGPROB.check(value, where)


def answer(record: dict[str, Any]) -> dict[str, Any]:
    """The record of one model answer (``text``, ``usage``, ``token_logprobs``, ``raw``,
    ``chunks``...) as it may be recorded: its usage counts checked (the counts the costs
    are taken from), its log-probabilities floored and checked, and no other number in it
    that JSON cannot hold. Raises
    :class:`NumberError` naming the first bad field (``usage.prompt_tokens``,
    ``raw.choices[0].logprobs.content[2].logprob``); the record is not changed in place."""
    out = dict(record)
    if isinstance(out.get("usage"), dict):
        usage(out["usage"])
    if isinstance(out.get("token_logprobs"), list):
        out["token_logprobs"] = [
            logprob(v, f"token_logprobs[{i}]") for i, v in enumerate(out["token_logprobs"])
        ]
    for name in ("raw", "chunks"):
        if name in out:
            out[name] = _json_safe(out[name], (name,))
    problem = next(nonfinite(out), None)
    if problem is not None:
        path, value = problem
        raise NumberError(f"{dotted(path)} is {show(value)}, not a finite number")
    return out


def _json_safe(data: Any, path: Path) -> Any:
    """``data`` with each log-probability of an OpenAI-style answer passed through
    :func:`logprob`: a ``logprob`` field (chat), an item of ``token_logprobs``, a value of a
    ``top_logprobs`` item that maps tokens to log-probabilities (completions). Nothing else
    under a ``logprobs`` object is one (``text_offset``, ``bytes``, a server's ``rank``).
    Other numbers are left for the caller."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            where = (*path, str(key))
            if key == "logprob":
                out[key] = _logprob_or_same(value, where)
            elif key == "token_logprobs" and isinstance(value, list):
                out[key] = [_logprob_or_same(v, (*where, i)) for i, v in enumerate(value)]
            elif key == "top_logprobs" and isinstance(value, list):
                out[key] = [
                    {t: _logprob_or_same(v, (*where, i, t)) for t, v in item.items()}
                    if isinstance(item, dict) and "logprob" not in item
                    else _json_safe(item, (*where, i))
                    for i, item in enumerate(value)
                ]
            else:
                out[key] = _json_safe(value, where)
        return out
    if isinstance(data, list):
        return [_json_safe(v, (*path, i)) for i, v in enumerate(data)]
    return data


def _logprob_or_same(value: Any, path: Path) -> Any:
    """:func:`logprob` of a number; anything else unchanged (a schema's business)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return logprob(value, dotted(path))
    return value


def _g(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
