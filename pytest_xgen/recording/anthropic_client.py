"""Recorded anthropic clients for the application under test:
``xgen.anthropic_client(name)`` and ``xgen.async_anthropic_client(name)``.

They answer ``messages.create()`` (whole, or ``stream=True``) and ``messages.stream()``
(a context manager yielding the SDK's stream helper: events, ``text_stream``,
``get_final_message()``) as ``anthropic.Anthropic`` and ``anthropic.AsyncAnthropic`` do,
with the ``anthropic`` types, and every call goes through the run's recorder (record modes,
cassettes, the live-call budget, cost, progress and reports). The key holds every parameter
the application passed (:mod:`pytest_xgen.recording.anthropic_body`); the recording holds
the message's JSON whole (tool use blocks, thinking and its signature included), or every
event of a stream in order, which a replay yields again as the SDK's event objects. Any
other part of the SDK's client (``messages.batches``, ``messages.count_tokens``, ``beta``,
``with_raw_response``, ...) is a usage error naming it.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from pytest_xgen.errors import XgenConfigError, hide_frame
from pytest_xgen.models.anthropic_messages import import_anthropic
from pytest_xgen.recording.anthropic_body import given
from pytest_xgen.recording.client import AsyncStream, Stream, UnsupportedCall
from pytest_xgen.recording.client_body import client_options
from pytest_xgen.recording.model import RecordedModel

__tracebackhide__ = hide_frame


def _build(type_: Any, value: Any) -> Any:
    # The leniency of the SDK itself: what it would build from this JSON.
    from anthropic._models import construct_type

    return construct_type(type_=type_, value=value)


# A dry run's answer: an empty message (or the events of one), so that the application
# goes on to count its later calls.
_BLANK: dict[str, Any] = {
    "id": "",
    "type": "message",
    "role": "assistant",
    "model": "",
    "content": [],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 0, "output_tokens": 0},
}
_BLANK_EVENTS: list[dict[str, Any]] = [
    {"type": "message_start", "message": _BLANK},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 0}},
    {"type": "message_stop"},
]


def answer(record: dict[str, Any], stream: bool = False) -> Any:
    """The recorded answer as the SDK's ``create()`` returns it: a ``Message``, or a
    :class:`~pytest_xgen.recording.client.Stream` of raw stream events (an empty one of
    either in a dry run, which records nothing)."""
    if "raw" not in record and "events" not in record:
        record = {"events": _BLANK_EVENTS} if stream else {"raw": _BLANK}
    if "events" in record:
        from anthropic.types import RawMessageStreamEvent

        return Stream([_build(RawMessageStreamEvent, e) for e in record["events"]])
    from anthropic.types import Message

    return _build(Message, record.get("raw", {}))


def _helper(raw: Stream | AsyncStream, asynchronous: bool) -> Any:
    """The SDK's own stream helper (``MessageStream``) reading the replayed events: it
    builds the text, thinking and final message as from a live stream."""
    from anthropic import NOT_GIVEN
    from anthropic.lib.streaming import AsyncMessageStream, MessageStream

    cls: Any = AsyncMessageStream if asynchronous else MessageStream
    if "output_format" in inspect.signature(cls).parameters:
        return cls(raw, output_format=NOT_GIVEN)
    return cls(raw)  # pragma: no cover - SDKs before structured outputs


# What to do instead, for the parts of the anthropic client that applications use most.
_INSTEAD = {
    "with_raw_response": (
        "the HTTP response (status, headers) is not recorded; call messages.create(), which "
        "returns the parsed message"
    ),
    "with_streaming_response": (
        "call messages.stream() or messages.create(stream=True): a stream is recorded event "
        "by event and replayed"
    ),
    "batches": "message batches are not recorded; call messages.create() for each request",
    "count_tokens": (
        "token counts are not recorded; the usage of each recorded message holds its counts"
    ),
    "parse": (
        "call messages.create() with output_config={'format': {'type': 'json_schema', "
        "'schema': ...}} and parse the text"
    ),
    "beta": "the beta resources are not recorded; call messages.create() or messages.stream()",
}
_ANSWERED = (
    "the recorded anthropic client answers messages.create() (streams included), "
    "messages.stream() and with_options()"
)


def unsupported(where: str, name: str) -> UnsupportedCall:
    """The usage error for ``where.name``, a part of the anthropic client not recorded."""
    return UnsupportedCall(f"{where}.{name} is not recorded: {_INSTEAD.get(name, _ANSWERED)}")


class _Part:
    _where: str

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise unsupported(self._where, name)


class _StreamManager:
    """What ``messages.stream()`` returns: the call is made (or replayed) when the ``with``
    block starts, which gets the SDK's ``MessageStream``."""

    def __init__(self, messages: _Messages, kwargs: dict[str, Any]) -> None:
        self._messages = messages
        self._kwargs = kwargs
        self._stream: Any = None

    def __enter__(self) -> Any:
        record = self._messages._call({**self._kwargs, "stream": True})
        self._stream = _helper(answer(record, stream=True), asynchronous=False)
        return self._stream

    def __exit__(self, *exc: object) -> None:
        if self._stream is not None:
            self._stream.close()

    async def __aenter__(self) -> Any:
        record = await asyncio.to_thread(self._messages._call, {**self._kwargs, "stream": True})
        self._stream = _helper(AsyncStream(answer(record, stream=True)), asynchronous=True)
        return self._stream

    async def __aexit__(self, *exc: object) -> None:
        if self._stream is not None:
            await self._stream.close()


class _Messages(_Part):
    def __init__(self, client: _Client) -> None:
        self._client = client
        self._where = f"{client._where}.messages"

    def _call(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        client = self._client
        return client._model.client_call(
            "messages",
            given(kwargs),
            any_model=client._any_model,
            defaults=client._options,
            where=client._where,
        )

    def _stream_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs = given(kwargs)
        if "output_format" in kwargs:
            raise XgenConfigError(
                f"{self._where}.stream(output_format=...) is not recorded: pass "
                "output_config={'format': {'type': 'json_schema', 'schema': ...}} and parse "
                "the final text"
            )
        if "stream" in kwargs:
            raise XgenConfigError(
                f"{self._where}.stream() got an unexpected keyword argument 'stream' (it "
                "always streams)"
            )
        return kwargs

    def create(self, **kwargs: Any) -> Any:
        """``messages.create()``: a ``Message``, or with ``stream=True`` its events."""
        return answer(self._call(kwargs), stream=kwargs.get("stream") is True)

    def stream(self, **kwargs: Any) -> _StreamManager:
        """``messages.stream()``: ``with client.messages.stream(...) as stream:``."""
        return _StreamManager(self, self._stream_kwargs(kwargs))


class _AsyncMessages(_Messages):
    async def create(self, **kwargs: Any) -> Any:
        # The recorder is synchronous (locks, diskcache): a thread keeps the loop free.
        record = await asyncio.to_thread(self._call, kwargs)
        found = answer(record, stream=kwargs.get("stream") is True)
        return AsyncStream(found) if isinstance(found, Stream) else found


# with_options() keywords: those that go with each call, and those the model's table
# decides (as patch_anthropic ignores the constructor's).
_TABLE_KEYWORDS = frozenset(
    {
        "api_key",
        "auth_token",
        "credentials",
        "config",
        "profile",
        "webhook_key",
        "base_url",
        "http_client",
        "middleware",
        "open_telemetry",
    }
)


class _Client(_Part):
    _messages: type[_Messages] = _Messages
    _label = "recorded anthropic client"
    _factory = "xgen.anthropic_client"

    def __init__(
        self,
        model: RecordedModel,
        *,
        any_model: bool = False,
        where: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self._model = model
        self._any_model = any_model
        self._where = where or f"{self._factory}({model.name!r})"
        self._options: dict[str, Any] = dict(options or {})
        self._name = model.name
        api = model.model.identity.get("api")
        if api != "anthropic":
            raise XgenConfigError(
                f"{model.test}: {self._where}: model {model.name!r} is not an Anthropic "
                'Messages API model (its table has no backend = "anthropic"); use '
                "xgen.client() for an OpenAI-compatible model"
            )
        import_anthropic(self._where)  # it returns the SDK's types: a clear error without it
        self.messages = self._messages(self)

    def __repr__(self) -> str:
        return f"<{self._label} for model {self._name!r}>"

    def with_options(self, **options: Any) -> Any:
        """A recorded client whose calls take these options, as the SDK's
        ``with_options()``: ``timeout``, ``max_retries``, ``default_headers`` and
        ``default_query`` go with the live calls and are never part of a recording; the
        key, ``base_url`` and the other connection settings are the model's table's."""
        merged = client_options(self._options, options, self._where, _TABLE_KEYWORDS)
        return type(self)(self._model, any_model=self._any_model, where=self._where, options=merged)

    copy = with_options


class RecordedAnthropic(_Client):
    """``xgen.anthropic_client(name)``: ``anthropic.Anthropic`` for ``messages.create``
    and ``messages.stream``, recorded."""

    def close(self) -> None:
        """Nothing to close (the model's own client is the run's)."""

    def __enter__(self) -> RecordedAnthropic:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncRecordedAnthropic(_Client):
    """``xgen.async_anthropic_client(name)``: ``anthropic.AsyncAnthropic``, recorded."""

    _messages = _AsyncMessages
    _label = "recorded async anthropic client"
    _factory = "xgen.async_anthropic_client"

    async def close(self) -> None:
        """Nothing to close (the model's own client is the run's)."""

    async def __aenter__(self) -> AsyncRecordedAnthropic:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
