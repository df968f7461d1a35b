"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for fast tests.

It answers ``/v1/chat/completions`` with ``echo[seed=S,t=T]: <last user message>`` and
``/v1/completions`` with per-token log-probabilities, counts requests, remembers the
``Authorization`` headers it saw, and can be told to fail the next N requests with a status.
With ``delay`` every response waits that many seconds, so that calls overlap in time, and
``max_in_flight`` tells how many requests it was ever working on at once.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    # Room for a check's calls arriving at once (the default backlog of 5 would make some
    # connections wait for a SYN retry, a second or more).
    request_queue_size = 128


class FakeOpenAI:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[dict[str, Any]] = []
        self.auth_headers: list[str] = []
        self.headers: list[dict[str, str]] = []  # every request's headers
        self.failures: list[tuple[int, dict[str, str]]] = []
        # What every answer reports (an endpoint with a bug may report anything).
        self.usage: dict[str, Any] = {
            "prompt_tokens": 7,
            "completion_tokens": 5,
            "total_tokens": 12,
        }
        self.logprob: float = -1.0  # of every completion token after the first
        self.lock = threading.Lock()
        handler = self._handler()
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def calls(self) -> int:
        return len(self.requests)

    def fail_next(
        self,
        count: int,
        status: int = 500,
        headers: dict[str, str] | None = None,
        *,
        echo_key: bool = False,
        echo_request: bool = False,
    ) -> None:
        """Fail the next ``count`` requests with ``status``; ``echo_key``: the error message
        repeats the request's bearer token, as some endpoints do; ``echo_request``: it
        repeats the request (path and query, the headers other than the client's usual
        ones, the body), as some gateways do."""
        with self.lock:
            self.failures.extend([(status, headers or {}, echo_key, echo_request)] * count)

    def start(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(
                self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                if server.delay:
                    time.sleep(server.delay)
                # The work is done: the client may send its next request as soon as it reads
                # this response, before do_POST's finally runs, which is not an overlap.
                self._leave()
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], content: str, usage: dict[str, int]) -> None:
                """Server-sent events: one chunk per word, a last chunk with the finish
                reason, the usage when stream_options asks for it, then [DONE]."""
                self._leave()
                words = content.split(" ")
                deltas = [{"role": "assistant", "content": words[0]}]
                deltas += [{"content": " " + w} for w in words[1:]]
                chunks = [
                    {"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas
                ]
                chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if body.get("stream_options", {}).get("include_usage"):
                    chunks.append({"choices": [], "usage": usage})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in chunks:
                    event = {
                        "id": "x",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": body["model"],
                        **chunk,
                    }
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "echo", "object": "model"}]})

            def do_POST(self) -> None:
                with server.lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                self.counted = True
                try:
                    self._post()
                finally:
                    self._leave()

            def _leave(self) -> None:
                if getattr(self, "counted", False):
                    self.counted = False
                    with server.lock:
                        server.in_flight -= 1

            def _post(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.auth_headers.append(self.headers.get("Authorization", ""))
                    server.headers.append(dict(self.headers.items()))
                    failure = server.failures.pop(0) if server.failures else None
                    if failure is None:
                        server.requests.append(body)
                if failure is not None:
                    status, headers, echo_key, echo_request = failure
                    message = f"scripted failure {status}"
                    if echo_key:
                        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                        message += f": the key {token} is not valid"
                    if echo_request:
                        usual = ("accept", "content-", "user-agent", "x-stainless", "host", "auth")
                        sent = {
                            k: v
                            for k, v in self.headers.items()
                            if not k.lower().startswith(usual) and k.lower() != "connection"
                        }
                        message += f": {self.path} {json.dumps(sent)} {json.dumps(body)}"
                    self._send(status, {"error": {"message": message}}, headers)
                    return
                usage = server.usage
                tag = f"seed={body.get('seed')},t={body.get('temperature')}"
                if self.path.endswith("/chat/completions"):
                    last = next(
                        (m["content"] for m in reversed(body["messages"]) if m["role"] == "user"),
                        "",
                    )
                    content = f"echo[{tag}]: {last}"
                    if "think" in last:
                        content = f"<think>pondering {last}</think>{content}"
                    message: dict[str, Any] = {"role": "assistant", "content": content}
                    finish = "stop"
                    if "reason" in last:
                        message["reasoning_content"] = f"reasoning about {last}"
                    if body.get("response_format", {}).get("type") == "json_object":
                        message["content"] = json.dumps({"echo": last})
                    if body.get("tools"):
                        name = body["tools"][0]["function"]["name"]
                        arguments = json.dumps({"text": last})
                        message = {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [
                                {
                                    "id": "call_1",
                                    "type": "function",
                                    "function": {"name": name, "arguments": arguments},
                                }
                            ],
                        }
                        finish = "tool_calls"
                    if body.get("stream"):
                        self._stream(body, str(message["content"] or ""), usage)
                        return
                    self._send(
                        200,
                        {
                            "id": "x",
                            "object": "chat.completion",
                            "created": 0,
                            "model": body["model"],
                            "choices": [{"index": 0, "finish_reason": finish, "message": message}],
                            "usage": usage,
                        },
                    )
                else:
                    words = body["prompt"].split()
                    self._send(
                        200,
                        {
                            "id": "x",
                            "object": "text_completion",
                            "created": 0,
                            "model": body["model"],
                            "choices": [
                                {
                                    "index": 0,
                                    "finish_reason": "length",
                                    "text": " ok",
                                    "logprobs": {
                                        "tokens": words,
                                        "token_logprobs": [None]
                                        + [server.logprob] * (len(words) - 1),
                                        "text_offset": [],
                                        "top_logprobs": [],
                                    },
                                }
                            ],
                            "usage": usage,
                        },
                    )

        return Handler
