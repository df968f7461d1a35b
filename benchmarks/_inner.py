"""Shared by B3-B5: an inner pytest session in a subprocess, in a fresh project directory.

The stub server (``tests/server.py``) runs in *this* process on a thread, the inner
pytest session in a child process, so the two do not share one interpreter lock: the
client side is measured as a user's run would be.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_SUMMARY = re.compile(r"xgen: (\d+) model calls: (\d+) replayed, (\d+) live")


def models_toml(base_url: str, names: list[str]) -> str:
    """``[tool.xgen.models.NAME]`` tables of remote models, each ``NAME`` at ``base_url``."""
    return "\n".join(
        f'[tool.xgen.models.{name}]\nbase_url = "{base_url}"\nmodel = "{name}"\n' for name in names
    )


def write(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)


def pytest_run(
    directory: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` in ``directory`` (this checkout's plugin, no randomly/cache)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        "-q",
        *args,
    ]
    environment = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        **(env or {}),
    }
    environment.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        command,
        cwd=directory,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done


def summary(output: str) -> tuple[int, int, int]:
    """``(calls, replayed, live)`` from the run's ``xgen: N model calls`` line."""
    match = _SUMMARY.search(output)
    if match is None:
        raise RuntimeError(f"no 'xgen: N model calls' line in the run's output:\n{output}")
    calls, replayed, live = (int(g) for g in match.groups())
    return calls, replayed, live


def report(path: Path) -> list[dict[str, Any]]:
    """The tests of a ``--xgen-report`` JSON file."""
    tests: list[dict[str, Any]] = json.loads(path.read_text())["tests"]
    return tests
