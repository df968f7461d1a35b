"""``xgen.patch_openai()`` and ``xgen.patch_anthropic()``: the application's own
``openai.OpenAI(...)`` / ``openai.AsyncOpenAI(...)`` and ``anthropic.Anthropic(...)`` /
``anthropic.AsyncAnthropic(...)`` routed to recorded clients of one configured model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pytest_xgen.models.anthropic_messages import import_anthropic
from pytest_xgen.recording.anthropic_client import AsyncRecordedAnthropic, RecordedAnthropic
from pytest_xgen.recording.client import AsyncRecordedClient, RecordedClient
from pytest_xgen.recording.model import RecordedModel


class Patched:
    """What ``xgen.patch_openai()`` returns: usable as a ``with`` block, which undoes the
    routing when it ends (otherwise the test's end does)."""

    def __init__(self, patch: pytest.MonkeyPatch) -> None:
        self._patch = patch

    def __enter__(self) -> Patched:
        return self

    def __exit__(self, *exc: object) -> None:
        self.undo()

    def undo(self) -> None:
        """Give ``openai`` its own classes back (again: a no-op)."""
        self._patch.undo()


def patch_openai(model: Callable[[], RecordedModel]) -> Patched:
    """Replace ``openai.OpenAI``, ``openai.Client``, ``openai.AsyncOpenAI`` and
    ``openai.AsyncClient`` with factories of recorded clients of ``model()``, whatever
    arguments they are given, until the returned :class:`Patched` is undone."""
    import openai  # only when a test routes its application: openai is slow to import

    patch = pytest.MonkeyPatch()

    def sync(*args: Any, **kwargs: Any) -> RecordedClient:
        return RecordedClient(model(), any_model=True, where="openai.OpenAI()")

    def asynchronous(*args: Any, **kwargs: Any) -> AsyncRecordedClient:
        return AsyncRecordedClient(model(), any_model=True, where="openai.AsyncOpenAI()")

    factory: Any
    for attribute, factory in (
        ("OpenAI", sync),
        ("Client", sync),
        ("AsyncOpenAI", asynchronous),
        ("AsyncClient", asynchronous),
    ):
        # The plugin's own client must stay real: its calls are the recorded ones.
        real = getattr(openai, attribute)
        factory.__xgen_real__ = getattr(real, "__xgen_real__", real)
        patch.setattr(openai, attribute, factory)
    return Patched(patch)


def patch_anthropic(model: Callable[[], RecordedModel]) -> Patched:
    """Replace ``anthropic.Anthropic``, ``anthropic.Client``, ``anthropic.AsyncAnthropic``
    and ``anthropic.AsyncClient`` with factories of recorded anthropic clients of
    ``model()``, whatever arguments they are given, until the returned :class:`Patched`
    is undone."""
    anthropic = import_anthropic("xgen.patch_anthropic()")
    patch = pytest.MonkeyPatch()

    def sync(*args: Any, **kwargs: Any) -> RecordedAnthropic:
        return RecordedAnthropic(model(), any_model=True, where="anthropic.Anthropic()")

    def asynchronous(*args: Any, **kwargs: Any) -> AsyncRecordedAnthropic:
        return AsyncRecordedAnthropic(model(), any_model=True, where="anthropic.AsyncAnthropic()")

    factory: Any
    for attribute, factory in (
        ("Anthropic", sync),
        ("Client", sync),
        ("AsyncAnthropic", asynchronous),
        ("AsyncClient", asynchronous),
    ):
        # The plugin's own client must stay real: its calls are the recorded ones.
        real = getattr(anthropic, attribute)
        factory.__xgen_real__ = getattr(real, "__xgen_real__", real)
        patch.setattr(anthropic, attribute, factory)
    return Patched(patch)
