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

from collections import Counter
from typing import Any

from benchmarks import _calibration, _common

ROW = "C5"
WHAT = "test outcomes that differ between two A/A recordings, 200 tests (defaults)"
TARGET = "<= 0.05"
DEFAULT_REPS = 3
TRIALS = 4  # as C1, whose recordings these are


def run(reps: int, trials: int = TRIALS) -> dict[str, Any]:
    rates = []
    verdicts: Counter[tuple[str, ...]] = Counter()
    outcomes: Counter[str] = Counter()
    hits = total = 0
    for rep in range(reps):
        found = [_calibration.aa_trial(rep * 1000 + t) for t in range(trials)]
        pairs = [pair for trial in found for pair in trial.outcomes]
        checks = [pair for trial in found for pair in trial.verdicts]
        differ = 0
        for (first, second), verdict in zip(pairs, checks, strict=True):
            outcomes.update((first, second))
            if first != second:
                differ += 1
                verdicts[tuple(sorted(verdict))] += 1
        rates.append(differ / len(pairs))
        hits, total = hits + differ, total + len(pairs)
    flips = verdicts[("fail", "pass")]
    shown = ", ".join(f"{a} <-> {b} {n}" for (a, b), n in sorted(verdicts.items()))
    seen = ", ".join(f"{k} {v / (2 * total):.2f}" for k, v in sorted(outcomes.items()))
    detail = (
        f"{_calibration.rate_text(hits, total)} of {total} tests changed outcome; pass <-> "
        f"fail verdict flips {_calibration.rate_text(flips, total)}; changed verdicts: "
        f"{shown or 'none'}; outcomes: {seen}"
    )
    out = _common.result(rates, TARGET, detail)
    out["ratio"] = hits / total
    out["target_met"] = _common.meets(out["ratio"], TARGET)
    return out


if __name__ == "__main__":
    _calibration.main(__import__(__name__))
