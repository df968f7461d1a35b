"""What model calls cost: a model's price per million tokens applied to a call's usage.

A price is ``(input, output)`` in the team's currency per million prompt and completion
tokens, as a model table's ``price = { input = 0.15, output = 0.60 }`` gives it, or
``(input, output, cache_read, cache_write)`` when the table prices the input tokens read
from and written to a prompt cache apart (``cache_read``/``cache_write``, each the input
price when not given: see :func:`price_of`); the Anthropic API counts those tokens apart
from the prompt tokens (``cache_read_tokens``, ``cache_write_tokens``). Embedded
models cost nothing; a model without a price is counted at 0 (and cannot be called live
under ``--xgen-max-cost``, which could not hold).

Before a call is made its worst case is estimated (:func:`estimate`): every character the
request sends (messages or prompt, tool and response-format schemas and every other
parameter that is not a plain sampling knob) at 4 characters a token, and ``max_tokens``
(or :data:`DEFAULT_COMPLETION`) for each of the ``n`` (``best_of``) choices of each prompt.
After the call its usage prices it; an answer without usage (a stream that was not asked
for it, a server that leaves it out) is priced from what was sent and the text received
(:func:`spent_cost`), never at 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pytest_xgen.models.anthropic_messages import default_max_tokens
from pytest_xgen.recording.store import canonical_json

Price = tuple[float, ...]
"""``(input, output)`` or ``(input, output, cache_read, cache_write)``, per million."""
FREE: Price = (0.0, 0.0)
PER = 1_000_000
# Estimates without a max_tokens: what a completion is assumed to take at most.
DEFAULT_COMPLETION = 256
# Characters per token of the estimates (about right for English text and JSON).
CHARS_PER_TOKEN = 4
# Any count above this is taken as this (a hostile n or max_tokens must not overflow).
MOST_TOKENS = 10**15
# Parameters that shape sampling but send no text: not counted in the prompt estimate.
# Every other parameter (tools, functions, response_format, tool_choice, prediction,
# suffix, extra_body, ...) is counted with its JSON.
KNOBS = frozenset(
    {
        "best_of",
        "echo",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_output_tokens",
        "max_tokens",
        "min_p",
        "n",
        "parallel_tool_calls",
        "presence_penalty",
        "reasoning",
        "reasoning_effort",
        "repeat_penalty",
        "seed",
        "service_tier",
        "stop",
        "stop_sequences",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "thinking",
        "top_k",
        "top_logprobs",
        "top_p",
        "user",
    }
)


def price_of(table: Mapping[str, Any]) -> Price:
    """A model table's ``price`` as a :data:`Price`: ``(input, output)``, with the cache
    prices after them when the table gives either (the other is then the input price)."""
    base = (float(table["input"]), float(table["output"]))
    if "cache_read" not in table and "cache_write" not in table:
        return base
    read = float(table.get("cache_read", base[0]))
    write = float(table.get("cache_write", base[0]))
    return (*base, read, write)


def call_cost(usage: Mapping[str, Any], price: Price | None) -> float:
    """The cost of one call from its ``usage``: prompt and completion tokens, and the
    cache reads and writes (``cache_read_tokens``, ``cache_write_tokens``, input tokens
    counted apart from the prompt's) at the price's cache prices, else at its input
    price."""
    if price is None:
        return 0.0
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    read = int(usage.get("cache_read_tokens") or 0)
    write = int(usage.get("cache_write_tokens") or 0)
    if not prompt and not completion and not read and not write:
        completion = int(usage.get("total_tokens") or 0)  # only a total: priced as output
    read_price, write_price = (price[2], price[3]) if len(price) >= 4 else (price[0], price[0])
    return (
        prompt * price[0] + completion * price[1] + read * read_price + write * write_price
    ) / PER


def _count(value: Any, default: int) -> int:
    """A token or choice count from a request parameter: a whole number from 0 to
    :data:`MOST_TOKENS`, or ``default`` when ``value`` is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    if isinstance(value, float) and not math.isfinite(value):
        return MOST_TOKENS if value > 0 else default
    return min(max(int(value), 0), MOST_TOKENS)


def _tokens(chars: int) -> int:
    return min(chars // CHARS_PER_TOKEN, MOST_TOKENS)


def _prompts(request: Mapping[str, Any]) -> int:
    """How many prompts a completions request sends at once (a list of strings or of
    token lists is a batch; each prompt gets its own choices)."""
    prompt = request.get("prompt")
    if isinstance(prompt, list) and prompt and not isinstance(prompt[0], int):
        return len(prompt)
    return 1


def prompt_estimate(request: Mapping[str, Any]) -> int:
    """Prompt tokens a call sends: the characters of its messages (or prompt, or Responses
    ``input``) and of every parameter that carries text (:data:`KNOBS` excepted), 4 to a
    token."""
    text = canonical_json(
        request.get("messages") or request.get("prompt") or request.get("input") or ""
    )
    params = request.get("params") or {}
    sent = {k: v for k, v in params.items() if k not in KNOBS}
    extra = len(canonical_json(sent)) if sent else 0
    return _tokens(len(text) + extra)


def completion_estimate(request: Mapping[str, Any]) -> int:
    """Completion tokens a call may take at most: ``max_output_tokens`` (Responses API),
    ``max_tokens`` or ``max_completion_tokens``, else :data:`DEFAULT_COMPLETION`, for each
    choice, and a call has ``n`` choices (``best_of`` if larger) for each prompt it sends."""
    params = request.get("params") or {}
    # The Responses API's max_output_tokens is what it sends, max_tokens or not.
    limit = params.get("max_output_tokens")
    if limit is None:
        limit = params.get("max_tokens")
    if limit is None:
        limit = params.get("max_completion_tokens")
    if limit is None and (request.get("endpoint") or {}).get("api") == "anthropic":
        limit = default_max_tokens(params)  # what the backend sends when none is set
    per_choice = _count(limit, DEFAULT_COMPLETION)
    choices = max(_count(params.get("n"), 1), _count(params.get("best_of"), 1), 1)
    return min(per_choice * choices * _prompts(request), MOST_TOKENS)


def estimate(request: Mapping[str, Any]) -> tuple[int, int]:
    """Prompt and completion tokens a call may take: :func:`prompt_estimate` and
    :func:`completion_estimate`."""
    return prompt_estimate(request), completion_estimate(request)


def estimated_cost(request: Mapping[str, Any], price: Price | None) -> float:
    """:func:`call_cost` of the :func:`estimate` of ``request``."""
    prompt, completion = estimate(request)
    return call_cost({"prompt_tokens": prompt, "completion_tokens": completion}, price)


def prompt_cost(request: Mapping[str, Any], price: Price | None) -> float:
    """:func:`call_cost` of the prompt alone (:func:`prompt_estimate`): what a call costs
    at least once it is sent."""
    return call_cost({"prompt_tokens": prompt_estimate(request)}, price)


_NOT_TEXT = frozenset(
    {"role", "type", "id", "index", "finish_reason", "logprobs", "signature", "stop_reason"}
)


def _text_chars(value: Any) -> int:
    """The characters of the strings in an answer's message or delta (content, reasoning,
    tool-call names and arguments, refusals), without ids, roles and log-probabilities."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(_text_chars(v) for k, v in value.items() if k not in _NOT_TEXT)
    if isinstance(value, list):
        return sum(_text_chars(v) for v in value)
    return 0


def _choice_chars(choice: Any) -> int:
    if not isinstance(choice, Mapping):
        return 0
    return sum(_text_chars(choice.get(k)) for k in ("message", "delta", "text"))


def received_estimate(response: Mapping[str, Any]) -> int:
    """Completion tokens of an answer counted from its text, for an answer without usage:
    the characters of every choice, 4 to a token, and at least one token per streamed
    chunk that carries text (servers send about one token a chunk)."""
    chunks = response.get("chunks")
    if isinstance(chunks, list):
        chars = pieces = 0
        for chunk in chunks:
            choices = chunk.get("choices") if isinstance(chunk, Mapping) else None
            for choice in choices if isinstance(choices, list) else ():
                size = _choice_chars(choice)
                chars += size
                pieces += size > 0
        return max(_tokens(chars), pieces)
    events = response.get("events")
    if isinstance(events, list):
        # Each event's delta: a string (Responses API), or a text, thinking or tool-input
        # delta object (Anthropic Messages API).
        sizes = [_text_chars(e.get("delta")) for e in events if isinstance(e, Mapping)]
        return max(_tokens(sum(sizes)), sum(size > 0 for size in sizes))
    raw = response.get("raw")
    if isinstance(raw, Mapping) and "choices" not in raw and isinstance(raw.get("content"), list):
        return _tokens(_text_chars(raw["content"]))  # an Anthropic message's blocks
    if isinstance(raw, Mapping) and isinstance(raw.get("output"), list):
        return _tokens(_text_chars(raw["output"]))  # a Responses API answer's items
    if isinstance(raw, Mapping):
        choices = raw.get("choices")
        return _tokens(
            sum(_choice_chars(c) for c in (choices if isinstance(choices, list) else ()))
        )
    return _tokens(_text_chars(response.get("text")) + _text_chars(response.get("reasoning")))


def has_usage(usage: Mapping[str, Any]) -> bool:
    """Whether a usage counts any tokens (a missing usage or one of zeros does not)."""
    return any(usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))


def spent_tokens(request: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, int]:
    """The usage of a made call: the answer's own, or, when it has none, the estimate of
    what was sent (:func:`prompt_estimate`) and received (:func:`received_estimate`)."""
    usage = response.get("usage") or {}
    if has_usage(usage):
        return dict(usage)
    prompt, completion = prompt_estimate(request), received_estimate(response)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def spent_cost(
    request: Mapping[str, Any], response: Mapping[str, Any], price: Price | None
) -> float:
    """What a made call cost: :func:`call_cost` of :func:`spent_tokens`."""
    return call_cost(spent_tokens(request, response), price)
