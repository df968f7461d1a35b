"""Reading OpenAI Responses API answers: the text, the reasoning summary, the finish reason
and the usage of a response's JSON, and the recordings of the application's
``responses.create()`` (a whole answer, or every event of a stream).

A response's ``output`` is a list of items: ``message`` items hold the answer as
``output_text`` parts, ``reasoning`` items a summary of the reasoning (when one was asked
for), ``function_call`` items the tool calls.
"""

from __future__ import annotations

from typing import Any

from pytest_xgen.core import finite
from pytest_xgen.models.base import Usage

# The last event of a stream that is over.
TERMINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed", "error")


def failure(response: Any) -> str | None:
    """What went wrong with a ``failed`` response or an ``error`` event, or None."""
    if not isinstance(response, dict):
        return None
    if response.get("type") == "error":
        return f"{response.get('code') or 'error'}: {response.get('message') or ''}"
    if response.get("type") == "response.failed":
        response = response.get("response") or {}
    if not isinstance(response, dict) or response.get("status") != "failed":
        return None
    error = response.get("error")
    if isinstance(error, dict):
        return f"{error.get('code') or 'error'}: {error.get('message') or ''}"
    return "status failed, no error given"


def _items(response: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        item
        for item in response.get("output") or []
        if isinstance(item, dict) and item.get("type") == kind
    ]


def output_text(response: dict[str, Any]) -> str:
    """The answer text: every ``output_text`` part of the ``message`` items, joined as the
    SDK's ``Response.output_text`` joins them."""
    return "".join(
        part["text"]
        for item in _items(response, "message")
        for part in item.get("content") or []
        if isinstance(part, dict) and part.get("type") == "output_text"
        if isinstance(part.get("text"), str)
    )


def reasoning_summary(response: dict[str, Any]) -> str:
    """The reasoning summaries of the ``reasoning`` items, one paragraph a part (empty
    parts left out); ``""`` when the model gave none (no summary was asked for)."""
    parts = [
        part["text"].strip()
        for item in _items(response, "reasoning")
        for part in item.get("summary") or []
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    ]
    return "\n\n".join(p for p in parts if p)


def finish_reason(response: dict[str, Any]) -> str:
    """The answer's finish reason as a chat completion names it: ``stop`` (or
    ``tool_calls`` when it calls a function) for a completed response, ``length`` for one
    cut short by ``max_output_tokens``, else the ``incomplete_details`` reason."""
    if response.get("status") == "incomplete":
        details = response.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        return "length" if reason == "max_output_tokens" else str(reason or "incomplete")
    return "tool_calls" if _items(response, "function_call") else "stop"


def response_usage(usage: Any) -> Usage:
    """The usage of an answer: ``input_tokens`` and ``output_tokens`` as prompt and
    completion tokens, ``output_tokens_details.reasoning_tokens`` as reasoning tokens (part
    of the output); zeros where it has none. An impossible count is a
    :class:`finite.NumberError` naming it."""
    if not isinstance(usage, dict):
        return Usage()
    details = usage.get("output_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else 0
    counts = {
        "prompt_tokens": ("input_tokens", usage.get("input_tokens")),
        "completion_tokens": ("output_tokens", usage.get("output_tokens")),
        "total_tokens": ("total_tokens", usage.get("total_tokens")),
        "reasoning_tokens": ("output_tokens_details.reasoning_tokens", reasoning),
    }
    return Usage(
        **{
            name: int(finite.TOKENS.check(value or 0, f"usage.{field}"))
            for name, (field, value) in counts.items()
        }
    )


def response_record(raw: dict[str, Any]) -> dict[str, Any]:
    """The recording of one whole answer: its text (for the cassette's reader), its usage
    and the answer's JSON as the endpoint sent it."""
    record = {"text": output_text(raw), "usage": response_usage(raw.get("usage")).to_dict()}
    return finite.answer({**record, "raw": raw})


def events_record(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The recording of a stream: every event as sent, in order (so a replay yields the
    same events), the text its ``response.output_text.delta`` events add up to, and the
    usage of the response its last event carries."""
    text = "".join(
        str(e.get("delta") or "") for e in events if e.get("type") == "response.output_text.delta"
    )
    last = events[-1].get("response") if events else None
    usage = response_usage(last.get("usage") if isinstance(last, dict) else None)
    record = finite.answer({"text": text, "usage": usage.to_dict()})
    if next(finite.nonfinite(events), None) is not None:
        raise finite.NumberError("an event holds a number JSON cannot (NaN or Infinity)")
    return {**record, "events": events}
