"""C3: the false-fail rate of a 10-example invariance search on a model that ignores the
perturbation (padding and noise).

Two evaluators answer right 70% of the time whatever the prompt's padding; each search
tries 10 perturbed prompts at the defaults (5 samples per prompt, temperature 0.7,
confidence 0.95), half the trials with an expected answer (accuracy) and half without
(the base's most common answer). A false fail is a search in which any example fails.
Target: at most alpha (0.05). Before calibration every such search failed.
"""

from __future__ import annotations

from typing import Any

from benchmarks import _calibration, _common

ROW = "C3"
WHAT = "A/A false-fail rate of a 10-example padding/noise invariance search"
TARGET = "<= 0.05"
DEFAULT_REPS = 4
TRIALS = 50


def run(reps: int) -> dict[str, Any]:
    rates = []
    for rep in range(reps):
        fails = sum(
            _calibration.search_trial(1000 * rep + t, distract=0.0, expected=t % 2 == 0)
            for t in range(TRIALS)
        )
        rates.append(fails / TRIALS)
    return _calibration.rate_row(rates, TRIALS, TARGET, "{rate} of {n} searches failed")


if __name__ == "__main__":
    _common.main(__import__(__name__))
