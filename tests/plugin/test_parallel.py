"""Calls made at once in inner runs: the local server's calls take turns, concurrency
changes neither recordings nor verdicts, and shared calls are still made once. The thread
pool itself and the worker count are tested in tests/unit/test_parallel.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.recording import cassettes
from pytest_xgen.recording.store import canonical_json
from tests.helpers import fake_model, pinned, pool_threads
from tests.server import OpenAIServer

SLOW_MODELS = """
import json
import threading

from pytest_xgen.models.base import ChatResult, Usage

LOCK = threading.Lock()
BUSY = {}
PEAK = {}
OVERLAP = {}  # model -> set once two of its calls ran at once


class Slow:
    def __init__(self, name, one_at_a_time):
        self.name = name
        self.identity = {"endpoint": "slow", "model": name}
        self.params = {}
        self.one_at_a_time = one_at_a_time

    def chat(self, messages, **params):
        with LOCK:
            BUSY[self.name] = BUSY.get(self.name, 0) + 1
            PEAK[self.name] = max(PEAK.get(self.name, 0), BUSY[self.name])
            if BUSY[self.name] > 1:
                OVERLAP.setdefault(self.name, threading.Event()).set()
            seen = OVERLAP.setdefault(self.name, threading.Event())
        if self.one_at_a_time:
            # Time for a second call to come in, which it must not.
            seen.wait(timeout=0.03)
        elif self.name == "g":
            # Held until a second call runs beside it, or five seconds if none ever does.
            seen.wait(timeout=5)
        with LOCK:
            BUSY[self.name] -= 1
        return ChatResult(text="Some thoughts.\\nAnswer: 7", usage=Usage(1, 1, 2))

    def complete(self, prompt, **params):
        raise NotImplementedError


def pytest_xgen_make_model(name, spec, session):
    # Stands in for the embedded model as it says of itself: one request at a time.
    return Slow(name, one_at_a_time="local" in spec)


def pytest_sessionfinish(session):
    print("PEAK", json.dumps(PEAK))
"""


def test_calls_to_the_local_server_take_turns(pytester: pytest.Pytester) -> None:
    # "q" is configured as an embedded model (served here by a slow stand-in that, like the
    # embedded model, says one_at_a_time): its calls never overlap, while the remote "g"
    # and "gen" run at once.
    pytester.makepyprojecttoml(
        pinned("""
        [tool.xgen.models.q]
        local = "smollm2-135m"

        [tool.xgen.models.g]
        base_url = "http://remote.invalid/v1"
        model = "g"

        [tool.xgen.models.gen]
        base_url = "http://remote.invalid/v1"
        model = "gen"
    """)
    )
    pytester.makeconftest(SLOW_MODELS)
    pytester.makepyfile("""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["q", "g"], samples=4)
        def test_mixed(xgen):
            assert xgen.check("What is 3 + 4?").consistency == 1.0
    """)
    result = pytester.runpytest("-s", "--xgen-concurrency=8")
    result.assert_outcomes(passed=1)
    peak = json.loads(re.search(r"PEAK (.*)", result.stdout.str()).group(1))
    assert peak["q"] == 1
    assert peak["g"] > 1


# -- inner runs against the fake server ----------------------------------------------------

SUITE = """
import pytest

TOM = "Tom has 3 apples and buys 4 more. How many apples does he have?"


@pytest.mark.transfers(generator="gen", evaluators=["a", "b"], samples=3, min_consistency=0.5)
def test_check(xgen):
    xgen.check(TOM, expected=7)


@pytest.mark.transfers(generator="gen", evaluators=["a", "b"], samples=2, min_consistency=1.0,
                       confidence=0.9)
def test_check_strict(xgen):
    xgen.check("Ann reads 12 pages a day for 3 days. How many pages?", expected=36)


@pytest.mark.transfers(generator="gen", evaluators=["a", "b"], samples="auto",
                       min_consistency=0.5, min_lift=-1)
def test_check_auto(xgen):
    xgen.check("Bo has 5 pens and loses 2. How many pens are left?")


@pytest.mark.transfers(generator="gen", evaluators=["a", "b"], samples=2)
def test_invariant(xgen):
    xgen.invariant("What is 2 + 2?", "What is 2 + 2 ?")


@pytest.mark.transfers(generator="gen", evaluators=["a", "b"])
def test_review(xgen):
    xgen.review(TOM)


def test_plain(xgen):
    assert xgen.model("a")("hello").text.endswith("hello")
"""


def fake_project(pytester: pytest.Pytester, fake: OpenAIServer, suite: str) -> None:
    tables = "\n".join(
        f"[tool.xgen.models.{name}]\n{fake_model(fake, model=name)}\n" for name in ("gen", "a", "b")
    )
    pytester.makepyprojecttoml(pinned(tables))
    pytester.makepyfile(test_suite=suite)


def recorded(directory: Path) -> dict[str, Any]:
    """Each recording of a cassette directory by key: request and response (not the time
    it was recorded)."""
    found = {}
    for path in sorted(directory.glob("*.jsonl")):
        for key, entry in cassettes.read(path).items():
            found[key] = (entry["request"], entry["response"])
    return found


def progress(result: pytest.RunResult) -> dict[str, list[tuple[int, str]]]:
    """The numbers of the "live call N/M" lines, per test, in the order printed."""
    found: dict[str, list[tuple[int, str]]] = {}
    for line in result.stdout.lines:
        match = re.search(r"xgen: live call (\d+)/(<=)?(\d+) of (\S+) ", line)
        if match:
            found.setdefault(match.group(4), []).append((int(match.group(1)), match.group(3)))
    return found


def test_concurrency_changes_neither_recordings_nor_verdicts(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    fake.delay = 0.02
    fake_project(pytester, fake, SUITE)
    runs = {}
    for workers in (1, 8):
        fake.max_in_flight = 0
        result = pytester.runpytest(
            f"--xgen-concurrency={workers}",
            f"--xgen-cache-dir=cache{workers}",
            f"--xgen-cassette-dir=cassettes{workers}",
            f"--xgen-report=report{workers}.json",
        )
        tests = json.loads((pytester.path / f"report{workers}.json").read_text())["tests"]
        runs[workers] = {
            "outcomes": {k: v for k, v in result.parseoutcomes().items() if k != "warnings"},
            "tests": sorted(tests, key=lambda t: t["nodeid"]),
            "recorded": recorded(pytester.path / f"cassettes{workers}"),
            "peak": fake.max_in_flight,
            "progress": progress(result),
        }
    serial, parallel = runs[1], runs[8]
    assert pool_threads() == []  # the run joined its threads when it ended
    # test_check_strict is inconclusive: 2 samples cannot show a consistency of 1.
    assert serial["outcomes"] == parallel["outcomes"] == {"passed": 5, "failed": 1}
    assert serial["tests"] == parallel["tests"]  # verdicts, answers, order, call counts
    [auto] = [t for t in serial["tests"] if t["nodeid"].endswith("test_check_auto")]
    # A pass at min_consistency 0.5 needs 10 of 10 samples (the second look); the lift
    # (min_lift -1) passed at the first, so the second round asked for transfer samples only.
    assert auto["checks"][0]["samples_used"] == 10
    assert serial["recorded"] == parallel["recorded"]
    # Every call once per run; review's elicitation is check's, replayed.
    assert len(serial["recorded"]) == fake.calls // 2 == 13 + 9 + 31 + 8 + 2 + 1
    assert serial["peak"] == 1
    assert parallel["peak"] > 1  # the calls of a check did overlap
    # Progress counts every call once, in order, whatever thread finished it (replayed
    # calls count without a line of their own).
    for run in (serial, parallel):
        assert run["progress"] == {
            "test_suite.py::test_check": [(n, "13") for n in range(1, 14)],
            "test_suite.py::test_check_strict": [(n, "9") for n in range(1, 10)],
            "test_suite.py::test_check_auto": [(n, "121") for n in range(1, 32)],
            "test_suite.py::test_invariant": [(n, "8") for n in range(1, 9)],
            "test_suite.py::test_review": [(2, "3"), (3, "3")],
        }


SHARED = """
import pytest

TOM = "Tom has 3 apples and buys 4 more. How many apples does he have?"


@pytest.mark.parametrize("copy", range(4))
@pytest.mark.transfers(generator="gen", evaluators=["a", "b"], samples=3, min_consistency=0)
def test_same_check(xgen, copy):
    xgen.check(TOM)


@pytest.mark.parametrize("i", range(6))
def test_same_question(xgen, i):
    assert xgen.model("a")(f"question {i % 2}").text.endswith(f"question {i % 2}")
"""


def test_xdist_and_threads_make_each_distinct_request_once(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    fake.delay = 0.02
    fake_project(pytester, fake, SHARED)
    result = pytester.runpytest("-n", "2", "-p", "no:randomly", "--xgen-concurrency=8")
    result.assert_outcomes(passed=10)
    distinct = {canonical_json(body) for body in fake.requests}
    assert fake.calls == len(distinct) == 13 + 2
    assert len(recorded(pytester.path / "fixtures" / "cassettes")) == 15
    result.stdout.fnmatch_lines(["*xgen: 58 model calls: 43 replayed, 15 live*"])


def test_an_error_in_a_worker_thread_reads_as_before(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    fake_project(
        pytester,
        fake,
        'def test_miss(xgen):\n    xgen.check("New?", generator="gen", evaluators=["a", "b"])\n',
    )
    result = pytester.runpytest("--xgen-record-mode=none", "--xgen-concurrency=8")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            '>       xgen.check("New?", generator="gen", evaluators=["a", "b"])',
            "E       pytest_xgen.errors.RecordingMissError: no recording for this call in "
            "replay-only mode*",
        ]
    )
    assert "concurrent/futures" not in result.stdout.str()
    assert fake.calls == 0


KILLED = """
import os

def test_a(xgen):
    assert xgen.model("gen")("first question").text.endswith("first question")

def test_b(xgen):
    assert xgen.model("gen")("second question").text.endswith("second question")

def test_c_dies(xgen):
    xgen.model("gen")("third question")
    os._exit(1)
"""


def test_a_killed_worker_loses_no_finished_recording(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    fake_project(pytester, fake, KILLED)
    result = pytester.runpytest("-n", "1", "-p", "no:randomly", "--max-worker-restart=1")
    result.assert_outcomes(passed=2, failed=1)
    cassette = pytester.path / "fixtures" / "cassettes" / "test_suite.jsonl"
    prompts = [
        json.loads(line)["request"]["messages"][-1]["content"]
        for line in cassette.read_text().splitlines()
    ]
    assert sorted(prompts) == ["first question", "second question"]
    result.stdout.fnmatch_lines(["*xgen: gw0 ended without handing over its counts*"])
