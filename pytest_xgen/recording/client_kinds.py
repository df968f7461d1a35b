"""The kinds of call the recorded application clients make, one row each: the ``openai``
client's chat and text completions and Responses API, and the ``anthropic`` SDK's
Messages API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_xgen.recording import anthropic_body, client_body


@dataclass(frozen=True)
class ClientKind:
    """One kind of call a recorded application client makes: the method as errors name it,
    the parameter holding the text sent (kept in the key under its own name), how the
    parameters become the body sent, and what the progress line and a miss show of the
    text."""

    method: str
    field: str
    body: Callable[[str, dict[str, Any], str], dict[str, Any]]
    shown: Callable[[Any], str]


CLIENT_KINDS: dict[str, ClientKind] = {
    "chat": ClientKind(
        "chat.completions.create()", "messages", client_body.sdk_body, client_body.last_user
    ),
    "completion": ClientKind("completions.create()", "prompt", client_body.sdk_body, str),
    "responses": ClientKind(
        "responses.create()", "input", client_body.responses_body, client_body.input_shown
    ),
    "messages": ClientKind(
        "messages.create()", "messages", anthropic_body.body, anthropic_body.last_user
    ),
}
"""The recorded clients' kinds of call, by the ``kind`` that
:meth:`pytest_xgen.recording.model.RecordedModel.client_call` and a model's ``raw()`` take."""
