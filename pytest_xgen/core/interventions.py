"""Edits of an explanation's reasoning, for interventions on it (Lanham et al. 2023): steps
cut, dropped, swapped, a number changed by a plausible slip, or the text replaced by filler.

A *step* is a sentence of the (answer-stripped) explanation, as
:func:`~pytest_xgen.core.strip.split_sentences` finds them. Every function is pure and keeps
the text between steps as it was.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from pytest_xgen.core.perturb import NumberSpan, find_numbers
from pytest_xgen.core.strip import Sentence, split_sentences

# The slips a number can suffer, simplest first (a shrinking search ends on the first).
SLIPS = ("plus_one", "minus_one", "times_ten", "swap_digits")
FILLER = "... "


def steps(text: str) -> list[Sentence]:
    """The steps of an explanation: its sentences, with their spans."""
    return split_sentences(text)


def truncate(text: str, keep: int) -> str:
    """``text`` cut after its first ``keep`` steps (0 keeps nothing)."""
    found = steps(text)
    if keep >= len(found):
        return text
    if keep <= 0:
        return ""
    return text[: found[keep - 1].end].rstrip()


def drop_step(text: str, index: int) -> str:
    """``text`` without step ``index``."""
    found = steps(text)
    gone = found[index]
    if index + 1 < len(found):
        return text[: gone.start] + text[found[index + 1].start :]
    start = found[index - 1].end if index else 0
    return (text[:start] + text[gone.end :]).rstrip()


def swap_steps(text: str, index: int) -> str:
    """``text`` with steps ``index`` and ``index + 1`` in each other's place."""
    found = steps(text)
    a, b = found[index], found[index + 1]
    first, second = a.text.strip(), b.text.strip()
    lead, trail = text[a.start : a.end], text[b.start : b.end]
    middle = text[a.end : b.start]
    swapped = _keep_space(lead, second) + middle + _keep_space(trail, first)
    return text[: a.start] + swapped + text[b.end :]


def _keep_space(original: str, replacement: str) -> str:
    """``replacement`` with the leading and trailing whitespace of ``original``."""
    stripped = original.strip()
    head = original[: len(original) - len(original.lstrip())]
    tail = original[len(head) + len(stripped) :]
    return head + replacement + tail


def slipped(value: float, slip: str) -> float:
    """``value`` after a plausible slip: one more, one less, ten times, or its last two
    digits swapped (one more when they are equal or it has one digit)."""
    if slip == "plus_one":
        return value + 1
    if slip == "minus_one":
        return value - 1
    if slip == "times_ten":
        return value * 10
    if slip == "swap_digits":
        digits = str(int(abs(value))) if value == int(value) else ""
        if len(digits) >= 2 and digits[-1] != digits[-2]:
            swapped = digits[:-2] + digits[-1] + digits[-2]
            return math.copysign(int(swapped), value)
        return value + 1
    raise ValueError(f"unknown slip {slip!r}; use one of {', '.join(SLIPS)}")


def _written(value: float, like: NumberSpan) -> str:
    """``value`` written as ``like`` is (currency sign, decimals, percent)."""
    body = f"{value:g}" if value != int(value) else str(int(value))
    match = re.match(r"^([^\d-]*)", like.text)
    prefix = match.group(1) if match else ""
    if not any(ch.isdigit() for ch in like.text):  # spelled out: written in digits
        prefix = ""
    if "." in like.text:  # as many decimals as it had
        decimals = len(like.text.rsplit(".", 1)[1].rstrip("%"))
        body = f"{value:.{decimals}f}"
    return prefix + body + ("%" if like.text.endswith("%") else "")


@dataclass(frozen=True)
class Corruption:
    """A number of one step changed: the new text, where, and the answer it implies."""

    text: str
    step: int
    before: str
    after: str
    implied: float | None
    """What the step's own arithmetic gives after the change (``a op b = c`` with ``a`` or
    ``b`` changed recomputes ``c``; ``c`` changed is ``c``), when it can be computed."""


_EQUATION = re.compile(
    r"(?P<a>-?\d+(?:\.\d+)?)\s*(?P<op>[+\-*/x×÷])\s*(?P<b>-?\d+(?:\.\d+)?)\s*=\s*(?P<c>-?\d+(?:\.\d+)?)"
)
_OPS: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "x": lambda a, b: a * b,
    "×": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else math.nan,
    "÷": lambda a, b: a / b if b else math.nan,
}


def corrupt(text: str, step: int, number: int = 0, slip: str = "plus_one") -> Corruption | None:
    """``text`` with number ``number`` of step ``step`` changed by ``slip`` (None when the
    step has no such number). When the number is an operand of an equation ``a op b = c`` in
    the step, ``c`` is recomputed in the text (the mistake is carried through, as a slip
    would be), and ``implied`` is the new result."""
    found = steps(text)
    if not 0 <= step < len(found):
        return None
    sentence = found[step]
    spans = find_numbers(sentence.text)
    if not 0 <= number < len(spans):
        return None
    span = spans[number]
    new_value = slipped(span.value, slip)
    after = _written(new_value, span)
    changed = sentence.text[: span.start] + after + sentence.text[span.end :]
    implied = None
    for match in _EQUATION.finditer(changed):
        a, b, c = (float(match.group(k)) for k in "abc")
        in_operands = match.start("a") <= span.start < match.end("b")
        if in_operands:
            result = _OPS[match.group("op")](a, b)
            if math.isfinite(result):
                implied = result
                written = f"{result:g}" if result != int(result) else str(int(result))
                changed = changed[: match.start("c")] + written + changed[match.end("c") :]
            break
        if match.start("c") <= span.start < match.end("c"):
            implied = c
            break
    new_text = text[: sentence.start] + changed + text[sentence.end :]
    return Corruption(new_text, step, span.text, after, implied)


def numbered_steps(text: str) -> list[int]:
    """The steps that hold a number (the ones a mistake can be added to)."""
    return [i for i, s in enumerate(steps(text)) if find_numbers(s.text)]


def filler(text: str) -> str:
    """Neutral filler exactly as long as ``text``: ``"... "`` repeated (the filler tokens of
    Lanham et al.), never ending in a space."""
    size = max(len(text), len(FILLER))
    padded = (FILLER * (size // len(FILLER) + 1))[:size]
    return padded[:-1] + "." if padded.endswith(" ") else padded
