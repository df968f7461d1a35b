"""What model calls cost: a model's price per million tokens applied to a call's usage.

A price is ``(input, output)`` in the team's currency per million prompt and completion
tokens, as a model table's ``price = { input = 0.15, output = 0.60 }`` gives it. Embedded
models cost nothing; a model without a price is counted at 0 (and cannot be called live
under ``--xgen-max-cost``, which could not hold).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pytest_xgen.recording.store import canonical_json

Price = tuple[float, float]
FREE: Price = (0.0, 0.0)
PER = 1_000_000
# Budgets shared through the store count in billionths (diskcache adds integers atomically).
NANO = 1_000_000_000
# Estimates without a max_tokens: what a completion is assumed to take at most.
DEFAULT_COMPLETION = 256


def call_cost(usage: Mapping[str, Any], price: Price | None) -> float:
    """The cost of one call from its ``usage`` (prompt and completion tokens)."""
    if price is None:
        return 0.0
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    if not prompt and not completion:  # a usage with only a total: priced as output
        completion = int(usage.get("total_tokens") or 0)
    return (prompt * price[0] + completion * price[1]) / PER


def estimate(request: Mapping[str, Any]) -> tuple[int, int]:
    """Prompt and completion tokens a call may take: prompt characters / 4, and its
    ``max_tokens`` (or ``DEFAULT_COMPLETION`` when it sets none)."""
    text = canonical_json(request.get("messages") or request.get("prompt") or "")
    params = request.get("params") or {}
    limit = params.get("max_tokens") or params.get("max_completion_tokens")
    return len(text) // 4, int(limit or DEFAULT_COMPLETION)


def estimated_cost(request: Mapping[str, Any], price: Price | None) -> float:
    """:func:`call_cost` of the :func:`estimate` of ``request``."""
    prompt, completion = estimate(request)
    return call_cost({"prompt_tokens": prompt, "completion_tokens": completion}, price)


def money(amount: float) -> str:
    """A cost as the terminal and reports show it: 0, four significant digits below 1 (in
    plain decimals), else two decimals."""
    if amount == 0:
        return "0"
    if amount >= 1:
        return f"{amount:.2f}"
    digits = 3 - math.floor(math.log10(amount))
    return f"{amount:.{digits}f}".rstrip("0").rstrip(".")
