"""Recording keys, entries and the diskcache store.

The key contract (format 1)
---------------------------
A request is the JSON object::

    {"v": 1, "kind": "chat" | "completion" | "client.chat" | "client.completion",
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
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_xgen.core import schema_check
from pytest_xgen.core.finite import json_float
from pytest_xgen.errors import CassetteError, StoreError, hide_frame
from pytest_xgen.recording import derived, signing

__tracebackhide__ = hide_frame

if TYPE_CHECKING:
    import diskcache

KEY_FORMAT = 1


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value`` (sorted keys, compact, UTF-8, no NaN)."""
    # "no mutate" marks mutants that cannot change behaviour (None is as false as False).
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,  # pragma: no mutate
        allow_nan=False,  # pragma: no mutate
    )


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()  # pragma: no mutate


def build_request(
    kind: str,
    endpoint: dict[str, str],
    params: dict[str, Any],
    sample: int,
    *,
    messages: list[dict[str, Any]] | None = None,
    prompt: str | None = None,
    input: str | list[Any] | None = None,
) -> dict[str, Any]:
    """The request object whose canonical JSON is hashed into the key (``input``: a
    Responses API call's input)."""
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
    if input is not None:
        request["input"] = input
    return request


def request_key(request: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``request``."""
    return sha256_text(canonical_json(request))


def entry_digest(request: dict[str, Any], response: dict[str, Any]) -> str:
    return _digest(canonical_json(request), response)


def _digest(request_json: str, response: dict[str, Any]) -> str:
    """``entry_digest`` from the request's canonical JSON, which a replay has already made:
    the canonical JSON of ``{"request": r, "response": s}`` is exactly this text."""
    text = '{"request":' + request_json + ',"response":' + canonical_json(response) + "}"
    return sha256_text(text)


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


def _schema() -> dict[str, Any]:
    """``recording.schema.json``, the schema of every recording (shipped with the package)."""
    from importlib import resources

    text = resources.files("pytest_xgen").joinpath("schemas").joinpath("recording.schema.json")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


@cache
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(_schema())


# jsonschema takes ~0.2 s to import and ~0.3 ms per entry, 20 times a diskcache read: most
# of a replay. The recording schema is compiled once into a check that decides exactly what
# jsonschema decides (pytest_xgen.core.schema_check); only an entry it does not accept goes
# to jsonschema, which alone rejects and words the error. A keyword the compiler does not
# know (a later schema change) turns the fast check off: every entry goes to jsonschema.
@cache
def _fast_check() -> schema_check.Check | None:
    return schema_check.compile_schema(_schema())


MAX_ENTRY_CHARS = 16 * 1024 * 1024
"""The longest recording (a cassette line or a store entry) read: 16 MiB of text."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def decode(text: str, where: str) -> Any:
    """One recording's JSON, or :class:`CassetteError` naming ``where``: not JSON, too long,
    nested too deeply, a non-finite number (``NaN``, ``Infinity``) or an integer too long to
    read. (Text that is not valid Unicode is caught by :func:`check_entry`, which encodes
    every string of an entry anyway.) Untrusted input ends here as a clear error, never as
    another exception."""
    if len(text) > MAX_ENTRY_CHARS:
        raise CassetteError(
            f"{where}: {len(text)} characters, more than the {MAX_ENTRY_CHARS} a recording may have"
        )
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=json_float)
    except json.JSONDecodeError as exc:
        raise CassetteError(f"{where}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise CassetteError(f"{where}: nested too deeply to be a recording") from None
    except ValueError as exc:  # NaN / Infinity, or an integer beyond int's digit limit
        raise CassetteError(f"{where}: not valid JSON ({exc})") from None


def check_entry(entry: Any, *, where: str, key: str | None = None) -> dict[str, Any]:
    """``entry`` if it is valid, untampered and (when given) recorded under ``key``.

    Raises :class:`CassetteError` naming ``where`` otherwise: an entry that fails the schema,
    whose key is not its request's hash, whose digest does not match, or whose readable
    fields are not what its replay returns (:func:`~pytest_xgen.recording.derived.mismatch`),
    is never served. (Signatures are checked by the reader: cassettes and the store.)
    """
    fast = _fast_check()
    if fast is None or not schema_check.accepts(fast, entry):
        # Only jsonschema rejects an entry, and only it words the error.
        error = next(iter(_validator().iter_errors(entry)), None)
        if error is not None:
            path = "/".join(str(p) for p in error.absolute_path) or "(entry)"
            raise CassetteError(f"{where}: invalid recording at {path}: {error.message}")
    assert isinstance(entry, dict)
    try:
        # Hashing encodes every string of request and response; the other strings are
        # encoded here, so a lone surrogate anywhere is caught once.
        request_json = canonical_json(entry["request"])
        matches_key = sha256_text(request_json) == entry["key"]
        digest = _digest(request_json, entry["response"])
        for name in ("test", "recorded_at"):
            str(entry.get(name, "")).encode("utf-8")  # pragma: no mutate
    except UnicodeEncodeError:
        raise CassetteError(
            f"{where}: text that is not valid Unicode (a lone surrogate such as \\ud800)"
        ) from None
    if not matches_key:
        raise CassetteError(f"{where}: the key does not match the recorded request (edited?)")
    if digest != entry["digest"]:
        raise CassetteError(f"{where}: the digest does not match the recording (edited or corrupt)")
    if key is not None and entry["key"] != key:
        raise CassetteError(f"{where}: stored under {key} but recorded as {entry['key']}")
    problem = derived.mismatch(entry)
    if problem is not None:
        raise CassetteError(f"{where}: {problem}")
    return entry


class Store:
    """The fast local store: a diskcache directory of JSON entries (never pickles).

    diskcache is safe across processes (SQLite, WAL), so pytest-xdist workers share one
    store directly.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: diskcache.Cache | None = None
        self._opening = threading.Lock()
        # SQLite takes one writer at a time and makes the others back off in sleeps of up
        # to 100 ms; a check's threads queue here instead, and each is let in at once.
        self.writing = threading.Lock()

    @property
    def cache(self) -> diskcache.Cache:
        if self._cache is None:
            with self._opening:  # a check's threads may all reach for it at once
                if self._cache is None:
                    import diskcache

                    self.directory.mkdir(parents=True, exist_ok=True)
                    self._cache = diskcache.Cache(str(self.directory))
        return self._cache

    def get(self, key: str) -> dict[str, Any] | None:
        """The valid entry stored under ``key``, or ``None``; a bad entry raises. With
        ``XGEN_CASSETTE_KEY`` set, an entry without a valid signature is a bad entry: the
        store is a directory anyone may have written (``cache_dir`` can point at committed
        files), so it is trusted no more than a cassette."""
        secret = signing.signing_key()  # a bad key is a configuration error, raised first
        raw = self.cache.get(key)
        if raw is None:
            return None
        where = f"cache {self.directory} entry {key[:12]}"
        if not isinstance(raw, str):
            raise CassetteError(f"{where}: not valid JSON")
        entry = check_entry(decode(raw, where), where=where, key=key)
        if secret is not None and not signing.is_signed(entry, secret):
            raise CassetteError(
                f"{where}: not signed with the key in {signing.SIGNING_ENV} (written by someone "
                "without it, or before it was set), so it is not served; record the call again "
                "with the key set (--xgen-record-mode=new_episodes), or delete the store"
            )
        return entry

    def put(self, entry: dict[str, Any]) -> None:
        """Keep ``entry`` under its key, signed when ``XGEN_CASSETTE_KEY`` is set."""
        import sqlite3

        text = canonical_json(signing.signed(entry, signing.signing_key()))
        try:
            with self.writing:
                self.cache.set(entry["key"], text)
        except (sqlite3.Error, OSError) as exc:
            # A full disk or a locked database: infrastructure, never a failed test.
            raise StoreError(
                f"cannot write the store {self.directory}: {exc}; free space there or choose "
                "another with --xgen-cache-dir=DIR (the answer was not recorded)"
            ) from None

    def delete(self, key: str) -> None:
        with self.writing:
            self.cache.delete(key)

    def __len__(self) -> int:
        return len(self.cache)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None
