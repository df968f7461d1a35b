"""Reading Responses API answers (odd ones included), the parameters the backend sends, and
the recordings of the application's ``responses.create()``."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_xgen.core import finite
from pytest_xgen.errors import XgenConfigError
from pytest_xgen.models.call_errors import MalformedResponse
from pytest_xgen.models.openai_responses import response_result, responses_params
from pytest_xgen.models.responses_answer import events_record, failure, response_record
from pytest_xgen.recording import cost, derived
from pytest_xgen.recording.client_kinds import CLIENT_KINDS
from tests.responses_server import events, response

USAGE = {"prompt_tokens": 7, "completion_tokens": 5}


def answer(text: str = "Answer: 7", **body: Any) -> dict[str, Any]:
    return response({"model": "m", "input": "What is 3 + 4?", **body}, text, USAGE)


def test_the_text_is_the_message_and_the_reasoning_the_summary() -> None:
    found = response_result(
        answer("1. Add.\n\n2. Check.\nAnswer: 7", reasoning={"summary": "auto"}), "m"
    )
    assert (found.text, found.reasoning, found.reasoning_source) == (
        "Answer: 7",
        "1. Add.\n\n2. Check.",
        "reasoning summary",
    )
    assert found.finish_reason == "stop"
    assert found.usage.to_dict() == {
        "prompt_tokens": 7,
        "completion_tokens": 9,
        "total_tokens": 16,
        "reasoning_tokens": 4,
    }


def test_an_empty_summary_is_no_reasoning() -> None:
    data = answer(reasoning={"effort": "low"})  # a reasoning item, summary []
    assert data["output"][0] == {"id": "rs_1", "type": "reasoning", "summary": []}
    found = response_result(data, "m")
    assert (found.reasoning, found.reasoning_source, found.text) == ("", "", "Answer: 7")
    blank = answer(reasoning={"summary": "auto"})
    blank["output"][0]["summary"] = [{"type": "summary_text", "text": "  \n"}]
    assert response_result(blank, "m").reasoning == ""


def test_reasoning_that_ate_the_limit_leaves_no_message_and_finishes_for_length() -> None:
    data = answer(reasoning={"summary": "auto"}, max_output_tokens=3)
    assert [item["type"] for item in data["output"]] == ["reasoning"]
    found = response_result(data, "m")
    assert (found.text, found.finish_reason) == ("", "length")
    assert found.reasoning == "reasoning about What is 3 + 4?"


def test_incomplete_details_name_the_finish_reason() -> None:
    data = answer("a b c d", max_output_tokens=2)
    assert response_result(data, "m").text == "a b"
    data["incomplete_details"] = {"reason": "content_filter"}
    assert response_result(data, "m").finish_reason == "content_filter"
    data["incomplete_details"] = None
    assert response_result(data, "m").finish_reason == "incomplete"


def test_a_function_call_has_no_text_and_finishes_for_tool_calls() -> None:
    tools = [{"type": "function", "name": "lookup"}]
    data = response({"model": "m", "input": "lookup x", "tools": tools}, "x", USAGE)
    found = response_result(data, "m")
    assert (found.text, found.finish_reason) == ("", "tool_calls")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("<html>", "not a JSON response"),
        ([], "not a JSON object but list"),
        ({"status": "completed", "output": []}, "no output items"),
        ({"status": "completed"}, "no output items"),
        ({"status": "queued", "output": []}, "status 'queued': the response is not finished"),
    ],
)
def test_what_is_no_answer_is_malformed(data: Any, problem: str) -> None:
    with pytest.raises(MalformedResponse, match=problem):
        response_result(data, "m")


def test_an_impossible_count_is_named_by_its_field() -> None:
    data = answer()
    data["usage"]["output_tokens_details"]["reasoning_tokens"] = -1
    with pytest.raises(finite.NumberError, match="usage.output_tokens_details.reasoning_tokens"):
        response_result(data, "m")


def test_failures_are_named() -> None:
    failed = {"status": "failed", "error": {"code": "server_error", "message": "boom"}}
    assert failure(failed) == "server_error: boom"
    assert failure({"type": "response.failed", "response": failed}) == "server_error: boom"
    assert failure({"type": "error", "code": "bad", "message": "no"}) == "bad: no"
    assert failure(answer()) is None


def test_params_are_sent_as_the_api_takes_them() -> None:
    sent = responses_params("r", {"max_tokens": 64, "seed": 3, "temperature": 0})
    assert sent == {"max_output_tokens": 64, "temperature": 0}
    both = responses_params("r", {"max_tokens": 64, "max_output_tokens": 2000})
    assert both == {"max_output_tokens": 2000}
    with pytest.raises(XgenConfigError, match="'max_completion_tokens': use max_output_tokens"):
        responses_params("r", {"max_completion_tokens": 5})
    with pytest.raises(XgenConfigError, match=r"model 'r' \(backend openai-responses\)"):
        responses_params("r", {"top_k": 5})


def test_the_estimate_reads_the_input_and_the_output_limit() -> None:
    request = {"input": "x" * 400, "params": {"max_output_tokens": 1000, "max_tokens": 10}}
    assert cost.estimate(request) == (100 + len('""') // 4, 1000)


def test_a_recording_is_what_its_replay_returns() -> None:
    data = answer(reasoning={"summary": "auto"})
    whole = response_record(data)
    assert (whole["text"], whole["usage"]["reasoning_tokens"]) == ("Answer: 7", 4)
    streamed = events_record(events(data))
    assert streamed["text"] == "Answer: 7" and streamed["usage"] == whole["usage"]
    for record in (whole, streamed):
        entry = {"request": {"kind": "client.responses"}, "response": record}
        assert derived.mismatch(entry) is None
        edited = {**entry, "response": {**record, "text": "Answer: 8"}}
        assert "response.text is " in str(derived.mismatch(edited))
    chunks = {"request": {"kind": "client.responses"}, "response": {**whole, "chunks": []}}
    assert derived.mismatch(chunks) == (
        "a call of xgen.client() records its answer in response.raw or response.events, and "
        "this one has both (edited?)"
    )


def test_the_client_body_needs_input_and_takes_only_what_create_takes() -> None:
    body = CLIENT_KINDS["responses"].body
    where = "t: xgen.client('r').responses.create()"
    sent = body("responses", {"input": ({"role": "user", "content": "hi"},), "top_p": 1}, where)
    assert sent == {"input": [{"role": "user", "content": "hi"}], "top_p": 1}
    with pytest.raises(XgenConfigError, match=r"needs input="):
        body("responses", {"instructions": "x"}, where)
    with pytest.raises(XgenConfigError, match="unexpected keyword argument 'messages'"):
        body("responses", {"input": "hi", "messages": []}, where)
    with pytest.raises(XgenConfigError, match="input item 0 is a int"):
        body("responses", {"input": [3]}, where)
    shown = CLIENT_KINDS["responses"].shown
    assert shown([{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}]) == "hi"


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_that_is_not_json_is_retried_then_an_error(stream: bool) -> None:
    from pytest_xgen.errors import ModelCallError
    from pytest_xgen.models.openai_responses import OpenAIResponsesModel
    from tests.server import OpenAIServer

    with OpenAIServer() as server:
        spec = {"base_url": server.base_url, "model": "echo"}
        model = OpenAIResponsesModel.from_spec("r", spec, timeout=5, max_retries=1)
        server.fault_next("html", 2)
        with pytest.raises(ModelCallError, match="sent a malformed response .* after 1 retries"):
            model.raw("responses", {"input": "hi", "stream": stream}, {})
        assert server.log == ["html", "html"]
        assert model.raw("responses", {"input": "hi", "stream": stream}, {})["text"] == (
            "echo[t=None]: hi"
        )


def _posted(server: Any, body: dict[str, Any]) -> bytes:
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{server.base_url}/responses",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        data: bytes = response.read()
        return data


def test_the_scripted_stream_is_typed_events_without_done_and_can_be_cut() -> None:
    from tests.server import OpenAIServer

    with OpenAIServer() as server:
        whole = _posted(server, {"model": "m", "input": "hi", "stream": True})
        server.fault_next("cut_stream")
        cut = _posted(server, {"model": "m", "input": "hi", "stream": True})
    blocks = whole.decode().split("\n\n")
    assert blocks[0].startswith("event: response.created\ndata: {")
    assert blocks[-2].startswith("event: response.completed\n") and blocks[-1] == ""
    assert b"[DONE]" not in whole
    assert whole.startswith(cut) and len(cut) < len(whole)  # the same events, cut short
    assert not cut.endswith(b"\n\n")  # cut off inside an event


def test_an_answer_without_usage_is_counted_from_its_items() -> None:
    data = answer("word " * 40, reasoning={"summary": "auto"})
    del data["usage"]
    request = {"input": "x" * 40, "params": {}}
    spent = cost.spent_tokens(request, response_record(data))
    assert spent["completion_tokens"] >= 50  # 200 characters of text, 4 to a token
    assert spent["prompt_tokens"] == 10


def test_replayed_events_are_what_the_sdk_builds() -> None:
    from openai._models import construct_type
    from openai.types.responses import ResponseStreamEvent

    from pytest_xgen.recording.client import answer as replayed

    data = answer("1. Add.\nAnswer: 7", reasoning={"summary": "auto"})
    sent = events(data) + [{"type": "response.some_future_event", "sequence_number": 99}]
    found = list(replayed("responses", {"events": sent}))
    built = [construct_type(type_=ResponseStreamEvent, value=e) for e in sent]
    assert [type(e) for e in found] == [type(e) for e in built]
    assert found == built and [e.to_dict() for e in found] == sent
