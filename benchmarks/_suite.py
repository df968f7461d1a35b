"""Shared by B23 and B24: a generated suite run whole, as a user runs it, in subprocesses.

Two suites of the same shape (``modules`` modules of ``tests`` tests) in one temporary
directory: ``xgen/``, whose every test asks one recorded question through
``xgen.model("echo")`` and checks the answer, and ``bare/``, whose tests check the same
answer written into the test (no model, no fixture). The xgen suite is recorded once against
``tests/server.py`` in this process (record mode ``new_episodes``, one cassette per
module), then the server is stopped: every later run replays from the committed-style
cassettes with ``--xgen-record-mode=none``.

Each timed run is ``python -m pytest -q -p no:randomly -p no:cacheprovider`` in a subprocess
(bytecode written, as in a normal run), whole process: interpreter start, imports,
collection, the tests, the summary. :func:`paired` alternates two commands (one warm-up
each first), so load from elsewhere on the machine falls on both alike, and keeps the wall
and CPU (user + system) seconds of each.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import _common, _xgen

ROOT = Path(__file__).resolve().parent.parent
MODULES, TESTS = 30, 10
MODEL = "echo"
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]

_XGEN_TEST = """\
def test_q{m:03d}_{t:02d}(xgen):
    answer = xgen.model("echo")({prompt!r})
    assert answer.text == {expected!r}


"""
_BARE_TEST = """\
def test_q{m:03d}_{t:02d}():
    answer = {expected!r}
    assert answer == {expected!r}


"""


@dataclass(frozen=True)
class Suites:
    xgen: Path
    bare: Path
    tests: int


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = ""  # bytecode written, as in a normal run
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "XGEN_CASSETTE_KEY"):
        env.pop(name, None)
    return env


def run(args: Sequence[str], cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system) of one ``pytest`` subprocess, and its output;
    a run that does not pass is an error."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([*PYTEST, *args], cwd=cwd, env=_env(), capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(
            f"pytest {' '.join(args)} in {cwd} failed ({proc.returncode}):\n"
            f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )
    return wall, cpu, proc.stdout


def bare(directory: Path, modules: int = MODULES, tests: int = TESTS) -> Path:
    """Write the suite without xgen into ``directory``/bare."""
    where = directory / "bare"
    where.mkdir(parents=True)
    (where / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = ""\n')
    for m in range(modules):
        body = [
            _BARE_TEST.format(m=m, t=t, expected=_expected(m * tests + t)) for t in range(tests)
        ]
        (where / f"test_mod_{m:03d}.py").write_text("".join(body))
    return where


def _expected(i: int) -> str:
    return str(_xgen.response(_xgen.prompt(i))["text"])


def make(directory: Path, modules: int = MODULES, tests: int = TESTS) -> Suites:
    """Write both suites under ``directory`` and record the xgen one's cassettes."""
    from tests.server import OpenAIServer

    bare_dir = bare(directory, modules, tests)
    xgen_dir = directory / "xgen"
    xgen_dir.mkdir(parents=True)
    server = OpenAIServer().start()
    try:
        (xgen_dir / "pyproject.toml").write_text(
            '[tool.pytest.ini_options]\naddopts = ""\n\n'
            '[tool.xgen]\ncache_dir = ".xgen/cache"\ncassette_dir = "cassettes"\n\n'
            f'[tool.xgen.models.{MODEL}]\nbase_url = "{server.base_url}"\n'
            f'model = "{MODEL}"\nparams = {{ temperature = 0 }}\n'
        )
        for m in range(modules):
            body = []
            for t in range(tests):
                i = m * tests + t
                text = _XGEN_TEST.format(m=m, t=t, prompt=_xgen.prompt(i), expected=_expected(i))
                body.append(text)
            (xgen_dir / f"test_mod_{m:03d}.py").write_text("".join(body))
        _, _, out = run(["--xgen-record-mode=new_episodes"], xgen_dir)
        if f"{modules * tests} passed" not in out or server.calls != modules * tests:
            raise AssertionError(f"recording the suite made {server.calls} calls:\n{out}")
    finally:
        server.stop()
    # The store goes: replays read the cassettes alone, as CI does on a fresh clone.
    _remove(xgen_dir / ".xgen")
    return Suites(xgen_dir, bare_dir, modules * tests)


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


@dataclass
class Paired:
    """Wall and CPU seconds of two commands, one pair per rep."""

    walls: list[tuple[float, float]]
    cpus: list[tuple[float, float]]
    outputs: tuple[str, str]  # of the warm-up runs

    @property
    def ratios(self) -> list[float]:
        return [a / b for a, b in self.walls]

    def detail(self, first: str, second: str) -> str:
        a = _common.median(x for x, _ in self.walls)
        b = _common.median(y for _, y in self.walls)
        cpu = _common.median(x / y for x, y in self.cpus)
        diff = _common.median(x - y for x, y in self.walls)
        return (
            f"{first} {_common.ms(a)} vs {second} {_common.ms(b)} (medians; median "
            f"difference {_common.ms(diff)}); CPU-time ratio {cpu:.3f}"
        )


def paired(
    first: tuple[Sequence[str], Path], second: tuple[Sequence[str], Path], reps: int
) -> Paired:
    """``reps`` pairs of runs of the two commands, alternating which goes first, after one
    warm-up run of each (it writes the bytecode)."""
    outputs = tuple(run(args, cwd)[2] for args, cwd in (first, second))
    walls: list[tuple[float, float]] = []
    cpus: list[tuple[float, float]] = []
    for rep in range(reps):
        order = (0, 1) if rep % 2 == 0 else (1, 0)
        got: dict[int, tuple[float, float, str]] = {}
        for which in order:
            args, cwd = (first, second)[which]
            got[which] = run(args, cwd)
        walls.append((got[0][0], got[1][0]))
        cpus.append((got[0][1], got[1][1]))
    return Paired(walls, cpus, (outputs[0], outputs[1]))


def load() -> str:
    """The 1-minute load average, for the detail (the machine may be shared)."""
    try:
        return f"load average {os.getloadavg()[0]:.1f}"
    except OSError:
        return "load average unknown"
