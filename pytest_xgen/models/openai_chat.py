"""The one model path: an OpenAI-compatible endpoint reached through the ``openai`` client.

Hosted APIs, vLLM, Ollama and llama.cpp all answer here; the embedded local models are this
same class pointed at the managed server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pytest_xgen.core import finite
from pytest_xgen.errors import ModelCallError, hide_frame
from pytest_xgen.models import call_errors
from pytest_xgen.models.base import ChatResult, CompletionResult, Message, Usage, split_reasoning
from pytest_xgen.models.call_errors import (
    MalformedResponse,
    cause,
    endpoint_identity,
    malformed_on_error,
    redact_url,
    short,
)
from pytest_xgen.models.redaction import MIN_LENGTH, guard_logs, redact
from pytest_xgen.models.responses_answer import (
    TERMINAL_EVENTS,
    events_record,
    failure,
    response_record,
)

__tracebackhide__ = hide_frame

if TYPE_CHECKING:
    import openai

_R = TypeVar("_R")
_CLIENT_LOCK = threading.Lock()

# Keyword arguments the client's ``create`` methods accept; anything else goes in extra_body.
_CHAT_KWARGS = frozenset(
    {
        "temperature",
        "max_tokens",
        "max_completion_tokens",
        "seed",
        "top_p",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "top_logprobs",
        "logit_bias",
        "response_format",
    }
)
_COMPLETION_KWARGS = frozenset(
    {
        "temperature",
        "max_tokens",
        "seed",
        "top_p",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "echo",
        "logit_bias",
    }
)


def split_params(params: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """Client keyword arguments from ``params``; unknown names move into ``extra_body``."""
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = dict(params.get("extra_body") or {})
    for name, value in params.items():
        if name == "extra_body":
            continue
        if name in allowed:
            kwargs[name] = value
        else:
            extra[name] = value
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


class OpenAIChatModel:
    """A named model on an OpenAI-compatible endpoint.

    The API key is read from ``api_key_env`` at call time, never stored; the client itself
    retries connection errors, 408/409/429 and 5xx answers with exponential backoff that
    honours ``Retry-After``, up to ``max_retries`` times.
    """

    def __init__(
        self,
        name: str,
        *,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        params: dict[str, Any] | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
        identity: dict[str, str] | None = None,
        headers_env: dict[str, str] | None = None,
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
        self.identity = identity or {"endpoint": endpoint_identity(base_url), "model": model}
        self.description = f"{endpoint_identity(base_url)} {model}"
        self.one_at_a_time = False
        self._client: openai.OpenAI | None = None
        self._client_key: str | None = None

    def __repr__(self) -> str:
        return f"OpenAIChatModel({self.name!r}, {redact_url(self.base_url)!r}, {self.model!r})"

    def _headers(self) -> dict[str, str]:
        """The ``headers_env`` headers, each read from its variable at call time."""
        return {header: self._secret(env) for header, env in self.headers_env.items()}

    def _api_key(self) -> str:
        if not self.api_key_env:
            return "sk-no-key-required"
        return self._secret(self.api_key_env)

    def _secret(self, env: str) -> str:
        return call_errors.read_secret(self.name, env)

    def _get_client(self) -> openai.OpenAI:
        key = self._api_key()
        headers = self._headers()
        identity = key + "\n" + json.dumps(headers, sort_keys=True)
        guard_logs()
        with _CLIENT_LOCK:  # one client (and connection pool) for a check's threads
            if self._client is None or identity != self._client_key:
                import openai

                # Under xgen.patch_openai() the name is routed to a recorded client; the
                # plugin's own calls need the real one.
                real = getattr(openai.OpenAI, "__xgen_real__", openai.OpenAI)
                self._client = real(
                    base_url=self.base_url,
                    api_key=key,
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                    default_headers=headers or None,
                )
                self._client_key = identity
            return self._client

    def chat(self, messages: list[Message], **params: Any) -> ChatResult:
        kwargs = split_params({**self.params, **params}, _CHAT_KWARGS)

        extra = kwargs.pop("extra_body", None)
        body = {"model": self.model, "messages": messages, **kwargs}

        def call() -> ChatResult:
            with self._translate_errors():
                # The client's own POST (retries, time-outs, errors as for create()), without
                # create()'s typed-dict transform of the body and without building the typed
                # response: both are plain JSON here, and together they cost about a
                # millisecond of CPU per call, under the interpreter lock that a check's
                # concurrent calls share.
                response = self._get_client().post(
                    "/chat/completions",
                    body=body,
                    options={"extra_json": extra} if extra else {},
                    cast_to=dict,
                )
            with malformed_on_error():
                return _chat_result(response, self.model)

        return self._retrying(call)

    def complete(self, prompt: str, **params: Any) -> CompletionResult:
        kwargs = split_params({**self.params, **params}, _COMPLETION_KWARGS)

        def call() -> CompletionResult:
            with self._translate_errors():
                response = self._get_client().completions.create(
                    model=self.model, prompt=prompt, **kwargs
                )
            with malformed_on_error():
                return _completion_result(response, self.model)

        return self._retrying(call)

    # Cleared when the endpoint rejects stream_options: its streams are counted by their text.
    _stream_usage = True

    def raw(self, kind: str, body: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        """One call of the application's own client (``xgen.client()``): ``body`` as the
        application passed it to ``create()`` (no defaults of this model added), the JSON
        of the answer kept whole (tool calls, ``response_format``, reasoning fields), or
        every chunk of a stream. ``options`` (``extra_headers``, ``extra_query``,
        ``timeout``, ``max_retries``) go with the call and are never recorded."""
        client: Any = self._get_client()
        options = dict(options)
        if "max_retries" in options:
            client = client.with_options(max_retries=options.pop("max_retries"))
        if kind == "responses":
            return self._raw_responses(client, body, options)
        resource: Any = client.chat.completions if kind == "chat" else client.completions

        def call() -> dict[str, Any]:
            import openai

            sent = _with_stream_usage(body) if self._stream_usage else body
            with self._translate_errors():
                try:
                    response = resource.create(model=self.model, **sent, **options)
                except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                    if sent is body or "stream_options" not in str(exc):
                        raise
                    self._stream_usage = False
                    response = resource.create(model=self.model, **body, **options)
                if body.get("stream"):
                    chunks = [chunk.to_dict() for chunk in response]
                    return stream_record(kind, chunks)
                if not hasattr(response, "to_dict"):  # the SDK hands non-JSON back as text
                    raise MalformedResponse("not a JSON response (wrong content type?)")
                return raw_record(kind, response.to_dict())

        return self._retrying(call)

    def _raw_responses(
        self, client: Any, body: dict[str, Any], options: dict[str, Any]
    ) -> dict[str, Any]:
        """:meth:`raw` of a ``responses.create()`` (OpenAI's Responses API): the answer's
        JSON whole (reasoning items, messages, function calls) or every event of a stream;
        a stream cut off is retried as a malformed answer, never recorded."""

        def call() -> dict[str, Any]:
            with self._translate_errors():
                response = client.responses.create(model=self.model, **body, **options)
                if body.get("stream"):
                    events = _read_events(response)
                    self._refuse_failed(events[-1])
                    return events_record(events)
                if not hasattr(response, "to_dict"):  # the SDK hands non-JSON back as text
                    raise MalformedResponse("not a JSON response (wrong content type?)")
                raw = response.to_dict()
            self._refuse_failed(raw)
            return response_record(raw)

        return self._retrying(call)

    def _refuse_failed(self, answer: Any) -> None:
        """A Responses answer whose status is ``failed`` (or a stream's ``error`` event) is
        a :class:`ModelCallError` naming the endpoint's error: not retried, not recorded."""
        failed = failure(answer)
        if failed is not None:
            raise ModelCallError(
                self.redact(
                    f"model {self.name!r} at {redact_url(self.base_url)} answered that the "
                    f"response failed ({short(failed)}); nothing was recorded. Check the "
                    "model name and parameters, or the endpoint's status"
                )
            )

    def _retrying(self, call: Callable[[], _R]) -> _R:
        """``call()``, again after a malformed answer (truncated JSON, no choices, a wrong
        content type): the client itself retries only HTTP and connection errors, and a
        garbled answer is as transient as a 503."""
        where = f"model {self.name!r} at {redact_url(self.base_url)}"
        return call_errors.retrying(call, where, self.max_retries, self.redact)

    def redact(self, text: str) -> str:
        """``text`` with every value sent that may be secret, should an endpoint echo it,
        replaced by ``***``: the API key, the ``headers_env`` headers, and what
        :mod:`pytest_xgen.models.redaction` remembers (``secret_params``, the headers and
        query values of the application's calls)."""
        names = [self.api_key_env, *self.headers_env.values()]
        for value in (os.environ.get(n) for n in names if n):
            # A real key is long; a short placeholder ("x", "EMPTY") is no secret, and
            # replacing it would garble the message.
            if value and len(value) >= MIN_LENGTH:
                text = text.replace(value, "***")
        return redact(text)

    def _translate_errors(self) -> _ErrorTranslator:
        return _ErrorTranslator(self)


class _ErrorTranslator:
    """Turns ``openai`` exceptions into :class:`ModelCallError` naming endpoint and status."""

    def __init__(self, model: OpenAIChatModel) -> None:
        self.model = model

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if exc is None or isinstance(exc, finite.NumberError):  # the caller names it
            return False
        import openai

        where = f"model {self.model.name!r} at {redact_url(self.model.base_url)}"
        if isinstance(exc, openai.APITimeoutError):
            message = call_errors.timed_out(where, self.model.timeout, self.model.max_retries)
        elif isinstance(exc, openai.APIConnectionError):
            message = call_errors.unreachable(where, self.model.max_retries, cause(exc))
        elif isinstance(exc, openai.RateLimitError):
            message = call_errors.rate_limited(where, self.model.max_retries)
        elif isinstance(exc, openai.AuthenticationError):
            message = call_errors.rejected_credentials(where, self.model.api_key_env)
        elif isinstance(exc, openai.APIStatusError):
            message = call_errors.answered(
                where, exc.status_code, self.model.max_retries, exc.message
            )
        elif isinstance(exc, json.JSONDecodeError):
            # A cut-off body: as transient as a dropped connection, so it is retried.
            raise MalformedResponse(f"not valid JSON: {short(str(exc))}") from None
        elif isinstance(exc, openai.APIResponseValidationError | openai.APIError):
            raise MalformedResponse(short(str(exc))) from None
        elif isinstance(exc, ValueError | KeyError | TypeError) and "json" in str(exc).lower():
            raise MalformedResponse(f"not valid JSON: {short(str(exc))}") from None
        else:
            return False
        raise ModelCallError(self.model.redact(message)) from None


def _field(obj: Any, name: str) -> Any:
    """``obj[name]`` of a JSON object, or the attribute of a typed response."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _chat_result(response: Any, model: str) -> ChatResult:
    if isinstance(response, str):
        raise MalformedResponse("not a JSON completion (wrong content type?)")
    if not isinstance(response, dict):
        raise MalformedResponse(f"not a JSON object but {type(response).__name__}")
    choices = response.get("choices")
    if not choices:
        raise MalformedResponse("no choices")
    choice = choices[0]
    message = choice["message"]
    content = message.get("content") or ""
    if not isinstance(content, str):
        raise MalformedResponse(f"message content is {type(content).__name__}, not text")
    reasoning = _reasoning_field(message)
    text, think = split_reasoning(content)
    return ChatResult(
        text=text,
        reasoning="\n\n".join(p for p in (reasoning, think) if p),
        finish_reason=choice.get("finish_reason"),
        usage=_usage(response.get("usage")),
        model=response.get("model") or model,
        reasoning_source="reasoning_content" if reasoning else "think" if think else "",
    )


def _completion_result(response: Any, model: str) -> CompletionResult:
    if isinstance(response, str):
        raise MalformedResponse("not a JSON completion (wrong content type?)")
    if not response.choices:
        raise MalformedResponse("no choices")
    choice = response.choices[0]
    logprobs = choice.logprobs
    return CompletionResult(
        text=choice.text,
        tokens=list(logprobs.tokens or []) if logprobs else [],
        token_logprobs=[
            finite.logprob(value, f"choices[0].logprobs.token_logprobs[{index}]")
            for index, value in enumerate((logprobs.token_logprobs or []) if logprobs else [])
        ],
        text_offset=list(logprobs.text_offset or []) if logprobs else [],
        finish_reason=choice.finish_reason,
        usage=_usage(response.usage),
        model=response.model or model,
    )


def _read_events(stream: Any) -> list[dict[str, Any]]:
    """Every event of a Responses ``stream`` as JSON; a stream that breaks off, or ends
    before its last event (``response.completed``, ``.incomplete``, ``.failed`` or
    ``error``), is a :class:`MalformedResponse` (retried, never recorded)."""
    import openai

    events: list[dict[str, Any]] = []
    try:
        for event in stream:
            events.append(event.to_dict())
    except openai.APIConnectionError as exc:
        raise MalformedResponse(
            f"the stream was cut off after {len(events)} events ({cause(exc)})"
        ) from None
    finally:
        stream.close()
    if not events or events[-1].get("type") not in TERMINAL_EVENTS:
        raise MalformedResponse(
            f"the stream was cut off: it ended after {len(events)} events without "
            "response.completed"
        )
    return events


def _reasoning_field(message: Any) -> str:
    for attr in ("reasoning_content", "reasoning"):
        value = _field(message, attr)
        if value is None and getattr(message, "model_extra", None):
            value = message.model_extra.get(attr)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _usage(usage: Any) -> Usage:
    """The answer's token counts (zeros where it has none); an impossible count (negative,
    fractional, not finite, beyond any context) is a :class:`finite.NumberError`."""
    if usage is None:
        return Usage()
    names = ("prompt_tokens", "completion_tokens", "total_tokens")
    return Usage(**finite.usage({name: _field(usage, name) for name in names}))


def _choice_text(choice: Any, kind: str, delta: bool = False) -> str:
    if not isinstance(choice, dict):
        return ""
    if kind == "completion":
        text = choice.get("text")
    else:
        message = choice.get("delta" if delta else "message")
        text = message.get("content") if isinstance(message, dict) else None
    return text if isinstance(text, str) else ""


def raw_record(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The recording of one whole answer of the application's client: its text (for the
    cassette's reader), its usage and the answer's JSON as the endpoint sent it."""
    choices = raw.get("choices") or [None]
    record = {
        "text": _choice_text(choices[0], kind),
        "usage": _usage(raw.get("usage")).to_dict(),
        "raw": raw,
    }
    return finite.answer(record)  # -Infinity log-probabilities floored, NaN refused


def _with_stream_usage(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with a stream asking for its usage (``stream_options.include_usage``): a
    cost budget and the reports need it. The chunk that carries it reaches the application
    only when it asked for it (:func:`pytest_xgen.recording.client.answer`)."""
    extra = body.get("stream_options")
    if not body.get("stream") or not isinstance(extra, dict | None):
        return body
    if extra and extra.get("include_usage"):
        return body
    return {**body, "stream_options": {**(extra or {}), "include_usage": True}}


def stream_record(kind: str, chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """The recording of a stream: every chunk as sent (so a replay yields the same chunks),
    the text they add up to, and the usage of the chunk that carries it."""
    text = "".join(
        _choice_text(choice, kind, delta=True)
        for chunk in chunks
        for choice in (chunk.get("choices") or [])[:1]
    )
    usage = next((c["usage"] for c in reversed(chunks) if c.get("usage")), None)
    record = {"text": text, "usage": _usage(usage).to_dict(), "chunks": chunks}
    return finite.answer(record)  # -Infinity log-probabilities floored, NaN refused
