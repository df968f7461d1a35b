"""Fault injection through real inner pytest runs: every kind of endpoint failure is retried
into a recorded answer or ends as an ERROR that says what happened and what to try, and is
never recorded; a suite run against a flaky endpoint records what a clean run records."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import cassette, lines
from tests.server import KINDS, OpenAIServer

ONE_CALL = """
import time

def test_one(xgen):
    start = time.monotonic()
    r = xgen.model("echo")("What is 2+2?")
    print(f"call took {time.monotonic() - start:.3f}s")
    assert r.text == "echo[seed=0,t=0]: What is 2+2?"
"""

# Every kind gets a time-out: a retry that never comes back should fail this file quickly,
# not after the plugin's default of 120 s. The hang needs one well below the server's sleep.
TIMEOUT = {kind: "--xgen-timeout=5" for kind in KINDS} | {"hang": "--xgen-timeout=1"}

# What the error says once the retries are spent (each run allows one retry): the problem,
# then what to try.
EXHAUSTED = {
    "rate_limit": "is rate limiting (HTTP 429) after 1 retries; raise --xgen-max-retries*",
    "http_500": "answered HTTP 500 after 1 retries: *; check the model name and parameters, or the endpoint's status",
    "http_503": "answered HTTP 503 after 1 retries: *; check the model name and parameters, or the endpoint's status",
    "hang": "did not answer within 1s after 1 retries; raise --xgen-timeout or check that the server is up",
    "drop": "is unreachable after 1 retries (Server disconnected without sending a response.); check base_url and that the server is running*",
    "truncated": "sent a malformed response (*) after 1 retries; nothing was recorded. Check the endpoint and its logs",
    "no_choices": "sent a malformed response (no choices) after 1 retries; nothing was recorded. Check the endpoint and its logs",
    "html": "sent a malformed response (*) after 1 retries; nothing was recorded. Check the endpoint and its logs",
}


def write_project(root: Path, server: OpenAIServer, tests: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        f"""
[tool.xgen]
record_mode = "once"

[tool.xgen.models.echo]
base_url = "{server.base_url}"
model = "echo"
params = {{ temperature = 0, max_tokens = 16 }}
"""
    )
    (root / "test_calls.py").write_text(tests)


@pytest.fixture
def faults() -> Iterator[OpenAIServer]:
    with OpenAIServer(hang_seconds=3.0, max_requests=5000, max_lifetime=300.0) as server:
        yield server


@pytest.fixture
def project(pytester: pytest.Pytester, faults: OpenAIServer) -> pytest.Pytester:
    write_project(pytester.path, faults, ONE_CALL)
    return pytester


@pytest.mark.parametrize("kind", KINDS)
def test_one_fault_then_success_is_recorded_once(
    project: pytest.Pytester, faults: OpenAIServer, kind: str
) -> None:
    faults.fault_next(kind)
    project.runpytest(TIMEOUT[kind]).assert_outcomes(passed=1)
    assert faults.faults == {kind: 1}
    assert (len(faults.received), faults.calls) == (2, 1)
    [record] = lines(cassette(project.path))
    assert record["response"]["text"] == "echo[seed=0,t=0]: What is 2+2?"
    project.runpytest("--xgen-record-mode=none").assert_outcomes(passed=1)
    assert len(faults.received) == 2


@pytest.mark.parametrize("kind", KINDS)
def test_a_fault_on_every_attempt_is_an_error_and_never_recorded(
    project: pytest.Pytester, faults: OpenAIServer, kind: str
) -> None:
    faults.fault_next(kind, 2)
    result = project.runpytest(TIMEOUT[kind], "--xgen-max-retries=1")
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [f"*ModelCallError: model 'echo' at http://{faults.endpoint} {EXHAUSTED[kind]}"]
    )
    assert faults.faults == {kind: 2} and faults.calls == 0
    assert not cassette(project.path).exists()
    served = len(faults.received)
    replay = project.runpytest("--xgen-record-mode=none")
    replay.assert_outcomes(errors=1)
    replay.stdout.fnmatch_lines(
        ["*RecordingMissError: no recording for this call in replay-only mode*"]
    )
    assert len(faults.received) == served


@pytest.mark.parametrize(
    ("headers", "least"),
    [({"Retry-After": "1"}, 1.0), ({"retry-after-ms": "1500"}, 1.5)],
    ids=["seconds", "milliseconds"],
)
def test_rate_limit_waits_as_long_as_the_server_asks(
    project: pytest.Pytester, faults: OpenAIServer, headers: dict[str, str], least: float
) -> None:
    faults.fault_next("rate_limit", headers=headers)
    result = project.runpytest("-s", "--xgen-timeout=5")
    result.assert_outcomes(passed=1)
    assert faults.faults == {"rate_limit": 1} and faults.calls == 1
    took = float(re.search(r"call took ([0-9.]+)s", result.stdout.str()).group(1))
    waited = faults.arrivals[1] - faults.arrivals[0]
    print(f"429 with {headers}: the call took {took:.3f}s, the retry came {waited:.3f}s later")
    # Without the header the client's first backoff is at most 0.5 s, so a wait this long
    # is the server's doing; the upper bound catches a client adding its own backoff on top.
    assert least - 0.05 <= waited < least + 0.5
    assert took >= waited


def test_the_retry_budget_is_configurable(project: pytest.Pytester, faults: OpenAIServer) -> None:
    faults.fault_next("http_503")
    result = project.runpytest("--xgen-timeout=5", "--xgen-max-retries=0")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*ModelCallError: model 'echo' at http://{faults.endpoint} answered HTTP 503 after 0 retries*"
        ]
    )
    assert (len(faults.received), faults.calls) == (1, 0)
    faults.fault_next("http_503")
    project.runpytest("--xgen-timeout=5", "--xgen-max-retries=1").assert_outcomes(passed=1)
    assert faults.faults == {"http_503": 2} and faults.calls == 1


# Thirty tests, 24 distinct calls: some prompts are shared between tests, some tests make two
# calls, and three fail on their answer so the verdicts being compared are not all "passed".
SUITE = """
import pytest

def ask(xgen, prompt, **params):
    return xgen.model("echo")(prompt, **params).text

@pytest.mark.parametrize("i", range(18))
def test_single(xgen, i):
    prompt = f"question {i % 12}"
    assert ask(xgen, prompt) == f"echo[seed=0,t=0]: {prompt}"

@pytest.mark.parametrize("i", range(6))
def test_pair(xgen, i):
    first = ask(xgen, f"first {i}")
    again = ask(xgen, f"question {i}")
    assert first.endswith(f"first {i}") and again.endswith(f"question {i}")

@pytest.mark.parametrize("i", range(3))
def test_sampled(xgen, i):
    text = ask(xgen, "pick a number", sample=i + 1, temperature=0.7)
    assert text == f"echo[seed={i + 1},t=0.7]: pick a number"

@pytest.mark.parametrize("i", range(3))
def test_wrong_on_purpose(xgen, i):
    assert ask(xgen, f"trick {i}") == f"trick {i}"
"""


def outcomes(report: Path) -> dict[str, str]:
    return {t["nodeid"]: t["outcome"] for t in json.loads(report.read_text())["tests"]}


def answers(root: Path) -> dict[str, str]:
    return {r["key"]: r["response"]["text"] for r in lines(cassette(root))}


def test_a_flaky_endpoint_records_what_a_clean_one_records(
    pytester: pytest.Pytester, faults: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One server for both runs: the endpoint is part of every recording's key, so only the
    # same endpoint gives the two cassettes the same keys to compare.
    clean_root, faulty_root = pytester.path / "clean", pytester.path / "faulty"
    write_project(clean_root, faults, SUITE)
    monkeypatch.chdir(clean_root)
    first = pytester.runpytest("--xgen-timeout=5", "--xgen-report=clean.json")
    first.assert_outcomes(passed=27, failed=3)
    assert faults.injected == 0
    clean_calls = faults.calls

    # A fresh project: its own store and no cassettes, so every call is made again.
    write_project(faulty_root, faults, SUITE)
    monkeypatch.chdir(faulty_root)
    faults.inject(0.2, seed=7, kinds=[k for k in KINDS if k != "hang"])
    start = time.monotonic()
    second = pytester.runpytest(
        "--xgen-timeout=5", "--xgen-max-retries=6", "--xgen-report=faulty.json"
    )
    took = time.monotonic() - start
    print(f"fault-free run: {clean_calls} calls")
    print(
        f"20% run: {len(faults.received) - clean_calls} requests, {faults.calls - clean_calls} answered"
    )
    print(f"faults injected: {dict(faults.faults)} ({faults.injected} in all), in {took:.1f}s")
    second.assert_outcomes(passed=27, failed=3)

    assert outcomes(faulty_root / "faulty.json") == outcomes(clean_root / "clean.json")
    assert len(outcomes(clean_root / "clean.json")) == 30
    assert answers(faulty_root) == answers(clean_root)
    assert len(answers(clean_root)) == clean_calls == faults.calls - clean_calls == 24
    assert faults.injected > 0
    assert len(faults.faults) >= 4, faults.faults
    assert "hang" not in faults.faults
