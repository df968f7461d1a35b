"""C5: test outcomes that differ between two A/A recordings of realistic runs.

Each trial draws a suite of 200 problems (:mod:`benchmarks._runs`) and records it twice
with the same models, fresh samples and a fresh explanation per test, at the defaults
(``samples="auto"``; ``on_inconclusive="fail"`` makes an inconclusive check fail its test).
A test's outcome is passed, failed, xfailed or error (the plugin's own error; the
simulated models never fail a call). The ratio is the share of tests whose outcome differs
between the two recordings; target: at most 5%. The detail splits the changes by the
checks' verdicts: pass <-> fail flips, and changes that involve an inconclusive verdict.
The recordings are those of C1 (the same trials). A fresh explanation is a different
explanation, so part of these changes is real: the row measures what a user sees.
"""

from __future__ import annotations

from typing import Any

from benchmarks import _calibration

ROW = "C5"
WHAT = "test outcomes that differ between two A/A recordings, 200 tests (defaults)"
TARGET = "<= 0.05"
DEFAULT_REPS = 3
TRIALS = 4  # as C1, whose recordings these are


def run(reps: int, trials: int = TRIALS) -> dict[str, Any]:
    found = []
    for rep in range(reps):
        recorded = [_calibration.aa_trial(rep * 1000 + t) for t in range(trials)]
        pairs = [pair for trial in recorded for pair in trial.outcomes]
        checks = [pair for trial in recorded for pair in trial.verdicts]
        found.append((pairs, checks))
    return _calibration.outcome_row(found, TARGET)


if __name__ == "__main__":
    _calibration.main(__import__(__name__))
