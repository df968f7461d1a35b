"""Recording keys, entries and the diskcache store.

The key contract (format 1)
---------------------------
A request is the JSON object::

    {"v": 1, "kind": "chat" | "completion",
     "endpoint": {...identity: host/path and model name, or the embedded model's sha256...},
     "messages": [...] | "prompt": "...",
     "params": {...every generation parameter, the seed included...},
     "sample": <sample index>}

Its key is the sha256 (hex) of its canonical JSON: keys sorted, separators ``,`` and ``:``,
non-ASCII kept as UTF-8, no NaN or infinity. Credentials are never part of it: the endpoint
is identified by host and path (user info and query string dropped) and model name. A change
to anything that can change the answer gives a new key; bumping ``KEY_FORMAT`` retires every
old key at once.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_xgen.errors import CassetteError, hide_frame

__tracebackhide__ = hide_frame

if TYPE_CHECKING:
    import diskcache

KEY_FORMAT = 1


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value`` (sorted keys, compact, UTF-8, no NaN)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_request(
    kind: str,
    endpoint: dict[str, str],
    params: dict[str, Any],
    sample: int,
    *,
    messages: list[dict[str, Any]] | None = None,
    prompt: str | None = None,
) -> dict[str, Any]:
    """The request object whose canonical JSON is hashed into the key."""
    request: dict[str, Any] = {
        "v": KEY_FORMAT,
        "kind": kind,
        "endpoint": dict(endpoint),
        "params": dict(params),
        "sample": sample,
    }
    if messages is not None:
        request["messages"] = messages
    if prompt is not None:
        request["prompt"] = prompt
    return request


def request_key(request: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``request``."""
    return sha256_text(canonical_json(request))


def entry_digest(request: dict[str, Any], response: dict[str, Any]) -> str:
    return sha256_text(canonical_json({"request": request, "response": response}))


def make_entry(
    request: dict[str, Any], response: dict[str, Any], *, test: str | None = None
) -> dict[str, Any]:
    """A recording entry: what the store and cassettes hold for one call."""
    entry: dict[str, Any] = {
        "format": KEY_FORMAT,
        "key": request_key(request),
        "digest": entry_digest(request, response),
        "request": request,
        "response": response,
        "recorded_at": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    }
    if test:
        entry["test"] = test
    return entry


@cache
def _validator() -> Any:
    import jsonschema

    from pytest_xgen.config import load_schema

    return jsonschema.Draft202012Validator(load_schema("recording.schema.json"))


def check_entry(entry: Any, *, where: str, key: str | None = None) -> dict[str, Any]:
    """``entry`` if it is valid, untampered and (when given) recorded under ``key``.

    Raises :class:`CassetteError` naming ``where`` otherwise: an entry that fails the schema,
    whose key is not its request's hash, or whose digest does not match, is never served.
    """
    error = next(iter(_validator().iter_errors(entry)), None)
    if error is not None:
        path = "/".join(str(p) for p in error.absolute_path) or "(entry)"
        raise CassetteError(f"{where}: invalid recording at {path}: {error.message}")
    assert isinstance(entry, dict)
    if request_key(entry["request"]) != entry["key"]:
        raise CassetteError(f"{where}: the key does not match the recorded request (edited?)")
    if entry_digest(entry["request"], entry["response"]) != entry["digest"]:
        raise CassetteError(f"{where}: the digest does not match the recording (edited or corrupt)")
    if key is not None and entry["key"] != key:
        raise CassetteError(f"{where}: stored under {key} but recorded as {entry['key']}")
    return entry


class Store:
    """The fast local store: a diskcache directory of JSON entries (never pickles).

    diskcache is safe across processes (SQLite, WAL), so pytest-xdist workers share one
    store directly.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: diskcache.Cache | None = None

    @property
    def cache(self) -> diskcache.Cache:
        if self._cache is None:
            import diskcache

            self.directory.mkdir(parents=True, exist_ok=True)
            self._cache = diskcache.Cache(str(self.directory))
        return self._cache

    def get(self, key: str) -> dict[str, Any] | None:
        """The valid entry stored under ``key``, or ``None``; a bad entry raises."""
        raw = self.cache.get(key)
        if raw is None:
            return None
        where = f"cache {self.directory} entry {key[:12]}"
        try:
            entry = json.loads(raw)
        except (TypeError, ValueError):
            raise CassetteError(f"{where}: not valid JSON") from None
        return check_entry(entry, where=where, key=key)

    def put(self, entry: dict[str, Any]) -> None:
        self.cache.set(entry["key"], canonical_json(entry))

    def delete(self, key: str) -> None:
        self.cache.delete(key)

    def __len__(self) -> int:
        return len(self.cache)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None
