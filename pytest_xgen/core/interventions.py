"""Edits of an explanation's reasoning, for interventions on it (Lanham et al. 2023): steps
cut, dropped, swapped, a number changed by a plausible slip, or the text replaced by filler.

A *step* is a sentence of the (answer-stripped) explanation, as
:func:`~pytest_xgen.core.strip.split_sentences` finds them, a line of delimiters alone
(``\\[``, ``$$``, a code fence) joined to a neighbour (:func:`steps`). Every function is pure
and keeps the text between steps as it was.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from pytest_xgen.core.perturb import NumberSpan, find_numbers, number_to_words
from pytest_xgen.core.strip import Sentence, split_sentences

# The slips a number can suffer, simplest first (a shrinking search ends on the first).
SLIPS = ("plus_one", "minus_one", "times_ten", "swap_digits")
FILLER = "... "


# What a sentence of no words is made of: LaTeX delimiters (\[ \] \( \) $$), an
# environment's \begin{...} or \end{...}, a code fence with its language (```python, ~~~),
# and punctuation (a rule ---, a lone bullet).
_MARKUP = re.compile(r"\\(?:begin|end)\{[^{}]*\}|(?:```|~~~)[\w+.-]*|\\[\[\]()]|\$\$|[^\w\s]")
# Delimiters that open what follows; a fence or ``$$`` opens when it is the first of a pair.
_OPENS = re.compile(r"\\begin\{|\\[\[(]")
_PAIRED = ("$$", "```", "~~~")


def _markup_only(sentence: str) -> bool:
    """Whether ``sentence`` holds nothing but delimiters and punctuation."""
    return bool(sentence.strip()) and not _MARKUP.sub("", sentence).strip()


def steps(text: str) -> list[Sentence]:
    """The steps of an explanation: its sentences of reasoning, with their spans.

    A sentence with no word or number of its own (a lone ``\\[``, ``\\]``, ``$$``, a code
    fence, ``---``) is not a step: an opening delimiter joins the step after it, any other
    the step before it (the first one, having none, the step after it), so a display formula
    is one step with its delimiters. A text of delimiters alone has no steps. The spans of
    the steps still cover the text as the sentences' did: every edit keeps the text between
    steps as it was."""
    found = split_sentences(text)
    groups: list[list[Sentence]] = []
    pending: list[Sentence] = []  # delimiters waiting for the step they open
    open_pairs: set[str] = set()
    for sentence in found:
        if not _markup_only(sentence.text):
            groups.append([*pending, sentence])
            pending = []
            # A fence or $$ on a line with words still opens or closes its pair.
            open_pairs ^= {p for p in _PAIRED if sentence.text.count(p) % 2}
            continue
        tokens = _MARKUP.findall(sentence.text)
        opens = False
        for token in tokens:
            pair = next((p for p in _PAIRED if token.startswith(p)), None)
            if pair is not None:
                opens = pair not in open_pairs
                open_pairs ^= {pair}
            elif token.strip():
                opens = bool(_OPENS.match(token))
        if opens or pending or not groups:
            pending.append(sentence)
        else:
            groups[-1].append(sentence)
    if pending and groups:
        groups[-1].extend(pending)
    return [
        group[0]
        if len(group) == 1
        else Sentence(text[group[0].start : group[-1].end], group[0].start, group[-1].end)
        for group in groups
    ]


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
    if not any(ch.isdigit() for ch in like.text):  # spelled out: in words when it can be
        if value == int(value) and 0 <= value <= 999_999:
            words = number_to_words(int(value))
            return words.capitalize() if like.text[:1].isupper() else words
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


_NUM = r"-?\d+(?:\.\d+)?"
# ``a op b = c`` in plain text or LaTeX (``a \times b = c``, ``\frac{a}{b} = c``).
_EQUATIONS = (
    re.compile(
        rf"(?P<a>{_NUM})\s*(?P<op>[+\-*/x×÷]|\\times|\\cdot|\\div)\s*(?P<b>{_NUM})\s*=\s*(?P<c>{_NUM})"
    ),
    re.compile(
        rf"\\[dt]?frac\{{\s*(?P<a>{_NUM})\s*\}}\{{\s*(?P<b>{_NUM})\s*\}}\s*=\s*(?P<c>{_NUM})"
    ),
)
_OPS: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "x": lambda a, b: a * b,
    "×": lambda a, b: a * b,
    "\\times": lambda a, b: a * b,
    "\\cdot": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else math.nan,
    "÷": lambda a, b: a / b if b else math.nan,
    "\\div": lambda a, b: a / b if b else math.nan,
}


def _equations(text: str) -> list[re.Match[str]]:
    """The equations of ``text`` in order of where they start."""
    found = [m for pattern in _EQUATIONS for m in pattern.finditer(text)]
    return sorted(found, key=lambda m: m.start())


def _operation(match: re.Match[str]) -> Callable[[float, float], float]:
    return _OPS[match.groupdict().get("op") or "/"]


# A list or step label at the start of a line: "1.", "2)", "(3)", "Step 4:", "**Step 5.**",
# "### Step 6 -", "- 7.", "> 8)". Its number counts steps, not quantities of the reasoning.
_LABEL = re.compile(
    r"^[ \t>*_#+\-]*(?:(?:step|part)[ \t]*)?[(\[]?[ \t]*(?P<n>\d{1,4})[ \t]*"
    r"(?:[):\]]|\.(?!\d)|[ \t]+[-\u2013\u2014][ \t])",
    re.IGNORECASE | re.MULTILINE,
)
# A reference to a step by its label: "from step 2", "Steps 3 and 4" (the first number).
_REFERENCE = re.compile(r"\bsteps?[ \t]+(?P<n>\d{1,4})\b", re.IGNORECASE)


def quantities(text: str) -> list[NumberSpan]:
    """The numbers of ``text`` that are quantities of the reasoning: every number
    :func:`~pytest_xgen.core.perturb.find_numbers` finds except list and step labels at the
    start of a line (``1.``, ``2)``, ``(3)``, ``Step 4:``, ``**Step 5:**``) and references to
    steps by their label (``as in step 2``)."""
    labels = {m.start("n") for m in _LABEL.finditer(text)}
    labels |= {m.start("n") for m in _REFERENCE.finditer(text)}
    return [span for span in find_numbers(text) if span.start not in labels]


def corrupt(text: str, step: int, number: int = 0, slip: str = "plus_one") -> Corruption | None:
    """``text`` with quantity ``number`` of step ``step`` (as :func:`quantities` counts,
    so never a list or step label) changed by ``slip`` (None when the step has no such
    quantity). When the number is an operand of an equation ``a op b = c`` in
    the step, ``c`` is recomputed in the text (the mistake is carried through, as a slip
    would be), and ``implied`` is the new result."""
    found = steps(text)
    if not 0 <= step < len(found):
        return None
    sentence = found[step]
    spans = quantities(sentence.text)
    if not 0 <= number < len(spans):
        return None
    span = spans[number]
    new_value = slipped(span.value, slip)
    after = _written(new_value, span)
    changed = sentence.text[: span.start] + after + sentence.text[span.end :]
    implied = None
    for match in _equations(changed):
        a, b, c = (float(match.group(k)) for k in "abc")
        in_operands = match.start("a") <= span.start < match.end("b")
        if in_operands:
            result = _operation(match)(a, b)
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


def mistake_number(text: str, step: int) -> int:
    """Which quantity of step ``step`` a mistake changes: the first operand of an equation
    ``a op b = c`` (the slip then carries through to ``c``), else the first quantity."""
    found = steps(text)
    sentence = found[step].text if 0 <= step < len(found) else ""
    spans = quantities(sentence)
    for match in _equations(sentence):
        for index, span in enumerate(spans):
            if match.start("a") <= span.start < match.end("b"):
                return index
    return 0


def numbered_steps(text: str) -> list[int]:
    """The steps that hold a quantity (the ones a mistake can be added to)."""
    return [i for i, s in enumerate(steps(text)) if quantities(s.text)]


def filler(text: str) -> str:
    """Neutral filler exactly as long as ``text``: ``"... "`` repeated (the filler tokens of
    Lanham et al.), never ending in a space."""
    size = max(len(text), len(FILLER))
    padded = (FILLER * (size // len(FILLER) + 1))[:size]
    return padded[:-1] + "." if padded.endswith(" ") else padded
