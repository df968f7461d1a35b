"""A scripted OpenAI-compatible endpoint that bills as a paid one does, for cost budgets.

Every chat completion takes its whole limit: each of the ``n`` choices is ``max_tokens``
(or ``max_completion_tokens``, else :data:`UNLIMITED`) tokens of ``"tok "``, so a call is
billed ``n x max_tokens`` completion tokens. The prompt is billed at 4 characters a token
for the messages' text and the JSON of ``tools``, ``functions`` and ``response_format``,
plus 4 tokens a message. The meter (``prompt_tokens``, ``completion_tokens``, ``cost()``)
counts what was billed whatever the answer says, as an invoice does.

``stream_usage`` says what a stream does with ``stream_options.include_usage``:
``"honours"`` (a last chunk with the usage, as OpenAI), ``"ignores"`` (never any usage)
or ``"rejects"`` (HTTP 400 naming ``stream_options``, as some gateways do).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

UNLIMITED = 300  # tokens a choice takes when the request sets no limit
MODES = ("honours", "ignores", "rejects")


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


class BillingOpenAI:
    def __init__(self, stream_usage: str = "honours") -> None:
        if stream_usage not in MODES:
            raise ValueError(f"stream_usage is one of {MODES}")
        self.stream_usage = stream_usage
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.httpd = _Server(("127.0.0.1", 0), self._handler())
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def calls(self) -> int:
        return len(self.requests)

    def cost(self, price: tuple[float, float]) -> float:
        """What was billed at ``price`` (per million prompt and completion tokens)."""
        with self.lock:
            return (self.prompt_tokens * price[0] + self.completion_tokens * price[1]) / 1e6

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.prompt_tokens = self.completion_tokens = 0

    def start(self) -> BillingOpenAI:
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

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "paid", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if body.get("stream_options") and server.stream_usage == "rejects":
                    message = "Unrecognized request argument supplied: stream_options"
                    self._send(400, {"error": {"message": message}})
                    return
                prompt = billed_prompt(body)
                limit = body.get("max_tokens") or body.get("max_completion_tokens") or UNLIMITED
                n = int(body.get("n") or 1)
                with server.lock:
                    server.requests.append(body)
                    server.prompt_tokens += prompt
                    server.completion_tokens += n * limit
                usage = {
                    "prompt_tokens": prompt,
                    "completion_tokens": n * limit,
                    "total_tokens": prompt + n * limit,
                }
                head = {"id": "x", "created": 0, "model": body.get("model", "")}
                if body.get("stream"):
                    self._stream(body, head, n, limit, usage)
                    return
                content = "tok " * limit
                choices = [
                    {
                        "index": i,
                        "finish_reason": "length",
                        "message": {"role": "assistant", "content": content},
                    }
                    for i in range(n)
                ]
                self._send(
                    200, {**head, "object": "chat.completion", "choices": choices, "usage": usage}
                )

            def _stream(
                self,
                body: dict[str, Any],
                head: dict[str, Any],
                n: int,
                limit: int,
                usage: dict[str, int],
            ) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()

                def send(choices: list[dict[str, Any]], **extra: Any) -> None:
                    event = {**head, "object": "chat.completion.chunk", "choices": choices}
                    self.wfile.write(f"data: {json.dumps({**event, **extra})}\n\n".encode())

                tokens = [
                    {"index": i, "delta": {"content": "tok "}, "finish_reason": None}
                    for i in range(n)
                ]
                for _ in range(limit):
                    send(tokens)
                send([{"index": i, "delta": {}, "finish_reason": "length"} for i in range(n)])
                wants = (body.get("stream_options") or {}).get("include_usage")
                if wants and server.stream_usage == "honours":
                    send([], usage=usage)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        return Handler


def billed_prompt(body: dict[str, Any]) -> int:
    """The prompt tokens the endpoint bills for ``body``."""
    messages = body.get("messages") or []
    text = sum(len(str(m.get("content") or "")) for m in messages if isinstance(m, dict))
    schemas = sum(
        len(json.dumps(body[k])) for k in ("tools", "functions", "response_format") if k in body
    )
    return (text + schemas) // 4 + 4 * len(messages)
