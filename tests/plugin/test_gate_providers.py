"""The upgrade gate between two providers: a suite whose generator reasons over the
Anthropic Messages API (thinking) is saved as the baseline, then run with the generator
mapped to a Responses API model (a reasoning summary) and compared, as a team gates a
change of provider; through the real SDKs against the fake servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

# Loaded before any inner run: a run that imported the SDK first would leave later runs a
# second copy of it, whose exceptions the first one's would not match.
import anthropic  # noqa: F401
import pytest

from tests.anthropic_server import AnthropicServer
from tests.server import OpenAIServer

# Evaluators that follow what the explanation states half of the time and are otherwise
# right given one: a right explanation makes them agree, a wrong one splits them.
EVALUATOR = "baseline=0.5;transfer=1;follow=0.5"
FAIL = "--xgen-compare-fail=consistency:0.05,accuracy:0.05,explanation:0.05"

SUITE = """
import pytest

@pytest.mark.parametrize("a,b", [(3, 4), (5, 2), (6, 7), (8, 3), (2, 9), (4, 4), (7, 5), (9, 6)])
def test_apples(xgen, a, b):
    xgen.check(f"Tom has {a} apples and buys {b} more. How many apples does he have?",
               expected=a + b)
"""


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AnthropicServer, OpenAIServer]]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-gate-0123456789")
    monkeypatch.setenv("GPT_KEY", "sk-gate-responses-0123456789")
    with AnthropicServer("noisy") as claude, OpenAIServer("noisy") as openai_server:
        yield claude, openai_server


def tables(claude: AnthropicServer, server: OpenAIServer) -> str:
    """The anthropic generator ``claude``, two Responses API generators (``gpt_right``,
    whose explanations are right as claude's are, and ``gpt_wrong``, whose explanations
    add up wrong) and two chat evaluators."""
    responses = "".join(
        f'[tool.xgen.models.{name}]\nbackend = "openai-responses"\n'
        f'base_url = "{server.base_url}"\nmodel = "{script}"\napi_key_env = "GPT_KEY"\n'
        'params = { reasoning = { effort = "low", summary = "auto" } }\n\n'
        for name, script in (("gpt_right", "right=1"), ("gpt_wrong", "right=0;wrong=1"))
    )
    evaluators = "".join(
        f'[tool.xgen.models.{name}]\nbase_url = "{server.base_url}"\n'
        f'model = "id={name};{EVALUATOR}"\n\n'
        for name in ("a", "b")
    )
    return (
        '[tool.xgen]\nrecord_mode = "new_episodes"\ngenerator = "claude"\n'
        'evaluators = ["a", "b"]\nsamples = 10\nconfidence = "none"\n\n'
        '[tool.xgen.models.claude]\nbackend = "anthropic"\n'
        f'base_url = "{claude.base_url}"\nmodel = "right=1"\n'
        'params = { thinking = { type = "enabled", budget_tokens = 1024 } }\n\n'
        + responses
        + evaluators
    )


def comparison(pytester: pytest.Pytester, name: str) -> dict[str, Any]:
    return json.loads((pytester.path / name).read_text())["comparison"]


def test_a_provider_whose_explanations_transfer_worse_fails_the_gate_an_equal_one_passes(
    pytester: pytest.Pytester, servers: tuple[AnthropicServer, OpenAIServer]
) -> None:
    claude, openai_server = servers
    pytester.makepyprojecttoml(tables(claude, openai_server))
    pytester.makepyfile(test_suite=SUITE)
    base = pytester.runpytest("-p", "no:randomly", "--xgen-save=claude", "--xgen-report=base.json")
    base.assert_outcomes(passed=8)
    saved = json.loads((pytester.path / ".xgen" / "runs" / "claude.json").read_text())
    assert {t["checks"][0]["explanation"]["source"] for t in saved["tests"]} == {"thinking"}
    assert saved["run"]["models"]["claude"]["api"] == "anthropic"

    # The Responses model whose explanations add up wrong: the evaluators that follow them
    # split, and answer wrong; the suite shows the drop and the gate fails.
    worse = pytester.runpytest(
        "-p",
        "no:randomly",
        "--xgen-model-map=claude=gpt_wrong",
        "--xgen-compare=claude",
        FAIL,
        "--xgen-report=worse.json",
    )
    assert worse.ret == 1
    found = comparison(pytester, "worse.json")
    assert found["gate"]["result"] == "fail"
    assert {t["verdict"] for t in found["tests"]} == {"unpaired"}  # a new explanation each
    assert found["pairing"]["paired"] == 0
    assert found["suite"]["consistency"]["verdict"] == "regressed"
    assert found["suite"]["explanation"]["verdict"] == "regressed"
    worse.stdout.fnmatch_lines(["*suite consistency: REGRESSED*", "xgen gate failed*"])
    report = json.loads((pytester.path / "worse.json").read_text())
    assert report["run"]["model_map"] == {"claude": "gpt_wrong"}
    assert {
        (t["checks"][0]["generator"], t["checks"][0]["explanation"]["source"])
        for t in report["tests"]
    } == {("claude", "reasoning summary")}  # the name the tests use, mapped
    assert {t["checks"][0]["explanation"]["api"] for t in report["tests"]} == {"openai-responses"}

    # The Responses model whose explanations are as right as claude's: nothing changed.
    same = pytester.runpytest(
        "-p",
        "no:randomly",
        "--xgen-model-map=claude=gpt_right",
        "--xgen-compare=claude",
        FAIL,
        "--xgen-report=same.json",
    )
    assert same.ret == 0
    found = comparison(pytester, "same.json")
    assert found["gate"]["result"] == "pass"
    # Its summaries state the same steps as claude's thinking: the evaluators read the same
    # explanations, their recorded calls replay, and every test is tested on its own.
    assert {t["verdict"] for t in found["tests"]} == {"unchanged"}
    assert found["pairing"] == {"paired": 8, "compared": 8}
    assert "regressed" not in {s["verdict"] for s in found["suite"].values()}
    same.stdout.fnmatch_lines(["xgen gate passed*"])
