"""C3: the false-fail rate of invariance searches on a model that ignores the perturbation.

Two evaluators answer right 70% of the time whatever the prompt's padding (7, else 5, 6, 8
or 9); each search tries 100 perturbed prompts (and, in the detail, 10) at the defaults
(``samples="auto"``, temperature 0.7, confidence 0.95), one confirmation budget per search
as the ``xgen`` fixture keeps it; half the searches with an expected answer (accuracy),
half by the base's most common answer. A false fail is a search in which any example
fails. Target: at most alpha (0.05) at 100 examples.
"""

from __future__ import annotations

from typing import Any

from benchmarks import _common, _searches

ROW = "C3"
WHAT = "A/A false-fail rate of a 100-example invariance search (10 in the detail)"
TARGET = "<= 0.05"
DEFAULT_REPS = 4
TRIALS = 50


def run(reps: int) -> dict[str, Any]:
    same = {"before": 0.7, "after": 0.7, "evaluators": ("a", "b"), "expected": "both"}
    rates, small, calls = [], [], []
    for rep in range(reps):
        rate, cost, _ = _searches.searches(TRIALS, 100_000 * rep, examples=100, **same)
        rates.append(rate)
        calls.append(cost)
        small.append(_searches.searches(TRIALS, 100_000 * rep + 50_000, examples=10, **same)[0])
    n = reps * TRIALS
    ten = sum(small) / len(small)
    return _searches.rate_row(
        rates,
        TRIALS,
        TARGET,
        "{rate} of {n} 100-example searches failed; "
        f"10-example: {_searches.shown(ten, n)}; {sum(calls) / len(calls):.0f} calls per "
        "100-example search (2 evaluators)",
    )


if __name__ == "__main__":
    _common.main(__import__(__name__))
