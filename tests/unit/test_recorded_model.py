"""A recorded model builds each request (the recording key) itself, secret values masked,
from nothing but what it needs of the run: no pytest run, no session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest

from pytest_xgen.models.base import ChatResult, CompletionResult, Message
from pytest_xgen.models.redaction import redact
from pytest_xgen.recording.client import AsyncRecordedClient, RecordedClient, UnsupportedCall
from pytest_xgen.recording.client_body import call_options
from pytest_xgen.recording.model import RecordedModel
from pytest_xgen.recording.patch import patch_openai
from pytest_xgen.recording.recorder import CallSite
from pytest_xgen.recording.secrets import SECRET, masked
from pytest_xgen.recording.store import request_key
from pytest_xgen.settings.config import Settings


class Echo:
    """A model that answers with the parameters it was sent."""

    name = "echo"
    identity = {"endpoint": "h/v1", "model": "m"}  # noqa: RUF012
    params = {"temperature": 0}  # noqa: RUF012

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def chat(self, messages: list[Message], **params: Any) -> ChatResult:
        self.sent.append(params)
        return ChatResult(text=str(params.get("extra_body")))

    def complete(self, prompt: str, **params: Any) -> CompletionResult:
        self.sent.append(params)
        return CompletionResult(text=prompt)


class Run:
    """The run as a recorded model sees it: a replay of what it recorded before."""

    def __init__(self, secret_params: tuple[str, ...] = ()) -> None:
        self.settings = Settings(seed=7)
        self.echo = Echo()
        self._secret = secret_params
        self.requests: list[dict[str, Any]] = []
        self.recorded: dict[str, dict[str, Any]] = {}

    def model(self, name: str) -> Echo:
        return self.echo

    def secret_params(self, name: str) -> tuple[str, ...]:
        return self._secret

    def record(
        self, request: dict[str, Any], live: Callable[[], dict[str, Any]], site: CallSite
    ) -> tuple[dict[str, Any], bool]:
        self.requests.append(request)
        key = request_key(request)
        replayed = key in self.recorded
        if not replayed:
            self.recorded[key] = live()
        return {"key": key, "response": self.recorded[key]}, replayed


def test_a_secret_param_is_sent_but_recorded_as_secret() -> None:
    run = Run(secret_params=("extra_body.token",))
    model = RecordedModel(run, "echo", "t.py::test", "t.py")  # type: ignore[arg-type]
    messages: list[Message] = [{"role": "user", "content": "2+2?"}]
    first = model.chat(messages, extra_body={"token": "first-secret-value", "n": 1})
    again = model.chat(messages, extra_body={"token": "second-secret-value", "n": 1})
    # The endpoint got each real value; the key holds neither, so the second call replays.
    assert [s["extra_body"]["token"] for s in run.echo.sent] == ["first-secret-value"]
    assert run.requests[0]["params"]["extra_body"] == {"token": SECRET, "n": 1}
    assert (first.replayed, again.replayed) == (False, True)
    assert first.key == again.key
    assert "first-secret-value" not in redact("echoed: first-secret-value")
    # The seed is the run's, shifted by the sample; the request is the one chat() records.
    assert run.requests[0]["params"]["seed"] == 7
    assert model.chat_request(messages, extra_body={"token": "x", "n": 1}) == run.requests[0]
    assert model.chat_request(messages, sample=2)["params"]["seed"] == 9


def test_a_completion_is_marked_live_only_when_it_was_called() -> None:
    run = Run()
    model = RecordedModel(run, "echo", "t.py::test", "t.py")  # type: ignore[arg-type]
    assert [model.complete("p").replayed, model.complete("p").replayed] == [False, True]
    assert run.requests[0]["kind"] == "completion" and run.requests[0]["prompt"] == "p"
    with pytest.raises(ValueError, match="sample must be 0 or more"):
        model.complete("p", sample=-1)


def test_masking_copies_and_skips_what_is_absent() -> None:
    params = {"a": {"b": "value-of-b"}, "c": "kept", "d": "plain"}
    assert masked(params, ()) is params
    out = masked(params, ("a.b", "a.missing", "c.x", "nothing.here", "d"))
    assert out == {"a": {"b": SECRET}, "c": "kept", "d": SECRET}
    assert params == {"a": {"b": "value-of-b"}, "c": "kept", "d": "plain"}


def test_call_options_merge_headers_and_leave_out_what_is_not_given() -> None:
    defaults = {"extra_headers": {"A": "1", "B": "2"}, "timeout": 5, "max_retries": None}
    call = {"extra_headers": {"B": "3"}, "extra_query": openai.NOT_GIVEN, "timeout": None}
    assert call_options(defaults, call) == {"extra_headers": {"A": "1", "B": "3"}, "timeout": None}
    assert call_options({}, {"extra_headers": {}}) == {}


def test_patching_openai_routes_both_classes_until_undone() -> None:
    real = openai.OpenAI
    run = Run()
    made: list[RecordedModel] = []

    def model() -> RecordedModel:
        made.append(RecordedModel(run, "echo", "t.py::test", "t.py"))  # type: ignore[arg-type]
        return made[-1]

    with patch_openai(model) as patched:
        client = openai.OpenAI(api_key="ignored")
        assert isinstance(client, RecordedClient)
        assert repr(openai.AsyncOpenAI()) == "<recorded async client for model 'echo'>"
        assert openai.OpenAI.__xgen_real__ is real  # type: ignore[attr-defined]
    assert openai.OpenAI is real and len(made) == 2
    patched.undo()  # a second undo changes nothing
    assert openai.OpenAI is real


# -- the recorded clients ------------------------------------------------------------------

CHAT = {
    "id": "c1",
    "object": "chat.completion",
    "created": 0,
    "model": "m",
    "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "4"}}
    ],
}


def chunk(content: str | None, usage: bool = False) -> dict[str, Any]:
    choices = [] if content is None else [{"index": 0, "delta": {"content": content}}]
    found: dict[str, Any] = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "m",
        "choices": choices,
    }
    if usage:
        found["usage"] = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    return found


class Raw(Echo):
    """A model with an OpenAI-compatible endpoint: ``raw()`` answers the application."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def raw(self, kind: str, body: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((kind, body, options))
        if body.get("stream"):
            return {"chunks": [chunk("4"), chunk(None, usage=True)]}
        return {"raw": CHAT}


def recorded(model: Echo | None = None) -> tuple[Run, RecordedModel]:
    run = Run()
    run.echo = model or Raw()
    return run, RecordedModel(run, "echo", "t.py::test", "t.py")  # type: ignore[arg-type]


def test_a_client_call_is_keyed_on_what_changes_the_answer_only() -> None:
    run, model = recorded()
    client = RecordedClient(model).with_options(default_headers={"X-Team": "team-a-header"})
    messages = [{"role": "user", "content": "2+2?"}]
    answer = client.chat.completions.create(
        messages=messages, temperature=0, extra_headers={"X-Call": "1"}, timeout=5
    )
    assert answer.choices[0].message.content == "4"
    kind, body, options = run.echo.calls[0]  # type: ignore[attr-defined]
    assert (kind, body) == ("chat", {"messages": messages, "temperature": 0})
    assert options == {"extra_headers": {"X-Team": "team-a-header", "X-Call": "1"}, "timeout": 5}
    request = run.requests[0]
    assert request["kind"] == "client.chat" and request["messages"] == messages
    assert request["params"] == {"temperature": 0}  # no headers, no time-out, no model
    assert "team-a-header" not in redact("sent team-a-header")
    # The same call with other options replays: they are not part of the key.
    client.chat.completions.create(messages=messages, temperature=0, timeout=60)
    assert len(run.echo.calls) == 1  # type: ignore[attr-defined]


def test_a_client_names_its_model_or_none() -> None:
    run, model = recorded()
    client = RecordedClient(model)
    client.completions.create(prompt="2+2=", model="echo")
    client.completions.create(prompt="2+2=", model="m")  # the endpoint's own name
    with pytest.raises(Exception, match=r"was asked for model='gpt-4o'; leave model out"):
        client.completions.create(prompt="2+2=", model="gpt-4o")
    # A routed client takes the application's name: in the key, never sent.
    routed = RecordedClient(model, any_model=True, where="openai.OpenAI()")
    routed.completions.create(prompt="2+2=", model="gpt-4o")
    assert run.requests[-1]["params"] == {"model": "gpt-4o"}
    assert "model" not in run.echo.calls[-1][1]  # type: ignore[attr-defined]
    assert run.requests[-1]["kind"] == "client.completion"


def test_a_model_without_an_endpoint_has_no_client() -> None:
    _, model = recorded(Echo())
    with pytest.raises(Exception, match="has no OpenAI-compatible endpoint"):
        RecordedClient(model).chat.completions.create(messages=[{"role": "user", "content": "x"}])


def test_a_stream_gives_its_usage_chunk_only_when_asked() -> None:
    _, model = recorded()
    create = RecordedClient(model).chat.completions.create
    messages = [{"role": "user", "content": "2+2?"}]
    with create(messages=messages, stream=True) as stream:
        assert [c.choices[0].delta.content for c in stream] == ["4"]
    asked = list(create(messages=messages, stream=True, stream_options={"include_usage": True}))
    assert [c.usage.total_tokens if c.usage else None for c in asked] == [None, 4]
    stream = create(messages=messages, stream=True)
    stream.close()
    assert list(stream) == []


def test_the_async_client_answers_as_the_sync_one() -> None:
    import asyncio

    _, model = recorded()
    client = AsyncRecordedClient(model)
    messages = [{"role": "user", "content": "2+2?"}]

    async def main() -> tuple[str, list[str]]:
        async with client as same:
            whole = await same.chat.completions.create(messages=messages)
            stream = await same.chat.completions.create(messages=messages, stream=True)
            async with stream:
                parts = [c.choices[0].delta.content async for c in stream]
        return whole.choices[0].message.content, parts

    assert asyncio.run(main()) == ("4", ["4"])
    assert repr(client) == "<recorded async client for model 'echo'>"


def test_with_options_takes_what_openai_takes() -> None:
    run, model = recorded()
    client = RecordedClient(model, options={"extra_headers": {"A": "1"}})
    replaced = client.with_options(set_default_headers={"B": "2"}, max_retries=0, api_key="k")
    replaced.completions.create(prompt="p")
    assert run.echo.calls[-1][2] == {"extra_headers": {"B": "2"}, "max_retries": 0}  # type: ignore[attr-defined]
    merged = client.copy(default_query={"q": "1"}, timeout=3)
    merged.completions.create(prompt="p2")
    assert run.echo.calls[-1][2] == {  # type: ignore[attr-defined]
        "extra_headers": {"A": "1"},
        "extra_query": {"q": "1"},
        "timeout": 3,
    }
    with pytest.raises(Exception, match=r"with_options\(\) got an unexpected keyword 'retries'"):
        client.with_options(retries=1)


def test_a_part_of_openai_not_recorded_says_what_to_do_instead() -> None:
    _, model = recorded()
    client = RecordedClient(model)
    with pytest.raises(UnsupportedCall, match=r"xgen.client\('echo'\).embeddings is not recorded"):
        client.embeddings  # noqa: B018
    with pytest.raises(UnsupportedCall, match=r"\.chat\.completions\.parse is not recorded: call"):
        client.chat.completions.parse  # noqa: B018
    assert not hasattr(client.chat, "with_raw_response")
    assert getattr(client, "_private", None) is None
    assert repr(client) == "<recorded client for model 'echo'>"
