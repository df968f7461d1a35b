"""Helpers of the demo suite: reading a final number out of an answer."""

from __future__ import annotations

import re

_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")


def final_number(text: str) -> float | None:
    """The number in the last ``\\boxed{}``, else the last number in ``text``."""
    boxed = _BOXED.findall(text)
    candidates = _NUMBER.findall(boxed[-1] if boxed else text)
    return float(candidates[-1].replace(",", "")) if candidates else None
