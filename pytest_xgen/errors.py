"""Exceptions raised by pytest-xgen.

Two families matter to users. :class:`XgenInfraError` covers everything that is not the
model's reasoning: an unreachable endpoint, a rate limit, a missing recording, a corrupt
cassette. pytest reports those as *errors*, never as failed reasoning tests.
:class:`XgenConfigError` is a problem the user fixes in configuration; at start-up it
becomes a ``pytest.UsageError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class XgenError(Exception):
    """Base class of every pytest-xgen exception."""


class XgenConfigError(XgenError):
    """The configuration is wrong; the message says where and what to write instead."""


class XgenInfraError(XgenError):
    """Infrastructure, not reasoning, went wrong: reported as a test *error*."""


class ModelCallError(XgenInfraError):
    """A model endpoint could not be reached or answered with an error after retries."""


class RecordingMissError(XgenInfraError):
    """Replay-only mode met a request that has no recording."""


class CassetteError(XgenInfraError):
    """A cassette file or a stored entry is unreadable or fails validation."""


class StoreError(XgenInfraError):
    """The local store cannot be written (a full disk, a locked database)."""


class BudgetExhaustedError(XgenInfraError):
    """``--xgen-max-live-calls`` is spent: no more live calls in this run."""


class LocalModelError(XgenInfraError):
    """An embedded model or the managed llama.cpp server is unavailable."""


class TransferFailed(XgenError, AssertionError):
    """A transfer check or review did not meet its thresholds: a test *failure* whose
    message explains the numbers."""


def hide_frame(excinfo: Any) -> bool:
    """``__tracebackhide__`` for pytest-xgen's own modules: a user-facing outcome (an
    infrastructure or configuration problem, a failed check) shows the user's line and the
    message, not the plugin's internals. Any other exception (a bug) keeps the full
    traceback."""
    return excinfo is not None and isinstance(
        excinfo.value, (XgenInfraError, XgenConfigError, TransferFailed)
    )


def did_you_mean(name: str, known: Iterable[str], *, n: int = 3, cutoff: float = 0.5) -> str:
    """`` (did you mean 'qwen'?)`` for the closest known names, or ``""``."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=n, cutoff=cutoff)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
