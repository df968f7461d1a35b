"""``POST /v1/responses`` of the scripted server (:class:`tests.server.OpenAIServer`): OpenAI's
Responses API wire format, as the ``openai`` SDK parses it.

The answer text is the echo (``echo[t=T]: <last user message>``) or the noisy models' answer
(:func:`tests.server.noisy_answer`), as for chat completions. The output items:

- a ``reasoning`` item when the request has ``reasoning``, with a summary (one part a
  paragraph) when ``reasoning.summary`` is asked for: ``reasoning about <message>`` for the
  echo, the lines of a noisy answer before its last (which alone is then the message);
  the usage counts :data:`REASONING_TOKENS` reasoning tokens;
- a ``function_call`` of the first function tool when the request has tools and the last
  user message names that tool, else a ``message`` with the text as ``output_text``;
- ``max_output_tokens`` below the reasoning tokens plus the message's words cuts the answer
  (``status: incomplete``, ``incomplete_details.reason: max_output_tokens``), leaving out
  the message when nothing is left for it.

``stream: true`` answers server-sent events (``event:`` and ``data:`` lines, no ``[DONE]``):
``response.created``, ``response.in_progress``, for each item ``response.output_item.added``,
its parts and deltas (a delta a word) and ``response.output_item.done``, then
``response.completed`` (or ``response.incomplete``), each with its ``sequence_number``.

Faults: ``truncated`` cuts the JSON body in half, ``no_choices`` answers no output items,
``cut_stream`` sends half of a stream's events and half of the next, then closes the
connection (a JSON answer: cut in half), ``failed_response`` answers ``status: failed`` with
an ``error`` (a stream ends with ``response.failed``); every other fault is the server's
own.
"""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from http.server import BaseHTTPRequestHandler

    from tests.server import Fault, OpenAIServer

REASONING_TOKENS = 4
FAULTS = ("truncated", "no_choices", "cut_stream", "failed_response")
FAILED = {"code": "server_error", "message": "The model failed to answer."}


def input_messages(body: dict[str, Any]) -> list[dict[str, str]]:
    """The request's ``instructions`` and ``input`` as chat messages (role and text)."""
    messages = []
    if body.get("instructions"):
        messages.append({"role": "system", "content": str(body["instructions"])})
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    for item in items or []:
        if not isinstance(item, dict) or "role" not in item:
            continue  # an earlier answer's output item, a function call's output
        content = item.get("content")
        if isinstance(content, list):
            content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        role = "system" if item["role"] == "developer" else str(item["role"])
        messages.append({"role": role, "content": str(content or "")})
    return messages


def response(body: dict[str, Any], text: str, usage: dict[str, Any]) -> dict[str, Any]:
    """The Responses API answer to ``body`` whose answer text is ``text``; ``usage``: the
    server's (``prompt_tokens``, ``completion_tokens``)."""
    messages = input_messages(body)
    last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    reasoning = body.get("reasoning")
    output: list[dict[str, Any]] = []
    spent = 0
    if isinstance(reasoning, dict):
        summary: list[str] = []
        if reasoning.get("summary"):
            head, _, tail = text.rpartition("\n")
            summary, text = ([head], tail) if head.strip() else ([f"reasoning about {last}"], text)
            summary = [p for part in summary for p in part.split("\n\n")]
        parts = [{"type": "summary_text", "text": p} for p in summary]
        output.append({"id": "rs_1", "type": "reasoning", "summary": parts})
        spent = REASONING_TOKENS
    limit = body.get("max_output_tokens")
    words = text.split(" ")
    status, details = "completed", None
    if isinstance(limit, int) and limit < spent + len(words):
        status, details = "incomplete", {"reason": "max_output_tokens"}
        words = words[: max(limit - spent, 0)]
    tool = _called_tool(body, last)
    if tool is not None:
        arguments = json.dumps({"text": last})
        output.append(
            {
                "id": "fc_1",
                "type": "function_call",
                "call_id": "call_1",
                "name": tool,
                "arguments": arguments,
                "status": "completed",
            }
        )
    elif words:
        content = [{"type": "output_text", "text": " ".join(words), "annotations": []}]
        output.append(
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "status": status,
                "content": content,
            }
        )
    out = int(usage.get("completion_tokens") or 0) + spent
    prompt = int(usage.get("prompt_tokens") or 0)
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 0,
        "status": status,
        "incomplete_details": details,
        "error": None,
        "model": body.get("model", "echo"),
        "instructions": body.get("instructions"),
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "max_output_tokens": limit,
        "reasoning": reasoning,
        "text": {"format": {"type": "text"}},
        "truncation": "disabled",
        "metadata": {},
        "usage": {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": out,
            "output_tokens_details": {"reasoning_tokens": spent},
            "total_tokens": prompt + out,
        },
    }


def _called_tool(body: dict[str, Any], last: str) -> str | None:
    """The first function tool, when the last user message names it."""
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("type") == "function":
            name = str(tool.get("name", ""))
            return name if name and name in last else None
    return None


def events(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The server-sent events of ``answer`` streamed, in order, numbered."""
    started = {**answer, "status": "in_progress", "output": [], "usage": None}
    started["incomplete_details"] = None
    found: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
    ]
    for index, item in enumerate(answer["output"]):
        found += _item_events(index, item)
    last = {"completed": "response.completed", "failed": "response.failed"}.get(
        answer["status"], "response.incomplete"
    )
    found.append({"type": last, "response": answer})
    return [{**event, "sequence_number": n} for n, event in enumerate(found)]


def _item_events(index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    at = {"item_id": item["id"], "output_index": index}
    kind = item["type"]
    empty = {**item, "status": "in_progress"} if "status" in item else dict(item)
    found: list[dict[str, Any]] = []
    if kind == "reasoning":
        found.append(
            {
                "type": "response.output_item.added",
                "output_index": index,
                "item": {**item, "summary": []},
            }
        )
        for n, part in enumerate(item["summary"]):
            at_part = {**at, "summary_index": n}
            found.append(
                {
                    "type": "response.reasoning_summary_part.added",
                    **at_part,
                    "part": {"type": "summary_text", "text": ""},
                }
            )
            found += [
                {"type": "response.reasoning_summary_text.delta", **at_part, "delta": d}
                for d in _deltas(part["text"])
            ]
            found.append(
                {"type": "response.reasoning_summary_text.done", **at_part, "text": part["text"]}
            )
            found.append({"type": "response.reasoning_summary_part.done", **at_part, "part": part})
    elif kind == "message":
        found.append(
            {
                "type": "response.output_item.added",
                "output_index": index,
                "item": {**empty, "content": []},
            }
        )
        for n, part in enumerate(item["content"]):
            at_part = {**at, "content_index": n}
            found.append(
                {"type": "response.content_part.added", **at_part, "part": {**part, "text": ""}}
            )
            found += [
                {"type": "response.output_text.delta", **at_part, "delta": d, "logprobs": []}
                for d in _deltas(part["text"])
            ]
            found.append(
                {
                    "type": "response.output_text.done",
                    **at_part,
                    "text": part["text"],
                    "logprobs": [],
                }
            )
            found.append({"type": "response.content_part.done", **at_part, "part": part})
    elif kind == "function_call":
        found.append(
            {
                "type": "response.output_item.added",
                "output_index": index,
                "item": {**empty, "arguments": ""},
            }
        )
        found += [
            {"type": "response.function_call_arguments.delta", **at, "delta": d}
            for d in _deltas(item["arguments"])
        ]
        found.append(
            {
                "type": "response.function_call_arguments.done",
                **at,
                "arguments": item["arguments"],
                "name": item["name"],
            }
        )
    found.append({"type": "response.output_item.done", "output_index": index, "item": item})
    return found


def _deltas(text: str) -> list[str]:
    """``text`` a word at a time (a word with the space before it)."""
    words = text.split(" ")
    return [words[0], *(" " + w for w in words[1:])]


def _sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def serve(
    handler: BaseHTTPRequestHandler,
    server: OpenAIServer,
    body: dict[str, Any],
    raw: bytes,
    fault: Fault | None,
) -> None:
    """Answer ``POST /v1/responses`` (``fault``: one of :data:`FAULTS`, or None)."""
    from tests.server import NOISY_USAGE, noisy_answer

    h: Any = handler
    h._answered(body)
    messages = input_messages(body)
    if server.answers == "noisy":
        text = noisy_answer(str(body.get("model", "")), messages, raw)
        usage: dict[str, Any] = NOISY_USAGE
    else:
        last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        text = f"echo[t={body.get('temperature')}]: {last}"
        usage = server.usage
    answer = response(body, text, usage)
    kind = fault.kind if fault is not None else None
    if kind == "no_choices":
        answer = {**answer, "output": []}
    if kind == "failed_response":
        answer = {**answer, "status": "failed", "error": FAILED, "output": []}
    if not body.get("stream") or kind == "no_choices":
        data = json.dumps(answer).encode()
        h._send(200, data[: len(data) // 2] if kind in ("truncated", "cut_stream") else data)
        return
    h._leave()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.end_headers()
    sent = events(answer)
    if kind in ("truncated", "cut_stream"):
        half = len(sent) // 2
        handler.wfile.write(b"".join(_sse(e) for e in sent[:half]))
        cut = _sse(sent[half])
        handler.wfile.write(cut[: len(cut) // 2])
        handler.wfile.flush()
        h.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)
        return
    for event in sent:
        handler.wfile.write(_sse(event))
        handler.wfile.flush()
    h.close_connection = True
