"""The recording key contract: canonical JSON, hashed, with everything that changes the answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.errors import CassetteError
from pytest_xgen.models.call_errors import endpoint_identity, redact_url
from pytest_xgen.recording.store import (
    KEY_FORMAT,
    Store,
    build_request,
    canonical_json,
    make_entry,
    request_key,
)

MESSAGES = [{"role": "user", "content": "What is 2+2?"}]
ENDPOINT = {"endpoint": "api.example.com/v1", "model": "m"}


def key(**changes: Any) -> str:
    args: dict[str, Any] = {
        "endpoint": ENDPOINT,
        "params": {"temperature": 0, "seed": 0},
        "sample": 0,
        "messages": MESSAGES,
    }
    args.update(changes)
    return request_key(
        build_request(
            "chat",
            args.pop("endpoint"),
            args.pop("params"),
            args.pop("sample"),
            messages=args.pop("messages"),
        )
    )


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": [1, 2], "a": "é"}) == '{"a":"é","b":[1,2]}'
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_key_is_stable_and_documented() -> None:
    # The documented contract (docs/recording.md): changing this value retires every
    # recording in every team's cassettes, so it must only change with KEY_FORMAT.
    assert KEY_FORMAT == 1
    assert key() == key()
    request = build_request("chat", ENDPOINT, {"temperature": 0, "seed": 0}, 0, messages=MESSAGES)
    assert canonical_json(request) == (
        '{"endpoint":{"endpoint":"api.example.com/v1","model":"m"},"kind":"chat",'
        '"messages":[{"content":"What is 2+2?","role":"user"}],'
        '"params":{"seed":0,"temperature":0},"sample":0,"v":1}'
    )
    assert key() == "075c9d62fc02c1ebeb8022ed1031c054b123bbf4b2770c27a56b223ebba186a3"


@pytest.mark.parametrize(
    "change",
    [
        {"params": {"temperature": 0.7, "seed": 0}},
        {"params": {"temperature": 0, "seed": 1}},
        {"params": {"temperature": 0, "seed": 0, "max_tokens": 5}},
        {"params": {"temperature": 0, "seed": 0, "top_p": 0.9}},
        {"sample": 1},
        {"messages": [{"role": "user", "content": "What is 2+3?"}]},
        {"endpoint": {"endpoint": "api.example.com/v1", "model": "m2"}},
        {"endpoint": {"endpoint": "other.example.com/v1", "model": "m"}},
    ],
)
def test_any_change_gives_a_new_key(change: dict[str, Any]) -> None:
    assert key(**change) != key()


def test_param_order_does_not_matter() -> None:
    assert key(params={"seed": 0, "temperature": 0}) == key(params={"temperature": 0, "seed": 0})


def test_credentials_never_reach_the_identity() -> None:
    url = "https://user:s3cret@api.example.com:8443/v1/?api_key=s3cret"
    assert endpoint_identity(url) == "api.example.com:8443/v1"
    assert "s3cret" not in redact_url(url)


def test_a_valid_entry_stored_under_another_calls_key_is_never_served(tmp_path: Path) -> None:
    """An entry is served only for the call it records: a valid recording of call B found
    under call A's key (a copied or swapped store entry) would answer A with B's answer."""
    response = {"text": "4", "reasoning": "", "finish_reason": "stop", "model": "m", "usage": {}}
    a = build_request("chat", ENDPOINT, {"temperature": 0, "seed": 0}, 0, messages=MESSAGES)
    b = build_request("chat", ENDPOINT, {"temperature": 0, "seed": 1}, 1, messages=MESSAGES)
    store = Store(tmp_path / "cache")
    try:
        entry_b = make_entry(b, response)
        store.put(entry_b)
        assert store.get(request_key(b)) == entry_b
        store.cache.set(request_key(a), canonical_json(entry_b))
        with pytest.raises(CassetteError) as raised:
            store.get(request_key(a))
        assert f"stored under {request_key(a)} but recorded as {request_key(b)}" in str(
            raised.value
        )
    finally:
        store.close()
