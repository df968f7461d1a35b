"""What a test sees: the ``xgen`` fixture object and the recorded models it hands out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_xgen.cache import build_request
from pytest_xgen.errors import hide_frame
from pytest_xgen.models.base import ChatResult, CompletionResult, Message
from pytest_xgen.recorder import CallSite

__tracebackhide__ = hide_frame

if TYPE_CHECKING:
    from pytest_xgen.session import XgenSession


class RecordedModel:
    """A configured model bound to one test: every call is recorded or replayed.

    Call it with a prompt (``model("What is 2+2?")``) or messages
    (``model([{"role": "user", "content": "..."}])``). ``sample`` selects an independent
    sample of the same request: it is part of the recording key and shifts the seed
    (sample ``i`` runs with ``seed + i``), so five samples are five answers, not one.
    """

    def __init__(self, session: XgenSession, name: str, test: str, module: str) -> None:
        self.session = session
        self.name = name
        self.test = test
        self.module = module
        self.model = session.model(name)

    def __repr__(self) -> str:
        return f"<RecordedModel {self.name!r} for {self.test}>"

    def _params(self, params: dict[str, Any], sample: int) -> dict[str, Any]:
        if sample < 0:
            raise ValueError(f"sample must be 0 or more; got {sample}")
        merged = {**self.model.params, **params}
        merged["seed"] = int(merged.get("seed", self.session.settings.seed)) + sample
        return merged

    def __call__(
        self,
        prompt: str | list[Message],
        *,
        system: str | None = None,
        sample: int = 0,
        **params: Any,
    ) -> ChatResult:
        """Chat with the model; a string prompt becomes one user message."""
        if isinstance(prompt, str):
            messages: list[Message] = [{"role": "user", "content": prompt}]
        else:
            messages = [dict(m) for m in prompt]
        if system is not None:
            messages.insert(0, {"role": "system", "content": system})
        return self.chat(messages, sample=sample, **params)

    def chat(self, messages: list[Message], *, sample: int = 0, **params: Any) -> ChatResult:
        """One chat completion, recorded under the current record mode."""
        merged = self._params(params, sample)
        request = build_request(
            "chat", self.model.identity, merged, sample, messages=[dict(m) for m in messages]
        )
        prompt = next(
            (str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), ""
        )
        entry, replayed = self.session.record(
            request,
            lambda: self.model.chat(messages, **merged).to_record(),
            CallSite(self.test, self.module, self.name, prompt),
        )
        result = ChatResult.from_record(entry["response"], key=entry["key"])
        return result if replayed else _live(result)

    def complete(self, prompt: str, *, sample: int = 0, **params: Any) -> CompletionResult:
        """One raw completion (``/v1/completions``), e.g. with ``echo=True, logprobs=1``."""
        merged = self._params(params, sample)
        request = build_request("completion", self.model.identity, merged, sample, prompt=prompt)
        entry, replayed = self.session.record(
            request,
            lambda: self.model.complete(prompt, **merged).to_record(),
            CallSite(self.test, self.module, self.name, prompt),
        )
        result = CompletionResult.from_record(entry["response"], key=entry["key"])
        return result if replayed else _live(result)


def _live(result: Any) -> Any:
    from dataclasses import replace

    return replace(result, replayed=False)


class Xgen:
    """The ``xgen`` fixture: access to the configured models of this run, for one test."""

    def __init__(self, session: XgenSession, test: str, module: str) -> None:
        self.session = session
        self.test = test
        self.module = module

    @property
    def record_mode(self) -> str:
        return self.session.settings.record_mode

    @property
    def models(self) -> list[str]:
        """The names of the configured models."""
        return sorted(self.session.settings.models)

    def model(self, name: str) -> RecordedModel:
        """The configured model ``name``, recorded and replayed for this test."""
        return RecordedModel(self.session, name, self.test, self.module)
