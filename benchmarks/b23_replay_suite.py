"""B23: a 300-test suite replayed from its cassettes, against the same suite without xgen.

Whole processes, as a user runs them (:mod:`benchmarks._suite`): ``pytest
--xgen-record-mode=none`` of 30 modules of 10 tests, each asking one recorded question
through ``xgen.model("echo")`` and replaying it from its module's cassette (no store), vs
``pytest -p no:xgen`` of the same 300 tests with the answers written in. The two alternate,
one warm-up each first; each rep's ratio is replay / bare wall time. The detail gives the
medians, their difference (what replay costs the suite), the CPU-time ratio (less sensitive
to other load) and the load average.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import _common, _suite

ROW = "B23"
WHAT = "pytest of a 300-test suite replayed from cassettes / the same suite without xgen"
TARGET = "<= 1.10"
DEFAULT_REPS = 9


def run(reps: int, modules: int = _suite.MODULES, tests: int = _suite.TESTS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="xgen-b23-") as tmp:
        suites = _suite.make(Path(tmp), modules, tests)
        replay = (["--xgen-record-mode=none"], suites.xgen)
        bare = (["-p", "no:xgen"], suites.bare)
        measured = _suite.paired(replay, bare, reps)
    replayed = f"{suites.tests} model calls: {suites.tests} replayed, 0 live"
    if replayed not in measured.outputs[0]:
        raise AssertionError(
            f"expected {replayed!r} in the replay's output:\n{measured.outputs[0]}"
        )
    detail = f"{suites.tests} tests; {measured.detail('replay', 'bare')}; {_suite.load()} after"
    return _common.result(measured.ratios, TARGET, detail)


if __name__ == "__main__":
    sys.exit(_common.main(sys.modules[__name__]))
