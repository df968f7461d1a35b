"""Recorded clients for the application under test: ``xgen.client(name)`` and
``xgen.async_client(name)``.

They answer ``chat.completions.create()`` and ``completions.create()`` as ``openai.OpenAI``
and ``openai.AsyncOpenAI`` do, with the ``openai`` response types, and every call goes
through the run's recorder (record modes, cassettes, the live-call budget, progress and
reports). The key holds every parameter the application passed; the recording holds the
answer's JSON whole, or every chunk of a stream, so a replay returns the same tool calls,
``response_format`` output, reasoning fields and chunk boundaries.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from pytest_xgen.errors import hide_frame

__tracebackhide__ = hide_frame

if TYPE_CHECKING:
    from pytest_xgen.fixture import RecordedModel


def _types(kind: str) -> tuple[Any, Any]:
    """The ``openai`` types of a whole answer and of one stream chunk."""
    if kind == "chat":
        from openai.types.chat import ChatCompletion, ChatCompletionChunk

        return ChatCompletion, ChatCompletionChunk
    from openai.types import Completion

    return Completion, Completion


def _build(type_: Any, value: Any) -> Any:
    # The leniency of the openai client itself: what it would build from this JSON.
    from openai._models import construct_type

    return construct_type(type_=type_, value=value)


def answer(kind: str, record: dict[str, Any]) -> Any:
    """The recorded answer as the ``openai`` client returns it: a response object, or a
    stream of chunk objects."""
    whole, chunk = _types(kind)
    if "chunks" in record:
        return Stream([_build(chunk, c) for c in record["chunks"]])
    return _build(whole, record.get("raw", {}))


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


class _Create:
    def __init__(self, model: RecordedModel, kind: str, any_model: bool) -> None:
        self._model = model
        self._kind = kind
        self._any_model = any_model

    def _call(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return self._model.client_call(self._kind, kwargs, any_model=self._any_model)

    def create(self, **kwargs: Any) -> Any:
        return answer(self._kind, self._call(kwargs))


class _AsyncCreate(_Create):
    async def create(self, **kwargs: Any) -> Any:
        # The recorder is synchronous (locks, diskcache): a thread keeps the loop free.
        record = await asyncio.to_thread(self._call, kwargs)
        found = answer(self._kind, record)
        return AsyncStream(found) if isinstance(found, Stream) else found


class _Chat:
    def __init__(self, completions: _Create) -> None:
        self.completions = completions


class _Client:
    _create: type[_Create] = _Create
    _label = "recorded client"

    def __init__(self, model: RecordedModel, *, any_model: bool = False) -> None:
        self.chat = _Chat(self._create(model, "chat", any_model))
        self.completions = self._create(model, "completion", any_model)
        self._name = model.name

    def __repr__(self) -> str:
        return f"<{self._label} for model {self._name!r}>"


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

    async def close(self) -> None:
        """Nothing to close (the model's own client is the run's)."""

    async def __aenter__(self) -> AsyncRecordedClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
