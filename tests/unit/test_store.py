"""The recording entry: its schema check (fast and jsonschema agree), its decoding from
untrusted text, and the diskcache store that holds it."""

from __future__ import annotations

import datetime
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_xgen.core.schema_check import compile_schema
from pytest_xgen.errors import CassetteError, StoreError
from pytest_xgen.models.openai_chat import raw_record, stream_record
from pytest_xgen.recording import store as store_module
from pytest_xgen.recording.signing import SIGNING_ENV, signature
from pytest_xgen.recording.store import (
    MAX_ENTRY_CHARS,
    Store,
    build_request,
    canonical_json,
    check_entry,
    decode,
    entry_digest,
    make_entry,
    request_key,
    sha256_text,
)
from pytest_xgen.settings.config import load_schema

ENDPOINT = {"endpoint": "api.example.com/v1", "model": "m"}
MESSAGES = [{"role": "user", "content": "What is 2+2?"}]
RESPONSE = {"text": "4", "usage": {"total_tokens": 7}}


@pytest.fixture(autouse=True)
def _no_signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIGNING_ENV, raising=False)


def request(sample: int = 0) -> dict[str, Any]:
    return build_request("chat", ENDPOINT, {"temperature": 0}, sample, messages=MESSAGES)


def entry(**response: Any) -> dict[str, Any]:
    return make_entry(request(), {**RESPONSE, **response}, test="t.py::test_a")


# -- the fast schema check ------------------------------------------------------------------
SCHEMAS = [
    {},
    {"type": "string"},
    {"type": "integer"},
    {"type": "number"},
    {"type": "null"},
    {"type": "boolean"},
    {"type": "array"},
    {"type": "object"},
    {"type": ["string", "null"]},
    {"required": ["a"]},
    {"type": "object", "required": ["a", "b"]},
    {"properties": {"a": {"type": "integer"}}},
    {"properties": {"a": {"type": "integer"}}, "additionalProperties": False},
    {"properties": {"a": {}}, "additionalProperties": {"type": "integer"}},
    {"additionalProperties": True},
    {"items": {"type": "string"}},
    {"type": "array", "items": {"type": ["number", "null"]}},
    {"const": 1},
    {"const": "x"},
    {"enum": ["x", None]},
    {"enum": [0, "abc"]},
    {"pattern": "^[a-z]+$"},
    {"pattern": "b"},
    {"minimum": 0},
    {"minimum": 2.5},
    {"maximum": 0},
    {"maximum": 2.5},
    {"type": "integer", "minimum": 0, "maximum": 1},
    {"type": ["number", "null"], "minimum": -1, "maximum": 0},
    {"type": "integer", "minimum": 5},
    {"title": "t", "description": "d", "$id": "https://x.invalid/s", "type": "string"},
]
INSTANCES = [
    None,
    True,
    False,
    0,
    -1,
    1,
    5,
    4,
    2.5,
    2.4,
    "",
    "x",
    "abc",
    "ABC",
    "cbc",
    [],
    [1],
    ["a"],
    ["a", 1],
    [None, 1.5],
    {},
    {"a": 1},
    {"a": "x"},
    {"b": 1},
    {"a": 1, "b": 2},
    {"a": 1, "b": "2"},
    {"a": 1.5},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=canonical_json)
def test_the_fast_check_accepts_exactly_what_jsonschema_accepts(schema: dict[str, Any]) -> None:
    fast = compile_schema(schema)
    assert fast is not None
    validator = jsonschema.Draft202012Validator(schema)
    for instance in INSTANCES:
        assert fast(instance) == validator.is_valid(instance), instance


@pytest.mark.parametrize(
    "schema",
    [
        [],
        {"type": "decimal"},
        {"type": ["string", 3]},
        {"required": [1]},
        {"properties": {"a": {"oneOf": []}}},
        {"properties": {"a": {"maxProperties": 1}}},
        {"additionalProperties": {"format": "date"}},
        {"items": {"format": "date"}},
        {"const": [1]},
        {"enum": "x"},
        {"enum": [{"a": 1}]},
        {"minimum": "0"},
        {"maximum": "0"},
    ],
    ids=repr,
)
def test_a_schema_the_fast_check_does_not_know_turns_it_off(schema: Any) -> None:
    assert compile_schema(schema) is None


def test_the_recording_schema_has_a_fast_check_that_agrees_with_jsonschema() -> None:
    fast = compile_schema(load_schema("recording.schema.json"))
    assert fast is not None
    validator = jsonschema.Draft202012Validator(load_schema("recording.schema.json"))
    good = entry(reasoning="", finish_reason=None, tokens=["4"], token_logprobs=[None, -0.5])
    bad = [
        {**good, "format": 2},
        {**good, "key": "ABC"},
        {**good, "extra": 1},
        {**good, "request": {**good["request"], "kind": "embedding"}},
        {**good, "request": {**good["request"], "sample": -1}},
        {**good, "request": {**good["request"], "endpoint": {"model": 3}}},
        {**good, "request": {**good["request"], "messages": [{"content": "x"}]}},
        {**good, "response": {"text": "4"}},
        {**good, "response": {**RESPONSE, "usage": {"total_tokens": -1}}},
        {**good, "response": {**RESPONSE, "text_offset": [1.5]}},
        {k: v for k, v in good.items() if k != "digest"},
    ]
    assert fast(good) and validator.is_valid(good)
    for instance in bad:
        assert not fast(instance)
        assert not validator.is_valid(instance)


# -- decoding and checking an entry ---------------------------------------------------------
def test_the_longest_recording_read_is_16_mib() -> None:
    assert MAX_ENTRY_CHARS == 16 * 1024 * 1024
    assert decode("{}" + " " * (MAX_ENTRY_CHARS - 2), "here") == {}
    with pytest.raises(CassetteError) as raised:
        decode("{}" + " " * (MAX_ENTRY_CHARS - 1), "here")
    assert str(raised.value) == (
        f"here: {MAX_ENTRY_CHARS + 1} characters, more than the {MAX_ENTRY_CHARS} a "
        "recording may have"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "line 7: not valid JSON (Expecting property name enclosed in double quotes)"),
        ("[" * 100_000, "line 7: nested too deeply to be a recording"),
        ('{"a": NaN}', "line 7: not valid JSON (NaN is not a JSON number)"),
        ('{"a": -Infinity}', "line 7: not valid JSON (-Infinity is not a JSON number)"),
        ("1" * 5000, "line 7: not valid JSON (Exceeds the limit"),
    ],
    ids=["truncated", "deep", "nan", "infinity", "long-integer"],
)
def test_untrusted_text_ends_as_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(CassetteError) as raised:
        decode(text, "line 7")
    assert str(raised.value).startswith(message)


def test_a_valid_entry_is_returned_as_it_is() -> None:
    good = entry()
    assert check_entry(good, where="w") is good
    assert check_entry(good, where="w", key=good["key"]) is good


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 2}, "w: invalid recording at format: 1 was expected"),
        ({"request": {**request(), "sample": -1}}, "w: invalid recording at request/sample: "),
        ({"extra": 1}, "w: invalid recording at (entry): Additional properties"),
        ({"request": request(sample=1)}, "w: the key does not match the recorded request"),
        ({"response": {**RESPONSE, "text": "5"}}, "w: the digest does not match the recording"),
        ({"test": "t\ud800"}, "w: text that is not valid Unicode (a lone surrogate"),
        ({"recorded_at": "\udfff"}, "w: text that is not valid Unicode"),
        (
            {"request": {**request(), "messages": [{"role": "user", "content": "\ud800"}]}},
            "w: text that is not valid Unicode",
        ),
    ],
)
def test_a_bad_entry_is_refused_with_where_and_what(change: dict[str, Any], message: str) -> None:
    with pytest.raises(CassetteError) as raised:
        check_entry({**entry(), **change}, where="w")
    assert str(raised.value).startswith(message)


def test_an_entry_under_another_key_is_refused() -> None:
    good = entry()
    with pytest.raises(CassetteError) as raised:
        check_entry(good, where="w", key="0" * 64)
    assert str(raised.value) == f"w: stored under {'0' * 64} but recorded as {good['key']}"


def test_an_entry_is_checked_by_jsonschema_when_the_fast_check_is_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(store_module, "_fast_check", lambda: None)
    assert check_entry(entry(), where="w")["response"]["text"] == "4"
    with pytest.raises(CassetteError, match="w: invalid recording at key: "):
        check_entry({**entry(), "key": "nothex"}, where="w")


# -- keys, digests and entries ----------------------------------------------------------------
def test_the_digest_hashes_request_and_response_together() -> None:
    r = request()
    expected = hashlib.sha256(
        canonical_json({"request": r, "response": RESPONSE}).encode("utf-8")
    ).hexdigest()
    assert entry_digest(r, RESPONSE) == expected
    assert sha256_text("é") == hashlib.sha256("é".encode()).hexdigest()
    assert request_key(r) == sha256_text(canonical_json(r))


def test_a_request_holds_what_it_is_given_and_nothing_else() -> None:
    endpoint = dict(ENDPOINT)
    params = {"seed": 3}
    completion = build_request("completion", endpoint, params, 2, prompt="2+2=")
    assert completion == {
        "v": 1,
        "kind": "completion",
        "endpoint": ENDPOINT,
        "params": {"seed": 3},
        "sample": 2,
        "prompt": "2+2=",
    }
    endpoint["model"] = "other"
    params["seed"] = 4
    assert completion["endpoint"] == ENDPOINT and completion["params"] == {"seed": 3}
    assert set(request()) == {"v", "kind", "endpoint", "params", "sample", "messages"}


def test_an_entry_names_its_test_and_when_it_was_recorded() -> None:
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    made = make_entry(request(), RESPONSE, test="t.py::test_a")
    assert made == {
        "format": 1,
        "key": request_key(request()),
        "digest": entry_digest(request(), RESPONSE),
        "request": request(),
        "response": RESPONSE,
        "recorded_at": made["recorded_at"],
        "test": "t.py::test_a",
    }
    when = datetime.datetime.fromisoformat(made["recorded_at"])
    assert made["recorded_at"].endswith("+00:00") and "." not in made["recorded_at"]
    assert before <= when <= datetime.datetime.now(datetime.timezone.utc)
    assert "test" not in make_entry(request(), RESPONSE)
    assert "test" not in make_entry(request(), RESPONSE, test="")


# -- the store ------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store(tmp_path / "deep" / "cache")
    yield s
    s.close()


def test_the_store_keeps_canonical_json_and_serves_it_back(store: Store) -> None:
    good = entry()
    assert not store.directory.exists()
    assert store.get(good["key"]) is None
    assert store.directory.is_dir()
    store.put(good)
    assert store.cache.get(good["key"]) == canonical_json(good)
    assert store.get(good["key"]) == good
    assert len(store) == 1
    store.delete(good["key"])
    assert store.get(good["key"]) is None and len(store) == 0


def test_the_store_reopens_after_close(store: Store) -> None:
    good = entry()
    store.put(good)
    first = store.cache
    store.close()
    assert store._cache is None
    store.close()  # closing twice is harmless
    assert store.cache is not first
    assert store.get(good["key"]) == good


@pytest.mark.parametrize("raw", [b"{}", 42])
def test_a_stored_value_that_is_not_text_is_refused(store: Store, raw: Any) -> None:
    key = "ab" * 32
    store.cache.set(key, raw)
    with pytest.raises(CassetteError) as raised:
        store.get(key)
    assert str(raised.value) == f"cache {store.directory} entry {key[:12]}: not valid JSON"


def test_a_damaged_stored_value_names_the_store_and_key(store: Store) -> None:
    good = entry()
    store.cache.set(good["key"], canonical_json(good)[:-1])
    with pytest.raises(CassetteError) as raised:
        store.get(good["key"])
    assert str(raised.value).startswith(
        f"cache {store.directory} entry {good['key'][:12]}: not valid JSON"
    )


@pytest.mark.parametrize("error", [sqlite3.OperationalError("database is locked"), OSError(28)])
def test_a_store_that_cannot_be_written_is_an_infrastructure_error(
    store: Store, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(store.cache, "set", fail)
    with pytest.raises(StoreError) as raised:
        store.put(entry())
    assert str(raised.value) == (
        f"cannot write the store {store.directory}: {error}; free space there or choose "
        "another with --xgen-cache-dir=DIR (the answer was not recorded)"
    )


def test_a_stored_value_that_fails_the_schema_names_the_store_and_key(store: Store) -> None:
    good = entry()
    store.cache.set(good["key"], canonical_json({**good, "format": 2}))
    with pytest.raises(CassetteError) as raised:
        store.get(good["key"])
    assert str(raised.value).startswith(
        f"cache {store.directory} entry {good['key'][:12]}: invalid recording at format"
    )


def test_a_valid_entry_never_reaches_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replays check each entry with the compiled check: jsonschema is twenty times slower
    and is asked only to word the error of an entry the fast check refuses."""

    def slow() -> Any:
        raise AssertionError("jsonschema was asked about a valid entry")

    monkeypatch.setattr(store_module, "_validator", slow)
    good = entry()
    assert check_entry(good, where="w") is good


# -- signatures cover the store ---------------------------------------------------------------
SECRET = "team-signing-key-0123456789abcdef"


def test_with_a_key_set_the_store_signs_what_it_keeps(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = entry()
    monkeypatch.setenv(SIGNING_ENV, SECRET)
    store.put(good)
    kept = {**good, "signature": signature(good, SECRET.encode())}
    assert store.cache.get(good["key"]) == canonical_json(kept)
    assert "signature" not in good
    assert store.get(good["key"]) == kept


def edited(good: dict[str, Any], text: str) -> dict[str, Any]:
    """``good`` with another answer and its digest recomputed, as anyone can; a signature
    it carried is kept."""
    response = {**good["response"], "text": text}
    return {**good, "response": response, "digest": entry_digest(good["request"], response)}


def test_with_a_key_set_the_store_serves_only_signed_entries(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = entry()
    store.put(good)  # written without the key
    monkeypatch.setenv(SIGNING_ENV, SECRET)
    where = f"cache {store.directory} entry {good['key'][:12]}"
    refusal = (
        f"{where}: not signed with the key in {SIGNING_ENV} (written by someone without it, "
        "or before it was set), so it is not served; record the call again with the key set "
        "(--xgen-record-mode=new_episodes), or delete the store"
    )
    with pytest.raises(CassetteError) as raised:
        store.get(good["key"])
    assert str(raised.value) == refusal
    # An edit with the digest recomputed keeps a signature that no longer matches.
    store.put(good)
    assert store.get(good["key"]) is not None
    signed = store.get(good["key"])
    assert signed is not None
    store.cache.set(good["key"], canonical_json(edited(signed, "5")))
    with pytest.raises(CassetteError) as raised:
        store.get(good["key"])
    assert str(raised.value) == refusal
    # Without the key nothing is verified.
    monkeypatch.delenv(SIGNING_ENV)
    assert store.get(good["key"]) == edited(signed, "5")


# -- what is read is what is replayed ---------------------------------------------------------
RAW = {
    "id": "c1",
    "object": "chat.completion",
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Answer: 7"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
}
CHUNKS = [
    {"choices": [{"index": 0, "delta": {"content": "Answer: "}}]},
    {"choices": [{"index": 0, "delta": {"content": "7"}}]},
    {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}},
]


def client_entry(response: dict[str, Any], kind: str = "client.chat") -> dict[str, Any]:
    """A recording of ``xgen.client()`` with this response, digest recomputed."""
    made = build_request(kind, ENDPOINT, {}, 0, messages=MESSAGES)
    return make_entry(made, response)


def test_a_recording_of_the_client_as_recorded_is_valid() -> None:
    for response in (raw_record("chat", RAW), stream_record("chat", CHUNKS)):
        assert response["text"] == "Answer: 7"
        good = client_entry(response)
        assert check_entry(good, where="w") is good
    completion = {"choices": [{"index": 0, "text": " four"}], "usage": {"total_tokens": 2}}
    good = client_entry(raw_record("completion", completion), "client.completion")
    assert check_entry(good, where="w")["response"]["text"] == " four"


def with_content(raw: dict[str, Any], content: str) -> dict[str, Any]:
    choice = {**raw["choices"][0], "message": {"role": "assistant", "content": content}}
    return {**raw, "choices": [choice]}


REPLAY = "(edited?): a reviewer reads one and the application receives the other"


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            {**raw_record("chat", RAW), "raw": with_content(RAW, "Answer: 8")},
            f'w: response.text is "Answer: 7" but response.raw, which replay returns, gives '
            f'"Answer: 8" {REPLAY}',
        ),
        (
            {**raw_record("chat", RAW), "text": "Answer: 8"},
            f'w: response.text is "Answer: 8" but response.raw, which replay returns, gives '
            f'"Answer: 7" {REPLAY}',
        ),
        (
            {**raw_record("chat", RAW), "usage": {"total_tokens": 1}},
            'w: response.usage is {"total_tokens":1} but response.raw, which replay returns, '
            'gives {"completion_tokens":3,"prompt_tokens":5,"total_tokens":8} ' + REPLAY,
        ),
        (
            {**stream_record("chat", CHUNKS), "chunks": [*CHUNKS[:1], CHUNKS[2]]},
            f'w: response.text is "Answer: 7" but response.chunks, which replay returns, gives '
            f'"Answer: " {REPLAY}',
        ),
        (
            {**raw_record("chat", RAW), "reasoning": "7 because 3 + 4"},
            "w: response.reasoning is not part of a recording of xgen.client(), whose replay "
            "returns response.raw alone (edited?)",
        ),
        (
            {"text": "", "usage": {}},
            "w: a call of xgen.client() records its answer in response.raw or response.chunks, "
            "and this one has neither (edited?)",
        ),
        (
            {**raw_record("chat", RAW), "chunks": CHUNKS},
            "w: a call of xgen.client() records its answer in response.raw or response.chunks, "
            "and this one has both (edited?)",
        ),
        (
            {**raw_record("chat", RAW), "raw": {**RAW, "choices": 5}},
            "w: response.raw cannot be read as an answer (TypeError: ",
        ),
        (
            {**raw_record("chat", RAW), "raw": {**RAW, "usage": {"prompt_tokens": "many"}}},
            "w: response.raw cannot be read as an answer (",
        ),
    ],
)
def test_the_readable_fields_of_a_client_recording_are_what_replay_returns(
    response: dict[str, Any], message: str
) -> None:
    with pytest.raises(CassetteError) as raised:
        check_entry(client_entry(response), where="w")
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize("field", ["raw", "chunks"])
def test_the_plugins_own_calls_never_carry_an_answer_replay_would_ignore(field: str) -> None:
    with pytest.raises(CassetteError) as raised:
        check_entry(entry(**{field: RAW if field == "raw" else CHUNKS}), where="w")
    assert str(raised.value) == (
        f"w: response.{field} is recorded only for calls of xgen.client(); a call of kind chat "
        "replays response.text, so the two could differ (edited?)"
    )
