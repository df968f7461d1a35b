"""Meaning-preserving edits of a prompt, as plain functions on plain text.

A robust model gives the same answer to a prompt and to the same prompt with an irrelevant
sentence added, its people renamed, its numbers spelled differently, independent sentences
swapped, filler around it, a few typos, or a phrase said another way. Each helper here makes
one such change and keeps what decides the answer: numbers, the final question and any
protected word. :mod:`pytest_xgen.strategies` draws these edits with Hypothesis; nothing in
this module needs it.

Sentence boundaries come from :func:`pytest_xgen.core.strip.split_sentences`, so decimals
("$1.10") and abbreviations never split a sentence.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pytest_xgen.core.strip import split_sentences

EDIT_KINDS = ("distractor", "rename", "number", "reorder", "padding", "noise", "paraphrase")
# Edits of an explanation's reasoning (pytest_xgen.strategies: corrupt_step() and others).
EXPLANATION_EDIT_KINDS = ("corrupt", "truncate", "drop_step", "swap_steps", "reword")
NOISE_KINDS = ("space", "case", "typo", "punct")
PLACES = ("before", "after")

#: Irrelevant sentences: no question depends on them, some carry names and numbers so that
#: a model which copies any number it sees, or loses track of who is who, is caught.
DISTRACTORS = (
    "A neighbour named Priya was born in 1987.",
    "Marco's cousin lives in a town with 12 bridges.",
    "Nadia painted her fence green last summer.",
    "Oscar keeps 2 goldfish in a glass bowl.",
    "Leila walks her dog along the river at 7 every morning.",
    "Kenji has visited 9 countries.",
    "Sofia's favourite colour is blue.",
    "Ravi plays chess with his grandfather on Fridays.",
    "Hannah reads about 30 pages of a novel each night.",
    "Felix collects stamps from islands in the Pacific.",
    "The shop on Elm Street opens at 9:30 every morning.",
    "The library closes early on Sundays.",
    "It rained for 3 days in a row last spring.",
    "The bus to the harbour leaves every 20 minutes.",
    "The museum downtown has 48 paintings on display.",
    "A parking ticket in the city centre costs $15.",
    "The bakery on the corner sold out of bread by noon.",
    "The train station was built 140 years ago.",
    "The old clock tower is 35 metres tall.",
    "The weather forecast promised a sunny afternoon.",
    "The community garden grows 6 kinds of tomatoes.",
    "The post office is closed on public holidays.",
    "A new café opened next to the cinema in 2019.",
    "The school choir has 25 members.",
    "The park near the lake has 4 wooden benches.",
)

# Kept apart so a renamed person keeps the pronouns the prompt uses for them.
_FEMALE = (
    "Alice", "Amara", "Anna", "Beatriz", "Chloe", "Clara", "Diana", "Elena", "Emily", "Fatima",
    "Hannah", "Ines", "Julia", "Keiko", "Laura", "Leila", "Lucia", "Maria", "Mei", "Nadia",
    "Nina", "Olivia", "Priya", "Rachel", "Sara", "Sofia", "Tara", "Vera", "Yara", "Zoe",
)  # fmt: skip
_MALE = (
    "Adam", "Ahmed", "Ben", "Carlos", "Daniel", "David", "Diego", "Ethan", "Felix", "George",
    "Hassan", "Hugo", "Ivan", "Joseph", "Kenji", "Leo", "Liam", "Lucas", "Marco", "Mohammed",
    "Noah", "Omar", "Oscar", "Paul", "Peter", "Ravi", "Samuel", "Tom", "Victor", "Yusuf",
)  # fmt: skip
#: First names that are not also common words, so finding and replacing them is safe.
NAMES = _FEMALE + _MALE

#: Neutral context without digits, number words, names, pronouns or questions.
FILLER = """\
The valley lies between low hills covered in grass and scattered oak trees. A narrow road \
follows the river as it bends past fields of barley and quiet orchards. In spring the \
meadows fill with wildflowers, and the air smells of rain and cut hay. Farmers mend their \
fences and clear the ditches before the busy season begins.

The town at the end of the road has a stone bridge, a market square and a small harbour. \
Fishing boats leave early, while the water is still calm and grey. By midday the square is \
crowded with stalls of cheese, bread, honey and wool. Visitors like to watch the boats come \
back in the late afternoon light.

Autumn brings cooler evenings and long shadows across the fields. The leaves turn yellow \
and red, and the hedges are heavy with berries. Smoke rises from the chimneys, and the \
streets grow quiet after dark. Winter is mild near the coast, although storms sometimes \
close the harbour for days.

The old mill by the river no longer grinds grain. Its wheel has been repaired, and the \
building now houses a reading room and a workshop for local crafts. Paths lead from the \
mill into the woods, where deer and foxes are often seen at dawn. The woods are cool in \
summer and sheltered from the wind in winter."""

_CURRENCY = {"$": "dollar", "€": "euro", "£": "pound"}
_SMALL = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_WORD_VALUES = {w: i for i, w in enumerate(_SMALL)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}


def _any_of(words: Iterable[str]) -> str:
    # Longest first, so "seventeen" is tried before "seven". ("no mutate": this runs at
    # import, when the patterns below are built, before any mutant is switched on.)
    return "|".join(sorted(words, key=len, reverse=True))  # pragma: no mutate


_BELOW_100 = rf"(?:(?:{_any_of(_TENS)})(?:-(?:{_any_of(_SMALL[1:10])}))?|{_any_of(_SMALL)})"
_BELOW_1000 = rf"(?:(?:{_any_of(_SMALL[1:10])}) hundred(?: {_BELOW_100})?|{_BELOW_100})"
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>-)?(?P<cur>[$€£])?"
    r"(?P<int>\d{1,3}(?P<sep>[,\u00a0\u202f])\d{3}(?:(?P=sep)\d{3})*|\d+)"
    r"(?P<frac>\.\d+)?(?P<pct>%)?(?!\w|\.\d)"
    rf"|(?<![\w-])(?P<words>{_BELOW_1000}(?: thousand(?: {_BELOW_1000})?)?)(?![\w-])",
    re.IGNORECASE,
)
_SEPARATORS = str.maketrans("", "", ",\u00a0\u202f")
_WORD = re.compile(r"[^\W\d_]+")
_TOKEN = re.compile(r"\S+")
_DIFF_TOKEN = re.compile(r"\s+|\S+")
_NUMERIC = re.compile(r"[\d$€£]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_PRONOUN = re.compile(r"\b(?:he|him|his|himself|she|her|hers|herself)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Edit:
    """One change to a prompt, applied to the text as it stands when its turn comes.

    ``kind`` is one of :data:`EDIT_KINDS` for the built-in transforms; ``description`` says
    what changes in words (sentence numbers in it are 0-based, as in ``split_sentences``).
    Edits compare and hash by kind and description.
    """

    kind: str
    description: str
    change: Callable[[str], str] = field(compare=False, repr=False)

    def apply(self, text: str) -> str:
        """``text`` with this edit made."""
        return self.change(text)


class PerturbedPrompt(str):
    """A prompt string that remembers its base prompt and the edits applied (in order).

    It is a plain ``str`` to everything else: equality, hashing, slicing and ``json.dumps``
    see only the text.
    """

    base: str
    edits: tuple[Edit, ...]

    def __new__(cls, text: str, base: str, edits: Sequence[Edit]) -> PerturbedPrompt:
        prompt = super().__new__(cls, text)
        prompt.base = base
        prompt.edits = tuple(edits)
        return prompt

    def __reduce__(self) -> tuple[Any, ...]:
        # str's own reduction would call __new__ with the text alone (copy, pickle).
        return (PerturbedPrompt, (str(self), self.base, self.edits))

    def describe(self) -> str:
        """One line per edit, in the order they were made."""
        if not self.edits:
            return "no edits (the base prompt)"
        return "\n".join(f"{edit.kind}: {edit.description}" for edit in self.edits)

    def diff(self) -> str:
        """The perturbed text with word-level changes from the base marked inline:
        ``[-removed-]`` and ``{+added+}``."""
        old, new = _DIFF_TOKEN.findall(self.base), _DIFF_TOKEN.findall(str(self))
        # autojunk would treat frequent tokens such as " " as noise in long prompts.
        opcodes = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
        out, removed, added = [], "", ""
        for n, (op, i1, i2, j1, j2) in enumerate(opcodes):
            before, after = "".join(old[i1:i2]), "".join(new[j1:j2])
            # Whitespace between two changes reads better inside one change than alone.
            between = before.isspace() and (removed or added) and n + 1 < len(opcodes)
            if op != "equal" or between:
                removed, added = removed + before, added + after
                continue
            out += [_marked(removed, added), before]
            removed, added = "", ""
        return "".join([*out, _marked(removed, added)])


def _marked(removed: str, added: str) -> str:
    return (f"[-{removed}-]" if removed else "") + (f"{{+{added}+}}" if added else "")


@dataclass(frozen=True)
class NumberSpan:
    """A number in a text: its value and where it is. ``text`` includes a currency sign
    or percent sign written with it; ``value`` is the number part ("5%" is 5)."""

    value: float
    start: int
    end: int
    text: str


def find_numbers(text: str) -> list[NumberSpan]:
    """The numbers in ``text``, in order: integers, decimals, thousands grouped with commas
    or no-break spaces ("1,000"), currency ("$5", "$1.10"), percentages ("5%") and
    spelled-out integers below a million ("twenty-five", "one thousand"). Digits glued to
    letters ("9am", "v2") and dotted versions ("1.2.3") are not numbers."""
    return [NumberSpan(_value(m), m.start(), m.end(), m.group()) for m in _NUMBER.finditer(text)]


def _value(match: re.Match[str]) -> float:
    if match["words"]:
        total = current = 0
        for word in match["words"].lower().replace("-", " ").split():
            if word == "hundred":
                current *= 100
            elif word == "thousand":
                total, current = (total + current) * 1000, 0
            else:
                current += _WORD_VALUES[word]
        return float(total + current)
    value = float(match["int"].translate(_SEPARATORS) + (match["frac"] or ""))
    return -value if match["sign"] else value


def number_to_words(n: int) -> str:
    """``n`` in English words, for 0 <= n <= 999,999: 105 is "one hundred five"."""
    if not 0 <= n <= 999_999:
        raise ValueError(f"number_to_words covers 0..999,999, not {n}")
    thousands, rest = divmod(n, 1000)
    if not thousands:
        return _below_1000(rest)
    head = f"{_below_1000(thousands)} thousand"
    return f"{head} {_below_1000(rest)}" if rest else head


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    if not hundreds:
        return _below_100(rest)
    head = f"{_SMALL[hundreds]} hundred"
    return f"{head} {_below_100(rest)}" if rest else head


def _below_100(n: int) -> str:
    if n < 20:
        return _SMALL[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens - 2] + (f"-{_SMALL[ones]}" if ones else "")


def number_styles(span: NumberSpan) -> list[str]:
    """Spellings of the same value as ``span``, its own spelling first.

    Integers get plain, comma-grouped and no-break-space-grouped digits (from 1,000 up) and
    words (below a million); decimals keep their digits as written; a currency sign may
    become a unit word ("$5" -> "5 dollars"), a percent sign the word "percent". Negative
    numbers keep their spelling.
    """
    m = _NUMBER.fullmatch(span.text)
    if m is None or m["sign"]:
        return [span.text]
    if m["words"]:
        return _unique([span.text, *_numerals(int(span.value))])
    if m["frac"]:
        numerals, words = [m["int"] + m["frac"]], []
    else:
        n = int(span.value)
        numerals = [m["int"], *_numerals(n)]
        words = [number_to_words(n)] if n <= 999_999 else []
    if m["cur"]:
        unit = _CURRENCY[m["cur"]] + ("" if span.value == 1 and not m["frac"] else "s")
        styles = [m["cur"] + x for x in numerals] + [f"{x} {unit}" for x in numerals + words]
    elif m["pct"]:
        styles = [x + "%" for x in numerals] + [f"{x} percent" for x in numerals + words]
    else:
        styles = numerals + words
    return _unique([span.text, *styles])


def _numerals(n: int) -> list[str]:
    if n < 1000:
        return [str(n)]
    return [str(n), f"{n:,}", f"{n:,}".replace(",", "\u00a0")]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def replace_number(text: str, index: int, style: str) -> str:
    """``text`` with its ``index``-th number (as :func:`find_numbers` counts) written as
    ``style``."""
    span = find_numbers(text)[index]
    return text[: span.start] + style + text[span.end :]


def insert_sentence(text: str, index: int, sentence: str) -> str:
    """``text`` with ``sentence`` inserted before its sentence ``index`` (0-based).

    Only positions before an existing sentence are allowed, so the last sentence (usually
    the question) stays last; ``index`` past it raises ``IndexError``.
    """
    sentences = split_sentences(text)
    if not 0 <= index < len(sentences):
        raise IndexError(f"sentence {index} of a text with {len(sentences)} sentences")
    at = sentences[index].start
    before = text[:at]
    gap = " " if before and not before[-1].isspace() else ""
    return f"{before}{gap}{sentence.strip()} {text[at:]}"


def reorder_sentences(text: str, order: Sequence[int]) -> str:
    """``text`` with sentence ``order[i]`` moved into position ``i``; the whitespace between
    sentences stays where it was."""
    sentences = split_sentences(text)
    if sorted(order) != list(range(len(sentences))):
        raise ValueError(f"{list(order)} is not an order of {len(sentences)} sentences")
    bodies = [s.text.rstrip() for s in sentences]
    out, cursor = [], 0
    for i, (slot, sentence) in enumerate(zip(sentences, order, strict=True)):
        out += [text[cursor : slot.start], bodies[sentence]]
        cursor = slot.start + len(bodies[i])
    return "".join(out) + text[cursor:]


def _case_like(found: str, replacement: str) -> str:
    if len(found) > 1 and found.isupper():
        return replacement.upper()
    if found[0].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement[:1].lower() + replacement[1:]


def _phrases(phrases: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _replace(text: str, mapping: Mapping[str, str]) -> str:
    if not mapping:
        return text
    lookup = {phrase.lower(): new for phrase, new in mapping.items()}
    return _phrases(mapping).sub(lambda m: _case_like(m[0], lookup[m[0].lower()]), text)


def rename(text: str, mapping: Mapping[str, str]) -> str:
    """``text`` with every whole-word occurrence of each name in ``mapping`` replaced by
    its new name, in the case it was written in ("TOM" -> "PRIYA"); possessives follow
    ("Tom's" -> "Priya's")."""
    return _replace(text, mapping)


def phrases_in(text: str, phrases: Iterable[str]) -> list[str]:
    """The ``phrases`` that occur in ``text`` as whole words, in any case, in their given
    order."""
    return [p for p in phrases if _phrases([p]).search(text)]


def paraphrase(text: str, table: Mapping[str, Sequence[str]], choices: Mapping[str, int]) -> str:
    """``text`` with phrases of ``table`` said another way, everywhere they occur.

    ``choices[phrase]`` picks from ``[phrase, *table[phrase]]``: 0 keeps the phrase.
    Matching ignores case and the replacement takes the case of what it replaces.
    """
    mapping = {}
    for phrase, choice in choices.items():
        if not 0 <= choice <= len(table[phrase]):
            raise IndexError(f"{phrase!r} has {len(table[phrase])} alternatives, not {choice}")
        if choice:
            mapping[phrase] = table[phrase][choice - 1]
    return _replace(text, mapping)


def detect_names(text: str, known: Iterable[str] | None = None) -> list[str]:
    """The person names in ``text`` in order of first appearance: words of :data:`NAMES`,
    plus the single-word names in ``known``, matched as written (capitalised)."""
    candidates = set(NAMES).union(known or ())
    return _unique(w for w in _WORD.findall(text) if w in candidates)


def matching_names(name: str, candidates: Sequence[str]) -> list[str]:
    """The ``candidates`` that can stand in for ``name``: those the built-in lists class
    with it (female or male first names), or all of them when that leaves none."""
    for group in (_FEMALE, _MALE):
        if name in group:
            return [c for c in candidates if c in group] or list(candidates)
    return list(candidates)


def usable_distractors(text: str, pool: Iterable[str]) -> list[str]:
    """The sentences of ``pool`` that can join ``text`` without changing what it says:
    not already in it, naming nobody it names, and mentioning no person at all when it
    uses he/she pronouns (a newcomer could become what the pronoun refers to)."""
    names = set(detect_names(text))
    pronouns = bool(_PRONOUN.search(text))
    usable = []
    for sentence in pool:
        mentioned = set(detect_names(sentence))
        person = bool(mentioned or _PRONOUN.search(sentence))
        if sentence not in text and not mentioned & names and not (pronouns and person):
            usable.append(sentence)
    return usable


@cache
def _filler_sentences() -> tuple[str, ...]:
    sentences = [s.text for s in split_sentences(FILLER)]
    sentences[-1] = sentences[-1].rstrip() + "\n\n"
    return tuple(sentences)


def pad(text: str, chars: int, where: str = "before") -> str:
    """``text`` with about ``chars`` characters of :data:`FILLER`, whole sentences only,
    separated from it by a blank line.

    ``where="before"`` puts the filler ahead of the prompt; ``"after"`` after its context,
    just before its last sentence, so the question still comes last. The filler has no
    digits, number words, names or pronouns.
    """
    if where not in PLACES:
        raise ValueError(f"where must be one of {PLACES}, not {where!r}")
    if chars <= 0:
        return text
    parts, size = [], 0
    for sentence in itertools.cycle(_filler_sentences()):
        if size >= chars:
            break
        parts.append(sentence)
        size += len(sentence)
    filler = "".join(parts).strip()
    sentences = split_sentences(text)
    head = text[: sentences[-1].start].rstrip() if sentences else ""
    if where == "before" or not head:
        return f"{filler}\n\n{text.lstrip()}"
    return f"{head}\n\n{filler}\n\n{text[sentences[-1].start :]}"


def _free_tokens(text: str, protect: Iterable[str]) -> list[re.Match[str]]:
    guarded = {w.lower() for phrase in protect for w in _WORD.findall(phrase)}
    numbers = find_numbers(text)
    tokens = list(_TOKEN.finditer(text))
    numeric = [
        bool(_NUMERIC.search(t[0])) or any(n.start < t.end() and t.start() < n.end for n in numbers)
        for t in tokens
    ]
    # A word next to a number is often its unit or what it counts ("5 km", "3 apples").
    return [
        token
        for i, token in enumerate(tokens)
        if not any(numeric[max(0, i - 1) : i + 2])
        and not any(w.lower() in guarded for w in _WORD.findall(token[0]))
    ]


def _noise_sites(text: str, kind: str, protect: Iterable[str]) -> list[int]:
    free = _free_tokens(text, protect)
    if kind == "space":
        return [t.end() for t in free if text.startswith(" ", t.end())]
    if kind == "case":
        return [m.start() for t in free for m in _ASCII_LETTER.finditer(text, t.start(), t.end())]
    if kind == "typo":
        return [
            w.start() + i
            for t in free
            for w in _WORD.finditer(text, t.start(), t.end())
            if len(w[0]) >= 4
            for i in range(len(w[0]) - 1)
            if w[0][i] != w[0][i + 1]
        ]
    if kind == "punct":
        return [t.start() + i for t in free for i, c in enumerate(t[0]) if c == ","]
    raise ValueError(f"noise kind must be one of {NOISE_KINDS}, not {kind!r}")


def apply_noise(text: str, ops: Iterable[tuple[str, int]], protect: Iterable[str] = ()) -> str:
    """``text`` with surface noise, one op after another.

    An op is ``(kind, position)``: "space" doubles a space, "case" flips the case of a
    letter, "typo" swaps two adjacent different letters in a word of four or more letters,
    "punct" drops a comma. ``position`` picks one of the places that kind may touch,
    counted modulo their number; an op with no such place does nothing. Noise never
    touches numbers (digits, signs, decimal points, number words), the words next to them,
    the words in ``protect`` (any case) or the final question mark.
    """
    protect = tuple(protect)
    for kind, position in ops:
        sites = _noise_sites(text, kind, protect)
        if not sites:
            continue
        at = sites[position % len(sites)]
        if kind == "space":
            text = text[:at] + " " + text[at:]
        elif kind == "case":
            text = text[:at] + text[at].swapcase() + text[at + 1 :]
        elif kind == "typo":
            text = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
        else:
            text = text[:at] + text[at + 1 :]
    return text
