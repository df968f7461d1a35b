"""C5t: test outcomes that differ between two A/A recordings at thresholds set for the suite.

C5 runs at the marker's defaults (``min_consistency`` 0.8, ``min_lift`` 0), at which nearly
every realistic test fails, so it counts changes among a few passing tests. This row records
the same suites (:mod:`benchmarks._runs`, the suites of C1 and C5) with the thresholds a
team would set for such a suite so that its tests pass when nothing changed:

- ``min_consistency=0.3``: below the expected transfer consistency of every drawn problem
  (0.45-0.98 over the 12 suites of the default reps, mean 0.66), so a test fails only when
  its agreement falls well below what the suite shows. A per-test threshold just below
  each test's expected consistency would put every test next to its threshold, where
  ``samples="auto"`` (at most 30 samples) rarely decides, which is not what a team tuning
  its suite aims for.
- ``min_lift=-1``: the lift is not judged. On easy problems the evaluators agree on their
  own (baseline consistency up to 1.0) more than after reading a sometimes-wrong
  explanation, so a lift threshold of 0 would fail them whatever the explanation does.

Everything else is the default (``samples="auto"``, ``on_inconclusive="fail"``: an
inconclusive check fails its test). Each trial records each suite of 200 problems twice,
with fresh samples and a fresh explanation per test. The ratio is the share of tests whose
outcome (passed, failed, error) differs between the two recordings; target: at most 5%,
as C5. The detail gives the share of tests passing, the pass <-> fail verdict flips apart
from changes that involve an inconclusive verdict, and the outcomes.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from benchmarks import _calibration, _runs

ROW = "C5t"
WHAT = (
    "test outcomes that differ between two A/A recordings, 200 tests "
    "(min_consistency 0.3, min_lift -1)"
)
TARGET = "<= 0.05"
DEFAULT_REPS = 3
TRIALS = 4
MIN_CONSISTENCY = 0.3
MIN_LIFT = -1.0


def tuned_options() -> Any:
    """The marker's defaults with the suite's thresholds."""
    return replace(_runs.options(), min_consistency=MIN_CONSISTENCY, min_lift=MIN_LIFT)


@functools.cache
def tuned_trial(trial: int) -> tuple[_runs.Run, _runs.Run]:
    """The suite of A/A trial ``trial`` recorded twice at :func:`tuned_options`, fresh
    samples and a fresh explanation each time."""
    problems = _runs.draw_suite(f"aa|{trial}")
    opts = tuned_options()
    first = _runs.record(problems, _runs.REALISTIC, f"tuned|{trial}|1", opts=opts)
    second = _runs.record(problems, _runs.REALISTIC, f"tuned|{trial}|2", opts=opts)
    return first, second


def run(reps: int, trials: int = TRIALS) -> dict[str, Any]:
    found = []
    for rep in range(reps):
        pairs: list[tuple[str, str]] = []
        checks: list[tuple[str, str]] = []
        for t in range(trials):
            first, second = tuned_trial(rep * 1000 + t)
            pairs += zip(first.outcomes, second.outcomes, strict=True)
            checks += zip(first.verdicts, second.verdicts, strict=True)
        found.append((pairs, checks))
    return _calibration.outcome_row(found, TARGET)


if __name__ == "__main__":
    _calibration.main(__import__(__name__))
