"""Cassettes: the recorded calls of one test module as a diffable JSON Lines file.

One record per line (the recording schema), sorted by test id then key, written atomically
(temporary file, then rename) so a crash never leaves half a cassette. Teams commit the
directory and review model outputs in pull requests; CI replays it with
``--xgen-record-mode=none``.

A line's digest detects damage, not tampering: anyone can edit an answer and recompute its
key and digest. With a secret in ``XGEN_CASSETTE_KEY`` every line written is signed
(HMAC-SHA256 of its digest, :mod:`~pytest_xgen.recording.signing`), and every line read
must carry a valid signature, so a line changed by someone without the secret is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_xgen import files
from pytest_xgen.errors import CassetteError, hide_frame
from pytest_xgen.recording.signing import MIN_SIGNING_KEY as MIN_SIGNING_KEY
from pytest_xgen.recording.signing import SIGNING_ENV as SIGNING_ENV
from pytest_xgen.recording.signing import is_signed, signed
from pytest_xgen.recording.signing import signature as signature
from pytest_xgen.recording.signing import signing_key as signing_key
from pytest_xgen.recording.store import canonical_json, check_entry, decode

__tracebackhide__ = hide_frame

# Signing lives in signing.py; its names that callers know from here are re-exported above.


def cassette_path(cassette_dir: Path, module: str) -> Path:
    """The cassette of test module ``module`` (a path relative to the rootdir)."""
    rel = Path(module)
    return cassette_dir / rel.with_suffix(".jsonl")


def read(path: Path) -> dict[str, dict[str, Any]]:
    """Every entry of the cassette at ``path`` by key; a bad line is an error naming
    the file and line number, and what to do."""
    entries, damaged = read_lenient(path)
    if damaged:
        raise damaged[0]
    return entries


# Characters that str.splitlines() and many editors take as line breaks but JSON leaves
# raw inside strings. Written escaped, so one recording is always one physical line.
_LINE_BREAKS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def read_lenient(
    path: Path, *, verify_signatures: bool = True
) -> tuple[dict[str, dict[str, Any]], list[CassetteError]]:
    """The valid entries of the cassette at ``path``, and an error for each bad line
    (which is never served). With ``XGEN_CASSETTE_KEY`` set, a line without a valid
    signature is a bad line. An unreadable file is still an error."""
    secret = signing_key() if verify_signatures else None
    entries: dict[str, dict[str, Any]] = {}
    damaged: list[CassetteError] = []
    try:
        # (Mutating the encoding to the locale's goes unseen where the locale is UTF-8.)
        text = path.read_text(encoding="utf-8")  # pragma: no mutate
    except FileNotFoundError:
        return entries, damaged
    except (OSError, UnicodeDecodeError) as exc:
        raise CassetteError(
            f"cannot read cassette {path}: {exc}; check the path given by "
            "--xgen-cassette-dir / cassette_dir"
        ) from None
    # Only "\n" ends a line: str.splitlines() would also split on U+2028 and others,
    # which a line may hold.
    lines = text.split("\n")
    fix = (
        "restore the file from version control or delete the line and re-record with "
        "--xgen-record-mode=new_episodes"
    )
    first_line: dict[str, int] = {}
    duplicated: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"cassette {path}, line {number}"
        try:
            entry = check_entry(decode(line, where), where=where)  # "\r" is JSON whitespace
        except CassetteError as exc:
            damaged.append(CassetteError(f"{exc}; {fix}"))
            continue
        if secret is not None and not is_signed(entry, secret):
            damaged.append(
                CassetteError(
                    f"{where}: not signed with the key in {SIGNING_ENV} (changed by someone "
                    "without it, or recorded without it); re-record it with the key set, or "
                    "review the line and sign the cassette with xgen sign"
                )
            )
            continue
        key = entry["key"]
        if key in first_line:
            # Which of two recordings of one call is right cannot be told: serve neither.
            damaged.append(
                CassetteError(
                    f"{where}: the same call is recorded again (key {key[:12]}…, first at "
                    f"line {first_line[key]}); keep one of the two lines, or delete both and "
                    "re-record with --xgen-record-mode=new_episodes"
                )
            )
            duplicated.add(key)
            continue
        first_line[key] = number
        entries[key] = entry
    for duplicate in duplicated:
        del entries[duplicate]
    return entries, damaged


def dumps(entries: Iterable[dict[str, Any]]) -> str:
    """The cassette text: one line per entry in the stable order, each signed when
    ``XGEN_CASSETTE_KEY`` is set."""
    secret = signing_key()
    entries = [signed(e, secret) for e in entries]
    ordered = sorted(entries, key=lambda e: (e.get("test", ""), e["key"]))
    return "".join(_one_line(canonical_json(e)) + "\n" for e in ordered)


def _one_line(text: str) -> str:
    for raw, escaped in _LINE_BREAKS.items():
        text = text.replace(raw, escaped)
    return text


def write(path: Path, entries: Iterable[dict[str, Any]]) -> None:
    """Write ``entries`` to ``path`` atomically, in the stable order."""
    files.write_text(path, dumps(entries))


def written_through_link(path: Path, root: Path) -> str | None:
    """Why the cassette ``path`` under the cassette directory ``root`` must not be written
    (it is reached through a symbolic link), or ``None``."""
    if not files.through_link(path, root):
        return None
    return (
        f"{path} is reached through a symbolic link, and cassettes are not written through "
        "links; replace the link with a directory or file"
    )


def merge_dirs(sources: list[Path], output: Path) -> tuple[int, int]:
    """Unite the cassettes of several cassette directories (the shards of one run) into
    ``output``, module by module, in the stable order; return (cassettes, recordings).

    The same call recorded in two directories is kept once; recorded with different
    answers it is an error naming both files, and nothing is written. So is a cassette of
    ``output`` reached through a symbolic link (:func:`written_through_link`).
    """
    merged: dict[Path, dict[str, dict[str, Any]]] = {}
    origin: dict[tuple[Path, str], Path] = {}
    for source in sources:
        if not source.is_dir():
            raise CassetteError(f"{source} is not a directory; pass cassette directories")
        for path in sorted(source.rglob("*.jsonl")):
            rel = path.relative_to(source)
            entries = merged.setdefault(rel, {})
            for key, entry in read(path).items():
                known = entries.get(key)
                if known is None:
                    entries[key] = entry
                    origin[rel, key] = path
                elif known["digest"] != entry["digest"]:
                    raise CassetteError(
                        f"the call {key[:12]}… of test {entry.get('test', '?')} is recorded "
                        f"with different answers in {origin[rel, key]} and {path}; keep the "
                        "line of one of them (or delete both and re-record with "
                        "--xgen-record-mode=new_episodes), then merge again"
                    )
    for rel in merged:
        problem = written_through_link(output / rel, output)
        if problem is not None:
            raise CassetteError(f"{problem} (nothing was written)")
    for rel, entries in merged.items():
        write(output / rel, entries.values())
    return len(merged), sum(len(e) for e in merged.values())
