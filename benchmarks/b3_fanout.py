"""B3: one live transfer check with its calls fanned out, against a stub with 100 ms latency.

The check has 1 generator and 4 evaluators, 5 samples, baseline and transfer: 41 calls,
every one live (record mode ``all``, a fresh cache directory). The stub is
``tests/server.py`` answering each request after 100 ms, in this process; the check
runs in an inner pytest session in a child process with the default
``--xgen-concurrency`` (32). Inside that session a first, untimed check on another
problem warms up what a run pays once (importing ``openai``, building the clients); then
each rep times one live call, ``xgen.model("gen")(...)``, and one full check on a problem
of its own (``time.perf_counter`` around ``xgen.check``). The ratio is the check's wall
time / that one call's wall time: 41 calls made one after another would give about 41,
the dependency chain (explanation, then the transfer samples) allows about 2.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import _common, _inner

ROW = "B3"
WHAT = "one live transfer check (1 generator, 4 evaluators, 5 samples): wall / one call"
TARGET = "<= 3.0"
DEFAULT_REPS = 5
LATENCY = 0.1  # seconds the stub takes per request
EVALUATORS = ["e1", "e2", "e3", "e4"]

_TEST = """
import json
import time

import pytest

EVALUATORS = {evaluators!r}
TIMINGS = "timings.jsonl"


def check(xgen, problem):
    return xgen.check(problem, generator="gen", evaluators=EVALUATORS, samples=5)


def test_warm_up(xgen):
    check(xgen, "Warm-up: Ann has 2 pens and buys 3 more. How many pens?")


@pytest.mark.parametrize("rep", range({reps}))
def test_check(xgen, rep):
    start = time.perf_counter()
    xgen.model("gen")(f"One call, rep {{rep}}: what is {{rep}} + 2?")
    one = time.perf_counter() - start
    start = time.perf_counter()
    result = check(xgen, f"Rep {{rep}}: Tom has 3 apples and buys {{rep + 4}} more. How many?")
    wall = time.perf_counter() - start
    calls = xgen.session.recorder.stats.per_test[xgen.test]["live"]
    with open(TIMINGS, "a") as f:
        f.write(json.dumps({{"rep": rep, "one": one, "check": wall, "live": calls,
                            "samples": result.samples_used}}) + "\\n")
"""


def run(reps: int) -> dict[str, Any]:
    from tests.server import OpenAIServer

    server = OpenAIServer(delay=LATENCY).start()
    try:
        with tempfile.TemporaryDirectory(prefix="xgen-b3-") as tmp:
            root = Path(tmp)
            pyproject = (
                '[tool.xgen]\nrecord_mode = "all"\ncache_dir = "cache"\ncassettes = false\n\n'
                + _inner.models_toml(server.base_url, ["gen", *EVALUATORS])
            )
            _inner.write(
                root,
                {
                    "pyproject.toml": pyproject,
                    "test_b3.py": _TEST.format(evaluators=EVALUATORS, reps=reps),
                },
            )
            done = _inner.pytest_run(root)
            if done.returncode != 0:
                raise RuntimeError(f"the inner run failed:\n{done.stdout}\n{done.stderr}")
            rows = [json.loads(line) for line in (root / "timings.jsonl").open()]
    finally:
        server.stop()
    if any(row["live"] != 42 for row in rows):  # 41 calls of the check + the one call
        raise RuntimeError(f"expected 42 live calls per rep; got {rows}")
    ratios = [row["check"] / row["one"] for row in rows]
    nominal = [row["check"] / LATENCY for row in rows]
    detail = (
        f"41 live calls per check (1 + 4 x 5 x 2), concurrency 32; check "
        f"{_common.ms(_common.median(r['check'] for r in rows))} median, one call "
        f"{_common.ms(_common.median(r['one'] for r in rows))} (stub latency "
        f"{_common.ms(LATENCY)}); wall / stub latency {_common.median(nominal):.2f} "
        f"({min(nominal):.2f}-{max(nominal):.2f}); at most {server.max_in_flight} requests "
        f"in flight at the stub; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
        "CPUs (the client's work is CPU-bound: other load slows it)"
    )
    return _common.result(ratios, TARGET, detail)


if __name__ == "__main__":
    sys.exit(_common.main(sys.modules[__name__]))
