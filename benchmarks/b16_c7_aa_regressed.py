"""C7: A/A comparisons in which any test is reported "regressed" (per-test verdicts,
adjusted as the gate adjusts them: Holm by default).

The recordings and comparisons of C1 (realistic runs, ``consistency:0.05``, every disjoint
block of 1, 5, 10, 30, 50 and 200 tests of a suite of 200): a comparison counts when at
least one of its tests has the verdict ``regressed``, whether or not the gate fails on it.
Two pairings: fresh explanations in the second run (unpaired) and the first run's
explanations replayed (paired). The ratio is the worst rate over the sizes and both
pairings; target: at most 5%.
"""

from __future__ import annotations

from typing import Any

from benchmarks import _calibration, _common, b8_c1_gate_aa

ROW = "C7"
WHAT = "A/A comparisons with any test reported regressed, worst of 1-200 tests, fresh or replayed"
TARGET = "<= 0.05"
DEFAULT_REPS = b8_c1_gate_aa.DEFAULT_REPS
TRIALS = b8_c1_gate_aa.TRIALS


def run(reps: int, trials: int = TRIALS) -> dict[str, Any]:
    fresh = b8_c1_gate_aa.row(reps, trials, "unpaired", "regressed", TARGET)
    replayed = b8_c1_gate_aa.row(reps, trials, "paired", "regressed", TARGET)
    worst = [max(a, b) for a, b in zip(fresh["_per_rep"], replayed["_per_rep"], strict=True)]
    detail = f"fresh explanations: {fresh['detail']}. Replayed: {replayed['detail']}"
    return _common.result(worst, TARGET, detail, ratio=max(fresh["ratio"], replayed["ratio"]))


if __name__ == "__main__":
    _calibration.main(__import__(__name__))
