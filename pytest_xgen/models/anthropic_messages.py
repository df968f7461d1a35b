"""The Anthropic Messages API as a model: ``backend = "anthropic"``, through the ``anthropic``
SDK (the optional extra ``pytest-xgen[anthropic]``, imported at the first live call only, so
a replay needs no SDK).

A call sends the system messages as ``system``, the rest as ``messages``, and ``max_tokens``
(which the API requires: :func:`default_max_tokens` when the table and the call leave it
out). ``thinking`` is passed as given; the answer's ``thinking`` blocks become the
reasoning (``reasoning_source = "thinking"``), and an answer whose reasoning came back
without readable text (``redacted_thinking`` blocks, or thinking blocks left empty) is
marked ``reasoning_redacted``. The usage counts the cache reads and writes apart, as the
API does. The SDK retries connection errors, 408/409/429 and 5xx answers (529, overloaded,
included) honouring ``retry-after``; what still fails is a :class:`ModelCallError` naming
the endpoint, never the key.
"""

from __future__ import annotations

import contextlib
import json
import threading
from typing import TYPE_CHECKING, Any, Literal

from pytest_xgen.core import finite
from pytest_xgen.errors import ModelCallError, XgenConfigError, hide_frame
from pytest_xgen.models import call_errors
from pytest_xgen.models.base import ChatResult, CompletionResult, Message, Usage
from pytest_xgen.models.call_errors import (
    MalformedResponse,
    endpoint_identity,
    malformed_on_error,
    redact_url,
)
from pytest_xgen.models.redaction import MIN_LENGTH, guard_logs, redact

__tracebackhide__ = hide_frame

if TYPE_CHECKING:
    import anthropic

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_KEY_ENV = "ANTHROPIC_API_KEY"
DEFAULT_MAX_TOKENS = 1024
"""``max_tokens`` when neither the table nor the call sets it (and thinking is off): the
API requires one, and a check's answers are short."""
INSTALL = "pip install 'pytest-xgen[anthropic]'"
MAX_RETRY_AFTER = 60.0
"""The longest wait between retries, whatever ``retry-after`` asks (the SDK would wait any
time a server names)."""

# ``seed`` is in the key (a sample index shifts it) but the API has none.
_KEY_ONLY = frozenset({"seed"})
_CALL_OPTIONS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout", "stream"})
# With thinking on the API takes no temperature and no top_k (the check's own calls ask
# for temperature 0 when they strip an answer).
_NOT_WITH_THINKING = ("temperature", "top_k")
_CLIENT_LOCK = threading.Lock()


def import_anthropic(where: str) -> Any:
    """The ``anthropic`` module, or a clear error naming the extra to install."""
    try:
        import anthropic
    except ImportError:
        raise XgenConfigError(
            f"{where} needs the anthropic SDK, which is not installed: {INSTALL}"
        ) from None
    return anthropic


def thinking_on(thinking: Any) -> bool:
    """Whether a ``thinking`` parameter turns thinking on (``enabled`` or ``adaptive``)."""
    return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")


def default_max_tokens(params: dict[str, Any]) -> int:
    """``max_tokens`` for a call whose parameters set none: :data:`DEFAULT_MAX_TOKENS`, and
    with thinking enabled its ``budget_tokens`` on top (the budget counts toward
    ``max_tokens``, which must exceed it)."""
    thinking = params.get("thinking")
    on = isinstance(thinking, dict) and thinking_on(thinking)
    budget = thinking.get("budget_tokens") if isinstance(thinking, dict) and on else None
    if isinstance(budget, int) and not isinstance(budget, bool) and budget > 0:
        return budget + DEFAULT_MAX_TOKENS
    return DEFAULT_MAX_TOKENS


_KEYWORDS: dict[Any, frozenset[str]] = {}


def create_keywords(sdk: Any) -> frozenset[str]:
    """The keyword arguments the installed SDK's ``messages.create()`` takes (the SDK's
    versions differ: 2.x takes no ``temperature``, ``top_p`` or ``top_k``)."""
    create = sdk.resources.messages.Messages.create
    if create not in _KEYWORDS:
        import inspect

        found = inspect.signature(create).parameters
        _KEYWORDS[create] = frozenset(name for name in found if name != "self")
    return _KEYWORDS[create]


def request_of(
    messages: list[Message], params: dict[str, Any], sent: frozenset[str]
) -> dict[str, Any]:
    """The ``create()`` arguments (besides ``model``) for ``messages`` and ``params``: the
    system messages joined into ``system``, ``stop`` as ``stop_sequences``, ``seed`` left
    out, ``max_tokens`` defaulted; a name ``create()`` does not take (``sent`` lists those
    it takes) goes in ``extra_body``, which the SDK merges into the same JSON body."""
    params = {k: v for k, v in params.items() if k not in _KEY_ONLY}
    stop = params.pop("stop", None)
    if stop is not None and "stop_sequences" not in params:
        params["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if thinking_on(params.get("thinking")):
        for name in _NOT_WITH_THINKING:
            params.pop(name, None)
    extra: dict[str, Any] = dict(params.pop("extra_body", None) or {})
    kwargs: dict[str, Any] = {}
    for name, value in params.items():
        if name in sent and name not in _CALL_OPTIONS:
            kwargs[name] = value
        else:
            extra[name] = value
    if kwargs.get("max_tokens") is None:
        kwargs["max_tokens"] = default_max_tokens(kwargs)
    system = "\n\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
    if system:
        kwargs["system"] = system
    kwargs["messages"] = [
        {"role": m["role"], "content": m.get("content", "")}
        for m in messages
        if m.get("role") != "system"
    ]
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


class AnthropicModel:
    """A named model of the Anthropic Messages API (``backend = "anthropic"``).

    The key is read from ``api_key_env`` (default ``ANTHROPIC_API_KEY``) at call time and
    never stored; ``headers_env`` headers likewise. ``complete()`` has no counterpart in
    the Messages API and is a clear error.
    """

    api = "anthropic"

    def __init__(
        self,
        name: str,
        *,
        model: str,
        base_url: str = DEFAULT_BASE_URL,
        api_key_env: str = DEFAULT_KEY_ENV,
        params: dict[str, Any] | None = None,
        headers_env: dict[str, str] | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
    ) -> None:
        call_errors.check_base_url(name, base_url)
        self.name = name
        self.base_url = base_url
        self.model = model
        self.api_key_env = api_key_env
        self.headers_env = dict(headers_env or {})
        self.params = dict(params or {})
        self.timeout = timeout
        self.max_retries = max_retries
        self.identity = {
            "api": "anthropic",
            "endpoint": endpoint_identity(base_url),
            "model": model,
        }
        self.description = f"anthropic {endpoint_identity(base_url)} {model}"
        self.one_at_a_time = False
        self._client: anthropic.Anthropic | None = None
        self._client_key: str | None = None

    @classmethod
    def from_spec(
        cls, name: str, spec: dict[str, Any], *, timeout: float, max_retries: int
    ) -> AnthropicModel:
        """The model a ``[tool.xgen.models.NAME]`` table with ``backend = "anthropic"``
        describes: ``model``, ``base_url``, ``api_key_env``, ``params``, ``headers_env``."""
        return cls(
            name,
            model=spec["model"],
            base_url=spec.get("base_url") or DEFAULT_BASE_URL,
            api_key_env=spec.get("api_key_env") or DEFAULT_KEY_ENV,
            params=spec.get("params"),
            headers_env=spec.get("headers_env"),
            timeout=timeout,
            max_retries=max_retries,
        )

    def __repr__(self) -> str:
        return f"AnthropicModel({self.name!r}, {redact_url(self.base_url)!r}, {self.model!r})"

    @property
    def _where(self) -> str:
        return f"model {self.name!r} at {redact_url(self.base_url)}"

    def _get_client(self) -> anthropic.Anthropic:
        sdk = import_anthropic(f"model {self.name!r} (backend anthropic)")
        key = call_errors.read_secret(self.name, self.api_key_env)
        headers = {
            h: call_errors.read_secret(self.name, env) for h, env in self.headers_env.items()
        }
        identity = key + "\n" + json.dumps(headers, sort_keys=True)
        guard_logs()
        with _CLIENT_LOCK:  # one client (and connection pool) for a check's threads
            if self._client is None or identity != self._client_key:
                # Under xgen.patch_anthropic() the name is routed to a recorded client; the
                # plugin's own calls need the real one.
                real = getattr(sdk.Anthropic, "__xgen_real__", sdk.Anthropic)
                self._client = _capped(real)(
                    api_key=key,
                    base_url=self.base_url,
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                    default_headers=headers or None,
                )
                self._client_key = identity
            return self._client

    def chat(self, messages: list[Message], **params: Any) -> ChatResult:
        merged = {**self.params, **params}

        def call() -> ChatResult:
            client = self._get_client()
            kwargs = request_of(messages, merged, create_keywords(import_anthropic("")))
            with self._translate_errors():
                message = client.messages.create(model=self.model, **kwargs)
            with malformed_on_error():
                return chat_result(message.to_dict(), self.model)

        return call_errors.retrying(call, self._where, self.max_retries, self.redact)

    def complete(self, prompt: str, **params: Any) -> CompletionResult:
        raise XgenConfigError(
            f"model {self.name!r} (backend anthropic): the Messages API has no raw text "
            "completions with log-probabilities; use a local or OpenAI-compatible model "
            "where a check completes or scores text (an ensemble's generators and scorer)"
        )

    def raw(self, kind: str, body: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        """One ``messages.create()`` of the application's recorded anthropic client: ``body``
        as the application passed it (no defaults of this model added), the answer's JSON
        whole (``raw``), or every event of a stream (``events``) in order. ``options``
        (``extra_headers``, ``extra_query``, ``timeout``, ``max_retries``) go with the call
        and are never recorded."""
        if kind != "messages":
            raise XgenConfigError(
                f"model {self.name!r} is an Anthropic Messages API model (backend anthropic): "
                "its recorded client is xgen.anthropic_client(), not an openai client"
            )
        client: Any = self._get_client()
        options = dict(options)
        if "max_retries" in options:
            client = client.with_options(max_retries=options.pop("max_retries"))

        def call() -> dict[str, Any]:
            with self._translate_errors():
                response = client.messages.create(model=self.model, **body, **options)
                if not body.get("stream"):
                    whole = response.to_dict()
            if body.get("stream"):
                events = _read_events(response)
            with malformed_on_error():
                return events_record(events) if body.get("stream") else message_record(whole)

        return call_errors.retrying(call, self._where, self.max_retries, self.redact)

    def redact(self, text: str) -> str:
        """``text`` with the key, the ``headers_env`` values and every remembered value
        replaced by ``***``."""
        import os

        for env in (self.api_key_env, *self.headers_env.values()):
            value = os.environ.get(env)
            if value and len(value) >= MIN_LENGTH:
                text = text.replace(value, "***")
        return redact(text)

    def _translate_errors(self) -> _ErrorTranslator:
        return _ErrorTranslator(self)


def _read_events(stream: Any) -> list[dict[str, Any]]:
    """Every event of a live stream, as JSON. A stream that breaks off once it has begun
    (the connection dropped, an ``error`` event such as ``overloaded_error``) is a
    :class:`MalformedResponse`: the SDK does not retry it, and it is as transient as a 529."""
    import anthropic

    events: list[dict[str, Any]] = []
    try:
        with contextlib.closing(stream):
            for event in stream:
                events.append(event.to_dict())
    except anthropic.APIError as exc:
        raise MalformedResponse(
            f"the stream broke off after {len(events)} events: {call_errors.short(str(exc))}"
        ) from None
    return events


def _capped(real: Any) -> Any:
    """``real`` (the SDK's client class) waiting at most :data:`MAX_RETRY_AFTER` seconds
    between retries."""

    class Capped(real):  # type: ignore[misc]
        def _calculate_retry_timeout(self, *args: Any, **kwargs: Any) -> float:
            wait = float(super()._calculate_retry_timeout(*args, **kwargs))
            return min(wait, MAX_RETRY_AFTER)

    Capped.__name__ = Capped.__qualname__ = real.__name__
    return Capped


class _ErrorTranslator:
    """Turns ``anthropic`` exceptions into :class:`ModelCallError` naming endpoint and
    status; a body that is not the JSON of a message is a :class:`MalformedResponse`."""

    def __init__(self, model: AnthropicModel) -> None:
        self.model = model

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if exc is None or isinstance(exc, finite.NumberError | XgenConfigError):
            return False
        import anthropic

        model = self.model
        where, retries = model._where, model.max_retries
        if isinstance(exc, anthropic.APITimeoutError):
            message = call_errors.timed_out(where, model.timeout, retries)
        elif isinstance(exc, anthropic.APIConnectionError):
            message = call_errors.unreachable(where, retries, call_errors.cause(exc))
        elif isinstance(exc, anthropic.RateLimitError):
            message = call_errors.rate_limited(where, retries)
        elif isinstance(exc, anthropic.APIStatusError) and exc.status_code == 529:
            message = call_errors.rate_limited(where, retries, 529, "overloaded")
        elif isinstance(exc, anthropic.AuthenticationError):
            message = call_errors.rejected_credentials(where, model.api_key_env)
        elif isinstance(exc, anthropic.APIStatusError):
            message = call_errors.answered(where, exc.status_code, retries, _detail(exc))
        elif isinstance(exc, json.JSONDecodeError):
            raise MalformedResponse(f"not valid JSON: {call_errors.short(str(exc))}") from None
        elif isinstance(exc, anthropic.APIError):
            raise MalformedResponse(call_errors.short(str(exc))) from None
        else:
            return False
        raise ModelCallError(model.redact(message)) from None


def _detail(exc: Any) -> str:
    """The API's own error message (``{"error": {"message": ...}}``), else the SDK's."""
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return str(getattr(exc, "message", exc))


# -- answers --------------------------------------------------------------------------------


def usage_of(usage: Any) -> Usage:
    """A Messages API ``usage`` as :class:`Usage`: input and output tokens, cache reads and
    writes apart (``cache_read_input_tokens``, ``cache_creation_input_tokens``), thinking
    tokens (``output_tokens_details.thinking_tokens``) as reasoning tokens; the total
    counts every input token, cached or not, and the output. An impossible count is a
    :class:`finite.NumberError`."""
    if not isinstance(usage, dict):
        return Usage()

    def count(data: Any, name: str, where: str = "usage") -> int:
        value = data.get(name) if isinstance(data, dict) else None
        return int(finite.TOKENS.check(value or 0, f"{where}.{name}"))

    prompt, completion = count(usage, "input_tokens"), count(usage, "output_tokens")
    read, write = (
        count(usage, "cache_read_input_tokens"),
        count(usage, "cache_creation_input_tokens"),
    )
    details = usage.get("output_tokens_details")
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + read + write + completion,
        reasoning_tokens=count(details, "thinking_tokens", "usage.output_tokens_details"),
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list):
        raise MalformedResponse("no content blocks")
    return [b for b in content if isinstance(b, dict)]


def text_of(message: dict[str, Any]) -> str:
    """The answer's text: its ``text`` blocks, joined."""
    return "".join(str(b.get("text") or "") for b in _blocks(message) if b.get("type") == "text")


def chat_result(message: Any, model: str) -> ChatResult:
    """A Messages API answer (its JSON) as a :class:`ChatResult`: the ``text`` blocks are
    the text, the ``thinking`` blocks the reasoning; reasoning that came back without
    readable text (``redacted_thinking``, or thinking blocks left empty) is
    ``reasoning_redacted``."""
    if not isinstance(message, dict):
        raise MalformedResponse(f"not a JSON message but {type(message).__name__}")
    blocks = _blocks(message)
    thinking = [b for b in blocks if b.get("type") == "thinking"]
    reasoning = "\n\n".join(
        str(b.get("thinking") or "").strip()
        for b in thinking
        if str(b.get("thinking") or "").strip()
    )
    hidden = any(b.get("type") == "redacted_thinking" for b in blocks) or bool(thinking)
    return ChatResult(
        text=text_of(message).strip(),
        reasoning=reasoning,
        finish_reason=message.get("stop_reason"),
        usage=usage_of(message.get("usage")),
        model=str(message.get("model") or model),
        reasoning_source="thinking" if reasoning else "",
        reasoning_redacted=hidden and not reasoning,
    )


def message_record(message: dict[str, Any]) -> dict[str, Any]:
    """The recording of one whole answer of the application's anthropic client: its text
    (for the cassette's reader), its usage and the message's JSON as the SDK read it."""
    record = {"text": text_of(message), "usage": usage_of(message.get("usage")).to_dict()}
    return finite.answer({**record, "raw": message})


def accumulate(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The message a stream's events add up to (its content blocks, stop reason and usage),
    as the SDK's stream helper accumulates them."""
    message: dict[str, Any] = {}
    for event in events:
        kind = event.get("type")
        if kind == "message_start":
            message = json.loads(json.dumps(event.get("message") or {}))
            message.setdefault("content", [])
        elif kind == "content_block_start":
            message.setdefault("content", []).append(dict(event.get("content_block") or {}))
        elif kind == "content_block_delta":
            block = message["content"][event["index"]]
            delta = event.get("delta") or {}
            for field, name in (("text", "text"), ("thinking", "thinking")):
                if delta.get("type") == f"{field}_delta":
                    block[name] = str(block.get(name) or "") + str(delta.get(field) or "")
            if delta.get("type") == "signature_delta":
                block["signature"] = delta.get("signature")
        elif kind == "message_delta":
            delta = event.get("delta") or {}
            message["stop_reason"] = delta.get("stop_reason")
            usage = message.setdefault("usage", {})
            # Counts on a message_delta are running totals: they replace those of the start.
            usage.update({k: v for k, v in (event.get("usage") or {}).items() if v is not None})
    return message


def events_record(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The recording of a stream: every event as sent (so a replay yields the same events
    with the same boundaries), the text they add up to, and their usage. A stream that
    ended before ``message_stop`` was cut off: a :class:`MalformedResponse` (retried, then
    an error), never recorded."""
    if not events or events[-1].get("type") != "message_stop":
        last = events[-1].get("type") if events else "nothing"
        raise MalformedResponse(
            f"the stream was cut off after {len(events)} events (the last: {last}), "
            "before message_stop"
        )
    message = accumulate(events)
    record = {"text": text_of(message), "usage": usage_of(message.get("usage")).to_dict()}
    return finite.answer({**record, "events": events})
