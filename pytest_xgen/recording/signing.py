"""Signatures: the HMAC of a recording's digest under the team's secret.

A recording's key and digest are plain hashes that anyone can recompute after an edit.
With a secret in ``XGEN_CASSETTE_KEY``, every recording the plugin writes (a cassette line
or a store entry) carries ``signature``, the HMAC-SHA256 of its digest, and every recording
it serves must carry a valid one, wherever it was read: a cassette, or the store (whose
directory, ``cache_dir``, is a project setting a pull request can point at committed
files). Without the variable nothing is signed or verified.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from pytest_xgen.errors import XgenConfigError, hide_frame

__tracebackhide__ = hide_frame

SIGNING_ENV = "XGEN_CASSETTE_KEY"
MIN_SIGNING_KEY = 16


def signing_key() -> bytes | None:
    """The secret of ``XGEN_CASSETTE_KEY``, or ``None`` when it is not set. A secret too
    short to be one is a configuration error (never taken for a bad recording)."""
    value = os.environ.get(SIGNING_ENV, "")  # pragma: no mutate
    if not value:
        return None
    if len(value) < MIN_SIGNING_KEY:
        raise XgenConfigError(
            f"{SIGNING_ENV} holds {len(value)} characters; a signing key needs at least "
            f"{MIN_SIGNING_KEY} (for example: python -c 'import secrets; "
            "print(secrets.token_hex(32))')"
        )
    return value.encode("utf-8")  # pragma: no mutate


def signature(entry: dict[str, Any], key: bytes) -> str:
    """The HMAC-SHA256 of the entry's digest under ``key``."""
    digest = entry["digest"].encode("ascii")  # pragma: no mutate
    return hmac.new(key, digest, hashlib.sha256).hexdigest()


def signed(entry: dict[str, Any], key: bytes | None) -> dict[str, Any]:
    """``entry`` with its signature under ``key`` (a copy), or ``entry`` itself without one."""
    return entry if key is None else {**entry, "signature": signature(entry, key)}


def is_signed(entry: dict[str, Any], key: bytes) -> bool:
    """Whether ``entry`` carries the valid signature of its digest under ``key``."""
    given = entry.get("signature")
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(errors="surrogatepass"), signature(entry, key).encode())
