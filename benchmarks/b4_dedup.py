"""B4: requests the stub server received / distinct requests, for a suite that shares calls,
run with two pytest-xdist workers and concurrent calls inside each.

Two test classes walk the same transfer checks and the same plain questions; with
``--dist loadscope`` each class runs on its own worker, so both workers reach every shared
call at about the same moment, while each check's own calls run on 32 threads. The stub
is ``tests/server.py`` with 50 ms latency, in this process; each rep is a fresh
project (empty store, no cassettes) recorded in mode ``once``. Every request the stub
receives is kept, so "distinct" is counted on the wire: the number of different request
bodies. The target is that no request is made twice: exactly 1.00.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import _common, _inner

ROW = "B4"
WHAT = "calls made / distinct requests, shared prompts, -n 2 and 32 threads per worker"
TARGET = "<= 1.0"
DEFAULT_REPS = 3
LATENCY = 0.05

_TESTS = """
import pytest

PROBLEMS = [
    "Tom has 3 apples and buys 4 more. How many apples does he have?",
    "A train travels 60 km in 1.5 hours. What is its speed in km/h?",
    "Sara has 12 candies and gives away one third. How many are left?",
]


class Shared:
    @pytest.mark.parametrize("problem", PROBLEMS)
    def test_check(self, xgen, problem):
        xgen.check(problem, generator="gen", evaluators=["e1", "e2", "e3"], samples=3,
                   min_consistency=0, min_lift=-1)

    @pytest.mark.parametrize("problem", PROBLEMS[:2])
    def test_check_again(self, xgen, problem):
        # The same check once more: its 19 calls are all shared.
        xgen.check(problem, generator="gen", evaluators=["e1", "e2", "e3"], samples=3,
                   min_consistency=0, min_lift=-1)

    @pytest.mark.parametrize("i", range(12))
    def test_ask(self, xgen, i):
        assert xgen.model("e1")(f"shared question {i % 4}").text


class TestFirst(Shared):
    pass


class TestSecond(Shared):
    pass
"""


def run(reps: int) -> dict[str, Any]:
    from pytest_xgen.recording.store import canonical_json
    from tests.server import OpenAIServer

    ratios, rows = [], []
    server = OpenAIServer(delay=LATENCY).start()
    try:
        for rep in range(reps):
            with tempfile.TemporaryDirectory(prefix="xgen-b4-") as tmp:
                root = Path(tmp)
                pyproject = '[tool.xgen]\nrecord_mode = "once"\n\n' + _inner.models_toml(
                    server.base_url, ["gen", "e1", "e2", "e3"]
                )
                # The prompts differ per rep, so no rep is served by an earlier one.
                tests = _TESTS.replace("shared question", f"rep {rep} shared question")
                tests = tests.replace('"Tom has', f'"Rep {rep}: Tom has')
                _inner.write(root, {"pyproject.toml": pyproject, "test_b4.py": tests})
                with server.lock:
                    server.requests.clear()
                    server.max_in_flight = 0
                done = _inner.pytest_run(root, "-n", "2", "--dist", "loadscope")
                if done.returncode != 0:
                    raise RuntimeError(f"the inner run failed:\n{done.stdout}\n{done.stderr}")
                calls, replayed, live = _inner.summary(done.stdout)
                with server.lock:
                    bodies = [canonical_json(body) for body in server.requests]
                    peak = server.max_in_flight
            made, distinct = len(bodies), len(set(bodies))
            ratios.append(made / distinct)
            rows.append((calls, replayed, live, made, distinct, peak))
    finally:
        server.stop()
    calls, replayed, live, made, distinct, peak = rows[0]
    detail = (
        f"per rep: the tests ask for {calls} model calls ({replayed} replayed, {live} live); "
        f"the stub received {'/'.join(str(r[3]) for r in rows)} requests for "
        f"{'/'.join(str(r[4]) for r in rows)} distinct ones; stub latency "
        f"{_common.ms(LATENCY)}, 2 workers (--dist loadscope), concurrency 32, up to "
        f"{'/'.join(str(r[5]) for r in rows)} requests in flight at once"
    )
    return _common.result(ratios, TARGET, detail)


if __name__ == "__main__":
    sys.exit(_common.main(sys.modules[__name__]))
