"""What the recorded anthropic client sends: the parameters of a ``messages.create()`` call
as the ``anthropic`` SDK would send them.

``anthropic.NOT_GIVEN`` and ``anthropic.omit`` are left out (as if not passed), content
blocks and other Pydantic models of the SDK are dumped as it dumps them, and iterables (a
generator of messages, a tuple of stop sequences) become lists: the SDK's own preparation of
a request body does it, so the key and the live request hold what the SDK would have sent.
A parameter the installed SDK's ``create()`` does not take, a missing ``messages`` or
``max_tokens``, and what is not JSON are usage errors naming the parameter.
"""

from __future__ import annotations

from typing import Any

from pytest_xgen.errors import XgenConfigError, hide_frame
from pytest_xgen.models.anthropic_messages import create_keywords
from pytest_xgen.recording.client_body import (
    check_each_message,
    check_messages,
    json_params,
)

__tracebackhide__ = hide_frame

# create()'s own keywords that are no part of the body (the recorded client takes them as
# call options, or, for ``stream``, from the method called).
_NOT_BODY = frozenset({"self", "extra_headers", "extra_query", "timeout"})


def given(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` without the ones left as ``anthropic.NOT_GIVEN``/``anthropic.omit``."""
    from anthropic._utils import is_given

    return {k: v for k, v in options.items() if is_given(v)}


def _prepared(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` as the SDK prepares a request body (sentinels dropped at every depth,
    models dumped, iterables as lists)."""
    try:
        from anthropic._utils import prepare_request_data
    except ImportError:  # before 2.x the SDK's transform did it
        from anthropic._utils import maybe_transform  # type: ignore[attr-defined]
        from anthropic.types import message_create_params

        params = message_create_params.MessageCreateParamsNonStreaming
        return dict(maybe_transform(body, params) or {})
    return dict(prepare_request_data(body, location="body") or {})


def _keywords() -> frozenset[str]:
    """What the installed SDK's ``messages.create()`` takes as body parameters (read once,
    by :func:`~pytest_xgen.models.anthropic_messages.create_keywords`)."""
    import anthropic

    return create_keywords(anthropic) - _NOT_BODY


def body(kind: str, kwargs: dict[str, Any], where: str) -> dict[str, Any]:
    """``kwargs`` (without ``model`` and the call options) as the ``anthropic`` SDK would
    send them, checked to be what its ``create()`` takes and JSON. ``where`` names the
    method in an error, e.g. ``xgen.anthropic_client('claude').messages.create()``."""
    kwargs = given(kwargs)
    known = _keywords()
    unknown = sorted(set(kwargs) - known - {"stream"})
    if unknown:
        raise XgenConfigError(
            f"{where} got an unexpected keyword argument {unknown[0]!r}: the installed "
            "anthropic SDK's messages.create() does not take it (it takes "
            f"{', '.join(sorted(known - {'model'}))}); pass what the API takes besides them "
            "in extra_body={...}"
        )
    for name, example in (
        ("messages", '[{"role": "user", "content": "..."}]'),
        ("max_tokens", "1024"),
    ):
        if name not in kwargs:
            raise XgenConfigError(f"{where} needs {name}={example} (the API requires it)")
    check_messages(kwargs["messages"], where)
    prepared = _prepared(kwargs)
    check_each_message(prepared["messages"], where)
    json_params(prepared, where, "the anthropic SDK")
    return prepared


def last_user(messages: Any) -> str:
    """What the progress line and a miss show of a call: its last user turn's text (a
    string, or the text of its text blocks)."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        return ""
    content = users[-1].get("content", "")
    if isinstance(content, list):
        return " ".join(
            str(b.get("text", "")) for b in content if isinstance(b, dict) and "text" in b
        )
    return str(content)
