"""B24: what the installed plugin costs a run of a suite that does not use it.

Whole processes (:mod:`benchmarks._suite`): ``pytest`` of 300 plain tests (30 modules of
10, no xgen fixture or marker) with the plugin loaded by its entry point, as every pytest
run in an environment that has it installed, vs the same run with ``-p no:xgen``. B6
measures collection alone; this row runs the tests too, so the plugin's per-test hooks
count. The two alternate, one warm-up each first; each rep's ratio is on / off wall time.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import _common, _suite

ROW = "B24"
WHAT = "pytest of a 300-test suite without xgen: plugin on / -p no:xgen"
TARGET = "<= 1.05"
DEFAULT_REPS = 9


def run(reps: int, modules: int = _suite.MODULES, tests: int = _suite.TESTS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="xgen-b24-") as tmp:
        bare = _suite.bare(Path(tmp), modules, tests)
        measured = _suite.paired(([], bare), (["-p", "no:xgen"], bare), reps)
    detail = (
        f"{modules * tests} tests; {measured.detail('plugin on', 'off')}; {_suite.load()} after"
    )
    return _common.result(measured.ratios, TARGET, detail)


if __name__ == "__main__":
    sys.exit(_common.main(sys.modules[__name__]))
