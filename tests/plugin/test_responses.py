"""OpenAI's Responses API: the ``openai-responses`` backend for the plugin's own calls and
``xgen.client().responses.create()`` for the application's, through the real ``openai``
client against the scripted server's ``/v1/responses``, recorded, then replayed with the
endpoint gone."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.helpers import lines, pinned
from tests.server import OpenAIServer

TOM = "Tom has 3 apples and buys 4 more. How many apples does he have?"
KEY = "sk-responses-key-0123456789abcdef"


@pytest.fixture
def noisy() -> Iterator[OpenAIServer]:
    with OpenAIServer("noisy") as server:
        yield server


def responses_model(
    server: OpenAIServer, name: str = "r", model: str = "echo", **extra: str
) -> str:
    """A ``[tool.xgen.models.NAME]`` table of the Responses backend on ``server``."""
    rows = "\n".join(f"{k} = {v}" for k, v in extra.items())
    return (
        f'[tool.xgen.models.{name}]\nbackend = "openai-responses"\n'
        f'base_url = "{server.base_url}"\nmodel = "{model}"\n{rows}\n'
    )


def cassettes(pytester: pytest.Pytester) -> list[dict[str, Any]]:
    """Every entry of the inner run's cassettes."""
    found = sorted((pytester.path / "fixtures" / "cassettes").rglob("*.jsonl"))
    return [entry for path in found for entry in lines(path)]


def cassette_text(pytester: pytest.Pytester) -> str:
    found = (pytester.path / "fixtures" / "cassettes").rglob("*.jsonl")
    return "".join(p.read_text() for p in found)


def fresh_clone(pytester: pytest.Pytester, server: OpenAIServer) -> None:
    """What a fresh clone has: the committed cassettes, no store, and no endpoint."""
    shutil.rmtree(pytester.path / ".xgen")
    server.stop()


# -- the backend as the generator of a transfer check ---------------------------------------


def test_a_reasoning_summary_is_the_explanation_recorded_and_replayed(
    pytester: pytest.Pytester, noisy: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THINKER_KEY", KEY)
    chat = "\n".join(
        f'[tool.xgen.models.{name}]\nbase_url = "{noisy.base_url}"\nmodel = "{script}"\n'
        for name, script in (("a", "id=a;baseline=0.5"), ("b", "id=b;baseline=0.5"))
    )
    thinker = responses_model(
        noisy,
        "thinker",
        "right=1",
        api_key_env='"THINKER_KEY"',
        params='{ reasoning = { effort = "low", summary = "auto" }, max_output_tokens = 400 }',
        price="{ input = 1.0, output = 4.0 }",
    )
    pytester.makepyprojecttoml(pinned(f'[tool.xgen]\nrecord_mode = "once"\n{thinker}\n{chat}'))
    pytester.makepyfile(
        test_thinker=f"""
        def test_transfer(xgen):
            r = xgen.check({TOM!r}, generator="thinker", evaluators=["a", "b"], expected=7)
            assert r.explanation.source == "reasoning summary"
            assert r.explanation.output == "1. Start with 3.\\n2. Add 4: 3 + 4 = 7."
            assert r.explanation.answer == 7
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "--xgen-report=record.json")
    result.assert_outcomes(passed=1)
    # The elicitation went to /v1/responses with the reasoning params, the system prompt
    # an input item; the evaluators' calls to /v1/chat/completions.
    [elicit] = [body for body in noisy.requests if "input" in body]
    assert elicit["reasoning"] == {"effort": "low", "summary": "auto"}
    assert elicit["input"][0]["role"] == "system"
    assert "seed" not in elicit and "temperature" not in elicit
    assert elicit["max_output_tokens"] == 400
    report = json.loads((pytester.path / "record.json").read_text())
    [test] = report["tests"].values() if isinstance(report["tests"], dict) else report["tests"]
    [check] = test["checks"]
    assert check["explanation"]["source"] == "reasoning summary"
    assert report["run"]["models"]["thinker"]["api"] == "openai-responses"
    # Usage: the thinker's input and output tokens (reasoning included) at its price.
    [entry] = [e for e in cassettes(pytester) if e["request"]["endpoint"].get("api")]
    assert entry["request"]["params"]["reasoning"] == {"effort": "low", "summary": "auto"}
    assert entry["response"]["usage"] == {
        "prompt_tokens": 10,
        "completion_tokens": 9,
        "total_tokens": 19,
        "reasoning_tokens": 4,
    }
    assert entry["response"]["reasoning_source"] == "reasoning summary"
    assert test["cost"] == pytest.approx((10 * 1.0 + 9 * 4.0) / 1e6)
    # The key was sent, and is nowhere in what the run wrote (cassettes, store, report).
    assert f"Bearer {KEY}" in noisy.auth_headers
    written = [p for p in pytester.path.rglob("*") if p.is_file() and p.suffix != ".py"]
    assert any(p.suffix == ".jsonl" for p in written)
    assert not [p for p in written if KEY.encode() in p.read_bytes()]

    fresh_clone(pytester, noisy)
    monkeypatch.delenv("THINKER_KEY")
    replay = pytester.runpytest("-p", "no:randomly", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=1)
    replay.stdout.fnmatch_lines(["*0 live*"])


def test_the_recording_key_holds_the_reasoning_params(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    low = responses_model(fake, params='{ reasoning = { effort = "low" } }')
    pytester.makepyprojecttoml(f'[tool.xgen]\nrecord_mode = "once"\n{low}')
    pytester.makepyfile(
        test_key="""
        def test_one(xgen):
            r = xgen.model("r")("What is 2+2?")
            assert r.text == "echo[t=None]: What is 2+2?"
            assert (r.reasoning, r.reasoning_source) == ("", "")  # no summary asked for
            assert r.usage.reasoning_tokens == 4
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
    high = responses_model(fake, params='{ reasoning = { effort = "high" } }')
    pytester.makepyprojecttoml(f'[tool.xgen]\nrecord_mode = "once"\n{high}')
    # Another effort is another request: replay-only mode has no recording of it.
    result = pytester.runpytest("--xgen-record-mode=none")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*RecordingMissError*"])


# -- the application's client ----------------------------------------------------------------

APP = """
import json
import os

HELLO = [{"role": "user", "content": "hello there"}]
TOOLS = [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}]


def test_whole(xgen):
    r = xgen.client("r").responses.create(
        input="What is 2+2?", reasoning={"effort": "low", "summary": "auto"}, temperature=0
    )
    assert type(r).__name__ == "Response"
    assert r.output_text == "echo[t=0]: What is 2+2?"
    assert [type(o).__name__ for o in r.output] == ["ResponseReasoningItem", "ResponseOutputMessage"]
    assert r.output[0].summary[0].text == "reasoning about What is 2+2?"
    assert r.usage.output_tokens_details.reasoning_tokens == 4


def test_stream(xgen):
    with xgen.client("r").responses.create(
        input=HELLO, reasoning={"summary": "auto"}, stream=True
    ) as stream:
        events = list(stream)
    assert type(events[0]).__name__ == "ResponseCreatedEvent"
    assert type(events[-1]).__name__ == "ResponseCompletedEvent"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "echo[t=None]: hello there"
    with open(os.environ["EVENTS_FILE"], "w") as out:
        json.dump([e.to_dict() for e in events], out)


def test_tool_call_and_its_output(xgen):
    client = xgen.client("r")
    asked = [{"role": "user", "content": "please lookup the weather"}]
    r = client.responses.create(input=asked, tools=TOOLS)
    [call] = r.output
    assert (call.type, call.name, json.loads(call.arguments)) == (
        "function_call", "lookup", {"text": "please lookup the weather"}
    )
    answered = asked + [
        call.to_dict(),
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        {"role": "user", "content": "thanks"},
    ]
    r = client.responses.create(input=answered, tools=TOOLS)
    assert r.output_text == "echo[t=None]: thanks"


def test_a_routed_client_answers_responses(xgen):
    import openai

    xgen.patch_openai("r")
    r = openai.OpenAI(api_key="sk-app").responses.create(model="gpt-app", input="routed")
    assert r.output_text == "echo[t=None]: routed"


def test_an_openai_backend_model_answers_responses_too(xgen):
    r = xgen.client("chat").responses.create(input="hello there", max_output_tokens=2)
    assert (r.status, r.incomplete_details.reason, r.output_text) == (
        "incomplete", "max_output_tokens", "echo[t=None]: hello"
    )
"""

ASYNC_APP = """
import pytest


@pytest.mark.anyio
async def test_async(xgen):
    async with xgen.async_client("r") as client:
        r = await client.responses.create(input="hi", temperature=0)
        assert r.output_text == "echo[t=0]: hi"
        stream = await client.responses.create(input="hi", stream=True)
        async with stream:
            kinds = [e.type async for e in stream]
        assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
        assert kinds.count("response.output_text.delta") == 2
"""


def client_project(pytester: pytest.Pytester, fake: OpenAIServer) -> None:
    chat = f'[tool.xgen.models.chat]\nbase_url = "{fake.base_url}"\nmodel = "echo"\n'
    pytester.makepyprojecttoml(f'[tool.xgen]\nrecord_mode = "once"\n{responses_model(fake)}{chat}')


def test_the_recorded_client_records_responses_and_replays_the_same_objects(
    pytester: pytest.Pytester, fake: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_project(pytester, fake)
    pytester.makepyfile(test_app=APP, test_async=ASYNC_APP)
    recorded = pytester.path / "recorded-events.json"
    monkeypatch.setenv("EVENTS_FILE", str(recorded))
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=6)
    assert len(fake.requests) == 8
    assert all(body.get("model") == "echo" for body in fake.requests)
    entries = cassettes(pytester)
    assert {e["request"]["kind"] for e in entries} == {"client.responses"}
    streamed = [e for e in entries if e["request"]["params"].get("stream")]
    assert all(e["response"]["events"] for e in streamed) and len(streamed) == 2
    # The stream as the endpoint sends it, to the openai client itself.
    direct = openai.OpenAI(base_url=fake.base_url, api_key="sk-x", max_retries=0)
    stream = direct.responses.create(
        model="echo",
        input=[{"role": "user", "content": "hello there"}],
        reasoning={"summary": "auto"},
        stream=True,
    )
    sent = [e.to_dict() for e in stream]
    assert [e["sequence_number"] for e in sent] == list(range(len(sent)))
    assert json.loads(recorded.read_text()) == sent

    fresh_clone(pytester, fake)
    replayed = pytester.path / "replayed-events.json"
    monkeypatch.setenv("EVENTS_FILE", str(replayed))
    replay = pytester.runpytest("-p", "no:randomly", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=6)
    replay.stdout.fnmatch_lines(["*8 replayed, 0 live*"])
    assert json.loads(replayed.read_text()) == sent  # the same events, in the same order


def test_what_the_recorded_responses_client_cannot_do_is_a_clear_usage_error(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    client_project(pytester, fake)
    pytester.makepyfile(
        test_app="""
        import pytest

        def test_parse(xgen):
            xgen.client("r").responses.parse(input="hi")

        def test_retrieve(xgen):
            xgen.client("r").responses.retrieve("resp_1")

        def test_unknown_argument(xgen):
            xgen.client("r").responses.create(input="hi", max_tokens=5)

        def test_no_input(xgen):
            xgen.client("r").responses.create(previous_response_id="resp_1")

        def test_complete(xgen):
            xgen.model("r").complete("one two")
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=5)
    result.stdout.fnmatch_lines(
        [
            "*xgen.client('r').responses.parse is not recorded: call create() with text=*",
            "*xgen.client('r').responses.retrieve is not recorded: a recorded call is "
            "answered from its recording*",
            "*responses.create() got an unexpected keyword argument 'max_tokens'*",
            "*responses.create() needs input=*",
            "*model 'r' (backend openai-responses) cannot make raw completions*",
        ]
    )
    assert fake.requests == []


def test_a_parameter_the_api_does_not_take_is_a_usage_error(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    table = responses_model(fake, params='{ temperature = 0, stop = "\\n" }')
    pytester.makepyprojecttoml(f"[tool.xgen]\n{table}")
    pytester.makepyfile(
        test_bad="""
        def test_one(xgen):
            xgen.model("r")("hi")
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: xgen: model 'r' (backend openai-responses) cannot send the parameter "
            "'stop': the Responses API has no such parameter (it takes include, *); put it "
            "in extra_body if your endpoint takes it"
        ]
    )
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert fake.requests == []


# -- faults ------------------------------------------------------------------------------------


def test_a_rate_limit_is_retried_after_its_retry_after_then_answered(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    table = responses_model(fake)
    pytester.makepyprojecttoml(f'[tool.xgen]\nrecord_mode = "new_episodes"\n{table}')
    pytester.makepyfile(
        test_retry="""
        def test_model(xgen):
            assert xgen.model("r")("hi").text == "echo[t=None]: hi"

        def test_client(xgen):
            r = xgen.client("r").responses.create(input="hello", stream=True)
            assert [e.type for e in r][-1] == "response.completed"
        """
    )
    for test in ("test_model", "test_client"):
        fake.fault_next("rate_limit", 1, headers={"retry-after-ms": "300"})
        pytester.runpytest("-k", test).assert_outcomes(passed=1)
    assert fake.log == ["rate_limit", "ok", "rate_limit", "ok"]
    first, second = (fake.arrivals[i + 1] - fake.arrivals[i] for i in (0, 2))
    assert first >= 0.3 and second >= 0.3  # the client waited as the 429 said
    assert len(cassettes(pytester)) == 2


def test_a_stream_cut_off_is_an_error_and_nothing_is_recorded(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    table = responses_model(fake, max_retries="1")
    pytester.makepyprojecttoml(f'[tool.xgen]\nrecord_mode = "once"\n{table}')
    pytester.makepyfile(
        test_cut="""
        def test_client(xgen):
            stream = xgen.client("r").responses.create(input="hello there", stream=True)
            list(stream)
        """
    )
    fake.fault_next("cut_stream", 2)  # the call and its one retry
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*model 'r' at http://{fake.endpoint} sent a malformed response (the stream was "
            "cut off: it ended after * events without response.completed) after 1 retries*"
        ]
    )
    assert fake.log == ["cut_stream", "cut_stream"]
    assert cassette_text(pytester) == ""
    # The endpoint back to health: the call is made and recorded.
    pytester.runpytest().assert_outcomes(passed=1)
    assert len(cassettes(pytester)) == 1


@pytest.mark.parametrize("stream", [False, True])
def test_a_failed_response_is_an_error_naming_it_not_retried_nor_recorded(
    pytester: pytest.Pytester, fake: OpenAIServer, stream: bool
) -> None:
    pytester.makepyprojecttoml(f'[tool.xgen]\nrecord_mode = "once"\n{responses_model(fake)}')
    pytester.makepyfile(
        test_failed=f"""
        def test_client(xgen):
            r = xgen.client("r").responses.create(input="hello", stream={stream})
            list(r) if {stream} else r
        """
    )
    fake.fault_next("failed_response")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*model 'r' at http://{fake.endpoint} answered that the response failed "
            "(server_error: The model failed to answer.); nothing was recorded.*"
        ]
    )
    assert fake.log == ["failed_response"]
    assert cassette_text(pytester) == ""
