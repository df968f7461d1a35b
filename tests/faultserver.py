"""A fault-injecting OpenAI-compatible HTTP server on 127.0.0.1 for resilience tests.

It answers ``/v1/chat/completions`` like :mod:`tests.fakeserver` (``echo[seed=S,t=T]: <last
user message>`` plus usage) unless a fault is due: scripted for the next N requests with
:meth:`FaultServer.fail_next`, or drawn at ``rate`` from a seeded :class:`random.Random`.
Every request and every fault served is counted so tests can assert on what really happened.

Fault kinds:

``rate_limit``  429 with ``Retry-After`` (seconds) and ``retry-after-ms``
``http_500``    500 with a JSON error body
``http_503``    503 with a JSON error body
``hang``        no answer: sleep past the client's time-out (bounded), then close
``drop``        close the connection without any response
``truncated``   200 ``application/json`` whose body is cut in half
``no_choices``  200 with a well-formed completion whose ``choices`` is empty
``html``        200 ``text/html`` with an HTML page (a proxy's error page, say)

The server is bounded so a runaway client cannot keep it busy: after ``max_requests``
requests it closes every further connection unanswered, and after ``max_lifetime`` seconds
it shuts itself down.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KINDS = (
    "rate_limit",
    "http_500",
    "http_503",
    "hang",
    "drop",
    "truncated",
    "no_choices",
    "html",
)

# The client prefers retry-after-ms over Retry-After, so these keep its backoff at 10 ms
# instead of the 0.5 s it would otherwise start from.
_FAST_RETRY = {"retry-after-ms": "10"}
DEFAULT_HEADERS: dict[str, dict[str, str]] = {
    "rate_limit": {"Retry-After": "1", **_FAST_RETRY},
    "http_500": _FAST_RETRY,
    "http_503": _FAST_RETRY,
}

HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>Bad Gateway</h1><p>upstream unavailable</p></body></html>"
)


@dataclass
class Fault:
    kind: str
    headers: dict[str, str] = field(default_factory=dict)


class FaultServer:
    """Start with :meth:`start` (or as a context manager); stop with :meth:`stop`."""

    def __init__(
        self,
        *,
        rate: float = 0.0,
        seed: int = 0,
        kinds: Iterable[str] = KINDS,
        hang_seconds: float = 3.0,
        max_requests: int = 5000,
        max_lifetime: float = 300.0,
    ) -> None:
        self.lock = threading.Lock()
        self.inject(rate, seed=seed, kinds=kinds)
        # A hung handler must not outlive a test by much, whatever the caller asked for.
        self.hang_seconds = min(hang_seconds, 5.0)
        self.max_requests = max_requests
        self.max_lifetime = max_lifetime
        self.scripted: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.arrivals: list[float] = []  # time.monotonic() of each admitted request
        self.answers: list[dict[str, Any]] = []
        self.faults: Counter[str] = Counter()
        self.log: list[str] = []
        self.refused = 0
        self._stopping = threading.Event()
        self._stopped = False
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._timer = threading.Timer(max_lifetime, self.stop)
        self._timer.daemon = True

    # -- control ------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def endpoint(self) -> str:
        """How the plugin names this server in its messages."""
        return f"127.0.0.1:{self.port}/v1"

    @property
    def calls(self) -> int:
        """Requests answered with a completion."""
        return len(self.answers)

    @property
    def injected(self) -> int:
        return sum(self.faults.values())

    def inject(self, rate: float, *, seed: int = 0, kinds: Iterable[str] = KINDS) -> None:
        """From now on serve a random fault of ``kinds`` to a ``rate`` share of requests."""
        chosen = tuple(kinds)
        unknown = set(chosen) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {KINDS}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], not {rate}")
        with self.lock:
            self.rate, self.kinds, self.random = rate, chosen, random.Random(seed)

    def fail_next(self, kind: str, count: int = 1, headers: dict[str, str] | None = None) -> None:
        """Serve ``kind`` to the next ``count`` requests, before any random fault.

        ``headers`` replaces the kind's default headers (e.g. a bare ``Retry-After: 1``)."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {KINDS}")
        chosen = dict(DEFAULT_HEADERS.get(kind, {}) if headers is None else headers)
        with self.lock:
            self.scripted.extend(Fault(kind, chosen) for _ in range(count))

    def start(self) -> FaultServer:
        self.thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        with self.lock:
            if self._stopped:
                return
            self._stopped = True
        self._timer.cancel()
        self._stopping.set()  # wakes hung handlers
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def summary(self) -> str:
        kinds = ", ".join(f"{k}={self.faults[k]}" for k in KINDS if self.faults[k])
        return (
            f"{len(self.requests)} requests: {self.calls} answered, "
            f"{self.injected} faults ({kinds or 'none'})"
        )

    # -- serving ------------------------------------------------------------------------
    def _next_fault(self) -> Fault | None:
        """Called with the lock held, once per admitted request, so a seeded run draws the
        same sequence as long as the client sends its requests in the same order."""
        if self.scripted:
            return self.scripted.pop(0)
        if self.rate and self.kinds and self.random.random() < self.rate:
            kind = self.random.choice(self.kinds)
            return Fault(kind, dict(DEFAULT_HEADERS.get(kind, {})))
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(
                self,
                status: int,
                data: bytes,
                content_type: str = "application/json",
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _close_unanswered(self) -> None:
                # Not a polite close: the client must see the connection end with no status
                # line at all, as when a proxy or the server process dies mid-request.
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length) if length else b""
                with server.lock:
                    if len(server.requests) >= server.max_requests or server._stopped:
                        server.refused += 1
                        fault = Fault("refused")
                    else:
                        try:
                            body = json.loads(raw or b"{}")
                        except ValueError:
                            body = {}
                        server.requests.append(body)
                        server.arrivals.append(time.monotonic())
                        fault = server._next_fault()
                        if fault is not None:
                            server.faults[fault.kind] += 1
                    server.log.append(fault.kind if fault else "ok")
                if fault is None:
                    self._answer(body)
                else:
                    self._inject(fault, body)

            def _inject(self, fault: Fault, body: dict[str, Any]) -> None:
                kind = fault.kind
                if kind == "refused" or kind == "drop":
                    self._close_unanswered()
                elif kind == "hang":
                    server._stopping.wait(server.hang_seconds)
                    self._close_unanswered()
                elif kind in ("rate_limit", "http_500", "http_503"):
                    status = {"rate_limit": 429, "http_500": 500, "http_503": 503}[kind]
                    error = {"error": {"message": f"injected {kind}", "type": kind}}
                    self._send(status, json.dumps(error).encode(), headers=fault.headers)
                elif kind == "truncated":
                    data = json.dumps(completion(body)).encode()
                    self._send(200, data[: len(data) // 2])
                elif kind == "no_choices":
                    self._send(200, json.dumps({**completion(body), "choices": []}).encode())
                elif kind == "html":
                    self._send(200, HTML_PAGE.encode(), content_type="text/html; charset=utf-8")
                else:  # pragma: no cover - KINDS and this dispatch go together
                    raise AssertionError(kind)

            def _answer(self, body: dict[str, Any]) -> None:
                if not self.path.endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "only /v1/chat/completions"}}')
                    return
                with server.lock:
                    server.answers.append(body)
                self._send(200, json.dumps(completion(body)).encode())

        return Handler


def completion(body: dict[str, Any]) -> dict[str, Any]:
    """The chat completion :mod:`tests.fakeserver` would send for ``body``."""
    last = next(
        (m.get("content", "") for m in reversed(body.get("messages", [])) if m["role"] == "user"),
        "",
    )
    tag = f"seed={body.get('seed')},t={body.get('temperature')}"
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "echo"),
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": f"echo[{tag}]: {last}"},
            }
        ],
        "usage": {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12},
    }
