"""C1: how often the default gate exits non-zero on A/A comparisons of realistic runs.

Each trial draws a suite of 200 problems (:mod:`benchmarks._runs`) and records it twice
with the same models: fresh samples and a fresh explanation per test, at the defaults
(``samples="auto"``). The runs are compared on every disjoint block of 1, 5, 10, 30, 50 and
200 tests with ``compare()`` and ``gate()`` at their defaults and ``consistency:0.05``; a
comparison counts when the gate would exit non-zero (``GateResult.failed``: a failure, or
an inconclusive gate if the gate's default fails it). The ratio is the worst rate over the
sizes; target: at most 5% each. The detail also gives the same rate for *paired* A/A runs
(the second run replays the first run's explanations, as the upgrade recipe does when the
generator is unchanged), and how much more a test's consistency varies between runs than
the binomial variance of its samples.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from benchmarks import _calibration, _common, _runs

ROW = "C1"
WHAT = "A/A default gate exits non-zero, worst of 1/5/10/30/50/200 tests (consistency:0.05)"
TARGET = "<= 0.05"
DEFAULT_REPS = 3
TRIALS = 4  # suites of 200 tests per rep, each recorded three times
VARIANCE_TESTS = 40
VARIANCE_RUNS = 8


def rates(
    reps: int, trials: int, pairing: str, what: str = "exit"
) -> tuple[dict[int, list[int]], dict[int, int], dict[int, dict[str, int]]]:
    """Per size: the hits per rep, the comparisons per rep, and the gate results pooled.
    ``what``: ``"exit"`` (non-zero exit) or ``"regressed"`` (any test reported regressed)."""
    hits: dict[int, list[int]] = {n: [] for n in _calibration.AA_SIZES}
    count: dict[int, int] = {}
    results: dict[int, dict[str, int]] = {n: {} for n in _calibration.AA_SIZES}
    for rep in range(reps):
        found = [getattr(_calibration.aa_trial(rep * 1000 + t), pairing) for t in range(trials)]
        for n in _calibration.AA_SIZES:
            gated = [g for trial in found for g in trial[n]]
            count[n] = len(gated)
            if what == "exit":
                hits[n].append(sum(g.exit_nonzero for g in gated))
            else:
                hits[n].append(sum(g.regressed > 0 for g in gated))
            for g in gated:
                results[n][g.result] = results[n].get(g.result, 0) + 1
    return hits, count, results


def row(
    reps: int, trials: int, pairing: str, what: str, target: str, extra: str = ""
) -> dict[str, Any]:
    """The row: the worst pooled rate over the sizes, per-size details."""
    hits, count, results = rates(reps, trials, pairing, what)
    worst_per_rep = [
        max(hits[n][rep] / count[n] for n in _calibration.AA_SIZES) for rep in range(reps)
    ]
    parts = []
    for n in _calibration.AA_SIZES:
        total = count[n] * reps
        shown = ", ".join(f"{k} {v}" for k, v in sorted(results[n].items()))
        parts.append(f"{n}: {_calibration.rate_text(sum(hits[n]), total)} of {total} ({shown})")
    overall = max(sum(hits[n]) / (count[n] * reps) for n in _calibration.AA_SIZES)
    out = _common.result(worst_per_rep, target, "; ".join(parts) + extra, ratio=overall)
    out["_per_rep"] = worst_per_rep
    return out


def variance_detail() -> str:
    """How much more a test's consistency varies between A/A runs than the binomial
    variance of its samples: at a fixed ``samples=20`` with fresh explanations, replayed
    ones and none (the iid special case), and at the defaults with fresh explanations."""
    problems = _runs.draw_suite("variance", VARIANCE_TESTS)
    fixed = replace(_runs.options(), samples=20)
    fresh, _ = _runs.variance_ratio(problems, _runs.REALISTIC, VARIANCE_RUNS, opts=fixed)
    replayed, _ = _runs.variance_ratio(
        problems, _runs.REALISTIC, VARIANCE_RUNS, paired=True, opts=fixed
    )
    iid, _ = _runs.variance_ratio(problems, _runs.IID, VARIANCE_RUNS, opts=fixed)
    auto, samples = _runs.variance_ratio(problems, _runs.REALISTIC, VARIANCE_RUNS)
    return (
        f"A test's consistency varies between A/A runs {fresh:.2f}x the binomial variance of "
        f"its samples with fresh explanations, {replayed:.2f}x with replayed ones, {iid:.2f}x "
        f"without explanation variance (samples=20); {auto:.2f}x with fresh explanations at "
        f"the defaults ({samples:.1f} samples per check); {VARIANCE_TESTS} tests x "
        f"{VARIANCE_RUNS} runs"
    )


def run(reps: int, trials: int = TRIALS, variance: bool = True) -> dict[str, Any]:
    extra = ""
    paired, paired_count, _ = rates(reps, trials, "paired")
    shown = ", ".join(
        f"{n}: {_calibration.rate_text(sum(paired[n]), paired_count[n] * reps)}"
        for n in _calibration.AA_SIZES
    )
    found = [
        g.paired
        for t in range(trials)
        for rep in range(reps)
        for g in _calibration.aa_trial(rep * 1000 + t).paired[max(_calibration.AA_SIZES)]
    ]
    seen = (
        f" (the gate found {sum(found) / len(found):.0f} of {max(_calibration.AA_SIZES)} "
        "tests paired)"
        if found and None not in found
        else ""
    )
    extra += f". Paired A/A (replayed explanations{seen}), exit non-zero: {shown}"
    if variance:
        extra += ". " + variance_detail()
    out = row(reps, trials, "unpaired", "exit", TARGET, extra)
    del out["_per_rep"]
    return out


if __name__ == "__main__":
    _calibration.main(__import__(__name__))
