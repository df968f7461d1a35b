"""The scripted OpenAI-compatible server the tests and benchmarks run against: each
behaviour answers as its docstring says, faults come on top of any of them, and the server
is bounded against a runaway client."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_xgen.core import prompts
from tests.server import OpenAIServer, billed_prompt, stated_sum

TOM = "Tom has 3 apples and buys 4 more. How many apples does he have?"


def post(server: OpenAIServer, body: dict[str, Any], path: str = "/chat/completions") -> Any:
    """The JSON ``server`` answers ``body`` with (an HTTPError for a status of 400 or more)."""
    request = urllib.request.Request(
        f"{server.base_url}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-secret"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "echo", "messages": [{"role": "user", "content": text}], **extra}


@pytest.fixture
def echo() -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        yield server


def test_echo_answers_the_last_user_message_with_the_seed_and_temperature(
    echo: OpenAIServer,
) -> None:
    answer = post(echo, chat("What is 2+2?", seed=3, temperature=0))
    assert answer["choices"][0]["message"]["content"] == "echo[seed=3,t=0]: What is 2+2?"
    assert answer["usage"] == {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
    completion = post(echo, {"model": "echo", "prompt": "a b c"}, "/completions")
    assert completion["choices"][0]["logprobs"]["token_logprobs"] == [None, -1.0, -1.0]
    assert echo.calls == 2 and echo.auth_headers == ["Bearer sk-secret"] * 2


def test_a_scripted_failure_is_not_an_answer_and_may_repeat_the_key(echo: OpenAIServer) -> None:
    echo.fail_next(1, 401, echo_key=True)
    with pytest.raises(urllib.error.HTTPError) as failed:
        post(echo, chat("hi"))
    assert failed.value.code == 401
    error = json.loads(failed.value.read())["error"]["message"]
    assert error == "scripted failure 401: the key sk-secret is not valid"
    post(echo, chat("hi"))
    assert (len(echo.received), echo.calls, echo.injected) == (2, 1, 0)


def test_noisy_models_draw_per_request_and_repeat_a_request_exactly() -> None:
    with OpenAIServer("noisy") as server:
        model = "baseline=0.5"
        texts = [
            post(server, {**chat(TOM, seed=s), "model": model})["choices"][0]["message"]["content"]
            for s in range(40)
        ]
        again = post(server, {**chat(TOM, seed=0), "model": model})
    assert again["choices"][0]["message"]["content"] == texts[0]
    assert "Let me think.\nAnswer: 7" in texts and len(set(texts)) > 1
    assert server.calls == 41


def test_a_noisy_generator_states_its_sum() -> None:
    with OpenAIServer("noisy") as server:
        body = {"model": "right=1", "messages": prompts.elicit(TOM), "seed": 0}
        text = post(server, body)["choices"][0]["message"]["content"]
    assert stated_sum(text) == 7 and text.endswith("Answer: 7")


@pytest.mark.parametrize("mode", ["honours", "rejects"])
def test_billing_takes_every_choices_whole_limit(mode: str) -> None:
    with OpenAIServer("billing", stream_usage=mode) as server:
        body = chat("x" * 40, max_tokens=5, n=2)
        answer = post(server, body)
        assert [c["message"]["content"] for c in answer["choices"]] == ["tok " * 5] * 2
        assert answer["usage"]["completion_tokens"] == 10
        assert server.cost((1e6, 1e6)) == billed_prompt(body) + 10 == 24
        if mode == "rejects":
            with pytest.raises(urllib.error.HTTPError):
                post(server, {**body, "stream": True, "stream_options": {"include_usage": True}})
            assert server.calls == 1


def test_faults_come_on_top_of_any_answers() -> None:
    with OpenAIServer("noisy") as server:
        server.fault_next("rate_limit")
        with pytest.raises(urllib.error.HTTPError) as failed:
            post(server, chat(TOM))
        assert failed.value.code == 429 and failed.value.headers["retry-after-ms"] == "10"
        server.fault_next("no_choices")
        assert post(server, chat(TOM))["choices"] == []
        assert server.faults == {"rate_limit": 1, "no_choices": 1} and server.calls == 0
        assert server.summary() == "2 requests: 0 answered, 2 faults (rate_limit=1, no_choices=1)"
    with pytest.raises(ValueError, match="unknown fault kind"):
        server.fault_next("slow")


def test_the_server_is_bounded() -> None:
    with OpenAIServer(max_requests=2) as server:
        assert [post(server, chat("a")), post(server, chat("b"))] != []
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            post(server, chat("c"))
        assert (len(server.received), server.refused) == (2, 1)

    server = OpenAIServer(max_lifetime=0.2).start()
    server.thread.join(timeout=5)
    assert not server.thread.is_alive()
    with pytest.raises(OSError):
        post(server, chat("d"))
