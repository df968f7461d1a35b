"""A JSON Schema (draft 2020-12) compiled into one Python check, for the schemas we ship.

``jsonschema`` takes a fifth of a second to import and about 0.3 ms to check a recording:
most of what replaying a small suite costs. The package's schemas (recordings, the
``[tool.xgen]`` settings) use a handful of keywords, so :func:`compile_schema` turns a
schema into one closure per node that decides exactly what ``jsonschema``'s
``Draft202012Validator`` decides, for every value built of ``dict``, ``list``, ``str``,
``int``, ``float``, ``bool`` and ``None`` (what JSON and TOML give; other objects are
judged as ``jsonschema`` judges them, with ``isinstance``). Being exact, not merely
strict, is what lets ``not``, ``oneOf`` and ``if`` be compiled: a stricter branch there
would accept more, not less.

A schema that uses anything else (a keyword not listed in ``_KNOWN``, a remote ``$ref``,
an ``enum`` of objects) compiles to ``None``: the caller then asks ``jsonschema``, which
also words every error. :func:`accepts` never raises: a value the check cannot judge is
reported as not accepted, and goes to ``jsonschema`` the same way.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "$defs"}
)
_KNOWN = _ANNOTATIONS | {
    "type", "enum", "const", "$ref",
    "properties", "required", "additionalProperties", "propertyNames",
    "items", "minItems", "maxItems",
    "minLength", "maxLength", "pattern",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
}  # fmt: skip
_SCALARS = (str, int, float, bool, type(None))
_MAX_DEPTH = 64  # deeper (or a $ref cycle) is not compiled


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def _is_integer(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, float) and v.is_integer())


# Each type: the classes that are of it for certain (a set lookup on the hot path), and the
# predicate jsonschema uses (for every other value: subclasses, 1.0 as an integer).
_TYPES: dict[str, tuple[frozenset[type], Check]] = {
    "object": (frozenset({dict}), lambda v: isinstance(v, dict)),
    "array": (frozenset({list}), lambda v: isinstance(v, list)),
    "string": (frozenset({str}), lambda v: isinstance(v, str)),
    "integer": (frozenset({int}), _is_integer),
    "number": (frozenset({int, float}), _is_number),
    "boolean": (frozenset({bool}), lambda v: isinstance(v, bool)),
    "null": (frozenset({type(None)}), lambda v: v is None),
}
_HASHABLE = frozenset(_SCALARS)


def _equal(value: Any, option: Any) -> bool:
    """``jsonschema``'s equality of a value and a scalar ``enum``/``const`` option: strings
    equal only strings, ``True`` and ``1`` differ, ``1`` and ``1.0`` are equal."""
    if value is option:
        return True
    if isinstance(value, str) or isinstance(option, str):
        return bool(value == option)
    if isinstance(value, bool) or isinstance(option, bool):
        return False  # the same bool was caught by "is"; a bool never equals a number
    if isinstance(value, (list, dict)):
        return False
    return bool(value == option)


def accepts(check: Check, value: Any) -> bool:
    """Whether ``check`` accepts ``value``; ``False`` also when it could not judge it."""
    try:
        return check(value)
    except Exception:  # e.g. a comparison jsonschema would also choke on
        return False


def compile_schema(schema: Any) -> Check | None:
    """The check of ``schema``, or ``None`` if it uses anything not compiled here (or is
    not a well-formed schema)."""
    try:
        return _Compiler(schema).compile(schema, 0)
    except (AttributeError, TypeError, ValueError):
        return None


class _Compiler:
    def __init__(self, root: Any) -> None:
        self.root = root
        self._refs: dict[str, Check | None] = {}  # each definition compiled once

    def _ref(self, ref: Any, depth: int) -> Check | None:
        """A local ``#/$defs/NAME`` (or ``#``) reference, compiled in place."""
        if not isinstance(ref, str) or not ref.startswith("#"):
            return None
        if ref in self._refs:
            return self._refs[ref]
        target = self.root
        for part in [p for p in ref[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return None
            target = target[part]
        compiled = self.compile(target, depth + 1)
        self._refs[ref] = compiled
        return compiled

    def _sub(self, schema: dict[str, Any], word: str, depth: int) -> Check | None:
        """The compiled subschema under ``word`` (``None``: absent); raises when it cannot
        be compiled, which :func:`compile_schema` turns into ``None``."""
        if word not in schema:
            return None
        compiled = self.compile(schema[word], depth + 1)
        if compiled is None:
            raise ValueError(f"{word} is not compiled")
        return compiled

    def _subs(self, schema: dict[str, Any], word: str, depth: int) -> tuple[Check, ...] | None:
        if word not in schema:
            return None
        found = schema[word]
        if not isinstance(found, list) or not found:
            raise ValueError(f"{word} must be a non-empty list")
        compiled = [self.compile(s, depth + 1) for s in found]
        if any(c is None for c in compiled):
            raise ValueError(f"{word} is not compiled")
        return tuple(compiled)  # type: ignore[arg-type]

    def compile(self, schema: Any, depth: int) -> Check | None:
        """One closure for the node ``schema`` that applies each of its keywords in turn,
        as jsonschema does (a keyword about another type lets the value pass)."""
        if depth > _MAX_DEPTH:
            return None
        if schema is True or schema is False:
            verdict = bool(schema)
            return lambda v: verdict
        if not isinstance(schema, dict) or not _KNOWN.issuperset(schema):
            return None
        g = schema.get
        # type
        sure: frozenset[type] | None = None
        slow: tuple[Check, ...] = ()
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not names or not all(isinstance(n, str) and n in _TYPES for n in names):
                return None
            sure = frozenset().union(*(_TYPES[n][0] for n in names))
            slow = tuple(_TYPES[n][1] for n in names)
        # enum, const: each a list of scalar options, all of which must be met
        choices: list[tuple[frozenset[tuple[type, Any]], tuple[Any, ...]]] = []
        for word in ("enum", "const"):
            if word in schema:
                options = schema["enum"] if word == "enum" else [schema["const"]]
                if not isinstance(options, list) or not all(
                    isinstance(o, _SCALARS) for o in options
                ):
                    return None
                choices.append((frozenset((type(o), o) for o in options), tuple(options)))
        ref = self._ref(schema["$ref"], depth) if "$ref" in schema else None
        if "$ref" in schema and ref is None:
            return None
        # objects
        props = {name: self.compile(sub, depth + 1) for name, sub in g("properties", {}).items()}
        if any(c is None for c in props.values()):
            return None
        prop_items = tuple(props.items())
        required = g("required", [])
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            return None
        required_t = tuple(required)
        extra = self._sub(schema, "additionalProperties", depth)
        keys = self._sub(schema, "propertyNames", depth)
        on_object = bool(prop_items or required_t) or extra is not None or keys is not None
        # arrays, strings, numbers
        items = self._sub(schema, "items", depth)
        min_items, max_items = g("minItems"), g("maxItems")
        min_len, max_len = g("minLength"), g("maxLength")
        if not all(b is None or _is_integer(b) for b in (min_items, max_items, min_len, max_len)):
            return None
        on_array = items is not None or min_items is not None or max_items is not None
        search = None
        if "pattern" in schema:
            if not isinstance(schema["pattern"], str):
                return None
            try:
                search = re.compile(schema["pattern"]).search
            except re.error:
                return None
        on_string = search is not None or min_len is not None or max_len is not None
        low, high, xlow, xhigh = (
            g(w) for w in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        )
        if not all(b is None or type(b) in (int, float) for b in (low, high, xlow, xhigh)):
            return None
        on_number = any(b is not None for b in (low, high, xlow, xhigh))
        # logic
        all_of = self._subs(schema, "allOf", depth)
        any_of = self._subs(schema, "anyOf", depth)
        one_of = self._subs(schema, "oneOf", depth)
        negated = self._sub(schema, "not", depth)
        cond = self._sub(schema, "if", depth)
        then = self._sub(schema, "then", depth) if cond is not None else None
        otherwise = self._sub(schema, "else", depth) if cond is not None else None
        on_logic = any(x is not None for x in (all_of, any_of, one_of, negated, cond))

        def check(v: Any) -> bool:  # noqa: C901 (one branch a keyword)
            cls = type(v)
            if sure is not None and cls not in sure and not any(p(v) for p in slow):
                return False
            for fast, options in choices:
                if not (cls in _HASHABLE and (cls, v) in fast) and not any(
                    _equal(v, o) for o in options
                ):
                    return False
            if ref is not None and not ref(v):
                return False
            if on_object and isinstance(v, dict):
                for name in required_t:
                    if name not in v:
                        return False
                for name, sub in prop_items:
                    if name in v and not sub(v[name]):  # type: ignore[misc]
                        return False
                if extra is not None:
                    for name, x in v.items():
                        if name not in props and not extra(x):
                            return False
                if keys is not None:
                    for name in v:
                        if not keys(name):
                            return False
            elif on_array and isinstance(v, list):
                if min_items is not None and len(v) < min_items:
                    return False
                if max_items is not None and len(v) > max_items:
                    return False
                if items is not None:
                    for x in v:
                        if not items(x):
                            return False
            elif on_string and isinstance(v, str):
                if min_len is not None and len(v) < min_len:
                    return False
                if max_len is not None and len(v) > max_len:
                    return False
                if search is not None and search(v) is None:
                    return False
            if on_number and _is_number(v):
                if low is not None and v < low:
                    return False
                if high is not None and v > high:
                    return False
                if xlow is not None and v <= xlow:
                    return False
                if xhigh is not None and v >= xhigh:
                    return False
            if on_logic:
                if all_of is not None and not all(s(v) for s in all_of):
                    return False
                if any_of is not None and not any(s(v) for s in any_of):
                    return False
                if one_of is not None and sum(1 for s in one_of if s(v)) != 1:
                    return False
                if negated is not None and negated(v):
                    return False
                if cond is not None:
                    branch = then if cond(v) else otherwise
                    if branch is not None and not branch(v):
                        return False
            return True

        return check
