"""C5-iid: transfer-check verdicts that go pass <-> fail between two A/A recordings,
without explanation variance.

The iid special case of C5, kept as it was measured before the realistic runs: the
consistency interval and judgement alone, on agreements drawn independently per sample.

200 tests whose true consistency is spread over 0.6-1.0 around ``min_consistency=0.8``,
each recorded twice with fresh samples; a flip is pass in one recording and fail in the
other. The defaults (``samples="auto"``, 95% intervals) against the point estimates of 5
samples that were the default before. Target: at most 5% of tests.
"""

from __future__ import annotations

import random
from typing import Any

from benchmarks import _calibration, _common

ROW = "C5-iid"
WHAT = "iid check verdicts pass <-> fail between two A/A recordings"
TARGET = "<= 0.05"
DEFAULT_REPS = 4
TESTS = 200


def _flips(rng: random.Random, interval: bool) -> float:
    flips = 0
    for _ in range(TESTS):
        truth = rng.uniform(0.6, 1.0)
        first = _calibration.check_verdict(rng, truth, 0.8, interval)
        second = _calibration.check_verdict(rng, truth, 0.8, interval)
        flips += {first, second} == {"pass", "fail"}
    return flips / TESTS


def run(reps: int) -> dict[str, Any]:
    rates, legacy = [], []
    for rep in range(reps):
        rates.append(_flips(random.Random(f"C5-{rep}"), True))
        legacy.append(_flips(random.Random(f"C5-{rep}"), False))
    old = sum(legacy) / len(legacy)
    detail = f"{{rate}} of {{n}} tests flipped (point estimates of 5 samples: {old:.3f})"
    return _calibration.rate_row(rates, TESTS, TARGET, detail)


if __name__ == "__main__":
    _common.main(__import__(__name__))
