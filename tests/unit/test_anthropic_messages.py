"""The Anthropic Messages backend's pure parts: what a call sends, how an answer (whole or
streamed) becomes a result and a recording, and what its usage costs."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_xgen.core import finite
from pytest_xgen.models.anthropic_messages import (
    MAX_RETRY_AFTER,
    _capped,
    accumulate,
    chat_result,
    default_max_tokens,
    events_record,
    request_of,
    usage_of,
)
from pytest_xgen.models.call_errors import MalformedResponse
from pytest_xgen.recording.cost import (
    call_cost,
    completion_estimate,
    price_of,
    received_estimate,
)
from tests.anthropic_server import AnthropicServer, events

SENT = frozenset({"max_tokens", "messages", "system", "thinking", "stop_sequences", "metadata"})
THINKING = {"type": "enabled", "budget_tokens": 2048}


def test_a_request_puts_the_system_apart_and_defaults_max_tokens() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    sent = request_of(messages, {"temperature": 0, "seed": 7, "stop": "END"}, SENT)
    assert sent == {
        "system": "be brief",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 1024,
        "stop_sequences": ["END"],
        "extra_body": {"temperature": 0},  # create() of the 2.x SDK has no temperature
    }


def test_with_thinking_max_tokens_leaves_room_and_temperature_is_not_sent() -> None:
    sent = request_of(
        [{"role": "user", "content": "hi"}],
        {"thinking": THINKING, "top_k": 5, "temperature": 0},
        SENT,
    )
    assert sent["max_tokens"] == 2048 + 1024
    assert "extra_body" not in sent and "temperature" not in sent
    assert default_max_tokens({"thinking": {"type": "disabled", "budget_tokens": 4096}}) == 1024
    assert (
        request_of([{"role": "user", "content": "x"}], {"max_tokens": 9}, SENT)["max_tokens"] == 9
    )


def message(*blocks: dict[str, Any], usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "model": "claude-test",
        "content": list(blocks),
        "stop_reason": "end_turn",
        "usage": usage or {"input_tokens": 3, "output_tokens": 4},
    }


def test_thinking_blocks_are_the_reasoning_and_text_blocks_the_text() -> None:
    result = chat_result(
        message(
            {"type": "thinking", "thinking": "step one", "signature": "s"},
            {"type": "thinking", "thinking": "step two", "signature": "s"},
            {"type": "text", "text": "Answer: 7"},
        ),
        "m",
    )
    assert (result.text, result.reasoning) == ("Answer: 7", "step one\n\nstep two")
    assert (result.reasoning_source, result.reasoning_redacted) == ("thinking", False)


@pytest.mark.parametrize(
    "hidden",
    [
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "thinking", "thinking": "", "signature": "s"},  # display = "omitted"
    ],
    ids=["redacted_thinking", "omitted"],
)
def test_reasoning_without_readable_text_is_marked_redacted(hidden: dict[str, Any]) -> None:
    result = chat_result(message(hidden, {"type": "text", "text": "7"}), "m")
    assert (result.reasoning, result.reasoning_source, result.reasoning_redacted) == ("", "", True)
    plain = chat_result(message({"type": "text", "text": "7"}), "m")
    assert plain.reasoning_redacted is False


def test_usage_counts_cache_reads_and_writes_apart() -> None:
    usage = usage_of(
        {
            "input_tokens": 10,
            "output_tokens": 20,
            "cache_read_input_tokens": 30,
            "cache_creation_input_tokens": 40,
            "output_tokens_details": {"thinking_tokens": 5},
        }
    )
    assert usage.to_dict() == {
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "total_tokens": 100,
        "reasoning_tokens": 5,
        "cache_read_tokens": 30,
        "cache_write_tokens": 40,
    }
    with pytest.raises(finite.NumberError, match="usage.cache_read_input_tokens"):
        usage_of({"input_tokens": 1, "output_tokens": 1, "cache_read_input_tokens": -1})


def test_a_stream_adds_up_to_its_message_and_a_cut_stream_is_malformed() -> None:
    whole = AnthropicServer().answer(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], "thinking": THINKING}, b""
    )
    streamed = events(whole)
    added = accumulate(streamed)
    assert added["content"] == whole["content"]
    assert added["usage"]["output_tokens"] == 20
    record = events_record(streamed)
    assert record["text"] == "echo[t=None]: hi"
    assert record["usage"]["reasoning_tokens"] == 12
    with pytest.raises(MalformedResponse, match="cut off after 3 events"):
        events_record(streamed[:3])


def test_a_price_with_cache_prices_and_one_without() -> None:
    assert price_of({"input": 1, "output": 2}) == (1.0, 2.0)
    assert price_of({"input": 1, "output": 2, "cache_read": 0.1}) == (1.0, 2.0, 0.1, 1.0)
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "cache_read_tokens": 100,
        "cache_write_tokens": 1000,
    }
    per = 1e6
    assert call_cost(usage, (1.0, 2.0)) == pytest.approx((10 + 40 + 100 + 1000) / per)
    assert call_cost(usage, (1.0, 2.0, 0.1, 3.0)) == pytest.approx((10 + 40 + 10 + 3000) / per)
    assert call_cost({"cache_read_tokens": 100}, (1.0, 2.0, 0.5, 3.0)) == pytest.approx(50 / per)


def test_the_estimates_know_an_anthropic_request() -> None:
    endpoint = {"api": "anthropic", "endpoint": "api.anthropic.com", "model": "m"}
    assert completion_estimate({"endpoint": endpoint, "params": {}}) == 1024
    assert completion_estimate({"endpoint": endpoint, "params": {"thinking": THINKING}}) == 3072
    assert completion_estimate({"endpoint": endpoint, "params": {"max_tokens": 50}}) == 50
    whole = message(
        {"type": "text", "text": "x" * 40},
        {"type": "thinking", "thinking": "y" * 40, "signature": "z" * 400},
    )
    assert received_estimate({"raw": whole}) == 20
    streamed = events(
        AnthropicServer().answer(
            {"model": "m", "messages": [{"role": "user", "content": "a b c"}]}, b""
        )
    )
    assert received_estimate({"events": streamed}) == 4  # a token a text delta at least


def test_retry_after_is_capped() -> None:
    class Base:
        def _calculate_retry_timeout(self, *args: Any, **kwargs: Any) -> float:
            return 86400.0

    assert _capped(Base)()._calculate_retry_timeout(1, None, None) == MAX_RETRY_AFTER


def test_without_the_sdk_a_live_call_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from pytest_xgen.errors import XgenConfigError
    from pytest_xgen.models.anthropic_messages import AnthropicModel

    monkeypatch.setitem(sys.modules, "anthropic", None)
    model = AnthropicModel("claude", model="claude-test", base_url="http://127.0.0.1:9")
    with pytest.raises(XgenConfigError) as found:
        model.chat([{"role": "user", "content": "hi"}])
    assert str(found.value) == (
        "model 'claude' (backend anthropic) needs the anthropic SDK, which is not installed: "
        "pip install 'pytest-xgen[anthropic]'"
    )


def test_a_time_out_names_the_endpoint_and_what_to_do() -> None:
    import anthropic
    import httpx2

    from pytest_xgen.errors import ModelCallError
    from pytest_xgen.models.anthropic_messages import AnthropicModel

    model = AnthropicModel("claude", model="m", base_url="http://127.0.0.1:9", timeout=1.5)
    with pytest.raises(ModelCallError) as found, model._translate_errors():
        raise anthropic.APITimeoutError(request=httpx2.Request("POST", "http://127.0.0.1:9"))
    assert str(found.value) == (
        "model 'claude' at http://127.0.0.1:9 did not answer within 1.5s after 2 retries; "
        "raise --xgen-timeout or check that the server is up"
    )


def test_a_stream_that_breaks_off_with_an_error_event_is_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_xgen.errors import ModelCallError
    from pytest_xgen.models.anthropic_messages import AnthropicModel

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-unit-0123456789")
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 8, "stream": True}
    with AnthropicServer() as server:
        model = AnthropicModel("claude", model="m", base_url=server.base_url, max_retries=1)
        server.overload_next(1)
        record = model.raw("messages", body, {})
        assert record["text"] == "echo[t=None]: hi" and len(server.received) == 2
        server.overload_next(2)
        with pytest.raises(
            ModelCallError, match=r"the stream broke off after 2 events: .*Overloaded"
        ):
            model.raw("messages", body, {})
