"""C1-iid: the gate's false-alarm rate on A/A comparisons without explanation variance.

The iid special case of C1, kept as it was measured before the realistic runs: no
explanation at all, only each evaluator's sampling varies between runs, so the per-test
tests' assumptions hold. The detail also gives the rate at which the gate at its defaults
would exit non-zero (an inconclusive gate included when the gate fails it).

Two runs of a suite of 1, 10, 50 and 200 tests, both drawn from the same models (two
evaluators, 10 samples per test and condition, problem accuracies 0.6-1.0), compared with
``consistency:0.05,accuracy:0.02`` (Holm, alpha 0.05). A false alarm is a gate that
*fails*; an inconclusive (underpowered) gate is counted apart. The ratio is the worst rate
over the four suite sizes; target: at most alpha.
"""

from __future__ import annotations

import random
from typing import Any

from benchmarks import _calibration, _common

ROW = "C1-iid"
WHAT = "iid A/A gate false-alarm rate, worst of 1/10/50/200 tests (no explanation variance)"
TARGET = "<= 0.05"
DEFAULT_REPS = 4
SIZES = (1, 10, 50, 200)
TRIALS = 100  # per size and rep


def run(reps: int) -> dict[str, Any]:
    rates: dict[int, list[int]] = {n: [] for n in SIZES}
    legacy: dict[int, list[int]] = {n: [] for n in SIZES}
    undecided: dict[int, list[int]] = {n: [] for n in SIZES}
    nonzero: dict[int, list[int]] = {n: [] for n in SIZES}
    worst = []
    for rep in range(reps):
        per_rep = []
        for n in SIZES:
            rng = random.Random(f"C1-{rep}-{n}")
            outcomes = [_calibration.iid_gate_trial(rng, n) for _ in range(TRIALS)]
            fails = sum(result == "fail" for result, _, _ in outcomes)
            rates[n].append(fails)
            legacy[n].append(sum(old == "fail" for _, _, old in outcomes))
            undecided[n].append(sum(result == "inconclusive" for result, _, _ in outcomes))
            nonzero[n].append(sum(failed for _, failed, _ in outcomes))
            per_rep.append(fails / TRIALS)
        worst.append(max(per_rep))
    total = reps * TRIALS
    parts = []
    for n in SIZES:
        rate = sum(rates[n]) / total
        parts.append(
            f"{n} tests: {rate:.3f} ± {_calibration.mc_error(rate, total):.3f} "
            f"(uncorrected per-test {sum(legacy[n]) / total:.2f}, "
            f"inconclusive {sum(undecided[n]) / total:.2f}, "
            f"exit non-zero {sum(nonzero[n]) / total:.2f})"
        )
    overall = max(sum(rates[n]) / total for n in SIZES)
    return _common.result(
        worst, TARGET, f"{total} comparisons per size; " + "; ".join(parts), ratio=overall
    )


if __name__ == "__main__":
    _common.main(__import__(__name__))
