"""C4: the power of a 10-example distractor search on a model that adds a distractor's
number with probability 0.9 (and is otherwise right 95% of the time).

Each example holds 0, 1 or 2 distractor sentences (as ``distractors()`` draws them); a
flip counts only when it is significant at 0.05/10 and reproduces on fresh samples.
Target: found in at least 90% of searches.
"""

from __future__ import annotations

from typing import Any

from benchmarks import _calibration, _common

ROW = "C4"
WHAT = "distractor search power, model adds the distractor w.p. 0.9"
TARGET = ">= 0.9"
DEFAULT_REPS = 4
TRIALS = 50


def run(reps: int) -> dict[str, Any]:
    rates = []
    for rep in range(reps):
        found = sum(
            _calibration.search_trial(1000 * rep + t, distract=0.9, expected=True)
            for t in range(TRIALS)
        )
        rates.append(found / TRIALS)
    return _calibration.rate_row(rates, TRIALS, TARGET, "found in {rate} of {n} searches")


if __name__ == "__main__":
    _common.main(__import__(__name__))
