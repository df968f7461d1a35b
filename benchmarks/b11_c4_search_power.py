"""C4: the power of an invariance search when the perturbation lowers accuracy from 0.8 to
0.5 on every example.

One evaluator, right 80% of the time on the base prompt and 50% on every perturbed one (a
wrong answer is 7 +- 1..2); each search tries 10 perturbed prompts (50 and 100 in the
detail) at the defaults, one confirmation budget per search, and stops at the first
failure as Hypothesis does before shrinking. Target: found in at least 80% of 10-example
searches.
"""

from __future__ import annotations

from typing import Any

from benchmarks import _common, _searches

ROW = "C4"
WHAT = "invariance search power, accuracy 0.8 -> 0.5 on every example, 10 examples"
TARGET = ">= 0.8"
DEFAULT_REPS = 4
TRIALS = 50


def run(reps: int) -> dict[str, Any]:
    drop = {"before": 0.8, "after": 0.5}
    rates, calls = [], []
    larger: dict[int, list[float]] = {50: [], 100: []}
    for rep in range(reps):
        rate, cost, _ = _searches.searches(TRIALS, 100_000 * rep, examples=10, **drop)
        rates.append(rate)
        calls.append(cost)
        for examples, found in larger.items():
            seed = 100_000 * rep + 1000 * examples
            found.append(_searches.searches(TRIALS // 2, seed, examples=examples, **drop)[0])
    bigger = "; ".join(
        f"{examples} examples: {_searches.shown(sum(v) / len(v), reps * (TRIALS // 2))}"
        for examples, v in larger.items()
    )
    return _searches.rate_row(
        rates,
        TRIALS,
        TARGET,
        "found in {rate} of {n} 10-example searches"
        f" ({sum(calls) / len(calls):.0f} calls per search); {bigger}",
    )


if __name__ == "__main__":
    _common.main(__import__(__name__))
