"""What the recorded client sends (pytest_xgen.recording.client_body): the parameters of a
``create()`` call as the openai client sends them, and a usage error naming the method and
the parameter for anything it could not send."""

from __future__ import annotations

import openai
import pytest
from openai.types.chat import ChatCompletionMessage

from pytest_xgen.errors import XgenConfigError
from pytest_xgen.recording.client_body import CALL_OPTIONS, call_options, given, sdk_body

WHERE = "xgen.client('qwen').chat.completions.create()"
HI = {"role": "user", "content": "hi"}


def test_the_body_is_what_the_sdk_sends():
    body = sdk_body(
        "chat",
        {"messages": (m for m in [HI]), "stop": ("a", "b"), "temperature": openai.NOT_GIVEN},
        WHERE,
    )
    assert body == {"messages": [HI], "stop": ["a", "b"]}
    message = ChatCompletionMessage(role="assistant", content="ok")
    assert sdk_body("chat", {"messages": [message]}, WHERE) == {
        "messages": [{"content": "ok", "role": "assistant"}]
    }
    assert sdk_body("completion", {"prompt": "x", "stream": True, "n": openai.omit}, WHERE) == {
        "prompt": "x",
        "stream": True,
    }


def test_the_prompt_or_messages_are_required():
    with pytest.raises(XgenConfigError) as chat:
        sdk_body("chat", {"temperature": 0}, WHERE)
    assert str(chat.value) == f'{WHERE} needs messages=[{{"role": "user", "content": "..."}}]'
    with pytest.raises(XgenConfigError) as completion:
        sdk_body("completion", {"messages": [HI]}, "W")
    assert str(completion.value) == 'W needs prompt="..."'
    with pytest.raises(XgenConfigError, match="needs prompt"):
        sdk_body("completion", {"prompt": openai.NOT_GIVEN}, "W")


def test_a_response_format_class_is_refused_with_the_schema_to_pass():
    class Answer:
        @staticmethod
        def model_json_schema() -> dict[str, str]:
            return {}

    with pytest.raises(XgenConfigError) as info:
        sdk_body("chat", {"messages": [HI], "response_format": Answer}, WHERE)
    assert str(info.value) == (
        f"{WHERE}: response_format=Answer is a class; create() takes a JSON schema (openai's "
        "create() refuses a class too; parse() is not recorded): response_format="
        '{"type": "json_schema", "json_schema": {"name": "Answer", "schema": '
        "Answer.model_json_schema()}}"
    )
    schema = {"type": "json_object"}
    body = sdk_body("chat", {"messages": [HI], "response_format": schema}, WHERE)
    assert body["response_format"] == schema


def test_messages_as_text_or_one_dict_are_refused():
    with pytest.raises(XgenConfigError) as text:
        sdk_body("chat", {"messages": "hello\x1b[5m"}, WHERE)
    assert str(text.value) == (
        f"{WHERE}: messages= takes a list of messages, e.g. "
        '[{"role": "user", "content": "..."}]; got a str (\'hello\\x1b[5m\')'
    )
    with pytest.raises(XgenConfigError) as raw:
        sdk_body("chat", {"messages": b"x" * 100}, WHERE)
    assert str(raw.value).endswith(f"got a bytes ({repr(b'x' * 100)[:57]}...)")
    with pytest.raises(XgenConfigError) as one:
        sdk_body("chat", {"messages": HI}, WHERE)
    assert str(one.value) == (
        f"{WHERE}: messages= takes a list of messages; got one message (a dict): put it in a list"
    )


def test_a_message_that_is_not_a_dict_is_named_by_its_index():
    with pytest.raises(XgenConfigError) as info:
        sdk_body("chat", {"messages": [HI, 42]}, WHERE)
    assert str(info.value) == (
        f"{WHERE}: message 1 is a int (42), not a message; pass a dict such as "
        '{"role": "user", "content": "..."} or a message object of the response'
    )


def test_messages_the_sdk_leaves_as_they_are_must_be_a_list():
    with pytest.raises(XgenConfigError) as info:
        sdk_body("chat", {"messages": 7}, WHERE)
    assert str(info.value) == f"{WHERE}: messages= takes a list of messages; got int"


def test_a_parameter_that_is_not_json_is_named():
    with pytest.raises(XgenConfigError) as info:
        sdk_body("chat", {"messages": [HI], "zeta": {1, 2}, "alpha": object()}, WHERE)
    message = str(info.value)
    assert message.startswith(f"{WHERE}: the parameter alpha is not JSON (")
    assert message.endswith(
        "); a recorded call keeps its parameters as the openai client sends them, as JSON values"
    )
    with pytest.raises(XgenConfigError, match="the parameter temperature is not JSON"):
        sdk_body("completion", {"prompt": "x", "temperature": float("nan")}, "W")


def test_given_leaves_out_what_was_not_given():
    assert given({"a": openai.NOT_GIVEN, "b": openai.omit, "c": None, "d": 0}) == {
        "c": None,
        "d": 0,
    }


def test_call_options_are_the_calls_over_the_clients():
    assert CALL_OPTIONS == ("extra_headers", "extra_query", "timeout")
    defaults = {
        "extra_headers": {"A": "1", "B": "2"},
        "extra_query": {"q": "1"},
        "timeout": 5.0,
        "max_retries": 2,
    }
    call = {"extra_headers": {"B": "3", "C": openai.NOT_GIVEN}, "timeout": openai.NOT_GIVEN}
    assert call_options(defaults, call) == {
        "extra_headers": {"A": "1", "B": "3"},
        "extra_query": {"q": "1"},
        "timeout": 5.0,
        "max_retries": 2,
    }
    # an explicit None time-out is no time-out; other None options are dropped
    assert call_options({"timeout": 5.0}, {"timeout": None, "extra_query": None}) == {
        "timeout": None
    }
    assert call_options({"extra_query": {"q": "1"}}, {"extra_query": {"r": "2"}}) == {
        "extra_query": {"q": "1", "r": "2"}
    }
    assert call_options({"extra_headers": {"A": "1"}}, {"extra_headers": None}) == {
        "extra_headers": {"A": "1"}
    }


def test_a_refused_value_is_shown_whole_up_to_sixty_characters():
    with pytest.raises(XgenConfigError) as whole:
        sdk_body("chat", {"messages": "m" * 58}, WHERE)
    assert str(whole.value).endswith(f"got a str ('{'m' * 58}')")
    with pytest.raises(XgenConfigError) as cut:
        sdk_body("chat", {"messages": "m" * 59}, WHERE)
    assert str(cut.value).endswith(f"got a str ('{'m' * 56}...)")
