"""Recording signatures (pytest_xgen.recording.signing): the HMAC of a digest under the
team's secret, and a recording that does not carry it is not taken as signed."""

from __future__ import annotations

import hashlib
import hmac

from pytest_xgen.recording.signing import is_signed, signature, signed

KEY = b"team-secret-0123456789"
ENTRY = {"key": "k", "digest": "d" * 64}


def test_a_signed_entry_carries_the_hmac_of_its_digest() -> None:
    expected = hmac.new(KEY, ENTRY["digest"].encode(), hashlib.sha256).hexdigest()
    out = signed(ENTRY, KEY)
    assert out == {**ENTRY, "signature": expected} and "signature" not in ENTRY
    assert signed(ENTRY, None) is ENTRY
    assert is_signed(out, KEY)
    assert not is_signed(out, b"another-secret-0123456")


def test_a_missing_or_hostile_signature_is_not_valid() -> None:
    assert not is_signed(ENTRY, KEY)
    for hostile in ("\ud800", "é" * 64, 42, None, signature(ENTRY, KEY).upper()):
        assert not is_signed({**ENTRY, "signature": hostile}, KEY)
