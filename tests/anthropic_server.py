"""A scripted Anthropic Messages API on 127.0.0.1, for the tests: ``POST /v1/messages``
answered as JSON, or as server-sent events (``event:`` and ``data:`` lines) when the
request streams, as the ``anthropic`` SDK reads them.

``AnthropicServer(answers=...)``:

``"echo"`` (the default)
    The text is ``echo[t=T]: <last user text>``.
``"noisy"``
    The text is what :func:`tests.server.noisy_answer` gives the ``model`` string's
    settings (the check's prompts: elicit, transfer, strip).

Whatever the text, a request with ``thinking`` enabled (or adaptive) is answered with a
``thinking`` block first (the explanation part of the text, the text keeping its
``Answer:`` line; else ``thinking about <last user text>``), streamed as
``thinking_delta`` and ``signature_delta`` events; a last user text holding ``[redact]``
gets a ``redacted_thinking`` block instead. A request with ``tools`` whose last user turn
holds no ``tool_result`` is answered with a ``tool_use`` block of the first tool
(``input = {"text": <last user text>}``, streamed as ``input_json_delta``). Every answer's
usage has ``input_tokens`` and ``output_tokens`` (:attr:`AnthropicServer.usage`), the two
cache counts (0 unless the request holds a ``cache_control``: 100 written the first time a
system and tools are seen, 100 read after) and ``output_tokens_details.thinking_tokens``
when it thought. A stream starts with ``message_start`` and a ``ping`` and ends with
``message_delta`` (the stop reason and the usage) and ``message_stop``.

Faults: :meth:`AnthropicServer.fail_next` (an HTTP status with the API's error JSON and
headers such as ``retry-after``: 429 ``rate_limit_error``, 529 ``overloaded_error``, 500
``api_error``...), :meth:`AnthropicServer.cut_next` (a stream that stops in the middle of
an event and closes) and :meth:`AnthropicServer.overload_next` (a stream that breaks off
with an ``error`` event). A request without a key gets 401 (``x-api-key``, or
``Authorization: Bearer``, which the SDK's 2.x versions send).

It keeps ``received`` (every request's body), ``requests`` (those answered), ``headers``
(each request's, names in lower case) and ``arrivals`` (their ``time.monotonic()``).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.server import _HTTPServer, noisy_answer

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
CACHED = 100  # tokens a cache_control request writes the first time, and reads after
THINKING_TOKENS = 12
SIGNATURE = "c2lnbmF0dXJlLW9mLXRoZS10aGlua2luZw=="
REDACTED = "RW5jcnlwdGVkIHRoaW5raW5nIHRoYXQgbm9ib2R5IGNhbiByZWFk"


@dataclass
class _Fault:
    kind: str  # "status", "cut" or "overloaded"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    echo_key: bool = False


def last_user_text(messages: list[Any]) -> str:
    """The text of the last user turn: a string, or its text and tool-result blocks."""
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        parts = []
        for block in content or []:
            if block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            elif block.get("type") == "tool_result":
                parts.append(f"tool said {block.get('content')}")
        return " ".join(parts)
    return ""


def _plain(body: dict[str, Any]) -> list[dict[str, str]]:
    """The request as chat messages of plain text (the system first), for noisy_answer."""
    system = body.get("system") or ""
    if isinstance(system, list):
        system = "".join(str(b.get("text", "")) for b in system)
    turns = [{"role": "system", "content": system}] if system else []
    for message in body.get("messages") or []:
        content = message.get("content")
        if not isinstance(content, str):
            content = " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
        turns.append({"role": message["role"], "content": content})
    return turns


class AnthropicServer:
    """Start with :meth:`start` (or as a context manager); stop with :meth:`stop`."""

    def __init__(self, answers: str = "echo", *, port: int = 0) -> None:
        if answers not in ("echo", "noisy"):
            raise ValueError(f"answers is echo or noisy, not {answers!r}")
        self.answers = answers
        self.lock = threading.Lock()
        self.usage = {"input_tokens": 10, "output_tokens": 20}
        self.scripted: list[_Fault] = []
        self.received: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.arrivals: list[float] = []
        self.cached: set[str] = set()
        self._stopped = False
        self.httpd = _HTTPServer(("127.0.0.1", port), self._handler())
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- control ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        """How the plugin names this server in its messages."""
        return f"127.0.0.1:{self.port}"

    @property
    def calls(self) -> int:
        return len(self.requests)

    def fail_next(
        self,
        count: int,
        status: int,
        headers: dict[str, str] | None = None,
        *,
        echo_key: bool = False,
    ) -> None:
        """Answer the next ``count`` requests with ``status`` and the API's error JSON, whose
        message repeats the request's key when ``echo_key``, as some gateways do."""
        fault = _Fault("status", status, dict(headers or {}), echo_key)
        with self.lock:
            self.scripted.extend([fault] * count)

    def cut_next(self, count: int = 1) -> None:
        """Cut the next ``count`` streams off in the middle of an event."""
        with self.lock:
            self.scripted.extend(_Fault("cut") for _ in range(count))

    def overload_next(self, count: int = 1) -> None:
        """Break the next ``count`` streams off with an ``error`` event (``overloaded_error``)
        after their first events, as the API does when it is overloaded mid-stream."""
        with self.lock:
            self.scripted.extend(_Fault("overloaded") for _ in range(count))

    def start(self) -> AnthropicServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        with self.lock:
            if self._stopped:
                return
            self._stopped = True
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> AnthropicServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answers ----------------------------------------------------------------------------
    def answer(self, body: dict[str, Any], raw: bytes) -> dict[str, Any]:
        """The message ``body`` is answered with."""
        messages = body.get("messages") or []
        last = last_user_text(messages)
        if self.answers == "noisy":
            text = noisy_answer(str(body.get("model", "")), _plain(body), raw)
        else:
            text = f"echo[t={body.get('temperature')}]: {last}"
        blocks: list[dict[str, Any]] = []
        thinking = body.get("thinking") or {}
        thought = thinking.get("type") in ("enabled", "adaptive")
        if thought:
            if "[redact]" in last:
                blocks.append({"type": "redacted_thinking", "data": REDACTED})
            else:
                head, sep, tail = text.rpartition("\nAnswer:")
                reasoning = head if sep else f"thinking about {last}"
                text = f"Answer:{tail}" if sep else text
                blocks.append({"type": "thinking", "thinking": reasoning, "signature": SIGNATURE})
        tools = body.get("tools") or []
        turn = messages[-1] if messages else {}
        answered_tool = isinstance(turn.get("content"), list) and any(
            b.get("type") == "tool_result" for b in turn["content"]
        )
        stop = "end_turn"
        if tools and not answered_tool:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": tools[0]["name"],
                    "input": {"text": last},
                }
            )
            stop = "tool_use"
        else:
            blocks.append({"type": "text", "text": text})
        return {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", ""),
            "content": blocks,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": self._usage(body, thought),
        }

    def _usage(self, body: dict[str, Any], thought: bool) -> dict[str, Any]:
        usage: dict[str, Any] = {
            **self.usage,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        if "cache_control" in json.dumps(body):
            prefix = json.dumps([body.get("system"), body.get("tools")], sort_keys=True)
            with self.lock:
                seen = prefix in self.cached
                self.cached.add(prefix)
            usage["cache_read_input_tokens" if seen else "cache_creation_input_tokens"] = CACHED
        if thought:
            usage["output_tokens_details"] = {"thinking_tokens": THINKING_TOKENS}
        return usage

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                with server.lock:
                    server.received.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    server.arrivals.append(time.monotonic())
                    fault = server.scripted.pop(0) if server.scripted else None
                if not self.path.startswith("/v1/messages"):
                    self._error(404, {})
                elif not (self.headers.get("x-api-key") or self.headers.get("authorization")):
                    self._error(401, {})
                elif fault is not None and fault.kind == "status":
                    self._error(fault.status, fault.headers, echo_key=fault.echo_key)
                else:
                    message = server.answer(body, raw)
                    with server.lock:
                        server.requests.append(body)
                    if body.get("stream"):
                        self._stream(message, fault=fault.kind if fault else "")
                    else:
                        self._send(200, json.dumps(message).encode())

            def _send(
                self, status: int, data: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("request-id", "req_01")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _error(
                self, status: int, headers: dict[str, str], *, echo_key: bool = False
            ) -> None:
                kind = ERROR_TYPES.get(status, "api_error")
                error = {"type": kind, "message": f"scripted {kind} ({status})"}
                if echo_key:
                    key = self.headers.get("x-api-key") or self.headers.get("authorization") or ""
                    error["message"] += f": the key {key.removeprefix('Bearer ')} is not valid"
                self._send(status, json.dumps({"type": "error", "error": error}).encode(), headers)

            def _stream(self, message: dict[str, Any], *, fault: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for index, event in enumerate(events(message)):
                    data = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
                    if fault == "cut" and index == 3:
                        self.wfile.write(data[: len(data) // 2])
                        self.wfile.flush()
                        break
                    if fault == "overloaded" and index == 3:
                        error = {"type": "overloaded_error", "message": "Overloaded"}
                        event = json.dumps({"type": "error", "error": error})
                        self.wfile.write(f"event: error\ndata: {event}\n\n".encode())
                        self.wfile.flush()
                        break
                    self.wfile.write(data)
                    self.wfile.flush()
                self.close_connection = True

        return Handler


def events(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The server-sent events that stream ``message``, as the API sends them."""
    usage = message["usage"]
    start_usage = {**usage, "output_tokens": 1}
    start_usage.pop("output_tokens_details", None)
    head = {**message, "content": [], "stop_reason": None, "usage": start_usage}
    out: list[dict[str, Any]] = [
        {"type": "message_start", "message": head},
        {"type": "ping"},
    ]
    for index, block in enumerate(message["content"]):
        kind = block["type"]
        if kind == "text":
            out.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                }
            )
            words = block["text"].split(" ")
            for n, word in enumerate(words):
                piece = word if n == 0 else " " + word
                out.append(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": piece},
                    }
                )
        elif kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            out.append({"type": "content_block_start", "index": index, "content_block": start})
            text = block["thinking"]
            for piece in (text[: len(text) // 2], text[len(text) // 2 :]):
                out.append(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "thinking_delta", "thinking": piece},
                    }
                )
            out.append(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "signature_delta", "signature": block["signature"]},
                }
            )
        elif kind == "tool_use":
            empty = {**block, "input": {}}
            out.append({"type": "content_block_start", "index": index, "content_block": empty})
            arguments = json.dumps(block["input"])
            for piece in (arguments[:5], arguments[5:]):
                out.append(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    }
                )
        else:  # redacted_thinking comes whole
            out.append({"type": "content_block_start", "index": index, "content_block": block})
        out.append({"type": "content_block_stop", "index": index})
    delta_usage = {k: v for k, v in usage.items() if k != "input_tokens"}
    out.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": delta_usage,
        }
    )
    out.append({"type": "message_stop"})
    return out
