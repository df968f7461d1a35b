"""The compiled schema check decides exactly what jsonschema decides, for the keywords it
compiles, and compiles to ``None`` for anything else (so jsonschema decides)."""

from __future__ import annotations

import copy
import math
import random
from typing import Any

import jsonschema
import pytest

from pytest_xgen.core.schema_check import accepts, compile_schema
from pytest_xgen.settings.config import load_schema

VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2, 1.0, 0.0, -0.5, 2.5, 1e13, "", "x", "none", "once",
    "local", "openai", "http://h/v1", "ftp://h", "A_B", "1x", "a.b", "a..b", "smollm2-135m",
    [], [1], ["a"], ["a", 1], ["a.b", "c"], [None, 1.5], {}, {"a": 1}, {"input": 1, "output": 2},
    {"local": "smollm2-135m"}, {"base_url": "http://h", "model": "m"}, {"backend": "x"},
    {"temperature": 0.5}, {"X-Key": "ENV_NAME"}, ("t",), math.inf,
]  # fmt: skip

CASES: list[dict[str, Any]] = [
    {"type": "integer"},
    {"type": "number", "minimum": 0, "exclusiveMaximum": 2},
    {"type": ["string", "null"], "minLength": 1, "maxLength": 4},
    {"enum": [1, "x", True, None]},
    {"const": 1},
    {"const": False},
    {"not": {"type": "integer"}},
    {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]},
    {"anyOf": [{"type": "string", "pattern": "^a"}, {"type": "array", "minItems": 1}]},
    {"allOf": [{"type": "number"}, {"not": {"const": 0}}]},
    {"if": {"type": "integer"}, "then": {"minimum": 1}, "else": {"type": "string"}},
    {"if": {"required": ["a"]}, "then": {"properties": {"a": {"type": "integer"}}}},
    {"type": "object", "required": ["a"], "additionalProperties": False,
     "properties": {"a": {"type": "integer"}}},
    {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"},
     "additionalProperties": {"type": "integer"}},
    {"type": "array", "items": {"type": "string"}, "maxItems": 2},
    {"$defs": {"n": {"type": "integer", "minimum": 0}}, "items": {"$ref": "#/$defs/n"}},
    {"properties": {"a": {"exclusiveMinimum": 0, "maximum": 1}}},
    True,
    False,
]  # fmt: skip


@pytest.mark.parametrize("schema", CASES, ids=repr)
def test_each_keyword_decides_what_jsonschema_decides(schema: Any) -> None:
    check = compile_schema(schema)
    assert check is not None
    validator = jsonschema.Draft202012Validator(schema)
    for value in VALUES:
        assert accepts(check, value) == validator.is_valid(value), value


def test_an_integral_float_is_an_integer_as_jsonschema_says() -> None:
    # Exact, not merely strict: under "not" a stricter integer check would accept 1.0.
    check = compile_schema({"not": {"type": "integer"}})
    assert check is not None
    assert not check(1.0) and not check(3) and check(1.5) and check(True)


@pytest.mark.parametrize(
    "schema",
    [
        [],
        {"type": "decimal"},
        {"type": ["string", 3]},
        {"required": [1]},
        {"maxProperties": 3},
        {"properties": {"a": {"format": "date"}}},
        {"additionalProperties": {"patternProperties": {"a": {}}}},
        {"items": {"multipleOf": 2}},
        {"oneOf": []},
        {"const": [1]},
        {"enum": "x"},
        {"enum": [{"a": 1}]},
        {"minimum": "0"},
        {"maximum": True},
        {"pattern": "("},
        {"$ref": "https://example.com/schema"},
        {"$ref": "#/$defs/missing"},
        {"$defs": {"loop": {"$ref": "#/$defs/loop"}}, "$ref": "#/$defs/loop"},
        {"properties": []},
    ],
    ids=repr,
)
def test_a_schema_it_cannot_compile_gives_none(schema: Any) -> None:
    assert compile_schema(schema) is None


def test_a_value_it_cannot_judge_is_not_accepted() -> None:
    check = compile_schema({"minimum": 0})
    assert check is not None
    assert not accepts(check, complex(1, 1))  # jsonschema would raise; never a pass here


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*path, i))
    return found


def _mutate(doc: Any, rng: random.Random, keys: list[str]) -> Any:
    mutated = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(mutated)[1:])
        parent = mutated
        for part in path[:-1]:
            parent = parent[part]
        roll = rng.random()
        if roll < 0.55:
            parent[path[-1]] = copy.deepcopy(rng.choice(VALUES))
        elif roll < 0.75 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[rng.choice(keys)] = copy.deepcopy(rng.choice(VALUES))
    return mutated


CONFIG = {
    "record_mode": "once",
    "cassette_dir": "fixtures/cassettes",
    "generator": "qwen",
    "evaluators": ["qwen", "api"],
    "samples": 3,
    "confidence": "none",
    "min_lift": -1,
    "max_cost": 2.5,
    "models": {
        "qwen": {"local": "qwen2.5-coder-0.5b", "params": {"temperature": 0, "max_tokens": 400}},
        "api": {
            "base_url": "http://127.0.0.1:8000/v1",
            "model": "m",
            "api_key_env": "KEY",
            "price": {"input": 1, "output": 2.5},
            "secret_params": ["extra_body.token"],
            "headers_env": {"X-Team": "TEAM_HEADER"},
            "timeout": 30,
            "max_retries": 2,
        },
        "plug": {"backend": "mine", "anything": 1, "params": {"seed": 3}},
    },
}
CONFIG_KEYS = ["local", "base_url", "model", "backend", "seed", "samples", "timeout", "input",
               "max_tokens", "record_mode", "zz", "price", "params", "temperature"]  # fmt: skip
RECORDING = {
    "format": 1,
    "key": "0" * 64,
    "digest": "1" * 64,
    "request": {
        "v": 1,
        "kind": "chat",
        "endpoint": {"endpoint": "h/v1", "model": "m"},
        "messages": [{"role": "user", "content": "hi"}],
        "params": {"seed": 0},
        "sample": 0,
    },
    "response": {
        "text": "a",
        "reasoning": "",
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    },
    "recorded_at": "2026-01-01T00:00:00+00:00",
    "test": "t.py::test",
}
RECORDING_KEYS = ["zz", "test", "prompt", "messages", "tokens", "token_logprobs", "raw", "kind"]


@pytest.mark.parametrize(
    ("name", "doc", "keys"),
    [
        ("config.schema.json", CONFIG, CONFIG_KEYS),
        ("recording.schema.json", RECORDING, RECORDING_KEYS),
    ],
)
def test_the_shipped_schemas_compile_and_agree_with_jsonschema(
    name: str, doc: dict[str, Any], keys: list[str]
) -> None:
    schema = load_schema(name)
    check = compile_schema(schema)
    assert check is not None, f"{name} uses a keyword the compiled check lacks"
    validator = jsonschema.Draft202012Validator(schema)
    assert check(doc) and validator.is_valid(doc)
    rng = random.Random(name)
    verdicts = {True: 0, False: 0}
    for _ in range(1500):
        mutated = _mutate(doc, rng, keys)
        verdict = accepts(check, mutated)
        assert verdict == validator.is_valid(mutated), mutated
        verdicts[verdict] += 1
    assert min(verdicts.values()) > 100  # both verdicts were exercised


def test_a_reference_to_a_name_with_a_slash_or_tilde_is_followed() -> None:
    schema = {
        "$defs": {"a/b": {"type": "integer"}, "c~d": {"type": "string"}},
        "properties": {"x": {"$ref": "#/$defs/a~1b"}, "y": {"$ref": "#/$defs/c~0d"}},
    }
    check = compile_schema(schema)
    assert check is not None
    validator = jsonschema.Draft202012Validator(schema)
    for value in ({"x": 1, "y": "s"}, {"x": "1"}, {"y": 2}, {}):
        assert accepts(check, value) == validator.is_valid(value)
    assert compile_schema({"properties": {"x": {"$ref": 5}}}) is None


def _nested(word: str, levels: int) -> Any:
    """A schema ``levels`` subschemas deep, each under ``word``."""
    schema: Any = {"type": "integer"}
    for _ in range(levels):
        if word == "properties":
            schema = {"properties": {"a": schema}}
        elif word == "allOf":
            schema = {"allOf": [schema]}
        else:
            schema = {word: schema}
    return schema


@pytest.mark.parametrize("word", ["properties", "allOf", "not", "items"])
def test_a_schema_up_to_64_levels_deep_is_compiled_and_deeper_left_to_jsonschema(
    word: str,
) -> None:
    assert compile_schema(_nested(word, 64)) is not None
    assert compile_schema(_nested(word, 65)) is None


def test_a_chain_of_references_counts_its_depth_too() -> None:
    def chain(links: int) -> dict[str, Any]:
        defs: dict[str, Any] = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(links)}
        defs[f"d{links}"] = {"type": "integer"}
        return {"$defs": defs, "$ref": "#/$defs/d0"}

    assert compile_schema(chain(63)) is not None
    assert compile_schema(chain(64)) is None
