"""I1: interventions under an edit that changes nothing.

Two evaluators that ignore the explanation they are given and answer 7, 8 or 9 with
probability 0.40 / 0.35 / 0.25, a fresh draw per request; the interventions of
``xgen.interventions()`` on a given two-step explanation at the defaults
(``samples="auto"``, confidence 0.95), with a rewording that changes nothing either.
Every true difference is 0, so a follow rate that the verdict's one-sided test at 0.025
(Fisher's exact test, as ``min_follow_rate=0`` would use) shows above 0 is a false claim
that the evaluators follow the explanation (one-sided, stated at most 0.025).
The detail gives the same for the paraphrase control, and both with the reference answer
chosen as it was before: the mode of the very answers compared.
"""

from __future__ import annotations

from typing import Any

from benchmarks import _common, _searches

ROW = "I1"
WHAT = "intervention follow rate shown above 0 under an edit that changes nothing"
TARGET = "<= 0.025"
DEFAULT_REPS = 4
TRIALS = 250


def run(reps: int) -> dict[str, Any]:
    rates = []
    totals = {"paraphrase": 0, "follow_old": 0, "paraphrase_old": 0, "tie": 0, "calls": 0}
    values = {"follow_value": 0.0, "follow_old_value": 0.0}
    for rep in range(reps):
        trials = [_searches.intervention_trial(100_000 * rep + t) for t in range(TRIALS)]
        rates.append(sum(t["follow"] for t in trials) / TRIALS)
        for key in totals:
            totals[key] += sum(t[key] for t in trials)
        for key in values:
            values[key] += sum(t[key] for t in trials)
    n = reps * TRIALS

    def share(key: str) -> str:
        return _searches.shown(totals[key] / n, n)

    return _searches.rate_row(
        rates,
        TRIALS,
        TARGET,
        "{rate} of {n} checks; paraphrase control "
        f"{share('paraphrase')}; mean follow rate {values['follow_value'] / n:+.3f} "
        f"(reference from the compared answers: {values['follow_old_value'] / n:+.3f}, "
        f"follow {share('follow_old')}, paraphrase {share('paraphrase_old')}); "
        f"reference tied in {totals['tie'] / n:.2f}; {totals['calls'] / n:.0f} calls per run",
    )


if __name__ == "__main__":
    _common.main(__import__(__name__))
