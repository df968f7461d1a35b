"""C2: the gate's power at a mean consistency drop of 0.15, 50 tests, realistic runs.

Each trial draws a suite of 200 problems (:mod:`benchmarks._runs`) and records it at the
defaults (``samples="auto"``); a second recording has one evaluator regressed (it follows
explanations and answers right less often) by a strength chosen so that the model's
expected transfer consistency falls by 0.15 on average (computed from the model, not from
samples). The second run replays the first run's explanations, as the upgrade recipe
does when the generator is unchanged (paired). Every disjoint block of 50 tests is one
comparison, gated with ``consistency:0.05`` at the gate's defaults; detected means the gate
exits non-zero. Target: at least 80%. The detail gives the true mean drops and the same
regression recorded with fresh explanations (a re-record, unpaired).
"""

from __future__ import annotations

from typing import Any

from benchmarks import _calibration, _common

ROW = "C2"
WHAT = "gate power, 50 tests, mean consistency drop 0.15 (one evaluator regressed, paired)"
TARGET = ">= 0.8"
DEFAULT_REPS = 2
TRIALS = 4  # suites of 200 tests (4 comparisons of 50) per rep
DROP = 0.15
SIZE = 50


def detected(kind: str, trials: list[int]) -> tuple[int, int, int]:
    """Comparisons of ``SIZE`` tests that exit non-zero, those in which the gate showed a
    regression (result ``fail``, not an inconclusive gate that fails), and all of them."""
    gated = [g for t in trials for g in _calibration.power_trial(t, kind, DROP)[SIZE]]
    shown = sum(g.result == "fail" for g in gated)
    return sum(g.exit_nonzero for g in gated), shown, len(gated)


def run(reps: int, trials: int = TRIALS) -> dict[str, Any]:
    rates, hits, failed, total = [], 0, 0, 0
    every = []
    for rep in range(reps):
        chosen = [rep * 1000 + t for t in range(trials)]
        every += chosen
        found, shown, count = detected("evaluator", chosen)
        rates.append(found / count)
        hits, failed, total = hits + found, failed + shown, total + count
    fresh, fresh_shown, fresh_total = detected("evaluator-fresh", every)
    truth = _calibration.true_drop("evaluator", DROP, every)
    detail = (
        f"exit non-zero in {_calibration.rate_text(hits, total)} of {total} comparisons, a "
        f"regression shown (gate result fail) in {_calibration.rate_text(failed, total)}; true "
        f"mean drop: consistency {truth.consistency:.3f}, accuracy {truth.accuracy:.3f}; the "
        f"same regression with fresh explanations (unpaired): exit non-zero "
        f"{_calibration.rate_text(fresh, fresh_total)}, shown "
        f"{_calibration.rate_text(fresh_shown, fresh_total)}"
    )
    return _common.result(rates, TARGET, detail, ratio=hits / total)


if __name__ == "__main__":
    _calibration.main(__import__(__name__))
