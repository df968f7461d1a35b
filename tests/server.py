"""One scripted OpenAI-compatible HTTP server on 127.0.0.1, for the tests and the benchmarks.

``OpenAIServer(answers=...)`` chooses what a well-formed request is answered with:

``"echo"`` (the default)
    ``/v1/chat/completions`` answers ``echo[seed=S,t=T]: <last user message>``, with a
    ``<think>`` block when the message says "think", ``reasoning_content`` when it says
    "reason", JSON for ``response_format`` ``json_object``, a tool call when the request has
    tools, server-sent events when it streams; ``/v1/completions`` answers per-token
    log-probabilities (``logprob`` for each token after the first). Every answer reports
    ``usage``.
``"noisy"``
    Models that sample their answers (:func:`noisy_answer`): the ``model`` string holds
    each model's settings.
``"billing"``
    Bills as a paid endpoint does (:func:`billed_prompt`): every choice takes its whole
    token limit, and the meter (``prompt_tokens``, ``completion_tokens``, :meth:`cost`)
    counts what was billed whatever the answer says. ``stream_usage`` says what a stream
    does with ``stream_options.include_usage``: ``"honours"`` (a last chunk with the usage,
    as OpenAI), ``"ignores"`` (never any usage) or ``"rejects"`` (HTTP 400 naming
    ``stream_options``, as some gateways do).

Whatever it answers, the server can be made to fail:

- :meth:`OpenAIServer.fail_next`: the next N requests get an HTTP status with a JSON error,
  which may repeat the request's key or the request itself, as some endpoints do;
- :meth:`OpenAIServer.fault_next` (the next N requests) and :meth:`OpenAIServer.inject` (a
  share of the requests, drawn from a seeded generator): the faults of :data:`KINDS`
  (``fault_next`` also :data:`ASKED_KINDS`).

``POST /v1/responses`` speaks OpenAI's Responses API (:mod:`tests.responses_server`), with the
echo or noisy answers.

``delay`` makes every answer wait that many seconds, so that calls overlap in time
(``max_in_flight`` tells how many requests the server was ever working on at once).
``max_requests`` and ``max_lifetime`` bound the server against a runaway client: past the
first it closes every further connection unanswered, after the second it stops.

It keeps what it saw: ``received`` (the body of every request admitted), ``requests`` (the
bodies it answered, which ``calls`` counts), ``headers`` and ``auth_headers`` (of every
request), ``arrivals`` (their ``time.monotonic()``), ``faults`` served by kind, ``log`` (a
fault kind or "ok" per request) and ``refused`` (connections closed past ``max_requests``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pytest_xgen.core import prompts
from tests import responses_server

ANSWERS = ("echo", "noisy", "billing")
STREAM_USAGE = ("honours", "ignores", "rejects")

# -- faults -----------------------------------------------------------------------------------

KINDS = (
    "rate_limit",  # 429 with Retry-After (seconds) and retry-after-ms
    "http_500",  # 500 with a JSON error body
    "http_503",  # 503 with a JSON error body
    "hang",  # no answer: wait past the client's time-out (bounded), then close
    "drop",  # close the connection without any response
    "truncated",  # 200 application/json whose body is cut in half
    "no_choices",  # 200 with a well-formed completion whose choices is empty
    "html",  # 200 text/html with an HTML page (a proxy's error page, say)
)
# Served only when asked for (fault_next), never drawn by inject(); anywhere but
# /v1/responses, as drop.
ASKED_KINDS = (
    "cut_stream",  # a Responses stream cut off mid-event
    "failed_response",  # a Responses answer with status failed (a stream: response.failed)
)
STATUS = {"rate_limit": 429, "http_500": 500, "http_503": 503}

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
    """What one request gets instead of its answer: a fault of :data:`KINDS`, or ``status``
    (an HTTP status with a JSON error saying "scripted failure <status>")."""

    kind: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 500
    echo_key: bool = False
    echo_request: bool = False


# -- billing ----------------------------------------------------------------------------------

UNLIMITED = 300  # tokens a billed choice takes when the request sets no limit


def billed_prompt(body: dict[str, Any]) -> int:
    """The prompt tokens the billing endpoint bills for ``body``: 4 characters a token for
    the messages' text and the JSON of ``tools``, ``functions`` and ``response_format``,
    plus 4 tokens a message."""
    messages = body.get("messages") or []
    text = sum(len(str(m.get("content") or "")) for m in messages if isinstance(m, dict))
    schemas = sum(
        len(json.dumps(body[k])) for k in ("tools", "functions", "response_format") if k in body
    )
    return (text + schemas) // 4 + 4 * len(messages)


# -- noisy models -----------------------------------------------------------------------------

NUMBER = re.compile(r"\d+")
PROBLEM = re.compile(r"has (\d+) \w+ and buys (\d+) more")
STATED = re.compile(r"= (-?\d+)")
NOISY_USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


def _off(rng: random.Random, settings: dict[str, str]) -> int:
    off = rng.randint(1, int(settings.get("wrong", 2)))
    return off if rng.random() < 0.5 else -off


def stated_sum(explanation: str) -> int | None:
    """The sum an explanation states (its last ``= N``), or None."""
    found = STATED.findall(explanation)
    return int(found[-1]) if found else None


def noisy_answer(model: str, messages: list[dict[str, str]], body: bytes) -> str:
    """The text a noisy ``model`` answers ``messages`` with.

    Every distinct request gets a fresh draw: the generator is seeded with a digest of the
    request ``body``, so the same request (same prompt, same sample seed) always gets the
    same answer, and recording and replay see an ordinary deterministic endpoint, while
    another sample index or another prompt draws anew.

    The problem is "... has X things and buys Y more ...": the right answer is X + Y; any
    other number in the prompt (a distractor's) is one a distractible model may add. A
    model is a ``model`` string of ``;``-separated settings, e.g.
    ``"baseline=0.5;transfer=0.9;distract=0.9"``:

    - ``baseline``: the probability of the right answer without an explanation (0.6);
    - ``transfer``: the same with an explanation (0.9);
    - ``distract``: the probability of adding a third number of the problem (a
      distractor's) to the answer, when there is one (0);
    - ``wrong``: how far a wrong answer is off, at most (2; one of ``+-1..wrong``);
    - ``follow``: the probability that an evaluator given an explanation copies the sum it
      states (a wrong one included) instead of answering on its own (0);
    - ``right``: for the generator (asked with the elicitation prompt), the probability
      that its explanation is right (1). A wrong explanation adds up to a wrong sum, off by
      ``+-1..wrong``, and states it as its answer. The explanation is drawn from the body,
      which holds the sample seed (the run's ``--xgen-seed``), so another seed draws
      another explanation, and a replayed recording replays the same one.
    """
    settings = dict(part.split("=", 1) for part in model.split(";") if "=" in part)
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    user = messages[-1]["content"] if messages else ""
    if system == prompts.STRIP_SYSTEM:
        return "{}"
    problem, explanation = user, ""
    if system == prompts.TRANSFER_SYSTEM:
        problem, _, explanation = user.partition("\n\nExplanation:\n")
        problem = problem.removeprefix("Problem:\n")
    numbers = [int(n) for n in NUMBER.findall(problem)]
    found = PROBLEM.search(problem)
    a, b = (int(found[1]), int(found[2])) if found else tuple((numbers + [0, 0])[:2])
    truth = a + b
    others = list(numbers)
    for n in (a, b):
        if n in others:
            others.remove(n)
    rng = random.Random(hashlib.sha256(body).digest())
    if system == prompts.ELICIT_SYSTEM:
        said = truth
        right = float(settings.get("right", 1))
        if right < 1 and rng.random() >= right:
            said += _off(rng, settings)
        return f"1. Start with {a}.\n2. Add {b}: {a} + {b} = {said}.\nAnswer: {said}"
    key = "transfer" if system == prompts.TRANSFER_SYSTEM else "baseline"
    follow = float(settings.get("follow", 0)) if key == "transfer" else 0.0
    stated = stated_sum(explanation)
    if follow > 0 and stated is not None and rng.random() < follow:
        return f"Following the explanation.\nAnswer: {stated}"
    right = float(settings.get(key, 0.9 if key == "transfer" else 0.6))
    value = truth
    if others and rng.random() < float(settings.get("distract", 0)):
        value += others[0]
    elif rng.random() >= right:
        value += _off(rng, settings)
    return f"Let me think.\nAnswer: {value}"


# -- the server -------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    # Room for a check's calls arriving at once (the default backlog of 5 would make some
    # connections wait for a SYN retry, a second or more).
    request_queue_size = 128
    daemon_threads = True


class OpenAIServer:
    """Start with :meth:`start` (or as a context manager); stop with :meth:`stop`."""

    def __init__(
        self,
        answers: str = "echo",
        *,
        delay: float = 0.0,
        stream_usage: str = "honours",
        rate: float = 0.0,
        seed: int = 0,
        kinds: Iterable[str] = KINDS,
        hang_seconds: float = 3.0,
        max_requests: int | None = None,
        max_lifetime: float | None = None,
        port: int = 0,
    ) -> None:
        if answers not in ANSWERS:
            raise ValueError(f"answers is one of {ANSWERS}, not {answers!r}")
        if stream_usage not in STREAM_USAGE:
            raise ValueError(f"stream_usage is one of {STREAM_USAGE}, not {stream_usage!r}")
        self.answers = answers
        self.delay = delay
        self.stream_usage = stream_usage
        self.lock = threading.Lock()
        self.inject(rate, seed=seed, kinds=kinds)
        # A hung handler must not outlive a test by much, whatever the caller asked for.
        self.hang_seconds = min(hang_seconds, 5.0)
        self.max_requests = max_requests
        # What every echo answer reports (an endpoint with a bug may report anything).
        self.usage: dict[str, Any] = {
            "prompt_tokens": 7,
            "completion_tokens": 5,
            "total_tokens": 12,
        }
        self.logprob: float = -1.0  # of every completion token after the first
        self.scripted: list[Fault] = []
        self.received: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.arrivals: list[float] = []
        self.auth_headers: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.faults: Counter[str] = Counter()
        self.log: list[str] = []
        self.refused = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self._stopping = threading.Event()
        self._stopped = False
        self.httpd = _HTTPServer(("127.0.0.1", port), self._handler())
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._timer: threading.Timer | None = None
        if max_lifetime is not None:
            self._timer = threading.Timer(max_lifetime, self.stop)
            self._timer.daemon = True

    # -- control --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def endpoint(self) -> str:
        """How the plugin names this server in its messages."""
        return f"127.0.0.1:{self.port}/v1"

    @property
    def calls(self) -> int:
        """Requests answered."""
        return len(self.requests)

    @property
    def injected(self) -> int:
        """Faults of :data:`KINDS` served."""
        return sum(self.faults[k] for k in KINDS)

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
        fault = Fault("status", headers or {}, status, echo_key, echo_request)
        with self.lock:
            self.scripted.extend([fault] * count)

    def fault_next(self, kind: str, count: int = 1, headers: dict[str, str] | None = None) -> None:
        """Serve the fault ``kind`` to the next ``count`` requests, before any random fault;
        ``headers`` replaces the kind's default headers (e.g. a bare ``Retry-After: 1``)."""
        if kind not in KINDS + ASKED_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {KINDS + ASKED_KINDS}")
        chosen = dict(DEFAULT_HEADERS.get(kind, {}) if headers is None else headers)
        with self.lock:
            self.scripted.extend(Fault(kind, chosen) for _ in range(count))

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

    def cost(self, price: tuple[float, float]) -> float:
        """What was billed at ``price`` (per million prompt and completion tokens)."""
        with self.lock:
            return (self.prompt_tokens * price[0] + self.completion_tokens * price[1]) / 1e6

    def reset(self) -> None:
        """Forget the requests and the bill."""
        with self.lock:
            self.received.clear()
            self.requests.clear()
            self.prompt_tokens = self.completion_tokens = 0

    def summary(self) -> str:
        kinds = ", ".join(f"{k}={self.faults[k]}" for k in KINDS if self.faults[k])
        return (
            f"{len(self.received)} requests: {self.calls} answered, "
            f"{self.injected} faults ({kinds or 'none'})"
        )

    def start(self) -> OpenAIServer:
        self.thread.start()
        if self._timer is not None:
            self._timer.start()
        return self

    def stop(self) -> None:
        with self.lock:
            if self._stopped:
                return
            self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
        self._stopping.set()  # wakes hung handlers
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving --------------------------------------------------------------------------
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

            # -- the skeleton: admit, record, fail or answer ---------------------------------
            def do_GET(self) -> None:
                model = "paid" if server.answers == "billing" else "echo"
                self._send(200, {"object": "list", "data": [{"id": model, "object": "model"}]})

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
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                with server.lock:
                    fault: Fault | None
                    limit = server.max_requests
                    if server._stopped or (limit is not None and len(server.received) >= limit):
                        server.refused += 1
                        fault = Fault("refused")
                    else:
                        server.received.append(body)
                        server.arrivals.append(time.monotonic())
                        server.auth_headers.append(self.headers.get("Authorization", ""))
                        server.headers.append(dict(self.headers.items()))
                        fault = server._next_fault()
                        if fault is not None:
                            server.faults[fault.kind] += 1
                    server.log.append(fault.kind if fault else "ok")
                if self.path.endswith("/responses") and (
                    fault is None or fault.kind in responses_server.FAULTS
                ):
                    responses_server.serve(self, server, body, raw, fault)
                elif fault is not None:
                    self._fail(fault, body)
                elif server.answers == "noisy":
                    self._noisy(body, raw)
                elif server.answers == "billing":
                    self._billing(body)
                else:
                    self._echo(body)

            def _answered(self, body: dict[str, Any]) -> None:
                with server.lock:
                    server.requests.append(body)

            # -- sending ------------------------------------------------------------------
            def _send(
                self,
                status: int,
                body: dict[str, Any] | bytes,
                headers: dict[str, str] | None = None,
                content_type: str = "application/json",
            ) -> None:
                if server.delay:
                    time.sleep(server.delay)
                # The work is done: the client may send its next request as soon as it reads
                # this response, before do_POST's finally runs, which is not an overlap.
                self._leave()
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _send_events(self, events: Iterable[dict[str, Any]], *, flush: bool = True) -> None:
                """Server-sent events, each sent as it comes unless not ``flush``, then
                ``[DONE]``; the connection closes after."""
                self._leave()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for event in events:
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    if flush:
                        self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _close_unanswered(self) -> None:
                # Not a polite close: the client must see the connection end with no status
                # line at all, as when a proxy or the server process dies mid-request.
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

            # -- failing ------------------------------------------------------------------
            def _fail(self, fault: Fault, body: dict[str, Any]) -> None:
                kind = fault.kind
                if kind == "status":
                    self._send(fault.status, self._scripted_error(fault, body), fault.headers)
                elif kind in ("refused", "drop", *ASKED_KINDS):
                    self._close_unanswered()
                elif kind == "hang":
                    server._stopping.wait(server.hang_seconds)
                    self._close_unanswered()
                elif kind in STATUS:
                    error = {"error": {"message": f"injected {kind}", "type": kind}}
                    self._send(STATUS[kind], error, fault.headers)
                elif kind == "truncated":
                    data = json.dumps(completion(body, server.usage)).encode()
                    self._send(200, data[: len(data) // 2])
                elif kind == "no_choices":
                    self._send(200, {**completion(body, server.usage), "choices": []})
                elif kind == "html":
                    self._send(200, HTML_PAGE.encode(), content_type="text/html; charset=utf-8")
                else:  # pragma: no cover - KINDS and this dispatch go together
                    raise AssertionError(kind)

            def _scripted_error(self, fault: Fault, body: dict[str, Any]) -> dict[str, Any]:
                message = f"scripted failure {fault.status}"
                if fault.echo_key:
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    message += f": the key {token} is not valid"
                if fault.echo_request:
                    usual = ("accept", "content-", "user-agent", "x-stainless", "host", "auth")
                    sent = {
                        k: v
                        for k, v in self.headers.items()
                        if not k.lower().startswith(usual) and k.lower() != "connection"
                    }
                    message += f": {self.path} {json.dumps(sent)} {json.dumps(body)}"
                return {"error": {"message": message}}

            # -- answering: echo ----------------------------------------------------------
            def _echo(self, body: dict[str, Any]) -> None:
                self._answered(body)
                usage = server.usage
                if not self.path.endswith("/chat/completions"):
                    self._send(200, logprobs_completion(body, usage, server.logprob))
                    return
                answer = completion(body, usage)
                message = answer["choices"][0]["message"]
                if body.get("stream"):
                    self._echo_stream(body, str(message["content"] or ""), usage)
                    return
                self._send(200, answer)

            def _echo_stream(
                self, body: dict[str, Any], content: str, usage: dict[str, int]
            ) -> None:
                """One chunk per word, a last chunk with the finish reason, the usage when
                stream_options asks for it."""
                words = content.split(" ")
                deltas = [{"role": "assistant", "content": words[0]}]
                deltas += [{"content": " " + w} for w in words[1:]]
                chunks: list[dict[str, Any]] = [
                    {"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas
                ]
                chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if body.get("stream_options", {}).get("include_usage"):
                    chunks.append({"choices": [], "usage": usage})
                head = {"id": "x", "object": "chat.completion.chunk", "created": 0}
                self._send_events({**head, "model": body["model"], **c} for c in chunks)

            # -- answering: noisy ---------------------------------------------------------
            def _noisy(self, body: dict[str, Any], raw: bytes) -> None:
                self._answered(body)
                text = noisy_answer(body["model"], body.get("messages", []), raw)
                message = {"role": "assistant", "content": text}
                self._send(
                    200,
                    {
                        "id": "noisy",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                        "usage": NOISY_USAGE,
                    },
                )

            # -- answering: billing -------------------------------------------------------
            def _billing(self, body: dict[str, Any]) -> None:
                if body.get("stream_options") and server.stream_usage == "rejects":
                    refusal = "Unrecognized request argument supplied: stream_options"
                    self._send(400, {"error": {"message": refusal}})
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
                    self._send_events(self._billed_chunks(body, head, n, limit, usage), flush=False)
                    return
                message: dict[str, Any] = {"role": "assistant", "content": "tok " * limit}
                choices = [
                    {"index": i, "finish_reason": "length", "message": message} for i in range(n)
                ]
                answer = {**head, "object": "chat.completion", "choices": choices, "usage": usage}
                self._send(200, answer)

            def _billed_chunks(
                self,
                body: dict[str, Any],
                head: dict[str, Any],
                n: int,
                limit: int,
                usage: dict[str, int],
            ) -> list[dict[str, Any]]:
                chunk = {**head, "object": "chat.completion.chunk"}
                token = [
                    {"index": i, "delta": {"content": "tok "}, "finish_reason": None}
                    for i in range(n)
                ]
                chunks = [{**chunk, "choices": token} for _ in range(limit)]
                last = [{"index": i, "delta": {}, "finish_reason": "length"} for i in range(n)]
                chunks.append({**chunk, "choices": last})
                wants = (body.get("stream_options") or {}).get("include_usage")
                if wants and server.stream_usage == "honours":
                    chunks.append({**chunk, "choices": [], "usage": usage})
                return chunks

        return Handler


def completion(body: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    """The chat completion the echo answers send for ``body``."""
    last = next(
        (m.get("content", "") for m in reversed(body.get("messages", [])) if m["role"] == "user"),
        "",
    )
    tag = f"seed={body.get('seed')},t={body.get('temperature')}"
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
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps({"text": last})},
        }
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        finish = "tool_calls"
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "echo"),
        "choices": [{"index": 0, "finish_reason": finish, "message": message}],
        "usage": usage,
    }


def logprobs_completion(
    body: dict[str, Any], usage: dict[str, Any], logprob: float
) -> dict[str, Any]:
    """The text completion the echo answers send for ``body``: ``" ok"``, and the prompt's
    words as tokens, each after the first with ``logprob``."""
    words = body["prompt"].split()
    logprobs = {
        "tokens": words,
        "token_logprobs": [None] + [logprob] * (len(words) - 1),
        "text_offset": [],
        "top_logprobs": [],
    }
    return {
        "id": "x",
        "object": "text_completion",
        "created": 0,
        "model": body["model"],
        "choices": [{"index": 0, "finish_reason": "length", "text": " ok", "logprobs": logprobs}],
        "usage": usage,
    }
