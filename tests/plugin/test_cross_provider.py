"""Transfer across providers: a generator that reasons over one API (Anthropic thinking, a
Responses API reasoning summary), evaluators that speak others (the Responses API, an
OpenAI-compatible chat endpoint), through the real SDKs against the fake servers
(:mod:`tests.anthropic_server`, :mod:`tests.server`); the reports say which API each model
speaks and where the explanation came from; then replayed from a fresh clone with both
endpoints gone and no keys."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

# Loaded before any inner run: a run that imported the SDK first would leave later runs a
# second copy of it, whose exceptions the first one's would not match.
import anthropic  # noqa: F401
import pytest

from pytest_xgen.report.build import schema_problem
from tests.anthropic_server import AnthropicServer
from tests.server import OpenAIServer

ANTHROPIC_KEY = "sk-ant-api03-cross-provider-0123456789"
OPENAI_KEY = "sk-cross-provider-responses-0123456789"
APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"
STEPS = "1. Start with 3.\n2. Add 4: 3 + 4 = 7."
# Evaluators the explanation moves (right every time given it, half the time without), and
# evaluators it does not (right a third of the time given it, answers off by up to 5).
TRANSFER = "baseline=0.5;transfer=1"
NO_TRANSFER = "baseline=0.5;transfer=0.3;wrong=5"


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicServer]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    with AnthropicServer("noisy") as server:
        yield server


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    monkeypatch.setenv("GPT_KEY", OPENAI_KEY)
    with OpenAIServer("noisy") as server:
        yield server


def claude_table(server: AnthropicServer) -> str:
    return (
        '[tool.xgen.models.claude]\nbackend = "anthropic"\n'
        f'base_url = "{server.base_url}"\nmodel = "right=1"\n'
        'params = { thinking = { type = "enabled", budget_tokens = 2048 } }\n'
    )


def evaluator_tables(server: OpenAIServer, suffix: str, script: str) -> str:
    """A Responses API evaluator ``gpt<suffix>`` and a chat completions one
    ``chat<suffix>``, both noisy models of ``script``."""
    return (
        f'[tool.xgen.models.gpt{suffix}]\nbackend = "openai-responses"\n'
        f'base_url = "{server.base_url}"\nmodel = "id=gpt;{script}"\napi_key_env = "GPT_KEY"\n\n'
        f'[tool.xgen.models.chat{suffix}]\nbase_url = "{server.base_url}"\n'
        f'model = "id=chat;{script}"\n'
    )


def thinker_table(server: OpenAIServer) -> str:
    return (
        '[tool.xgen.models.thinker]\nbackend = "openai-responses"\n'
        f'base_url = "{server.base_url}"\nmodel = "right=1"\napi_key_env = "GPT_KEY"\n'
        'params = { reasoning = { effort = "low", summary = "auto" } }\n'
    )


CHECKS = f"""
import pytest

@pytest.mark.transfers(generator="GEN", evaluators=["gpt", "chat"])
def test_transfers(xgen):
    xgen.check({APPLES!r}, expected=7)

@pytest.mark.transfers(generator="GEN", evaluators=["gpt_bad", "chat_bad"])
def test_does_not_transfer(xgen):
    xgen.check({APPLES!r}, expected=7)
"""


def project(pytester: pytest.Pytester, generator: str, *tables: str) -> None:
    pytester.makepyprojecttoml('[tool.xgen]\nrecord_mode = "once"\n\n' + "\n".join(tables))
    pytester.makepyfile(test_cross=CHECKS.replace("GEN", generator))


def checks_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["nodeid"].split("::")[1]: t["checks"][0] for t in report["tests"]}


def written(root: Any) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file() and p.suffix != ".py")


def run_and_replay(
    pytester: pytest.Pytester,
    servers: list[AnthropicServer | OpenAIServer],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[dict[str, Any], dict[str, Any], pytest.RunResult]:
    """Record (the reports in record.json and record.html), then replay from a fresh clone:
    no store, both servers stopped, no keys, replay only."""
    result = pytester.runpytest(
        "-p", "no:randomly", "--xgen-report=record.json", "--xgen-html=record.html"
    )
    result.assert_outcomes(passed=1, failed=1)
    recorded = json.loads((pytester.path / "record.json").read_text())
    assert schema_problem(recorded) is None
    made = [server.calls for server in servers]
    shutil.rmtree(pytester.path / ".xgen")
    for server in servers:
        server.stop()
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.delenv("GPT_KEY")
    replay = pytester.runpytest(
        "-p", "no:randomly", "--xgen-record-mode=none", "--xgen-report=replay.json"
    )
    replay.assert_outcomes(passed=1, failed=1)
    replayed = json.loads((pytester.path / "replay.json").read_text())
    assert [server.calls for server in servers] == made
    assert replayed["run"]["calls"]["live"] == 0
    # The generator's call is the same in both tests: recorded by the first, replayed by
    # the second.
    calls = recorded["run"]["calls"]
    assert calls["live"] > 0
    assert replayed["run"]["calls"]["replayed"] == calls["live"] + calls["replayed"]
    replay.stdout.fnmatch_lines(["*model calls: * replayed, 0 live*"])
    for name, check in checks_of(recorded).items():
        again = checks_of(replayed)[name]
        assert (again["verdict"], again["explanation"]) == (check["verdict"], check["explanation"])
        assert again["conditions"] == check["conditions"]
    return recorded, replayed, result


def test_anthropic_thinking_transfers_to_responses_and_chat_evaluators_and_replays(
    pytester: pytest.Pytester,
    claude: AnthropicServer,
    openai_server: OpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project(
        pytester,
        "claude",
        claude_table(claude),
        evaluator_tables(openai_server, "", TRANSFER),
        evaluator_tables(openai_server, "_bad", NO_TRANSFER),
    )
    recorded, _, result = run_and_replay(pytester, [claude, openai_server], monkeypatch)
    checks = checks_of(recorded)
    assert checks["test_transfers"]["verdict"] == "pass"
    assert checks["test_does_not_transfer"]["verdict"] == "fail"
    for check in checks.values():
        assert check["explanation"]["source"] == "thinking"
        assert check["explanation"]["api"] == "anthropic"
        assert check["explanation"]["output"] == STEPS
    models = recorded["run"]["models"]
    assert models["claude"]["api"] == "anthropic"
    assert models["gpt"]["api"] == models["gpt_bad"]["api"] == "openai-responses"
    assert "api" not in models["chat"] and models["chat"]["model"] == "id=chat;" + TRANSFER
    # Each evaluator was asked over its own API: the Responses ones at /v1/responses, the
    # chat ones at /v1/chat/completions; the generator with thinking on.
    asked = {(b.get("model"), "input" in b) for b in openai_server.requests}
    assert ("id=gpt;" + TRANSFER, True) in asked and ("id=chat;" + TRANSFER, False) in asked
    assert all(b["thinking"]["type"] == "enabled" for b in claude.requests)
    # The failure's account says where the explanation came from and over which API; so
    # does the HTML report.
    result.stdout.fnmatch_lines(
        [
            "*generator claude answered 7 (expected 7: correct); explanation from its "
            "thinking (anthropic), * answer sentence(s) removed by *"
        ]
    )
    # The header names each model with its API.
    header = next(line for line in result.outlines if line.startswith("xgen: record mode"))
    assert f"claude (anthropic {claude.endpoint} right=1)" in header
    assert f"gpt ({openai_server.endpoint} id=gpt;{TRANSFER} (Responses API))" in header
    assert f"chat ({openai_server.endpoint} id=chat;{TRANSFER})" in header
    html = (pytester.path / "record.html").read_text()
    assert "from claude (thinking, anthropic); answer stripped by" in html
    assert "openai-responses" in html
    # Neither key reached what the run wrote.
    kept = written(pytester.path) + result.stdout.str().encode()
    assert ANTHROPIC_KEY.encode() not in kept and OPENAI_KEY.encode() not in kept


def test_a_responses_reasoning_summary_transfers_the_same_way_and_replays(
    pytester: pytest.Pytester,
    openai_server: OpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "unused")
    project(
        pytester,
        "thinker",
        thinker_table(openai_server),
        evaluator_tables(openai_server, "", TRANSFER),
        evaluator_tables(openai_server, "_bad", NO_TRANSFER),
    )
    recorded, _, result = run_and_replay(pytester, [openai_server], monkeypatch)
    checks = checks_of(recorded)
    assert checks["test_transfers"]["verdict"] == "pass"
    assert checks["test_does_not_transfer"]["verdict"] == "fail"
    for check in checks.values():
        assert check["explanation"]["source"] == "reasoning summary"
        assert check["explanation"]["api"] == "openai-responses"
        assert check["explanation"]["output"] == STEPS
    assert recorded["run"]["models"]["thinker"]["api"] == "openai-responses"
    result.stdout.fnmatch_lines(
        ["*explanation from its reasoning summary (openai-responses), * removed by *"]
    )
    html = (pytester.path / "record.html").read_text()
    assert "from thinker (reasoning summary, openai-responses); answer stripped by" in html
