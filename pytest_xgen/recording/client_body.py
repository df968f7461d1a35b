"""What the recorded client sends: the parameters of a ``create()`` call as the ``openai``
client would send them, and the call options that go with it but are never recorded.

``openai.NOT_GIVEN`` and ``openai.omit`` are left out (as if not passed), message objects
and other Pydantic models are dumped as the SDK dumps them (``exclude_unset``), and
iterables (a generator of messages, a tuple of stop words) become lists: the SDK's own
transform does it, so the key and the live request hold what the SDK would have sent.
What it would not send as JSON either is a usage error naming the parameter.
"""

from __future__ import annotations

from typing import Any

from pytest_xgen.core.printable import printable
from pytest_xgen.errors import XgenConfigError, hide_frame
from pytest_xgen.recording.store import canonical_json

__tracebackhide__ = hide_frame

CALL_OPTIONS = ("extra_headers", "extra_query", "timeout")
"""Options of ``create()`` that shape the HTTP call, not the answer: they go with a live
call and are never part of a recording (headers and query values may hold credentials)."""


def last_user(messages: Any) -> str:
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return str(users[-1].get("content", "")) if users else ""


def _params_type(kind: str, streaming: bool) -> Any:
    """The SDK's typed dict of ``create()``'s parameters (what its transform follows)."""
    if kind == "chat":
        from openai.types.chat import completion_create_params as params
    else:
        from openai.types import completion_create_params as params  # type: ignore[no-redef]
    if streaming:
        return params.CompletionCreateParamsStreaming
    return params.CompletionCreateParamsNonStreaming


def given(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` without the ones left as ``NOT_GIVEN``/``omit``."""
    from openai._utils import is_given

    return {k: v for k, v in options.items() if is_given(v)}


def call_options(defaults: dict[str, Any], call: dict[str, Any]) -> dict[str, Any]:
    """The options of one call (``extra_headers``, ``extra_query``, ``timeout``) over the
    client's (``with_options()``; its ``max_retries`` too): headers and query values merged,
    a ``NOT_GIVEN``/``omit`` value left out (``timeout=None`` is no time-out, as in openai)."""
    options = {**given(defaults), **given(call)}
    for name in ("extra_headers", "extra_query"):
        merged = {**(given(defaults.get(name) or {})), **(given(call.get(name) or {}))}
        if merged:
            options[name] = merged
        else:
            options.pop(name, None)
    return {k: v for k, v in options.items() if v is not None or k == "timeout"}


CLIENT_CALL_KEYWORDS = frozenset(
    {
        "timeout",
        "max_retries",
        "default_headers",
        "set_default_headers",
        "default_query",
        "set_default_query",
    }
)
"""What a recorded client's ``with_options()`` keeps for its live calls (never recorded)."""


def client_options(
    current: dict[str, Any], options: dict[str, Any], where: str, table: frozenset[str]
) -> dict[str, Any]:
    """The call options of a recorded client's ``with_options(**options)`` over its
    ``current`` ones, as the SDKs merge them: ``default_headers``/``default_query`` into
    the calls' ``extra_headers``/``extra_query`` (``set_default_*`` replacing them),
    ``timeout`` and ``max_retries`` as given. The SDK's connection settings (``table``:
    the key, ``base_url``, ...) are accepted and left to the model's table; any other
    keyword is a usage error naming ``where``."""
    unknown = sorted(set(options) - CLIENT_CALL_KEYWORDS - table)
    if unknown:
        raise XgenConfigError(
            f"{where}.with_options() got an unexpected keyword {unknown[0]!r}; it "
            f"takes {', '.join(sorted(CLIENT_CALL_KEYWORDS | table))}"
        )
    merged = dict(current)
    for name, key, replace in (
        ("default_headers", "extra_headers", False),
        ("set_default_headers", "extra_headers", True),
        ("default_query", "extra_query", False),
        ("set_default_query", "extra_query", True),
    ):
        if options.get(name) is not None:
            base = {} if replace else dict(merged.get(key) or {})
            merged[key] = {**base, **options[name]}
    for name in ("timeout", "max_retries"):
        if name in options:
            merged[name] = options[name]
    return merged


def sdk_body(kind: str, kwargs: dict[str, Any], where: str) -> dict[str, Any]:
    """``kwargs`` (without ``model`` and the call options) as the ``openai`` client would
    send them, checked to be JSON. ``where`` names the method in an error, e.g.
    ``xgen.client('qwen').chat.completions.create()``."""
    from openai._utils import maybe_transform

    kwargs = given(kwargs)
    field = "messages" if kind == "chat" else "prompt"
    if field not in kwargs:
        example = '[{"role": "user", "content": "..."}]' if kind == "chat" else '"..."'
        raise XgenConfigError(f"{where} needs {field}={example}")
    response_format = kwargs.get("response_format")
    if isinstance(response_format, type):
        raise XgenConfigError(
            f"{where}: response_format={response_format.__name__} is a class; create() "
            "takes a JSON schema (openai's create() refuses a class too; parse() is not "
            'recorded): response_format={"type": "json_schema", "json_schema": {"name": '
            f'"{response_format.__name__}", "schema": {response_format.__name__}'
            ".model_json_schema()}}"
        )
    if kind == "chat":
        check_messages(kwargs["messages"], where)
    body: dict[str, Any] = dict(
        maybe_transform(kwargs, _params_type(kind, bool(kwargs.get("stream")))) or {}
    )
    if kind == "chat":
        check_each_message(body["messages"], where)
    return json_params(body, where)


def json_params(
    body: dict[str, Any], where: str, sender: str = "the openai client"
) -> dict[str, Any]:
    """``body``, each of whose parameters must be a JSON value (a usage error naming the
    first that is not, and ``sender``, what sends them)."""
    for name in sorted(body):
        try:
            canonical_json(body[name])
        except (TypeError, ValueError) as exc:
            raise XgenConfigError(
                f"{where}: the parameter {name} is not JSON ({exc}); a recorded call keeps "
                f"its parameters as {sender} sends them, as JSON values"
            ) from None
    return body


def responses_body(kind: str, kwargs: dict[str, Any], where: str) -> dict[str, Any]:
    """``kwargs`` of ``responses.create()`` (without ``model`` and the call options) as the
    ``openai`` client would send them (its transform applied), checked to be JSON: ``input``
    is required (a call that sends none, with ``previous_response_id`` or a stored prompt
    alone, would depend on state kept on the server), an argument ``create()`` does not
    take is a usage error as in ``openai``."""
    from openai._utils import maybe_transform
    from openai.types.responses import response_create_params as params

    kwargs = given(kwargs)
    if "input" not in kwargs:
        raise XgenConfigError(
            f'{where} needs input="..." or input=[{{"role": "user", "content": "..."}}]'
        )
    streaming = bool(kwargs.get("stream"))
    typed = (
        params.ResponseCreateParamsStreaming
        if streaming
        else params.ResponseCreateParamsNonStreaming
    )
    unknown = sorted(set(kwargs) - set(typed.__annotations__) - {"extra_body"})
    if unknown:
        raise XgenConfigError(
            f"{where} got an unexpected keyword argument {unknown[0]!r} (as openai's "
            "responses.create() would); put a parameter of your endpoint's own in extra_body"
        )
    if isinstance(kwargs["input"], bytes | dict):
        raise XgenConfigError(
            f"{where}: input= takes a string or a list of input items; got a "
            f"{type(kwargs['input']).__name__} ({preview(kwargs['input'])})"
        )
    body: dict[str, Any] = dict(maybe_transform(kwargs, typed) or {})
    if isinstance(body["input"], tuple):  # sent as a JSON array
        body["input"] = list(body["input"])
    if isinstance(body["input"], list):
        for index, item in enumerate(body["input"]):
            if not isinstance(item, dict):
                raise XgenConfigError(
                    f"{where}: input item {index} is a {type(item).__name__} "
                    f"({preview(item)}), not an item; pass a dict such as "
                    '{"role": "user", "content": "..."} or an output item of a response'
                )
    return json_params(body, where)


def input_shown(value: Any) -> str:
    """What a progress line and a miss show of a Responses ``input``: the text of its last
    user message (or the string itself)."""
    if isinstance(value, str):
        return value
    users = [i for i in value if isinstance(i, dict) and i.get("role") == "user"]
    content = users[-1].get("content", "") if users else ""
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content)


def check_messages(messages: Any, where: str) -> None:
    if isinstance(messages, str | bytes):
        raise XgenConfigError(
            f"{where}: messages= takes a list of messages, e.g. "
            f'[{{"role": "user", "content": "..."}}]; got a {type(messages).__name__} '
            f"({preview(messages)})"
        )
    if isinstance(messages, dict):
        raise XgenConfigError(
            f"{where}: messages= takes a list of messages; got one message (a dict): "
            "put it in a list"
        )


def check_each_message(messages: Any, where: str) -> None:
    if not isinstance(messages, list):
        raise XgenConfigError(
            f"{where}: messages= takes a list of messages; got {type(messages).__name__}"
        )
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise XgenConfigError(
                f"{where}: message {index} is a {type(message).__name__} "
                f"({preview(message)}), not a message; pass a dict such as "
                '{"role": "user", "content": "..."} or a message object of the response'
            )


def preview(value: Any) -> str:
    text = printable(repr(value))
    return text if len(text) <= 60 else text[:57] + "..."
