"""B6: what the plugin costs a suite that does not use it.

``pytest --collect-only -q`` of a generated 500-test suite (50 modules of 10 tests, no
xgen) with the plugin loaded vs ``-p no:xgen``, each in a subprocess in a temporary
directory with ``PYTHONDONTWRITEBYTECODE`` empty (bytecode is written, as in a normal
run). One warm-up run each, then the two alternate; each rep's ratio is on/off wall
time. ``detail`` adds the CPU-time ratio (less sensitive to other load on the machine)
and ``python -c "import pytest_xgen.plugin"`` vs ``python -c "import pytest"``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import _common

ROW = "B6"
WHAT = "pytest --collect-only of a 500-test suite without xgen: plugin on / -p no:xgen"
TARGET = "<= 1.05"
DEFAULT_REPS = 7
MODULES, TESTS = 50, 10

_MODULE = """\
import pytest


@pytest.fixture
def value():
    return 3


"""


def make_suite(directory: Path, modules: int = MODULES, tests: int = TESTS) -> Path:
    """A plain pytest suite of ``modules * tests`` tests (some parametrized, some using a
    fixture), with its own ini file so the repository's configuration plays no part."""
    (directory / "pytest.ini").write_text("[pytest]\n")
    for m in range(modules):
        body = [_MODULE]
        for t in range(tests - 2):
            body.append(f"def test_{m}_{t}(value):\n    assert value + {t} == {t + 3}\n\n\n")
        body.append(f"@pytest.mark.parametrize('x', [1, 2])\ndef test_{m}_param(x):\n")
        body.append("    assert x\n")
        (directory / f"test_mod_{m:03d}.py").write_text("".join(body))
    return directory


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = ""
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_PLUGINS", None)
    return env


def timed_run(args: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system) of one subprocess, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )
    return wall, cpu, proc.stdout


def run(reps: int, modules: int = MODULES, tests: int = TESTS) -> dict[str, Any]:
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q"]
    with tempfile.TemporaryDirectory(prefix="xgen-b6-") as tmp:
        suite = make_suite(Path(tmp), modules, tests)
        on, off = collect, [*collect, "-p", "no:xgen"]
        _, _, out = timed_run(on, suite)  # warm-up: writes the bytecode of the suite
        expected = f"{modules * tests} tests collected"
        if expected not in out:
            raise AssertionError(f"expected {expected!r} in:\n{out}")
        timed_run(off, suite)
        walls: list[tuple[float, float]] = []
        cpus: list[tuple[float, float]] = []
        for rep in range(reps):
            order = (on, off) if rep % 2 == 0 else (off, on)
            got = {id(args): timed_run(args, suite) for args in order}
            walls.append((got[id(on)][0], got[id(off)][0]))
            cpus.append((got[id(on)][1], got[id(off)][1]))
        plain = [sys.executable, "-c", "import pytest"]
        plugin = [sys.executable, "-c", "import pytest_xgen.plugin"]
        imports = []
        for rep in range(2 * reps):
            first, second = (plugin, plain) if rep % 2 == 0 else (plain, plugin)
            got = {id(args): timed_run(args, suite)[0] for args in (first, second)}
            imports.append((got[id(plugin)], got[id(plain)]))
    ratios = [a / b for a, b in walls]
    cpu_ratio = _common.median(a / b for a, b in cpus)
    on_s, off_s = _common.median(a for a, _ in walls), _common.median(b for _, b in walls)
    imp_x, imp_p = _common.median(a for a, _ in imports), _common.median(b for _, b in imports)
    imp_d = _common.median(a - b for a, b in imports)
    detail = (
        f"{modules * tests} tests; collect-only median {_common.ms(on_s)} on vs "
        f"{_common.ms(off_s)} off; CPU-time ratio {cpu_ratio:.3f}; "
        f'python -c "import pytest_xgen.plugin" {_common.ms(imp_x)} vs '
        f'"import pytest" {_common.ms(imp_p)} (median difference {_common.ms(imp_d)}, '
        f"{len(imports)} pairs)"
    )
    return _common.result(ratios, TARGET, detail)


if __name__ == "__main__":
    sys.exit(_common.main(sys.modules[__name__]))
