"""Reasoning tokens and prompt-cache reads and writes in what a run reports: per test and in
the totals of the JSON report, the JUnit properties and the terminal's summary line, live
and replayed, only where not zero; through the real ``anthropic`` SDK against the fake
Messages API (:mod:`tests.anthropic_server`)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

# Loaded before any inner run: a run that imported the SDK first would leave later runs a
# second copy of it, whose exceptions the first one's would not match.
import anthropic  # noqa: F401
import pytest

from pytest_xgen.report.build import schema_problem
from tests.anthropic_server import CACHED, THINKING_TOKENS, AnthropicServer
from tests.server import OpenAIServer

PRICE = "price = { input = 1000, output = 10000, cache_read = 100, cache_write = 2000 }"
THINKING = 'params = { thinking = { type = "enabled", budget_tokens = 1024 } }'

CALLS = """
SYSTEM = [{"type": "text", "text": "a long shared prefix", "cache_control": {"type": "ephemeral"}}]


def test_cached(xgen):
    client = xgen.anthropic_client("claude")
    for question in ("first", "second"):
        client.messages.create(
            model="claude-test", max_tokens=64, system=SYSTEM,
            messages=[{"role": "user", "content": question}],
        )


def test_thinking(xgen):
    assert xgen.model("thinker")("think it over").usage.reasoning_tokens == 12
"""

# Every call: 10 input and 20 output tokens (the server's usage). test_cached's first call
# writes CACHED tokens to the cache and its second reads them; the thinking call's 12
# thinking tokens are among its 20 output tokens. Tokens count every token billed: the
# cache reads and writes with the input and output tokens.
WRITE = (10 * 1000 + CACHED * 2000 + 20 * 10000) / 1e6
READ = (10 * 1000 + CACHED * 100 + 20 * 10000) / 1e6
THOUGHT = (10 * 1000 + 20 * 10000) / 1e6
CACHED_TEST = {
    "calls": 2,
    "live": 2,
    "tokens": 2 * (10 + 20) + 2 * CACHED,
    "cost": round(WRITE + READ, 9),
    "cache_read_tokens": CACHED,
    "cache_write_tokens": CACHED,
}
THINKING_TEST = {
    "calls": 1,
    "live": 1,
    "tokens": 10 + 20,
    "cost": round(THOUGHT, 9),
    "reasoning_tokens": THINKING_TOKENS,
}


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicServer]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-usage-0123456789")
    with AnthropicServer() as server:
        yield server


def model(name: str, server: AnthropicServer, *lines: str) -> str:
    return "\n".join(
        [
            f"[tool.xgen.models.{name}]",
            'backend = "anthropic"',
            f'base_url = "{server.base_url}"',
            'model = "claude-test"',
            *lines,
        ]
    )


def by_test(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["nodeid"].split("::")[1]: t for t in report["tests"]}


def counts(entry: dict[str, Any], names: set[str]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k in names}


def junit(path: Any) -> dict[str, dict[str, str]]:
    """The properties of each test case of a JUnit XML file."""
    root = ET.parse(path).getroot()
    return {
        case.get("name", ""): {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        for case in root.iter("testcase")
    }


LIVE = {
    "calls",
    "live",
    "tokens",
    "cost",
    *(f"{k}_tokens" for k in ("reasoning", "cache_read", "cache_write")),
}


def test_reasoning_and_cache_tokens_are_summed_per_test_and_run_live_and_replayed(
    pytester: pytest.Pytester, claude: AnthropicServer
) -> None:
    pytester.makepyprojecttoml(
        model("claude", claude, PRICE) + "\n\n" + model("thinker", claude, THINKING, PRICE)
    )
    pytester.makepyfile(test_cost=CALLS)
    result = pytester.runpytest("-p", "no:randomly", "--xgen-report=run.json", "--junitxml=run.xml")
    result.assert_outcomes(passed=2)
    report = json.loads((pytester.path / "run.json").read_text())
    assert schema_problem(report) is None
    tests = by_test(report)
    assert counts(tests["test_cached"], LIVE) == CACHED_TEST
    assert counts(tests["test_thinking"], LIVE) == THINKING_TEST
    calls = report["run"]["calls"]
    total = round(WRITE + READ + THOUGHT, 9)
    assert calls["cost"] == total
    assert counts(calls, LIVE - {"calls"}) == {
        "live": 3,
        "tokens": 3 * (10 + 20) + 2 * CACHED,
        "cost": total,
        "reasoning_tokens": THINKING_TOKENS,
        "cache_read_tokens": CACHED,
        "cache_write_tokens": CACHED,
    }
    assert not any(
        k.startswith("replayed_") and k.endswith("_tokens") and k != "replayed_tokens"
        for k in calls
    )
    result.stdout.fnmatch_lines(
        [
            "xgen: 3 model calls: 0 replayed, 3 live (290 tokens, of which 12 reasoning, "
            "100 cache read, 100 cache write; cost 0.84)"
        ]
    )
    props = junit(pytester.path / "run.xml")
    assert props["test_cached"]["xgen_tokens"] == "260"
    assert props["test_cached"]["xgen_cache_read_tokens"] == "100"
    assert props["test_cached"]["xgen_cache_write_tokens"] == "100"
    assert "xgen_reasoning_tokens" not in props["test_cached"]
    assert props["test_thinking"]["xgen_reasoning_tokens"] == "12"
    assert "xgen_cache_read_tokens" not in props["test_thinking"]

    # Replayed: the same counts, as what the replayed calls took when recorded.
    claude.stop()
    replay = pytester.runpytest(
        "-p", "no:randomly", "--xgen-record-mode=none", "--xgen-report=replay.json"
    )
    replay.assert_outcomes(passed=2)
    again = json.loads((pytester.path / "replay.json").read_text())
    assert schema_problem(again) is None
    cached = by_test(again)["test_cached"]
    assert (cached["live"], cached["tokens"], cached["replayed_tokens"]) == (0, 0, 260)
    assert (cached["replayed_cache_read_tokens"], cached["replayed_cache_write_tokens"]) == (
        CACHED,
        CACHED,
    )
    assert "cache_read_tokens" not in cached and "replayed_reasoning_tokens" not in cached
    assert by_test(again)["test_thinking"]["replayed_reasoning_tokens"] == THINKING_TOKENS
    replayed = again["run"]["calls"]
    assert replayed["replayed_cost"] == total
    assert (replayed["replayed_reasoning_tokens"], replayed["replayed_cache_read_tokens"]) == (
        THINKING_TOKENS,
        CACHED,
    )
    replay.stdout.fnmatch_lines(
        [
            "xgen: 3 model calls: 3 replayed, 0 live (0 tokens, cost 0); the replayed calls "
            "took 290 tokens (of which 12 reasoning, 100 cache read, 100 cache write; "
            "cost 0.84) when recorded"
        ]
    )


def test_a_run_of_chat_completions_reports_no_such_counts(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    pytester.makepyprojecttoml(
        f'[tool.xgen.models.echo]\nbase_url = "{fake.base_url}"\nmodel = "echo"\n'
    )
    pytester.makepyfile(
        test_chat="""
        def test_one(xgen):
            xgen.model("echo")("reason about it")
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "--xgen-report=run.json")
    result.assert_outcomes(passed=1)
    report = json.loads((pytester.path / "run.json").read_text())
    [test] = report["tests"]
    assert set(test) == {
        "nodeid",
        "outcome",
        "calls",
        "live",
        "tokens",
        "cost",
        "replayed_tokens",
        "replayed_cost",
        "checks",
        "metrics",
    }
    parts = {"reasoning_tokens", "cache_read_tokens", "cache_write_tokens"}
    assert not parts & set(report["run"]["calls"])
    assert not {f"replayed_{name}" for name in parts} & set(report["run"]["calls"])
    result.stdout.fnmatch_lines(
        ["xgen: 1 model calls: 0 replayed, 1 live (12 tokens, cost 0); no price for echo *"]
    )
