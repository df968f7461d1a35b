"""Cassettes: the recorded calls of one test module as a diffable JSON Lines file.

One record per line (the recording schema), sorted by test id then key, written atomically
(temporary file, then rename) so a crash never leaves half a cassette. Teams commit the
directory and review model outputs in pull requests; CI replays it with
``--xgen-record-mode=none``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_xgen.cache import canonical_json, check_entry
from pytest_xgen.errors import CassetteError, hide_frame

__tracebackhide__ = hide_frame


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


def read_lenient(path: Path) -> tuple[dict[str, dict[str, Any]], list[CassetteError]]:
    """The valid entries of the cassette at ``path``, and an error for each bad line
    (which is never served). An unreadable file is still an error."""
    entries: dict[str, dict[str, Any]] = {}
    damaged: list[CassetteError] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return entries, damaged
    except (OSError, UnicodeDecodeError) as exc:
        raise CassetteError(
            f"cannot read cassette {path}: {exc}; check the path given by "
            "--xgen-cassette-dir / cassette_dir"
        ) from None
    fix = (
        "restore the file from version control or delete the line and re-record with "
        "--xgen-record-mode=new_episodes"
    )
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"cassette {path}, line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            damaged.append(CassetteError(f"{where}: not valid JSON ({exc.msg}); {fix}"))
            continue
        try:
            entry = check_entry(data, where=where)
        except CassetteError as exc:
            damaged.append(CassetteError(f"{exc}; {fix}"))
            continue
        entries[entry["key"]] = entry
    return entries, damaged


def dumps(entries: Iterable[dict[str, Any]]) -> str:
    ordered = sorted(entries, key=lambda e: (e.get("test", ""), e["key"]))
    return "".join(canonical_json(e) + "\n" for e in ordered)


def write(path: Path, entries: Iterable[dict[str, Any]]) -> None:
    """Write ``entries`` to ``path`` atomically in the stable order."""
    text = dumps(entries)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
