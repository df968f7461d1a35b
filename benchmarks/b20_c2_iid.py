"""C2-iid: the gate's power without explanation variance: one evaluator's transfer
accuracy falls from 0.88 to 0.45 (a consistency drop of about 0.4).

The iid special case of C2, kept as it was measured before the realistic runs.

Two runs of 50 tests (two evaluators, 10 samples per test and condition); in the second
run one evaluator answers right with probability 0.45 instead of 0.88. Detected means the
gate fails with ``consistency:0.05,accuracy:0.02``. Target: at least 80% of comparisons.
"""

from __future__ import annotations

import random
from typing import Any

from benchmarks import _calibration, _common
from pytest_xgen.report import gate as gate_module

ROW = "C2-iid"
WHAT = "iid gate power, 50 tests, one evaluator's accuracy 0.88 -> 0.45"
TARGET = ">= 0.8"
DEFAULT_REPS = 4
TRIALS = 50


def _trial(rng: random.Random) -> str:
    problems = 50
    before = {f"t{i}": _calibration._test_metrics(rng, (0.88, 0.88), 0.5) for i in range(problems)}
    after = {f"t{i}": _calibration._test_metrics(rng, (0.88, 0.45), 0.5) for i in range(problems)}
    comparison = gate_module.compare(
        _calibration._report(before),
        _calibration._report(after),
        thresholds=_calibration.THRESHOLDS,
    )
    return str(gate_module.gate(comparison).result)


def run(reps: int) -> dict[str, Any]:
    rates = []
    for rep in range(reps):
        rng = random.Random(f"C2-{rep}")
        rates.append(sum(_trial(rng) == "fail" for _ in range(TRIALS)) / TRIALS)
    return _calibration.rate_row(rates, TRIALS, TARGET, "detected in {rate} of {n} comparisons")


if __name__ == "__main__":
    _common.main(__import__(__name__))
