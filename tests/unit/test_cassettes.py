"""Cassette files: one recording per line, sorted, signed when a key is set, and every bad
line a clear error that names the file and line."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.cli import main
from pytest_xgen.errors import CassetteError, XgenConfigError
from pytest_xgen.recording import cassettes
from pytest_xgen.recording.store import build_request, canonical_json, make_entry

KEY = "k" * 16
FIX = (
    "restore the file from version control or delete the line and re-record with "
    "--xgen-record-mode=new_episodes"
)


def entry(sample: int, test: str = "t.py::test_a", text: str = "4") -> dict[str, Any]:
    request = build_request(
        "chat", {"model": "m"}, {}, sample, messages=[{"role": "user", "content": "q"}]
    )
    made = make_entry(request, {"text": text, "usage": {}}, test=test)
    made["recorded_at"] = "2026-01-01T00:00:00+00:00"
    return made


@pytest.fixture(autouse=True)
def _no_signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cassettes.SIGNING_ENV, raising=False)


def test_a_module_has_its_cassette_beside_the_others(tmp_path: Path) -> None:
    assert cassettes.cassette_path(tmp_path, "tests/test_a.py") == tmp_path / "tests/test_a.jsonl"


def test_a_missing_cassette_is_empty(tmp_path: Path) -> None:
    assert cassettes.read(tmp_path / "none.jsonl") == {}
    assert cassettes.read_lenient(tmp_path / "none.jsonl") == ({}, [])


def test_cassettes_are_sorted_by_test_then_key_one_line_each(tmp_path: Path) -> None:
    entries = [entry(0, "t.py::test_b"), entry(1, "t.py::test_a"), entry(2, "A.py::test_z")]
    untested = {k: v for k, v in entry(3).items() if k != "test"}
    text = cassettes.dumps([*entries, untested])
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == 5
    assert [canonical_json(untested), canonical_json(entries[2])] == lines[:2]
    order = sorted([untested, *entries], key=lambda e: (e.get("test", ""), e["key"]))
    assert lines[:-1] == [canonical_json(e) for e in order]
    assert cassettes.dumps([]) == ""
    path = tmp_path / "sub" / "t.jsonl"
    cassettes.write(path, entries)
    assert path.read_text(encoding="utf-8") == cassettes.dumps(entries)
    assert cassettes.read(path) == {e["key"]: e for e in entries}


def test_unicode_line_breaks_stay_inside_their_line(tmp_path: Path) -> None:
    odd = entry(0, text="a\u2028b\u2029c\u0085d\re")
    text = cassettes.dumps([odd])
    assert text.count("\n") == 1 and len(text.splitlines()) == 1
    assert "\\u2028" in text and "\\u2029" in text and "\\u0085" in text
    path = tmp_path / "t.jsonl"
    path.write_text(text, encoding="utf-8")
    assert cassettes.read(path)[odd["key"]]["response"]["text"] == "a\u2028b\u2029c\u0085d\re"
    # Written raw by another tool, they still do not split the line.
    path.write_text(canonical_json(odd) + "\n", encoding="utf-8")
    assert cassettes.read(path) == {odd["key"]: odd}


def test_blank_lines_and_windows_line_ends_are_read(tmp_path: Path) -> None:
    a, b = entry(0), entry(1)
    path = tmp_path / "t.jsonl"
    path.write_text(f"\n{canonical_json(a)}\r\n   \n{canonical_json(b)}\r\n", encoding="utf-8")
    assert cassettes.read(path) == {a["key"]: a, b["key"]: b}


def test_a_bad_line_names_file_line_and_fix_and_the_others_are_kept(tmp_path: Path) -> None:
    a, b = entry(0), entry(1)
    path = tmp_path / "t.jsonl"
    path.write_text(f"{canonical_json(a)}\n{{oops\n{canonical_json(b)}\n", encoding="utf-8")
    entries, damaged = cassettes.read_lenient(path)
    assert entries == {a["key"]: a, b["key"]: b}
    assert [str(e) for e in damaged] == [
        f"cassette {path}, line 2: not valid JSON (Expecting property name enclosed in "
        f"double quotes); {FIX}"
    ]
    with pytest.raises(CassetteError) as raised:
        cassettes.read(path)
    assert str(raised.value) == str(damaged[0])


def test_a_line_that_fails_its_check_names_file_and_line(tmp_path: Path) -> None:
    a = entry(0)
    path = tmp_path / "t.jsonl"
    path.write_text(canonical_json({**a, "digest": "0" * 64}) + "\n", encoding="utf-8")
    with pytest.raises(CassetteError) as raised:
        cassettes.read(path)
    assert str(raised.value) == (
        f"cassette {path}, line 1: the digest does not match the recording (edited or "
        f"corrupt); {FIX}"
    )


def test_a_call_recorded_twice_is_served_from_neither_line(tmp_path: Path) -> None:
    a, other = entry(0), entry(1)
    again = {**a, "recorded_at": "2026-02-02T00:00:00+00:00"}
    path = tmp_path / "t.jsonl"
    lines = [canonical_json(x) for x in (a, other, again, a)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    entries, damaged = cassettes.read_lenient(path)
    assert entries == {other["key"]: other}
    assert [str(e) for e in damaged] == [
        f"cassette {path}, line {n}: the same call is recorded again (key {a['key'][:12]}…, "
        "first at line 1); keep one of the two lines, or delete both and re-record with "
        "--xgen-record-mode=new_episodes"
        for n in (3, 4)
    ]


def test_an_unreadable_cassette_is_an_error_that_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "t.jsonl"
    folder.mkdir()
    with pytest.raises(CassetteError) as raised:
        cassettes.read_lenient(folder)
    assert str(raised.value).startswith(f"cannot read cassette {folder}: ")
    assert str(raised.value).endswith(
        "; check the path given by --xgen-cassette-dir / cassette_dir"
    )
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b"caf\xe9\n")
    with pytest.raises(CassetteError, match=r"cannot read cassette .*latin\.jsonl: 'utf-8'"):
        cassettes.read(latin)


# -- signing --------------------------------------------------------------------------------
def test_the_signing_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cassettes.SIGNING_ENV == "XGEN_CASSETTE_KEY"
    assert cassettes.signing_key() is None
    monkeypatch.setenv("XGEN_CASSETTE_KEY", "")
    assert cassettes.signing_key() is None
    monkeypatch.setenv("XGEN_CASSETTE_KEY", "é" * 16)
    assert cassettes.signing_key() == ("é" * 16).encode("utf-8")


def test_a_short_signing_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cassettes.MIN_SIGNING_KEY == 16
    monkeypatch.setenv("XGEN_CASSETTE_KEY", "x" * 15)
    # A configuration error, never taken for a bad recording (which would be re-recorded).
    with pytest.raises(XgenConfigError) as raised:
        cassettes.signing_key()
    assert str(raised.value) == (
        "XGEN_CASSETTE_KEY holds 15 characters; a signing key needs at least 16 (for "
        "example: python -c 'import secrets; print(secrets.token_hex(32))')"
    )


def test_signed_lines_carry_the_hmac_of_their_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = entry(0)
    expected = hmac.new(KEY.encode(), a["digest"].encode("ascii"), hashlib.sha256).hexdigest()
    assert cassettes.signature(a, KEY.encode()) == expected
    monkeypatch.setenv("XGEN_CASSETTE_KEY", KEY)
    path = tmp_path / "t.jsonl"
    cassettes.write(path, [a])
    assert path.read_text(encoding="utf-8") == canonical_json({**a, "signature": expected}) + "\n"
    assert "signature" not in a
    assert cassettes.read(path)[a["key"]]["signature"] == expected


def test_with_a_key_set_an_unsigned_or_wrongly_signed_line_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = entry(0), entry(1), entry(2)
    signed_c = {**c, "signature": cassettes.signature(c, KEY.encode())}
    path = tmp_path / "t.jsonl"
    forged = {**b, "signature": cassettes.signature(b, b"another-key-0123")}
    lines = [canonical_json(x) for x in (a, forged, signed_c)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("XGEN_CASSETTE_KEY", KEY)
    entries, damaged = cassettes.read_lenient(path)
    assert list(entries) == [c["key"]]
    assert [str(e) for e in damaged] == [
        f"cassette {path}, line {n}: not signed with the key in XGEN_CASSETTE_KEY (changed by "
        "someone without it, or recorded without it); re-record it with the key set, or "
        "review the line and sign the cassette with xgen sign"
        for n in (1, 2)
    ]
    unverified, none = cassettes.read_lenient(path, verify_signatures=False)
    assert set(unverified) == {a["key"], b["key"], c["key"]} and none == []


def test_shard_cassettes_unite_module_by_module(tmp_path: Path) -> None:
    one, two, out = tmp_path / "one", tmp_path / "two", tmp_path / "out"
    cassettes.write(one / "tests/test_a.jsonl", [entry(0), entry(1, "t.py::test_b")])
    cassettes.write(two / "tests/test_a.jsonl", [entry(1, "t.py::test_b"), entry(2)])
    cassettes.write(two / "test_c.jsonl", [entry(3, "c.py::test")])
    assert cassettes.merge_dirs([one, two], out) == (2, 4)
    merged = (out / "tests/test_a.jsonl").read_text()
    # In the writer's order (test, then key), as one unsharded run writes it.
    assert merged == cassettes.dumps([entry(0), entry(1, "t.py::test_b"), entry(2)])
    assert cassettes.read(out / "test_c.jsonl") == {entry(3)["key"]: entry(3, "c.py::test")}
    # Merging into one of the inputs is allowed: everything is read before anything is written.
    assert cassettes.merge_dirs([one, two], one) == (2, 4)
    assert (one / "tests/test_a.jsonl").read_text() == merged


def test_one_call_with_two_answers_in_two_shards_is_an_error_naming_both(tmp_path: Path) -> None:
    one, two, out = tmp_path / "one", tmp_path / "two", tmp_path / "out"
    cassettes.write(one / "m.jsonl", [entry(0)])
    cassettes.write(two / "m.jsonl", [entry(0, text="5")])
    with pytest.raises(CassetteError) as raised:
        cassettes.merge_dirs([one, two], out)
    message = str(raised.value)
    assert (
        f"is recorded with different answers in {one / 'm.jsonl'} and {two / 'm.jsonl'}" in message
    )
    assert "of test t.py::test_a" in message and "then merge again" in message
    assert not out.exists()
    with pytest.raises(CassetteError, match="is not a directory; pass cassette directories"):
        cassettes.merge_dirs([tmp_path / "missing"], out)
    (one / "bad.jsonl").write_text("{oops\n")
    with pytest.raises(CassetteError, match="bad.jsonl, line 1"):
        cassettes.merge_dirs([one], out)


@pytest.mark.parametrize("link", ["folder", "file"])
def test_merging_never_writes_through_a_link_in_the_output(
    tmp_path: Path, link: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A link committed inside the output directory could point at any file the merge may
    # write: the merge refuses, as the recorder does, and writes nothing.
    shard, out, elsewhere = tmp_path / "shard", tmp_path / "out", tmp_path / "elsewhere"
    cassettes.write(shard / "tests/test_a.jsonl", [entry(0)])
    cassettes.write(shard / "test_b.jsonl", [entry(1)])
    elsewhere.mkdir()
    out.mkdir()
    if link == "folder":
        (out / "tests").symlink_to(elsewhere, target_is_directory=True)
        reached = out / "tests/test_a.jsonl"
    else:
        (out / "tests").mkdir()
        (elsewhere / "test_a.jsonl").write_text("kept\n", encoding="utf-8")
        (out / "tests/test_a.jsonl").symlink_to(elsewhere / "test_a.jsonl")
        reached = out / "tests/test_a.jsonl"
    with pytest.raises(CassetteError) as raised:
        cassettes.merge_dirs([shard], out)
    refusal = (
        f"{reached} is reached through a symbolic link, and cassettes are not written "
        "through links; replace the link with a directory or file (nothing was written)"
    )
    assert str(raised.value) == refusal
    assert main(["merge", "--cassettes", str(shard), "-o", str(out)]) == 2
    assert capsys.readouterr().err == f"xgen merge: {refusal}\n"
    assert not (out / "test_b.jsonl").exists()
    assert sorted(p.name for p in elsewhere.iterdir()) == (
        [] if link == "folder" else ["test_a.jsonl"]
    )
    if link == "file":
        assert (elsewhere / "test_a.jsonl").read_text(encoding="utf-8") == "kept\n"


def test_the_output_directory_itself_may_be_a_link(tmp_path: Path) -> None:
    shard, real, out = tmp_path / "shard", tmp_path / "real", tmp_path / "out"
    cassettes.write(shard / "tests/test_a.jsonl", [entry(0)])
    real.mkdir()
    out.symlink_to(real, target_is_directory=True)
    assert cassettes.merge_dirs([shard], out) == (1, 1)
    assert cassettes.read(real / "tests/test_a.jsonl") == {entry(0)["key"]: entry(0)}
