"""A configured model bound to one test: each call's request (the recording key) is built
here, with the ``secret_params`` masked, and recorded or replayed through the run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pytest_xgen.errors import XgenConfigError, hide_frame
from pytest_xgen.models.base import ChatModel, ChatResult, CompletionResult, Message
from pytest_xgen.models.redaction import remember
from pytest_xgen.recording.client_body import CALL_OPTIONS, call_options, given
from pytest_xgen.recording.client_kinds import CLIENT_KINDS
from pytest_xgen.recording.recorder import CallSite
from pytest_xgen.recording.secrets import masked
from pytest_xgen.recording.store import build_request

if TYPE_CHECKING:
    from pytest_xgen.settings.config import Settings

__tracebackhide__ = hide_frame

_Result = TypeVar("_Result", ChatResult, CompletionResult)


class Run(Protocol):
    """What a recorded model needs of the run (the session): its models, the settings (the
    seed), the ``secret_params`` of each model, and the recorder."""

    settings: Settings

    def model(self, name: str) -> ChatModel: ...

    def secret_params(self, name: str) -> tuple[str, ...]: ...

    def record(
        self, request: dict[str, Any], live: Callable[[], dict[str, Any]], site: CallSite
    ) -> tuple[dict[str, Any], bool]: ...


class RecordedModel:
    """A configured model bound to one test: every call is recorded or replayed.

    Call it with a prompt (``model("What is 2+2?")``) or messages
    (``model([{"role": "user", "content": "..."}])``). ``sample`` selects an independent
    sample of the same request: it is part of the recording key and shifts the seed
    (sample ``i`` runs with ``seed + i``), so five samples are five answers, not one.
    """

    def __init__(self, session: Run, name: str, test: str, module: str) -> None:
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

    def _recorded(self, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` as recorded: the model's ``secret_params`` masked."""
        return masked(params, self.session.secret_params(self.name))

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

    def chat_request(
        self, messages: list[Message], *, sample: int = 0, **params: Any
    ) -> dict[str, Any]:
        """The request ``chat(messages, sample=sample, **params)`` is recorded under (its
        canonical JSON is hashed into the key)."""
        return self._chat_request(messages, self._params(params, sample), sample)

    def _chat_request(
        self, messages: list[Message], merged: dict[str, Any], sample: int
    ) -> dict[str, Any]:
        return build_request(
            "chat",
            self.model.identity,
            self._recorded(merged),
            sample,
            messages=[dict(m) for m in messages],
        )

    def chat(self, messages: list[Message], *, sample: int = 0, **params: Any) -> ChatResult:
        """One chat completion, recorded under the current record mode."""
        merged = self._params(params, sample)
        request = self._chat_request(messages, merged, sample)
        prompt = next(
            (str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), ""
        )
        entry, replayed = self.session.record(
            request,
            lambda: self.model.chat(messages, **merged).to_record(),
            CallSite(self.test, self.module, self.name, prompt),
        )
        return _marked(ChatResult.from_record(entry["response"], key=entry["key"]), replayed)

    def client_call(
        self,
        kind: str,
        kwargs: dict[str, Any],
        *,
        any_model: bool = False,
        defaults: dict[str, Any] | None = None,
        where: str | None = None,
    ) -> dict[str, Any]:
        """One ``create()`` of the application's recorded client (``xgen.client()``): the
        recorded answer (``raw`` JSON, or the ``chunks`` of a stream). ``any_model``: a
        routed client (``patch_openai``) takes the application's own model name, which
        is then part of the key but not sent. ``defaults``: the client's call options
        (``with_options()``), under the call's own. ``where`` names the method in errors."""
        client_kind = CLIENT_KINDS[kind]
        method = client_kind.method
        label = where or f"xgen.client({self.name!r})"
        where = f"{self.test}: {label}.{method}"
        body = given(kwargs)
        named = body.pop("model", None)
        if not any_model:
            endpoint_model = self.model.identity.get("model")
            allowed = list(dict.fromkeys(n for n in (self.name, endpoint_model) if n))
            if named is not None and named not in allowed:
                raise XgenConfigError(
                    f"{self.test}: {label} was asked for model={named!r}; "
                    f"leave model out, or pass {' or '.join(map(repr, allowed))}"
                )
            named = None
        raw = getattr(self.model, "raw", None)
        if raw is None:
            raise XgenConfigError(
                f"{self.test}: model {self.name!r} has no OpenAI-compatible endpoint (its "
                "backend has no raw()); xgen.client() needs a local or base_url model"
            )
        options = call_options(defaults or {}, {k: body.pop(k) for k in CALL_OPTIONS if k in body})
        # Header and query values may be credentials: kept out of every message.
        remember([options.get("extra_headers", {}), options.get("extra_query", {})])
        body = client_kind.body(kind, body, where)
        field = client_kind.field
        text = body.pop(field)
        keyed = self._recorded(body)
        if named is not None:
            keyed = {**keyed, "model": str(named)}
        request = build_request(
            f"client.{kind}",
            self.model.identity,
            keyed,
            0,
            **{field: text},
        )
        shown = client_kind.shown(text)
        entry, _ = self.session.record(
            request,
            lambda: raw(kind, {field: text, **body}, options),
            CallSite(self.test, self.module, self.name, shown),
        )
        response: dict[str, Any] = entry["response"]
        return response

    def complete(self, prompt: str, *, sample: int = 0, **params: Any) -> CompletionResult:
        """One raw completion (``/v1/completions``), e.g. with ``echo=True, logprobs=1``."""
        merged = self._params(params, sample)
        request = build_request(
            "completion", self.model.identity, self._recorded(merged), sample, prompt=prompt
        )
        entry, replayed = self.session.record(
            request,
            lambda: self.model.complete(prompt, **merged).to_record(),
            CallSite(self.test, self.module, self.name, prompt),
        )
        return _marked(CompletionResult.from_record(entry["response"], key=entry["key"]), replayed)


def _marked(result: _Result, replayed: bool) -> _Result:
    """``result`` as read back from its record, marked live unless it was replayed."""
    return result if replayed else replace(result, replayed=False)
