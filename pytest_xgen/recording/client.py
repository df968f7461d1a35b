"""Recorded clients for the application under test: ``xgen.client(name)`` and
``xgen.async_client(name)``.

They answer ``chat.completions.create()``, ``completions.create()`` and
``responses.create()`` as ``openai.OpenAI`` and ``openai.AsyncOpenAI`` do, with the
``openai`` response types (a Responses stream: its typed events), and every call goes
through the run's recorder (record modes, cassettes, the live-call budget, progress and
reports). The key holds every parameter the application passed; the recording holds the
answer's JSON whole, or every chunk (event) of a stream, so a replay returns the same tool
calls, ``response_format`` output, reasoning fields and chunk boundaries. The parameters are
taken as the SDK takes them (:mod:`pytest_xgen.recording.client_body`), ``with_options()``
as ``openai``'s; any other part of the ``openai`` client (``with_raw_response``,
``parse()``, ``embeddings``, ...) is a usage error naming it.
"""

from __future__ import annotations

import asyncio
import functools
import typing
from collections.abc import AsyncIterator, Iterator
from typing import Any

from pytest_xgen.errors import XgenConfigError, hide_frame
from pytest_xgen.recording.client_body import client_options
from pytest_xgen.recording.model import RecordedModel

__tracebackhide__ = hide_frame


def _types(kind: str) -> tuple[Any, Any]:
    """The ``openai`` types of a whole answer and of one stream chunk."""
    if kind == "chat":
        from openai.types.chat import ChatCompletion, ChatCompletionChunk

        return ChatCompletion, ChatCompletionChunk
    if kind == "responses":
        from openai.types.responses import Response, ResponseStreamEvent

        return Response, ResponseStreamEvent
    from openai.types import Completion

    return Completion, Completion


def _build(type_: Any, value: Any) -> Any:
    # The leniency of the openai client itself: what it would build from this JSON.
    from openai._models import construct_type

    return construct_type(type_=type_, value=value)


@functools.cache
def _event_classes() -> dict[str, Any]:
    """The ``openai`` class of each Responses stream event, by its ``type`` (an event is
    built as what the union would build, at a third of the cost; a type this table does not
    know is built through the union)."""
    from openai.types.responses import ResponseStreamEvent

    union = typing.get_args(ResponseStreamEvent)[0]
    return {
        name: member
        for member in typing.get_args(union)
        for name in typing.get_args(member.model_fields["type"].annotation)
    }


def answer(kind: str, record: dict[str, Any], *, usage_chunk: bool = True) -> Any:
    """The recorded answer as the ``openai`` client returns it: a response object, or a
    stream of chunk objects. Without ``usage_chunk`` a stream leaves out the chunk that
    only carries the usage (the plugin asks every stream for it; the application gets it
    when it asked too, as from the endpoint)."""
    whole, chunk = _types(kind)
    if "events" in record:  # a Responses stream: typed events, in the order they came
        classes = _event_classes()
        return Stream([_build(classes.get(e.get("type"), chunk), e) for e in record["events"]])
    if "chunks" in record:
        chunks = record["chunks"]
        if not usage_chunk:
            chunks = [c for c in chunks if c.get("choices") or not c.get("usage")]
        return Stream([_build(chunk, c) for c in chunks])
    return _build(whole, record.get("raw", {}))


def _asks_usage(kwargs: dict[str, Any]) -> bool:
    """Whether a ``create()`` asked a stream for its usage chunk."""
    extra = kwargs.get("stream_options")
    return isinstance(extra, dict) and bool(extra.get("include_usage"))


class Stream:
    """A replayed (or just recorded) stream: the chunks in the order they came."""

    def __init__(self, chunks: list[Any]) -> None:
        self._chunks = iter(chunks)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        return next(self._chunks)

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._chunks = iter(())


class AsyncStream:
    """The asynchronous twin of :class:`Stream`."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self._stream)
        except StopIteration:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._stream.close()


class UnsupportedCall(XgenConfigError, AttributeError):
    """A part of the ``openai`` client that the recorded client does not answer (an
    ``AttributeError`` too, so ``hasattr()`` and ``getattr(..., default)`` see it as
    missing)."""


# What to do instead, for the parts of the openai client that applications use most.
_INSTEAD = {
    "with_raw_response": (
        "the HTTP response (status, headers) is not recorded; call create(), which returns "
        "the parsed response"
    ),
    "with_streaming_response": (
        "call create(stream=True): a stream is recorded chunk by chunk and replayed"
    ),
    "parse": (
        "call create() with response_format set to the model's JSON schema "
        '({"type": "json_schema", "json_schema": {...}}) and parse message.content'
    ),
    "stream": "call create(stream=True): a stream is recorded chunk by chunk and replayed",
}
_ANSWERED = (
    "the recorded client answers chat.completions.create(), completions.create() and "
    "responses.create() (streams included), and with_options()"
)
# What to do instead, for the parts of openai's responses resource.
_RESPONSES_INSTEAD = {
    "parse": (
        'call create() with text={"format": {"type": "json_schema", "name": ..., '
        '"schema": ...}} and parse output_text'
    ),
    "stream": "call create(stream=True): a stream is recorded event by event and replayed",
    "with_streaming_response": (
        "call create(stream=True): a stream is recorded event by event and replayed"
    ),
}
_STATEFUL = (
    "a recorded call is answered from its recording, not from responses kept on the "
    "server; the recorded client answers responses.create() (streams included)"
)


def unsupported(where: str, name: str) -> UnsupportedCall:
    """The usage error for ``where.name``, a part of the openai client not recorded."""
    if where.endswith(".responses"):
        instead = _RESPONSES_INSTEAD.get(name) or _INSTEAD.get(name, _STATEFUL)
    else:
        instead = _INSTEAD.get(name, _ANSWERED)
    return UnsupportedCall(f"{where}.{name} is not recorded: {instead}")


class _Part:
    """A part of the recorded client: a public name it does not have is a usage error
    naming it (not a bare ``AttributeError``)."""

    _where: str

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise unsupported(self._where, name)


class _Create(_Part):
    def __init__(self, client: _Client, kind: str, where: str) -> None:
        self._client = client
        self._kind = kind
        self._where = where

    def _call(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        client = self._client
        return client._model.client_call(
            self._kind,
            kwargs,
            any_model=client._any_model,
            defaults=client._options,
            where=client._where,
        )

    def create(self, **kwargs: Any) -> Any:
        return answer(self._kind, self._call(kwargs), usage_chunk=_asks_usage(kwargs))


class _AsyncCreate(_Create):
    async def create(self, **kwargs: Any) -> Any:
        # The recorder is synchronous (locks, diskcache): a thread keeps the loop free.
        record = await asyncio.to_thread(self._call, kwargs)
        found = answer(self._kind, record, usage_chunk=_asks_usage(kwargs))
        return AsyncStream(found) if isinstance(found, Stream) else found


class _Chat(_Part):
    def __init__(self, completions: _Create, where: str) -> None:
        self.completions = completions
        self._where = where


# with_options() keywords: those that go with each call, and those the model's table
# decides (as patch_openai ignores the constructor's).
_TABLE_KEYWORDS = frozenset(
    {
        "api_key",
        "organization",
        "project",
        "webhook_secret",
        "base_url",
        "websocket_base_url",
        "http_client",
    }
)


class _Client(_Part):
    _create: type[_Create] = _Create
    _label = "recorded client"
    _factory = "xgen.client"

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
        where = self._where
        self.chat = _Chat(self._create(self, "chat", f"{where}.chat.completions"), f"{where}.chat")
        self.completions = self._create(self, "completion", f"{where}.completions")
        self.responses = self._create(self, "responses", f"{where}.responses")
        self._name = model.name

    def __repr__(self) -> str:
        return f"<{self._label} for model {self._name!r}>"

    def with_options(self, **options: Any) -> Any:
        """A recorded client whose calls take these options, as ``openai``'s
        ``with_options()``: ``timeout``, ``max_retries``, ``default_headers`` and
        ``default_query`` (merged with each call's ``extra_headers``/``extra_query``) go
        with the live calls and are never part of a recording; ``api_key``,
        ``base_url`` and the other connection settings are the model's table's, as for
        ``patch_openai``."""
        merged = client_options(self._options, options, self._where, _TABLE_KEYWORDS)
        return type(self)(self._model, any_model=self._any_model, where=self._where, options=merged)

    copy = with_options


class RecordedClient(_Client):
    """``xgen.client(name)``: ``openai.OpenAI`` for ``chat.completions.create`` and
    ``completions.create``, recorded. ``model=`` may be left out or name the model."""

    def close(self) -> None:
        """Nothing to close (the model's own client is the run's)."""

    def __enter__(self) -> RecordedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncRecordedClient(_Client):
    """``xgen.async_client(name)``: ``openai.AsyncOpenAI``, recorded."""

    _create = _AsyncCreate
    _label = "recorded async client"
    _factory = "xgen.async_client"

    async def close(self) -> None:
        """Nothing to close (the model's own client is the run's)."""

    async def __aenter__(self) -> AsyncRecordedClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
