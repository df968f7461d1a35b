"""Helpers that turn check results into plain JSON data (each result's ``to_dict()``)."""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_xgen.core.metrics import Breakdown, Consistency


def jsonable(value: Any) -> Any:
    """``value`` as JSON data: numbers, strings, booleans, None, lists and dicts; anything
    else (a custom answer type) as its ``str``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def not_json(value: Any, path: str = "") -> str | None:
    """Where ``value`` first holds something that is not JSON data (``arms[0].answers.a[2]:
    a Fraction``), or None when all of it is: None, booleans, integers, finite floats,
    strings, and lists and dicts of them, dicts keyed by strings."""
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path or 'the data'}: {value!r}"
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = not_json(item, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path or 'the data'}: a key {key!r} ({type(key).__name__})"
            found = not_json(item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
        return None
    return f"{path or 'the data'}: a {type(value).__name__} ({repr(value)[:60]})"


def interval(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [interval[0], interval[1]]


def perturbation(prompt: Any) -> dict[str, Any] | None:
    edits = getattr(prompt, "edits", None)
    if edits is None:
        return None
    return {
        "base": str(prompt.base),
        "edits": [f"{e.kind}: {e.description}" for e in edits],
        "diff": prompt.diff(),
    }


def consistency(c: Consistency) -> dict[str, Any]:
    return {
        "mean": c.mean,
        "std": c.std,
        "agree": c.agree,
        "total": c.total,
        "pairs": [
            {
                "a": a,
                "b": b,
                "agree": p.agree,
                "total": p.total,
                "excluded": p.excluded,
                "rate": p.rate,
            }
            for (a, b), p in sorted(c.pairs.items())
        ],
    }


def breakdown(b: Breakdown | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {
        "consistent_correct": b.consistent_correct,
        "consistent_wrong": b.consistent_wrong,
        "inconsistent": b.inconsistent,
        "counts": dict(b.counts),
    }


def digest(text: str) -> str:
    """The explanation's identity across runs: sha256 (hex, first 16 digits) of the text the
    evaluators were given, stripped of surrounding blanks. Two runs whose checks have the
    same digests read the same explanation (the baseline's generator call was replayed)."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]
