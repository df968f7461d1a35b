"""The Anthropic Messages API: ``backend = "anthropic"`` models and the recorded anthropic
clients, through the real ``anthropic`` SDK against the fake API
(:mod:`tests.anthropic_server`), in inner pytest runs; then replayed with the server gone."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Loaded before any inner run: a run that imported the SDK first would leave later runs a
# second copy of it, whose exceptions the first one's would not match.
import anthropic  # noqa: F401
import pytest

from tests.anthropic_server import CACHED, AnthropicServer
from tests.helpers import pinned

KEY = "sk-ant-api03-secret-key-0123456789abcdef"
APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicServer]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with AnthropicServer("noisy") as server:
        yield server


@pytest.fixture
def echo(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicServer]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with AnthropicServer() as server:
        yield server


def table(name: str, server: AnthropicServer, model: str, *lines: str) -> str:
    return "\n".join(
        [
            f"[tool.xgen.models.{name}]",
            'backend = "anthropic"',
            f'base_url = "{server.base_url}"',
            f'model = "{model}"',
            *lines,
        ]
    )


THINKING = 'params = { thinking = { type = "enabled", budget_tokens = 2048 } }'


def written(root: Path) -> str:
    """Every file an inner run left under ``root``."""
    return "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def cassettes(root: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in (root / "fixtures" / "cassettes").rglob("*.jsonl")
        for line in path.read_text().splitlines()
    ]


# -- the backend -----------------------------------------------------------------------------

CHECK = f"""
import pytest

@pytest.mark.transfers(generator="thinker", evaluators=["a", "b"], min_consistency=0, min_lift=-1)
def test_apples(xgen):
    r = xgen.check({APPLES!r}, expected=7)
    assert r.explanation.source == "thinking"
    assert r.explanation.output == "1. Start with 3.\\n2. Add 4: 3 + 4 = 7."
"""


def test_thinking_is_the_explanation_and_replays_from_a_fresh_clone(
    pytester: pytest.Pytester, claude: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyprojecttoml(
        pinned(
            "\n\n".join(
                [
                    '[tool.xgen]\nrecord_mode = "once"',
                    table("thinker", claude, "right=1", THINKING),
                    table("a", claude, "id=a;baseline=0.5;transfer=1"),
                    table("b", claude, "id=b;baseline=0.5;transfer=1"),
                ]
            )
        )
    )
    pytester.makepyfile(test_check=CHECK)
    result = pytester.runpytest("-p", "no:randomly", "--xgen-report=run.json")
    result.assert_outcomes(passed=1)
    check = json.loads((pytester.path / "run.json").read_text())["tests"][0]["checks"][0]
    assert check["explanation"]["source"] == "thinking"
    assert check["explanation"]["output"] == "1. Start with 3.\n2. Add 4: 3 + 4 = 7."
    # The generator was asked with thinking on, no temperature, and room for the budget.
    asked = next(r for r in claude.requests if r["model"] == "right=1")
    assert asked["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert asked["max_tokens"] == 2048 + 1024 and "seed" not in asked
    assert isinstance(asked["system"], str) and asked["messages"][0]["role"] == "user"
    recorded = cassettes(pytester.path)
    assert {e["request"]["endpoint"]["api"] for e in recorded} == {"anthropic"}
    thought = [e for e in recorded if e["response"].get("reasoning_source")]
    assert thought and thought[0]["response"]["usage"]["reasoning_tokens"] == 12

    # A fresh clone: the cassettes alone, the endpoint gone, no key.
    made = claude.calls
    claude.stop()
    shutil.rmtree(pytester.path / ".xgen")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    replay = pytester.runpytest(
        "-p", "no:randomly", "--xgen-record-mode=none", "--xgen-report=r.json"
    )
    replay.assert_outcomes(passed=1)
    again = json.loads((pytester.path / "r.json").read_text())["tests"][0]["checks"][0]
    assert again["explanation"] == check["explanation"]
    assert claude.calls == made
    assert KEY not in written(pytester.path) + replay.stdout.str() + result.stdout.str()


def test_redacted_thinking_is_a_clear_error_not_an_empty_explanation(
    pytester: pytest.Pytester, claude: AnthropicServer
) -> None:
    pytester.makepyprojecttoml(
        pinned(
            "\n\n".join(
                [
                    table("thinker", claude, "right=1", THINKING),
                    table("a", claude, "id=a"),
                ]
            )
        )
    )
    pytester.makepyfile(
        test_check=f"""
        import pytest

        @pytest.mark.transfers(generator="thinker", evaluators=["a"])
        def test_apples(xgen):
            xgen.check({APPLES + " [redact]"!r}, expected=7)
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*the generator's reasoning came back redacted (model 'right=1' returned only "
            "redacted_thinking blocks), so there is no explanation to transfer*"
        ]
    )


def test_429_and_529_are_retried_after_what_retry_after_says(
    pytester: pytest.Pytester, echo: AnthropicServer
) -> None:
    pytester.makepyprojecttoml(table("claude", echo, "claude-test"))
    echo.fail_next(1, 429, {"retry-after": "1"})
    echo.fail_next(1, 529, {"retry-after": "1"})
    pytester.makepyfile(
        test_it="""
        def test_it(xgen):
            assert xgen.model("claude")("hello").text == "echo[t=None]: hello"
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    assert len(echo.received) == 3 and echo.calls == 1
    gaps = [b - a for a, b in zip(echo.arrivals, echo.arrivals[1:], strict=False)]
    assert all(gap >= 0.95 for gap in gaps), gaps


def test_an_overloaded_endpoint_is_an_error_and_nothing_is_recorded(
    pytester: pytest.Pytester, echo: AnthropicServer
) -> None:
    pytester.makepyprojecttoml(table("claude", echo, "claude-test", "max_retries = 1"))
    echo.fail_next(2, 529, {"retry-after-ms": "10"})
    pytester.makepyfile(
        test_it="""
        def test_it(xgen):
            xgen.model("claude")("hello")
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*model 'claude' at http://{echo.endpoint} is overloaded (HTTP 529) after 1 "
            "retries; raise --xgen-max-retries, lower the concurrency, or try again later"
        ]
    )
    assert cassettes(pytester.path) == []


def test_the_key_is_never_shown_whatever_the_endpoint_echoes(
    pytester: pytest.Pytester, echo: AnthropicServer
) -> None:
    pytester.makepyprojecttoml(table("claude", echo, "claude-test", "max_retries = 0"))
    echo.fail_next(2, 400, echo_key=True)
    pytester.makepyfile(
        test_it="""
        def test_model(xgen):
            xgen.model("claude")("hello")

        def test_client(xgen):
            xgen.anthropic_client("claude").messages.create(
                model="claude", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
        """
    )
    result = pytester.runpytest(
        "-p", "no:randomly", "-l", "--junitxml=j.xml", "--xgen-report=r.json"
    )
    result.assert_outcomes(errors=2)
    assert all(KEY in h.get("authorization", "") + h.get("x-api-key", "") for h in echo.headers)
    result.stdout.fnmatch_lines(
        [
            f"*model 'claude' at http://{echo.endpoint} answered HTTP 400 after 0 retries: "
            "*the key *** is not valid*"
        ]
    )
    assert KEY not in result.stdout.str() + result.stderr.str() + written(pytester.path)


def test_a_dry_run_makes_no_call_and_counts_the_clients_calls(
    pytester: pytest.Pytester, echo: AnthropicServer
) -> None:
    pytester.makepyprojecttoml(table("claude", echo, "claude-test"))
    pytester.makepyfile(
        test_it="""
        HI = [{"role": "user", "content": "hi"}]

        def test_it(xgen):
            client = xgen.anthropic_client("claude")
            client.messages.create(model="claude", max_tokens=8, messages=HI)
            list(client.messages.create(model="claude", max_tokens=8, messages=HI, stream=True))
            with client.messages.stream(model="claude", max_tokens=8, messages=HI) as stream:
                stream.until_done()
        """
    )
    dry = pytester.runpytest("-p", "no:randomly", "--xgen-dry-run")
    dry.stdout.fnmatch_lines(["*xgen dry run: at most 2 call(s) would be made live*"])
    assert echo.received == []


# -- the recorded clients --------------------------------------------------------------------

APP = """
import json

import anthropic
import pytest

HELLO = [{"role": "user", "content": "hello there"}]
TOOLS = [{"name": "lookup", "description": "look up", "input_schema": {"type": "object"}}]


def test_create(xgen):
    r = xgen.anthropic_client("claude").messages.create(
        model="claude-test", max_tokens=64, messages=HELLO, system="be brief",
        stop_sequences=anthropic.omit, metadata=anthropic.NOT_GIVEN,
    )
    assert type(r).__name__ == "Message"
    assert r.content[0].text == "echo[t=None]: hello there"
    assert (r.usage.input_tokens, r.usage.output_tokens) == (10, 20)


def test_create_streamed(xgen):
    stream = xgen.anthropic_client("claude").messages.create(
        model="claude", max_tokens=64, messages=HELLO, stream=True
    )
    events = list(stream)
    assert [e.type for e in events][:2] == ["message_start", "content_block_start"]
    assert events[-1].type == "message_stop"
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == "echo[t=None]: hello there"


def test_stream_helper_with_thinking(xgen):
    with xgen.anthropic_client("claude").messages.stream(
        model="claude-test", max_tokens=4096, messages=HELLO,
        thinking={"type": "enabled", "budget_tokens": 2048},
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert "thinking" in kinds and "signature" in kinds and "text" in kinds
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "thinking about hello there"
    assert final.content[0].signature
    assert final.usage.output_tokens_details.thinking_tokens == 12
    with xgen.anthropic_client("claude").messages.stream(
        model="claude-test", max_tokens=64, messages=HELLO
    ) as stream:
        assert "".join(stream.text_stream) == "echo[t=None]: hello there"


def test_tool_use_loop(xgen):
    client = xgen.anthropic_client("claude")
    r = client.messages.create(model="claude-test", max_tokens=64, messages=HELLO, tools=TOOLS)
    assert r.stop_reason == "tool_use"
    use = r.content[0]
    assert (use.type, use.name, use.input) == ("tool_use", "lookup", {"text": "hello there"})
    turns = [*HELLO, {"role": "assistant", "content": r.content}, {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "42"}],
    }]
    r = client.messages.create(model="claude-test", max_tokens=64, messages=turns, tools=TOOLS)
    assert r.content[0].text == "echo[t=None]: tool said 42"
    with client.messages.stream(model="claude-test", max_tokens=64, messages=HELLO, tools=TOOLS) as s:
        final = s.get_final_message()
    assert final.content[0].input == {"text": "hello there"}


@pytest.mark.anyio
async def test_async(xgen):
    async with xgen.async_anthropic_client("claude") as client:
        r = await client.messages.create(model="claude-test", max_tokens=64, messages=HELLO)
        assert r.content[0].text == "echo[t=None]: hello there"
        stream = await client.messages.create(
            model="claude-test", max_tokens=64, messages=HELLO, stream=True
        )
        kinds = [event.type async for event in stream]
        assert kinds[-1] == "message_stop"
        async with client.messages.stream(
            model="claude-test", max_tokens=64, messages=[{"role": "user", "content": "async"}]
        ) as stream:
            parts = [text async for text in stream.text_stream]
        assert "".join(parts) == "echo[t=None]: async"
"""


def test_the_recorded_anthropic_client_records_once_and_replays_from_a_fresh_clone(
    pytester: pytest.Pytester, echo: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyprojecttoml(table("claude", echo, "claude-test"))
    pytester.makepyfile(test_app=APP)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=5)
    made = echo.calls
    # Each distinct call once: create() with a system, a stream, the thinking stream, the
    # tool loop's three, the async create() and stream(). messages.stream() and
    # create(stream=True) with the same parameters are one recording (the second stream of
    # test_stream_helper_with_thinking and the async create(stream=True) replay it), and
    # model= naming the configured model is not in the key.
    assert made == len({json.dumps(r, sort_keys=True) for r in echo.requests}) == 8
    recorded = cassettes(pytester.path)
    assert {e["request"]["kind"] for e in recorded} == {"client.messages"}
    assert all("omit" not in json.dumps(e) and "NOT_GIVEN" not in json.dumps(e) for e in recorded)
    streamed = [e for e in recorded if "events" in e["response"]]
    assert streamed and all(e["response"]["events"][-1]["type"] == "message_stop" for e in streamed)
    tool = next(
        e
        for e in recorded
        if "tools" in e["request"]["params"]
        and "raw" in e["response"]
        and len(e["request"]["messages"]) == 1
    )
    assert tool["response"]["raw"]["content"][0]["type"] == "tool_use"

    echo.stop()
    shutil.rmtree(pytester.path / ".xgen")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    replay = pytester.runpytest("-p", "no:randomly", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=5)
    assert echo.calls == made
    assert KEY not in written(pytester.path)


def test_code_that_builds_its_own_anthropic_client_is_routed_through_the_recorder(
    pytester: pytest.Pytester, echo: AnthropicServer
) -> None:
    pytester.makepyprojecttoml(table("claude", echo, "claude-test"))
    pytester.makepyfile(
        shop="""
        import anthropic

        def greet(name):
            client = anthropic.Anthropic(api_key="sk-ant-never-used-123456", base_url="https://x.invalid")
            r = client.messages.create(
                model="claude-sonnet-app", max_tokens=32,
                messages=[{"role": "user", "content": f"hi {name}"}],
            )
            return r.content[0].text

        async def greet_async(name):
            client = anthropic.AsyncAnthropic()
            async with client.messages.stream(
                model="claude-sonnet-app", max_tokens=32,
                messages=[{"role": "user", "content": f"hey {name}"}],
            ) as stream:
                return await stream.get_final_text()
        """,
        test_shop="""
        import anthropic
        import pytest
        import shop

        def test_greet(xgen):
            xgen.patch_anthropic("claude")
            assert shop.greet("Ann") == "echo[t=None]: hi Ann"

        @pytest.mark.anyio
        async def test_greet_async(xgen):
            with xgen.patch_anthropic("claude"):
                assert await shop.greet_async("Bo") == "echo[t=None]: hey Bo"
            assert anthropic.AsyncAnthropic.__module__.startswith("anthropic")

        def test_the_patch_ends_with_the_test():
            assert anthropic.Anthropic.__module__.startswith("anthropic")
        """,
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=3)
    # The application's model name is in the key; the configured model answers.
    params = [e["request"]["params"] for e in cassettes(pytester.path)]
    assert {p["model"] for p in params} == {"claude-sonnet-app"}
    assert {r["model"] for r in echo.requests} == {"claude-test"}
    assert "sk-ant-never-used" not in written(pytester.path / "fixtures")
    assert "sk-ant-never-used" not in written(pytester.path / ".xgen")
    made = echo.calls
    replay = pytester.runpytest("-p", "no:randomly", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=3)
    assert echo.calls == made == 2


def test_a_stream_cut_off_is_an_error_and_nothing_is_recorded(
    pytester: pytest.Pytester, echo: AnthropicServer
) -> None:
    pytester.makepyprojecttoml(table("claude", echo, "claude-test", "max_retries = 1"))
    echo.cut_next(2)
    pytester.makepyfile(
        test_it="""
        def test_it(xgen):
            with xgen.anthropic_client("claude").messages.stream(
                model="claude-test", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
            ) as stream:
                stream.until_done()
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*model 'claude' at http://{echo.endpoint} sent a malformed response (the stream "
            "was cut off after 2 events (the last: content_block_start), before message_stop) "
            "after 1 retries; nothing was recorded*"
        ]
    )
    assert len(echo.received) == 2
    assert cassettes(pytester.path) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            'xgen.anthropic_client("claude").messages.batches.create(requests=[])',
            "*xgen.anthropic_client('claude').messages.batches is not recorded: message "
            "batches are not recorded; call messages.create() for each request",
        ),
        (
            'xgen.anthropic_client("claude").messages.count_tokens(messages=[])',
            "*xgen.anthropic_client('claude').messages.count_tokens is not recorded*",
        ),
        (
            'xgen.anthropic_client("claude").beta.messages.create()',
            "*xgen.anthropic_client('claude').beta is not recorded: the beta resources*",
        ),
        (
            'xgen.anthropic_client("claude").messages.create(model="claude-test", '
            'messages=[{"role": "user", "content": "hi"}])',
            "*xgen.anthropic_client('claude').messages.create() needs max_tokens=1024 (the "
            "API requires it)",
        ),
        (
            'xgen.anthropic_client("claude").messages.create(model="claude-test", '
            "max_tokens=5, messages=[], temprature=0)",
            "*messages.create() got an unexpected keyword argument 'temprature': the installed "
            "anthropic SDK's messages.create() does not take it*",
        ),
        (
            'xgen.anthropic_client("gpt")',
            "*xgen.anthropic_client('gpt'): model 'gpt' is not an Anthropic Messages API model*",
        ),
        (
            'xgen.client("claude").chat.completions.create(messages=[{"role": "user", '
            '"content": "hi"}])',
            "*model 'claude' is an Anthropic Messages API model (backend anthropic): its "
            "recorded client is xgen.anthropic_client(), not an openai client",
        ),
        (
            'xgen.model("claude").complete("hi")',
            "*model 'claude' (backend anthropic): the Messages API has no raw text completions*",
        ),
    ],
    ids=[
        "batches",
        "count_tokens",
        "beta",
        "no-max_tokens",
        "unknown",
        "not-anthropic",
        "openai-client",
        "complete",
    ],
)
def test_what_the_recorded_anthropic_client_cannot_do_is_a_clear_usage_error(
    pytester: pytest.Pytester, echo: AnthropicServer, call: str, message: str
) -> None:
    pytester.makepyprojecttoml(
        table("claude", echo, "claude-test")
        + '\n\n[tool.xgen.models.gpt]\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "gpt"\n'
    )
    pytester.makepyfile(
        f"""
        def test_app(xgen):
            {call}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])
    assert echo.received == []


# -- cost ------------------------------------------------------------------------------------

CACHED_CALLS = """
SYSTEM = [{"type": "text", "text": "a long shared prefix", "cache_control": {"type": "ephemeral"}}]


def test_cached(xgen):
    client = xgen.anthropic_client("claude")
    for question in ("first", "second"):
        r = client.messages.create(
            model="claude-test", max_tokens=64, system=SYSTEM,
            messages=[{"role": "user", "content": question}],
        )
    assert r.usage.cache_read_input_tokens == 100


def test_thinking(xgen):
    r = xgen.model("thinker")("think it over")
    assert r.reasoning == "thinking about think it over"
    assert r.usage.reasoning_tokens == 12
"""


def test_cache_reads_and_writes_are_priced_apart_and_reasoning_as_output(
    pytester: pytest.Pytester, echo: AnthropicServer
) -> None:
    price = "price = { input = 1000, output = 10000, cache_read = 100, cache_write = 2000 }"
    pytester.makepyprojecttoml(
        table("claude", echo, "claude-test", price)
        + "\n\n"
        + table(
            "thinker", echo, "claude-test", THINKING, "price = { input = 1000, output = 10000 }"
        )
    )
    pytester.makepyfile(test_cost=CACHED_CALLS)
    result = pytester.runpytest("-p", "no:randomly", "--xgen-report=run.json")
    result.assert_outcomes(passed=2)
    # Each call: 10 input and 20 output tokens; the first writes 100 cached tokens, the
    # second reads them; the thinking's 12 tokens are output tokens.
    write = (10 * 1000 + CACHED * 2000 + 20 * 10000) / 1e6
    read = (10 * 1000 + CACHED * 100 + 20 * 10000) / 1e6
    thinking = (10 * 1000 + 20 * 10000) / 1e6
    tests = {t["nodeid"]: t for t in json.loads((pytester.path / "run.json").read_text())["tests"]}
    assert tests["test_cost.py::test_cached"]["cost"] == pytest.approx(write + read)
    assert tests["test_cost.py::test_thinking"]["cost"] == pytest.approx(thinking)
    usages = sorted(
        (e["response"]["usage"] for e in cassettes(pytester.path)),
        key=json.dumps,
    )
    assert usages == [
        {
            "prompt_tokens": 10,
            "completion_tokens": 20,
            "total_tokens": 130,
            "cache_read_tokens": 100,
        },
        {
            "prompt_tokens": 10,
            "completion_tokens": 20,
            "total_tokens": 130,
            "cache_write_tokens": 100,
        },
        {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30, "reasoning_tokens": 12},
    ]
    replay = pytester.runpytest(
        "-p", "no:randomly", "--xgen-record-mode=none", "--xgen-report=r.json"
    )
    replay.assert_outcomes(passed=2)
    calls = json.loads((pytester.path / "r.json").read_text())["run"]["calls"]
    assert calls["replayed_cost"] == pytest.approx(write + read + thinking)
