"""C8: a run compared with its own baseline (identical data) must exit 0.

The first recording of each C1 trial (realistic runs, defaults) compared with itself on
every disjoint block of 1, 5, 10, 30, 50 and 200 tests, gated with ``consistency:0.05`` at
the gate's defaults, as ``--xgen-compare`` on an unchanged re-run from the cassettes does.
The ratio is the share of these comparisons that would exit non-zero; target: none.
"""

from __future__ import annotations

from typing import Any

from benchmarks import _calibration, b8_c1_gate_aa

ROW = "C8"
WHAT = "a run compared with itself (identical data): share of comparisons exiting non-zero"
TARGET = "<= 0"
DEFAULT_REPS = b8_c1_gate_aa.DEFAULT_REPS
TRIALS = b8_c1_gate_aa.TRIALS


def run(reps: int, trials: int = TRIALS) -> dict[str, Any]:
    out = b8_c1_gate_aa.row(reps, trials, "identity", "exit", TARGET)
    del out["_per_rep"]
    return out


if __name__ == "__main__":
    _calibration.main(__import__(__name__))
