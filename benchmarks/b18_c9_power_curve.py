"""C9: the gate's power curve on realistic runs, and a worse generator.

Drops of 0.05, 0.1, 0.15, 0.2 and 0.3 at 10, 50 and 200 tests (disjoint blocks of suites of
200; realistic runs at the defaults, :mod:`benchmarks._runs`), for two kinds of change:

- an evaluator regression (it follows explanations and answers right less often), sized so
  that the expected transfer consistency falls by the drop, the candidate replaying the
  baseline's explanations (paired, as the upgrade recipe does), gated with
  ``consistency:0.05``;
- a worse generator: its explanations are right ``drop`` less often (fresh explanations,
  unpaired), gated with ``consistency:0.05,accuracy:0.05`` plus ``explanation:0.05`` when the
  gate has that metric (read at run time).

Detected means the gate exits non-zero; the detail also gives the share in which the gate
showed the regression (result ``fail``) rather than failing an inconclusive comparison. The
ratio is the power against the worse generator
at a drop of 0.15 and 50 tests; target: at least 80%. The detail gives the whole curve and,
per drop, the model's true mean drops of consistency, accuracy and explanation rightness.
"""

from __future__ import annotations

from typing import Any

from benchmarks import _calibration, _common, _runs

ROW = "C9"
WHAT = "gate power vs a worse generator (explanations right 0.15 less often), 50 tests"
TARGET = ">= 0.8"
DEFAULT_REPS = 2
TRIALS = 2  # suites of 200 tests per rep, each recorded 11 times
KINDS = ("evaluator", "generator")
DROP, SIZE = 0.15, 50  # the ratio's point of the curve


def run(reps: int, trials: int = TRIALS) -> dict[str, Any]:
    every = [rep * 1000 + t for rep in range(reps) for t in range(trials)]
    curve: dict[tuple[str, float, int], tuple[int, int, int]] = {}
    per_rep = []
    for kind in KINDS:
        for drop in _calibration.DROPS:
            for size in _calibration.POWER_SIZES:
                gated = [g for t in every for g in _calibration.power_trial(t, kind, drop)[size]]
                curve[kind, drop, size] = (
                    sum(g.exit_nonzero for g in gated),
                    sum(g.result == "fail" for g in gated),
                    len(gated),
                )
    for rep in range(reps):
        chosen = every[rep * trials : (rep + 1) * trials]
        gated = [g for t in chosen for g in _calibration.power_trial(t, "generator", DROP)[SIZE]]
        per_rep.append(sum(g.exit_nonzero for g in gated) / len(gated))
    parts = []
    for kind in KINDS:
        metrics = _calibration.GENERATOR_GATE if kind == "generator" else _calibration.AA_GATE
        gate = ",".join(f"{m}:{d:g}" for m, d in _runs.thresholds(*metrics).items())
        rows = []
        for drop in _calibration.DROPS:
            truth = _calibration.true_drop(kind, drop, every)
            cells = " / ".join(
                f"{hits / n:.2f} (shown {shown / n:.2f}, n {n})"
                for size in _calibration.POWER_SIZES
                for hits, shown, n in [curve[kind, drop, size]]
            )
            rows.append(
                f"{drop:g}: {cells} (true drop: consistency {truth.consistency:+.3f}, accuracy "
                f"{truth.accuracy:+.3f}, explanation {truth.explanation:+.3f})"
            )
        sizes = "/".join(str(n) for n in _calibration.POWER_SIZES)
        parts.append(
            f"{kind} [{gate}], exit non-zero (a regression shown, gate result fail) at {sizes} "
            "tests: " + "; ".join(rows)
        )
    hits, _, total = curve["generator", DROP, SIZE]
    return _common.result(per_rep, TARGET, ". ".join(parts), ratio=hits / total)


if __name__ == "__main__":
    _calibration.main(__import__(__name__))
