"""OpenAI's Responses API (``client.responses.create``) as a model backend
(``backend = "openai-responses"``).

The model is an :class:`~pytest_xgen.models.openai_chat.OpenAIChatModel` that sends its chats
to ``/responses``: the same client, secrets, retries and error messages, and the same
``raw()`` for the application's recorded client. Its answer is a list of output items
(read by :mod:`pytest_xgen.models.responses_answer`); the text is the ``output_text`` of the
``message`` items, the reasoning the summaries of the ``reasoning`` items (asked for with
``reasoning = { summary = "auto" }``), which then become the explanation a transfer check
hands on.
"""

from __future__ import annotations

from typing import Any

from pytest_xgen.errors import XgenConfigError, hide_frame
from pytest_xgen.models.base import ChatResult, CompletionResult, Message
from pytest_xgen.models.call_errors import (
    MalformedResponse,
    endpoint_identity,
    malformed_on_error,
    redact_url,
)
from pytest_xgen.models.openai_chat import OpenAIChatModel
from pytest_xgen.models.responses_answer import (
    finish_reason,
    output_text,
    reasoning_summary,
    response_usage,
)

__tracebackhide__ = hide_frame

BACKEND = "openai-responses"

# What responses.create() takes besides model and input (the SDK's typed dict of its
# parameters, less those a recorded chat cannot use).
_SENDABLE = frozenset(
    {
        "include",
        "instructions",
        "max_output_tokens",
        "max_tool_calls",
        "metadata",
        "parallel_tool_calls",
        "prompt_cache_key",
        "reasoning",
        "safety_identifier",
        "service_tier",
        "store",
        "temperature",
        "text",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "truncation",
        "user",
        "extra_body",
    }
)

# Parameters of other APIs, with what to use instead.
_INSTEAD = {
    "max_completion_tokens": "use max_output_tokens",
    "response_format": 'use text = { format = { type = "json_schema", ... } }',
    "reasoning_effort": 'use reasoning = { effort = "..." }',
    "thinking": 'that is the anthropic backend\'s; use reasoning = { effort = "..." }',
    "stream": "the plugin's own calls are whole answers; stream from xgen.client()",
    "background": "a background response is not an answer; leave it out",
    "previous_response_id": "a recorded chat sends its whole conversation; leave it out",
    "conversation": "a recorded chat sends its whole conversation; leave it out",
}

# The statuses of a response that is over (``incomplete``: cut short, e.g. by the limit).
_FINISHED = ("completed", "incomplete")


def responses_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The ``responses.create()`` arguments of a model's ``params``: ``max_tokens`` sent as
    ``max_output_tokens`` (unless that is given too), ``seed`` left out (the API takes none;
    it stays in the recording key, so samples are still told apart). A parameter the API
    does not take is an :class:`XgenConfigError` naming it and the backend."""
    kwargs: dict[str, Any] = {}
    for key, value in params.items():
        if key == "seed":
            continue
        if key == "max_tokens":
            kwargs.setdefault("max_output_tokens", value)
        elif key in _SENDABLE:
            kwargs[key] = value
        else:
            instead = _INSTEAD.get(key) or (
                "the Responses API has no such parameter (it takes "
                f"{', '.join(sorted(_SENDABLE - {'extra_body'}))}, max_tokens and seed); put "
                "it in extra_body if your endpoint takes it"
            )
            raise XgenConfigError(
                f"model {name!r} (backend {BACKEND}) cannot send the parameter {key!r}: {instead}"
            )
    if "max_output_tokens" in params:
        kwargs["max_output_tokens"] = params["max_output_tokens"]
    return kwargs


class OpenAIResponsesModel(OpenAIChatModel):
    """A named model behind OpenAI's Responses API: ``chat()`` sends ``responses.create``
    with the messages as input items (a system message is an input item of role
    ``system``) and reads the answer's items; ``complete()`` is an error (the API has no
    raw completions)."""

    def __init__(self, name: str, *, base_url: str, model: str, **kwargs: Any) -> None:
        identity = {"api": BACKEND, "endpoint": endpoint_identity(base_url), "model": model}
        super().__init__(name, base_url=base_url, model=model, identity=identity, **kwargs)
        responses_params(name, self.params)  # a parameter it cannot send: an error now
        self.description = f"{endpoint_identity(base_url)} {model} (Responses API)"

    @classmethod
    def from_spec(
        cls, name: str, spec: dict[str, Any], *, timeout: float, max_retries: int
    ) -> OpenAIResponsesModel:
        """The model of a ``[tool.xgen.models.NAME]`` table with ``backend =
        "openai-responses"`` (``base_url``, ``model``, ``api_key_env``, ``params``,
        ``headers_env``, as for the ``openai`` backend)."""
        missing = [key for key in ("base_url", "model") if not spec.get(key)]
        if missing:
            raise XgenConfigError(
                f"model {name!r} (backend {BACKEND}) needs {' and '.join(missing)} in its "
                '[tool.xgen.models] table, e.g. base_url = "https://api.openai.com/v1", '
                'model = "o4-mini"'
            )
        return cls(
            name,
            base_url=str(spec["base_url"]),
            model=str(spec["model"]),
            api_key_env=spec.get("api_key_env"),
            params=spec.get("params"),
            timeout=timeout,
            max_retries=max_retries,
            headers_env=spec.get("headers_env"),
        )

    def __repr__(self) -> str:
        return f"OpenAIResponsesModel({self.name!r}, {redact_url(self.base_url)!r}, {self.model!r})"

    def chat(self, messages: list[Message], **params: Any) -> ChatResult:
        kwargs = responses_params(self.name, {**self.params, **params})
        extra = kwargs.pop("extra_body", None)
        items = [{"role": m["role"], "content": m["content"]} for m in messages]
        body = {"model": self.model, "input": items, **kwargs}

        def call() -> ChatResult:
            with self._translate_errors():
                # The client's own POST, as chat() does: responses.create() without its
                # typed transform and typed answer (both plain JSON here).
                response = self._get_client().post(
                    "/responses",
                    body=body,
                    options={"extra_json": extra} if extra else {},
                    cast_to=dict,
                )
            with malformed_on_error():
                self._refuse_failed(response)
                return response_result(response, self.model)

        return self._retrying(call)

    def complete(self, prompt: str, **params: Any) -> CompletionResult:
        raise XgenConfigError(
            f"model {self.name!r} (backend {BACKEND}) cannot make raw completions: the "
            "Responses API has no /completions and no prompt log-probabilities; a check "
            "that scores text (the ensemble check) needs a local or openai backend model"
        )


def response_result(response: Any, model: str) -> ChatResult:
    """The :class:`ChatResult` of a Responses API answer (its JSON); an answer that is not
    one (not an object, no output, a status that is not over) is a
    :class:`MalformedResponse`."""
    if isinstance(response, str):
        raise MalformedResponse("not a JSON response (wrong content type?)")
    if not isinstance(response, dict):
        raise MalformedResponse(f"not a JSON object but {type(response).__name__}")
    status = response.get("status")
    if status is not None and status not in _FINISHED:
        raise MalformedResponse(f"status {status!r}: the response is not finished")
    output = response.get("output")
    if not isinstance(output, list) or (not output and status != "incomplete"):
        raise MalformedResponse("no output items")
    reasoning = reasoning_summary(response)
    return ChatResult(
        text=output_text(response).strip(),
        reasoning=reasoning,
        finish_reason=finish_reason(response),
        usage=response_usage(response.get("usage")),
        model=str(response.get("model") or model),
        reasoning_source="reasoning summary" if reasoning else "",
    )
