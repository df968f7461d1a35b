"""One scriptable model for the tests: a reply function writes its answers.

A reply is ``reply(call) -> str``, where :class:`Call` holds the model's name, its script
(the ``model`` string of its table, e.g. ``"baseline=6,6;transfer=7,7"``, and that
string's ``key=value`` settings), the messages, the parameters and the sample. The same
reply serves:

- unit tests, as the ``ask`` a check's functions take: ``ScriptedAsk(reply)``, which also
  logs every call;
- inner pytest runs: ``conftest(source)`` is the text of an inner ``conftest.py`` in which
  ``source`` defines ``reply`` (and, if asked for, ``complete``), and whose
  ``pytest_xgen_make_model`` hook builds a :class:`ScriptedModel` answering by it for every
  model of the project. The conftest makes this module importable in subprocess runs too.
"""

from __future__ import annotations

import hashlib
import random
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_xgen.models.base import ChatResult, CompletionResult, Usage

ROOT = Path(__file__).resolve().parent.parent


def settings_of(script: str) -> dict[str, str]:
    """The ``;``-separated ``key=value`` settings of ``script``."""
    return dict(part.split("=", 1) for part in script.split(";") if "=" in part)


@dataclass
class Call:
    """One call of a scripted model."""

    model: str  # the model's name in the project (an ask's model argument)
    script: str  # the ``model`` string of its table (the name, for an ask)
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    sample: int = 0  # an ask's sample index; a model call's ``seed`` parameter

    @property
    def settings(self) -> dict[str, str]:
        """The script's ``;``-separated ``key=value`` settings."""
        return settings_of(self.script)

    @property
    def system(self) -> str:
        """The system message, or ""."""
        first = self.messages[0] if self.messages else {}
        return str(first.get("content", "")) if first.get("role") == "system" else ""

    @property
    def user(self) -> str:
        """The last user message (the text parts of one given in parts)."""
        content = next((m["content"] for m in reversed(self.messages) if m["role"] == "user"), "")
        if isinstance(content, list):
            return " ".join(part.get("text", "") for part in content)
        return str(content)

    def rng(self, seed: object = 0) -> random.Random:
        """A generator of its own for this call: the same call draws the same numbers."""
        key = f"{seed}|{self.model}|{self.user}|{self.sample}".encode()
        return random.Random(hashlib.sha256(key).digest())


Reply = Callable[[Call], object]
"""A script: the text a call answers, a value (see :func:`text_of`), or a whole
:class:`ChatResult` (for its own usage, finish reason or reasoning)."""

Complete = Callable[["ScriptedModel", str, dict[str, Any]], CompletionResult]


def text_of(answer: object) -> str:
    """What a reply returned, as a model's text: a string as it is, anything else as
    ``Answer: <it>``."""
    return answer if isinstance(answer, str) else f"Answer: {answer}"


def result_of(answer: object, usage: tuple[int, int, int]) -> ChatResult:
    """What a reply returned, as a chat result: a :class:`ChatResult` as it is, anything
    else its :func:`text_of`, finished with "stop" and billed ``usage``."""
    if isinstance(answer, ChatResult):
        return answer
    return ChatResult(text=text_of(answer), finish_reason="stop", usage=Usage(*usage))


class ScriptedModel:
    """A model (``pytest_xgen.models.base.Model``) whose answers ``reply`` writes."""

    def __init__(
        self,
        name: str,
        script: str,
        reply: Reply,
        *,
        complete: Complete | None = None,
        usage: tuple[int, int, int] = (10, 5, 15),
    ) -> None:
        self.name = name
        self.script = script
        self.identity = {"endpoint": "scripted", "model": script}
        self.params: dict[str, Any] = {}
        self.reply = reply
        self._complete = complete
        self.usage = usage

    @property
    def settings(self) -> dict[str, str]:
        """Its script's ``;``-separated ``key=value`` settings."""
        return settings_of(self.script)

    def call(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Call:
        return Call(self.name, self.script, messages, params, int(params.get("seed") or 0))

    def chat(self, messages: list[dict[str, Any]], **params: Any) -> ChatResult:
        return result_of(self.reply(self.call(messages, params)), self.usage)

    def complete(self, prompt: str, **params: Any) -> CompletionResult:
        if self._complete is None:
            raise NotImplementedError("this scripted model has no completions")
        return self._complete(self, prompt, params)

    def raw(self, kind: str, body: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        """A call of the product's own client (the patched ``openai.OpenAI()``)."""
        from pytest_xgen.models.openai_chat import raw_record

        params = {k: v for k, v in body.items() if k not in ("messages", "model")}
        result = self.chat(list(body["messages"]), **params)
        text, usage = result.text, result.usage
        answer = {
            "id": "scripted",
            "object": "chat.completion",
            "created": 0,
            "model": self.name,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "logprobs": None,
                    "message": {"role": "assistant", "content": text},
                }
            ],
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.total_tokens,
            },
        }
        return raw_record(kind, answer)


def scripted_models(
    reply: Reply, *, complete: Complete | None = None, usage: tuple[int, int, int] = (10, 5, 15)
) -> Callable[..., ScriptedModel]:
    """A ``pytest_xgen_make_model`` hook: every model of the project is a
    :class:`ScriptedModel` answering by ``reply``, its script the ``model`` string of its
    table (its name when the table has none)."""

    def pytest_xgen_make_model(name: str, spec: dict[str, Any], session: Any) -> ScriptedModel:
        script = str(spec.get("model", name))
        return ScriptedModel(name, script, reply, complete=complete, usage=usage)

    return pytest_xgen_make_model


_PREAMBLE = f"""\
import sys

if {str(ROOT)!r} not in sys.path:  # a subprocess run imports tests.scripted from here
    sys.path.append({str(ROOT)!r})

from tests.scripted import scripted_models
"""


def conftest(
    source: str, *, complete: bool = False, usage: tuple[int, int, int] = (10, 5, 15)
) -> str:
    """An inner ``conftest.py``: ``source``, which defines ``reply(call)`` (and
    ``complete(model, prompt, params)`` when ``complete``), then the hook that makes every
    model of the project a :class:`ScriptedModel` answering by them."""
    hook = "reply" + (", complete=complete" if complete else "") + f", usage={usage!r}"
    body = textwrap.dedent(source).strip("\n")
    return f"{_PREAMBLE}\n{body}\n\n\npytest_xgen_make_model = scripted_models({hook})\n"


class ScriptedAsk:
    """An ``ask(model, messages, sample, params)`` answering by ``reply``; ``calls`` logs
    ``(model, last user message, sample)`` of every call."""

    def __init__(self, reply: Reply, usage: tuple[int, int, int] = (1, 1, 2)) -> None:
        self.reply = reply
        self.usage = usage
        self.calls: list[tuple[str, str, int]] = []

    def __call__(
        self, model: str, messages: list[dict[str, Any]], sample: int, params: dict[str, Any]
    ) -> ChatResult:
        call = Call(model, model, messages, params, sample)
        self.calls.append((model, call.user, sample))
        return result_of(self.reply(call), self.usage)
