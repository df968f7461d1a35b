"""The model protocol and the plain data a model call returns.

Nothing here imports ``openai``: recorded results are rebuilt from these dataclasses alone,
so replaying a recording never loads the client.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from pytest_xgen.core.prompts import Message as Message  # re-exported: the models speak it

_THINK = re.compile(r"<think>(.*?)(?:</think>|$)", re.DOTALL)


# Counts some APIs report beyond the three every endpoint has; a record keeps them only
# when not zero, so a chat completion's record is the same as before they existed.
EXTRA_USAGE = ("reasoning_tokens", "cache_read_tokens", "cache_write_tokens")


@dataclass(frozen=True)
class Usage:
    """Token counts reported by the endpoint (zeros where it reports none).

    ``reasoning_tokens`` are output tokens spent on reasoning (already counted in
    ``completion_tokens``); ``cache_read_tokens`` and ``cache_write_tokens`` are input tokens
    read from or written to a prompt cache, which Anthropic counts *apart* from
    ``prompt_tokens`` and prices apart (see :func:`pytest_xgen.recording.cost.call_cost`).
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def to_dict(self) -> dict[str, int]:
        data = asdict(self)
        for name in EXTRA_USAGE:
            if not data[name]:
                del data[name]
        return data


@dataclass(frozen=True)
class ChatResult:
    """One chat completion.

    ``text`` is the final answer text with any ``<think>`` block removed; ``reasoning`` holds
    the separate reasoning (a ``reasoning_content`` field, the ``<think>`` block, a Responses
    API reasoning summary or Anthropic ``thinking`` blocks), or ``""``. ``reasoning_source``
    names which of those it came from (one of :data:`REASONING_SOURCES`; ``""`` when there
    is no reasoning, and in records made before the name was kept). ``reasoning_redacted``
    is true when the model reasoned but gave no readable text of it (Anthropic
    ``redacted_thinking``). ``replayed`` tells whether the result came from a recording
    rather than a live call.
    """

    text: str
    reasoning: str = ""
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    replayed: bool = False
    key: str = ""
    reasoning_source: str = ""
    reasoning_redacted: bool = False

    def to_record(self) -> dict[str, Any]:
        """The recordable part of the result (what a cassette stores)."""
        record: dict[str, Any] = {
            "text": self.text,
            "reasoning": self.reasoning,
            "finish_reason": self.finish_reason,
            "usage": self.usage.to_dict(),
            "model": self.model,
        }
        if self.reasoning_source:
            record["reasoning_source"] = self.reasoning_source
        if self.reasoning_redacted:
            record["reasoning_redacted"] = True
        return record

    @classmethod
    def from_record(cls, data: dict[str, Any], *, key: str = "") -> ChatResult:
        return cls(
            text=data["text"],
            reasoning=data.get("reasoning", ""),
            finish_reason=data.get("finish_reason"),
            usage=Usage(**data.get("usage", {})),
            model=data.get("model", ""),
            replayed=True,
            key=key,
            reasoning_source=data.get("reasoning_source", ""),
            reasoning_redacted=bool(data.get("reasoning_redacted", False)),
        )


# What a ChatResult's reasoning can come from, as reports name it.
REASONING_SOURCES = {
    "reasoning_content": "the reasoning_content field of a chat completion",
    "think": "a <think> block in the answer text",
    "reasoning summary": "the reasoning summary of a Responses API answer",
    "thinking": "the thinking blocks of an Anthropic Messages answer",
}


@dataclass(frozen=True)
class CompletionResult:
    """One raw text completion, with per-token log-probabilities when requested.

    With ``echo=True`` the tokens cover the prompt too, which is how a scorer measures how
    surprising a given text is.
    """

    text: str
    tokens: list[str] = field(default_factory=list)
    token_logprobs: list[float | None] = field(default_factory=list)
    text_offset: list[int] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    replayed: bool = False
    key: str = ""

    def to_record(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "tokens": list(self.tokens),
            "token_logprobs": list(self.token_logprobs),
            "text_offset": list(self.text_offset),
            "finish_reason": self.finish_reason,
            "usage": self.usage.to_dict(),
            "model": self.model,
        }

    @classmethod
    def from_record(cls, data: dict[str, Any], *, key: str = "") -> CompletionResult:
        return cls(
            text=data["text"],
            tokens=list(data.get("tokens", [])),
            token_logprobs=list(data.get("token_logprobs", [])),
            text_offset=list(data.get("text_offset", [])),
            finish_reason=data.get("finish_reason"),
            usage=Usage(**data.get("usage", {})),
            model=data.get("model", ""),
            replayed=True,
            key=key,
        )


@runtime_checkable
class ChatModel(Protocol):
    """What every model looks like to pytest-xgen.

    ``identity`` names the endpoint without credentials (it goes into recording keys and
    the report's list of models); ``params`` are the default generation parameters merged
    under each call's own. Two attributes are optional (see :func:`description` and
    :func:`one_at_a_time`): ``description``, the few words the terminal header shows, and
    ``one_at_a_time``, true when the endpoint answers one request at a time (the embedded
    llama.cpp server), so that a check's calls to it take turns.
    """

    name: str
    identity: dict[str, str]
    params: dict[str, Any]

    def chat(self, messages: list[Message], **params: Any) -> ChatResult:
        """Run one chat completion."""
        ...

    def complete(self, prompt: str, **params: Any) -> CompletionResult:
        """Run one raw text completion (``/v1/completions``)."""
        ...


# The backends pytest-xgen builds itself; a table naming another ``backend`` is built by a
# plugin's ``pytest_xgen_make_model``, which validates the rest of the table.
BUILT_IN_BACKENDS = ("local", "openai", "openai-responses", "anthropic")


def backend_of(spec: dict[str, Any]) -> str:
    """The backend a model table names: ``backend``, else ``local`` when it has ``local``,
    else ``openai`` (a ``base_url`` and ``model``)."""
    return str(spec.get("backend") or ("local" if "local" in spec else "openai"))


def description(model: ChatModel) -> str:
    """What the header says of ``model``: its ``description``, else its identity's values."""
    text = getattr(model, "description", None)
    return str(text) if text else " ".join(str(v) for v in model.identity.values())


def one_at_a_time(model: ChatModel) -> bool:
    """Whether calls to ``model`` must not overlap (its ``one_at_a_time``, default false)."""
    return bool(getattr(model, "one_at_a_time", False))


def split_reasoning(text: str) -> tuple[str, str]:
    """Split ``<think>...</think>`` blocks out of ``text``: returns ``(answer, reasoning)``.

    An unterminated ``<think>`` (the model ran out of tokens while thinking) counts as
    reasoning to the end of the text.
    """
    parts = [m.group(1).strip() for m in _THINK.finditer(text)]
    if not parts:
        return text.strip(), ""
    return _THINK.sub("", text).strip(), "\n\n".join(p for p in parts if p)
