"""Removing the sentences that declare the final answer, keeping every other one verbatim.

Without this step a transfer check measures answer copying, not reasoning. Sentence
boundaries come from pysbd, which keeps decimals ("$1.05"), abbreviations ("i.e.") and
numbered steps intact; removal cuts those exact character spans out of the original text,
so what remains is the generator's own words, byte for byte.

pysbd's time grows with the square of the length of the text it is given (a 400 KB
explanation took minutes), so :func:`split_sentences` hands a long text to it in windows
of :data:`WINDOW` characters: splitting takes time in proportion to the text's length.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from pytest_xgen.core import prompts
from pytest_xgen.core.answers import AnswerSpec
from pytest_xgen.core.prompts import Message

# Sentences that announce the answer outright.
_DECLARES = re.compile(
    r"\banswer[\"']?\s*(?:is\b|:|=)|\\boxed|\bfinal answer\b|\bthe (?:correct )?answer\b.*\bis\b",
    re.IGNORECASE,
)
# A closing sentence that restates the result ("So the ball costs $0.05.").
_CONCLUDES = re.compile(
    r"^\W*(?:so|therefore|thus|hence|in conclusion|finally|in total|altogether|this means)\b",
    re.IGNORECASE,
)
_CLOSING_WINDOW = 3


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Stripped:
    """An explanation with its answer sentences removed."""

    text: str
    removed: tuple[str, ...]
    method: str


@cache
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


WINDOW = 10_000
"""The most characters pysbd is given at once: a longer text is split in windows."""


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` with their character spans (whitespace-only ones dropped),
    in time proportional to its length. Each sentence's span runs to the next sentence
    (trailing whitespace and line breaks included), as pysbd gives it."""
    return list(_split(text))


@lru_cache(maxsize=64)
def _split(text: str) -> tuple[Sentence, ...]:
    """pysbd's sentences of ``text``, in windows of :data:`WINDOW` characters: all but the
    last sentence of a window are kept and the next window starts at that one, so a
    boundary pysbd finds only because a window ends there is never kept. A text of at most
    :data:`WINDOW` characters is one window: exactly pysbd's sentences."""
    # Interventions split one explanation once per edit: the same text comes back often.
    found: list[Sentence] = []
    start, end, window = 0, len(text), WINDOW
    while end - start > window:
        spans = _segment(text, start, start + window)
        if len(spans) < 2 or spans[-1].start <= start:  # one sentence fills it: widen it
            window *= 2
            continue
        found += spans[:-1]
        start, window = spans[-1].start, WINDOW
    return tuple(found + _segment(text, start, end))


def _segment(text: str, start: int, end: int) -> list[Sentence]:
    """pysbd's sentences of ``text[start:end]``, with spans in ``text``."""
    spans = []
    for span in _segmenter().segment(text[start:end]):
        if span.sent.strip():
            spans.append(Sentence(span.sent, start + span.start, start + span.end))
    return spans


def declares_answer(sentence: str) -> bool:
    """Whether ``sentence`` announces the final answer (``Answer: ...``, "the answer is",
    a boxed result)."""
    return bool(_DECLARES.search(sentence))


def _declares(sentence: str, answer: Any, spec: AnswerSpec) -> bool:
    value = spec.extract(sentence)
    return answer is not None and value is not None and spec.equal(value, answer)


def answer_sentences(sentences: list[Sentence], answer: Any, spec: AnswerSpec) -> list[int]:
    """Indices of the sentences that declare the final answer ``answer``."""
    found = [i for i, s in enumerate(sentences) if declares_answer(s.text)]
    first_closing = max(0, len(sentences) - _CLOSING_WINDOW)
    for i in range(first_closing, len(sentences)):
        text = sentences[i].text
        if i not in found and _CONCLUDES.search(text) and _declares(text, answer, spec):
            found.append(i)
    return sorted(found)


def _remove(text: str, sentences: list[Sentence], drop: set[int]) -> str:
    kept = [s.text for i, s in enumerate(sentences) if i not in drop]
    if not sentences:
        return text
    # Text before the first sentence (indentation) stays as it was.
    return (text[: sentences[0].start] + "".join(kept)).rstrip()


def strip_answer(text: str, answer: Any, spec: AnswerSpec) -> Stripped:
    """Rule-based removal of the sentences that declare ``answer``."""
    sentences = split_sentences(text)
    drop = answer_sentences(sentences, answer, spec)
    return Stripped(
        text=_remove(text, sentences, set(drop)),
        removed=tuple(sentences[i].text.strip() for i in drop),
        method="rules",
    )


def strip_with_model(
    text: str, answer: Any, spec: AnswerSpec, ask: Callable[[list[Message]], str], model: str
) -> Stripped:
    """Removal chosen by a model (``strip_with``): it names sentence numbers, and exactly
    those sentences are cut, so the rest stays verbatim. An unusable reply falls back to the
    rules and says so in ``method``."""
    sentences = split_sentences(text)
    reply = ask(prompts.strip([s.text for s in sentences]))
    drop = _parse_removals(reply, len(sentences))
    if drop is None:
        fallback = strip_answer(text, answer, spec)
        return Stripped(fallback.text, fallback.removed, f"rules ({model} reply unusable)")
    return Stripped(
        text=_remove(text, sentences, drop),
        removed=tuple(sentences[i].text.strip() for i in sorted(drop)),
        method=f"model {model}",
    )


_JSON = re.compile(r"\{[^{}]*\}")


def _parse_removals(reply: str, count: int) -> set[int] | None:
    for match in reversed(_JSON.findall(reply)):
        try:
            data = json.loads(match)
        except ValueError:
            continue
        numbers = data.get("remove")  # the pattern matches only objects
        if isinstance(numbers, list) and all(
            isinstance(n, int) and 1 <= n <= count for n in numbers
        ):
            return {n - 1 for n in numbers}
    return None
