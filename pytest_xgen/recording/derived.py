"""What a reviewer reads is what is replayed.

A recording of the application's client (``xgen.client()``, kinds ``client.chat``,
``client.completion``, ``client.responses`` and, of ``xgen.anthropic_client()``,
``client.messages``) keeps the answer as the endpoint sent it, ``raw`` (or every chunk of a
stream, ``chunks``; every event of a Responses or Messages stream, ``events``), and that is
what a replay returns to the application. Beside it are ``text`` and ``usage``, for people
reading the cassette and for the run's token and cost figures. Both are derived from the
answer when the call is recorded; a recording whose readable fields are not exactly what
recording would derive from its answer (an edit with the digest recomputed) is refused, so
a reviewer never approves one answer while the application receives another.

The plugin's own calls (kinds ``chat`` and ``completion``) replay their readable fields
themselves; an answer beside them (``raw``, ``chunks``) would be read but never replayed,
so it is refused too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pytest_xgen.core.printable import printable
from pytest_xgen.models import anthropic_messages
from pytest_xgen.models.openai_chat import raw_record, stream_record
from pytest_xgen.models.responses_answer import events_record, response_record

ANSWERS = ("raw", "chunks", "events")


def _derivers(kind: str) -> dict[str, Callable[[Any], dict[str, Any]]]:
    """How each answer a client call of ``kind`` may record gives its readable fields."""
    if kind == "client.messages":
        return {
            "raw": anthropic_messages.message_record,
            "events": anthropic_messages.events_record,
        }
    if kind == "client.responses":
        return {"raw": response_record, "events": events_record}
    name = kind.removeprefix("client.")
    return {"raw": lambda raw: raw_record(name, raw), "chunks": lambda c: stream_record(name, c)}


def mismatch(entry: dict[str, Any]) -> str | None:
    """What makes the readable fields of a (schema-valid) recording differ from what its
    replay returns, or ``None`` when they agree."""
    kind = entry["request"]["kind"]
    response = entry["response"]
    answers = [name for name in ANSWERS if name in response]
    if not kind.startswith("client."):
        if answers:
            return (
                f"response.{answers[0]} is recorded only for calls of xgen.client(); a call "
                f"of kind {kind} replays response.text, so the two could differ (edited?)"
            )
        return None
    derivers = _derivers(kind)
    if len(answers) != 1 or answers[0] not in derivers:
        found = "neither" if not answers else "both" if len(answers) > 1 else answers[0]
        return (
            "a call of xgen.client() records its answer in "
            f"{' or '.join(f'response.{n}' for n in derivers)}, and this one has {found} "
            "(edited?)"
        )
    source = answers[0]
    try:
        derived = derivers[source](response[source])
    except Exception as exc:  # any answer a hand could write ends as a clear error
        return f"response.{source} cannot be read as an answer ({_cut(_error(exc))})"
    for name in sorted(set(response) | set(derived)):
        if name == source:  # replayed as recorded (a recording floors it once, already)
            continue
        if name not in derived:
            return (
                f"response.{name} is not part of a recording of xgen.client(), whose replay "
                f"returns response.{source} alone (edited?)"
            )
        if response.get(name) != derived[name]:
            return (
                f"response.{name} is {_shown(response.get(name))} but response.{source}, "
                f"which replay returns, gives {_shown(derived[name])} (edited?): a reviewer "
                "reads one and the application receives the other"
            )
    return None


def _error(exc: Exception) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _shown(value: Any) -> str:
    """``value`` as compact JSON (as a cassette shows it), escaped and cut short."""
    return _cut(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def _cut(text: str, limit: int = 80) -> str:
    """``text`` escaped (control characters and line breaks) and cut to ``limit``."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
