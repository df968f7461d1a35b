"""C3m: invariance searches at a true drop of exactly ``max_drop``.

One evaluator right 80% of the time on the base prompt and 50% on every perturbed one,
``max_drop=0.3``: the drop is exactly what the test tolerates, so a failure is false. Each
search tries 10 perturbed prompts at the defaults (100 in the detail). Target: at most
alpha (0.05).
"""

from __future__ import annotations

from typing import Any

from benchmarks import _common, _searches

ROW = "C3m"
WHAT = "false fails of 10-example searches at a true drop of exactly max_drop=0.3"
TARGET = "<= 0.05"
DEFAULT_REPS = 4
TRIALS = 50


def run(reps: int) -> dict[str, Any]:
    exact = {"before": 0.8, "after": 0.5, "max_drop": 0.3}
    rates, calls, larger = [], [], []
    for rep in range(reps):
        rate, cost, _ = _searches.searches(TRIALS, 100_000 * rep, examples=10, **exact)
        rates.append(rate)
        calls.append(cost)
        seed = 100_000 * rep + 50_000
        larger.append(_searches.searches(TRIALS // 2, seed, examples=100, **exact)[0])
    hundred = _searches.shown(sum(larger) / len(larger), reps * (TRIALS // 2))
    return _searches.rate_row(
        rates,
        TRIALS,
        TARGET,
        "{rate} of {n} 10-example searches failed"
        f" ({sum(calls) / len(calls):.0f} calls per search); 100 examples: {hundred}",
    )


if __name__ == "__main__":
    _common.main(__import__(__name__))
