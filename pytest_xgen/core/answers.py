"""Finding the answer in a model's output, and judging it against the expected one.

Models rarely answer with a bare value: they reason first, restate, wrap the result in LaTeX
or JSON, and small models stop mid-sentence. :func:`extract_answer` looks for the answer
behind these markers, most trusted first:

1. a JSON object with an ``"answer"`` key (``{"answer": 0.05}``, fenced or not);
2. an ``Answer:`` line (``Final answer:``, ``**Answer:**``; any case);
3. ``\\boxed{...}``;
4. "the answer is X" (up to the end of the sentence);
5. unless the spec turns it off, a fallback: for numbers a bold number in the closing
   paragraph (``**180 km**``, how chat models mark a result), else the last number; the
   last lone letter such as ``(B)``; or the last non-empty line.

Within one kind of marker the last occurrence wins, because models restate and correct
themselves; the first occurrence that yields a readable value is used.

A number is read from what a marker announces as the number the sentence asserts
(:func:`asserted_number`): ``Answer: The total number of pencils in 5 boxes is 30.`` reads
30, ``Answer: 12 - 4 = 8`` 8, ``Answer: 30 (thirty)`` 30; a box holds a value or its
working, so its last number counts. When nothing can be read, :meth:`AnswerSpec.answer_line`
names the line the answer was looked for in, for messages.

Normalized answers are plain values: numbers are ``float`` (currency signs, unit words and
thousands separators are ignored, and ``50%`` reads as ``50.0`` because the percent sign is
dropped, so write the expected value as ``50`` or ``"50%"``; "5 cents" is ``5.0``, never
converted to dollars), choices are upper-case letters ``"A"``..``"Z"``, text is casefolded
with whitespace collapsed and surrounding quotes and trailing punctuation removed, and a
custom answer is whatever its parse function returns.
"""

from __future__ import annotations

import bisect
import json
import math
import numbers
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

KINDS = ("number", "choice", "text", "custom")

#: Relative tolerance for an expected number with a fractional part when the spec gives no
#: tolerance, as in the reference study; whole expected numbers must match exactly.
DEFAULT_REL_TOLERANCE = 0.05

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# --- numbers -----------------------------------------------------------------------------

# A minus sign right after a digit, letter or closing bracket is subtraction or a hyphen.
_SIGN = r"(?:(?<![A-Za-z0-9_.)\]}])[-\u2212])?"
# Digits glued to a letter ("Qwen2.5") or following "/" or "." are not a number of their own.
_START = r"(?<![A-Za-z0-9_./])"
_GROUP_SEPARATOR = "[, \u00a0\u2009\u202f]"
_UNSIGNED = rf"{_START}(?:(?:\d{{1,3}}(?:{_GROUP_SEPARATOR}\d{{3}})+(?!\d)|\d+)(?:\.\d+)?|\.\d+)"
_SIMPLE = r"\d+(?:\.\d+)?"
_NUMBER = re.compile(
    "|".join(
        (
            rf"(?P<fsign>{_SIGN})\\[dt]?frac\s*\{{\s*(?P<fnum>[-\u2212]?{_SIMPLE})\s*\}}"
            rf"\s*\{{\s*(?P<fden>{_SIMPLE})\s*\}}",
            rf"(?P<mantissa>{_SIGN}{_UNSIGNED})\s*(?:[×xX*·]|\\times|\\cdot)\s*10\s*"
            rf"(?:\^|\*\*)\s*\{{?\s*(?P<exponent>[-+\u2212]?\d+)\s*\}}?",
            rf"(?P<whole>{_SIGN}{_START}\d+)[ \t]+(?P<mnum>\d+)/(?P<mden>\d+)(?![\d/])",
            rf"(?P<num>{_SIGN}{_START}{_SIMPLE})/(?P<den>{_SIMPLE})(?![\d/])",
            rf"(?P<plain>{_SIGN}{_UNSIGNED}(?:[eE][-+\u2212]?\d+)?)",
        )
    )
)
_SEPARATORS = re.compile(_GROUP_SEPARATOR)
# LaTeX writes thousands as 1{,}000 or 1\,000.
_LATEX_SEPARATORS = (("{,}", ","), ("\\,", " "))
# "3 + 4 = 7" shows the working before the result: everything up to the last "=" of a
# leading run of arithmetic.
_WORKING = re.compile(r"^(?:[\d\s.,+\-\u2212*/×÷·xX()\[\]^$€£%\\]*=)+")
# What follows a stated answer to justify or qualify it: "30 (thirty)", "8, because
# 12 - 4 = 8", "1.5 m, but the question asked for feet", "30, which is 5 × 6".
_ASIDE = re.compile(
    r"(?<!\\)\(|;|\s[\u2014\u2013]\s|\s--\s"
    r"|\s(?:because|since|as|but|though|although|which|whereas|while)\b",
    re.IGNORECASE,
)
# What introduces the conclusion of reasoning: "there are 5 boxes, so the total is 30".
_CONCLUSION = re.compile(
    r"\b(?:so|therefore|thus|hence|(?:which|this|that) means|giving|making|altogether"
    r"|in total)\b",
    re.IGNORECASE,
)
# A bracket after an operator groups arithmetic ("12 - (12/3)"): it is no aside.
_OPERATOR_BEFORE = re.compile(r"[-+\u2212*/×÷·^=]\s*$")
# An equation or an approximation ends with its result.
_EQUALS = re.compile(r"(?<![=<>!])=(?!=)|≈|\\approx\b")
# A verb that states a quantity: "the total is 30", "she has 8 left", "it costs $4", "5
# boxes hold 30" (not after "to": in "it takes 3 hours to travel 180 km" 3 is stated).
_ASSERTS = re.compile(
    r"(?<!\bto\s)\b(?:is|are|was|were|be|equals?|equal to|totals?|totall?ed|comes to"
    r"|amounts to|makes?|made|gives?|gave|has|have|had|gets?|got|costs?|leaves|leaving"
    r"|left with|takes?|took|holds?|held|contains?|contained|needs?|needed|weighs?|weighed"
    r"|earns?|earned|spends?|spent|pays?|paid|buys?|bought|sells?|sold|travel(?:s|l?ed)?"
    r"|runs?|ran|walks?|walked|drives?|drove|remains?|remained)\b",
    re.IGNORECASE,
)
# What may stand before a number that opens a span: signs, brackets, bold, currency,
# LaTeX commands (removed first), and a word of approximation.
_LEADING = re.compile(
    r"[\W_]*(?:(?:about|approximately|approx|around|roughly|nearly|almost|exactly|only"
    r"|just)\b[\W_]*)?"
)
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")

# --- markers -----------------------------------------------------------------------------

_ANSWER_KEYS = ("answer", "final answer")
_ANSWER_LINE = re.compile(
    r"^[^\w\n]*(?:(?:the|my)[ \t]+)?(?:final[ \t_]+)?answer[\"'*_ \t]*[:：][*_ \t]*"
    r"(?P<rest>[^\n]*)",
    re.IGNORECASE | re.MULTILINE,
)
_BOXED = re.compile(r"\\boxed\s*\{(?P<body>(?:[^{}]|\{[^{}]*\})*)\}")
_ANSWER_IS = re.compile(r"(?<!\w)answer\s+is\b[ \t]*[:：]?(?P<rest>[^\n]*)", re.IGNORECASE)
# A period followed by a digit is a decimal point, not the end of the sentence.
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")

# --- choices -----------------------------------------------------------------------------

# A letter set apart by brackets, a keyword, bold, or by standing alone reads as a choice in
# either case.
_MARKED_LETTER = re.compile(
    r"[(\[]\s*([A-Za-z])\s*[)\]]"
    r"|\b(?i:option|choice|letter)\b\s*[(\[]?([A-Za-z])\b"
    r"|\*\*\s*[(\[]?([A-Za-z])[)\].:]?\s*\*\*"
    r"|^\W*([A-Za-z])\W*$"
    r"|^\W*([A-Za-z])[.):](?=\s|$)"
)
# A bare capital counts too, except "A" or "I" starting a phrase ("A bat", "I think").
_BARE_LETTER = re.compile(r"(?<![\w'’])(?![AI]\s+[a-z])([A-Z])(?![\w'’]|\.\w)")
# Anywhere in free text, lower-case "(b)" is usually an enumeration, so only the clearer
# forms count there.
_LETTER_MENTION = re.compile(
    r"\(([A-Z])\)"
    r"|\b(?i:option|choice|letter)\b\s*[(\[]?([A-Za-z])\b"
    r"|\*\*([A-Z])\*\*"
    r"|(?<![\w(])([A-Z])\)"
    r"|^[^\w\n]*([A-Za-z])[^\w\n]*$",
    re.MULTILINE,
)

# --- text --------------------------------------------------------------------------------

_LATEX_WRAPPER = re.compile(r"\\(?:boxed|text|textbf|textit|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_MATH_DELIMITER = re.compile(r"\\[()\[\]]|\$\$")
_QUOTES = (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("«", "»"), ("`", "`"), ("$", "$"))
_TRAILING = ".,;:!?*"
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")


@dataclass(frozen=True)
class AnswerSpec:
    """What kind of answer a test expects, and how to find and judge it.

    ``kind`` is ``"number"``, ``"choice"``, ``"text"`` or ``"custom"``. ``tolerance`` and
    ``rel_tolerance`` (numbers only) are absolute and relative; ``choices`` (choices only)
    are the option texts in order, A first; ``fallback`` allows reading an answer that no
    marker announces; ``parse`` (custom only) turns text into the answer or None.
    """

    kind: str = "number"
    tolerance: float | None = None
    rel_tolerance: float | None = None
    choices: tuple[str, ...] = ()
    fallback: bool = True
    parse: Callable[[str], object | None] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"kind must be 'number', 'choice', 'text' or 'custom'; got {self.kind!r}"
            )
        for name in ("tolerance", "rel_tolerance"):
            _check_tolerance(name, getattr(self, name), self.kind)
        object.__setattr__(self, "choices", _options(self.choices))
        if self.choices and self.kind != "choice":
            raise ValueError(f"choices apply only to choice answers, not {self.kind!r} answers")
        if self.kind == "custom" and not callable(self.parse):
            raise ValueError(
                "a custom answer needs parse: a callable taking the model's text and "
                "returning the answer or None"
            )
        if self.kind != "custom" and self.parse is not None:
            raise ValueError(f"parse applies only to custom answers, not {self.kind!r} answers")

    def extract(self, text: str) -> object | None:
        """The normalized answer found in a model's output, or None if there is none."""
        for span, last_number, _ in _marked_spans(text):
            value = self._read(span, last_number=last_number)
            if value is not None:
                return value
        return self._fallback(text) if self.fallback else None

    def answer_line(self, text: str) -> str:
        """The line of ``text`` an answer is looked for first, as a message names it when no
        answer could be read: the line of the most trusted marker (for an ``Answer:`` alone
        on its line, that line and the next), else the last non-empty line; "" when
        ``text`` is blank. Untrusted text: show it escaped."""
        for span, _, start in _marked_spans(text):
            line = _line_at(text, start)
            return line if span.strip() in line else f"{line} {span.strip()}"
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def normalize(self, value: object) -> object | None:
        """Normalize an expected value as given by a user, or None if it cannot be read.

        Numbers accept ``0.05``, ``"0.05"``, ``"$0.05"``, ``"5%"`` (5.0) and ``"3/4"``;
        choices accept a letter (``"b"``, ``"(B)"``) or, with ``choices``, an option text;
        custom answers pass strings through ``parse`` and keep other values as they are.
        """
        if value is None:
            return None
        if self.kind == "number":
            if isinstance(value, bool):
                return None
            if isinstance(value, numbers.Real):
                return float(value)
            return _first_number(str(value))
        if self.kind == "choice":
            return _choice_in_span(str(value), self.choices)
        if self.kind == "text":
            return _normalize_text(str(value)) or None
        return self._parse(value) if isinstance(value, str) else value

    def equal(self, a: object, b: object) -> bool:
        """Whether two normalized answers agree.

        Numbers agree within ``tolerance`` or ``rel_tolerance`` (relative to the larger
        magnitude) when either is given, otherwise when equal to 9 significant digits.
        """
        if a is None or b is None:
            return False
        if self.kind != "number":
            return a == b
        x, y = _as_float(a), _as_float(b)
        if x is None or y is None:
            return False
        if self.tolerance is None and self.rel_tolerance is None:
            return _significant(x) == _significant(y)
        return _within(x, y, self.tolerance, self.rel_tolerance, scale=max(abs(x), abs(y)))

    def correct(self, value: object, expected: object) -> bool:
        """Whether the normalized ``value`` is right for the normalized ``expected``.

        None is never correct. Numbers use ``tolerance`` / ``rel_tolerance`` (relative to
        ``expected``) when given; otherwise a whole expected number must match to 9
        significant digits and one with a fractional part within
        :data:`DEFAULT_REL_TOLERANCE`. Other kinds must be equal.
        """
        if self.kind != "number":
            return self.equal(value, expected)
        x, e = _as_float(value), _as_float(expected)
        if x is None or e is None:
            return False
        if self.tolerance is None and self.rel_tolerance is None:
            if e.is_integer():
                return _significant(x) == _significant(e)
            return _within(x, e, None, DEFAULT_REL_TOLERANCE, scale=abs(e))
        return _within(x, e, self.tolerance, self.rel_tolerance, scale=abs(e))

    def describe(self) -> str:
        """A short description for messages, e.g. ``number (abs tol 0.005)``."""
        details: list[str] = []
        if self.kind == "number":
            if self.tolerance is not None:
                details.append(f"abs tol {self.tolerance:g}")
            if self.rel_tolerance is not None:
                details.append(f"rel tol {self.rel_tolerance:g}")
            if not details:
                details.append(f"exact for integers, else rel tol {DEFAULT_REL_TOLERANCE:g}")
        elif self.kind == "choice":
            options = ", ".join(f"{_LETTERS[i]}={text}" for i, text in enumerate(self.choices))
            details.append(options or "a letter")
        elif self.kind == "custom":
            details.append(getattr(self.parse, "__name__", repr(self.parse)))
        if not self.fallback:
            details.append("no fallback")
        return f"{self.kind} ({'; '.join(details)})" if details else self.kind

    def _read(self, span: str, *, last_number: bool) -> object | None:
        if self.kind == "number":
            return _last_number(span) if last_number else asserted_number(span)
        if self.kind == "choice":
            return _choice_in_span(span, self.choices)
        if self.kind == "text":
            return _normalize_text(span) or None
        return self._parse(span.strip())

    def _fallback(self, text: str) -> object | None:
        if self.kind == "number":
            closing = text.strip().rsplit("\n\n", 1)[-1]
            bold = [n for span in _BOLD.findall(closing) if (n := _first_number(span)) is not None]
            return bold[-1] if bold else _last_number(text)
        if self.kind == "choice":
            return _choice_fallback(text, self.choices)
        if self.kind == "text":
            lines = (_normalize_text(line) for line in reversed(text.splitlines()))
            return next((line for line in lines if line), None)
        return self._parse(text)

    def _parse(self, text: str) -> object | None:
        return self.parse(text) if self.parse is not None else None


def answer_spec(
    answer: str | Callable[[str], object | None] | AnswerSpec = "number",
    *,
    tolerance: float | None = None,
    rel_tolerance: float | None = None,
    choices: Sequence[str] | None = None,
    fallback: bool = True,
) -> AnswerSpec:
    """Build an :class:`AnswerSpec` from user-facing arguments, checking them.

    ``answer`` is ``"number"``, ``"choice"``, ``"text"``, a callable (a custom answer:
    text in, answer or None out) or a ready spec, which is returned as it is and cannot be
    combined with the other arguments. Raises ValueError saying what is wrong.
    """
    if isinstance(answer, AnswerSpec):
        given = [
            name
            for name, value in (
                ("tolerance", tolerance),
                ("rel_tolerance", rel_tolerance),
                ("choices", choices),
            )
            if value is not None
        ]
        if not fallback:
            given.append("fallback")
        if given:
            raise ValueError(
                f"set {', '.join(given)} on the AnswerSpec itself, not next to it; "
                f"got an AnswerSpec and {', '.join(given)}"
            )
        return answer
    if isinstance(answer, str) and answer.strip().lower() in KINDS[:3]:
        kind, parse = answer.strip().lower(), None
    elif callable(answer):
        kind, parse = "custom", answer
    else:
        raise ValueError(f"answer must be 'number', 'choice', 'text' or a callable; got {answer!r}")
    return AnswerSpec(
        kind=kind,
        tolerance=tolerance,
        rel_tolerance=rel_tolerance,
        choices=_options(choices),
        fallback=fallback,
        parse=parse,
    )


def extract_answer(text: str, spec: AnswerSpec) -> object | None:
    """The normalized answer in a model's output, or None; the same as ``spec.extract``."""
    return spec.extract(text)


def _check_tolerance(name: str, value: object, kind: str) -> None:
    if value is None:
        return
    if kind != "number":
        raise ValueError(f"{name} applies only to number answers, not {kind!r} answers")
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number, 0 or more; got {value!r}")


def _options(choices: Sequence[str] | None) -> tuple[str, ...]:
    if choices is None:
        return ()
    if isinstance(choices, str):
        raise ValueError(f"choices must be a list of option texts, not one string; got {choices!r}")
    options = tuple(choices)
    if len(options) > len(_LETTERS):
        raise ValueError(f"choices can have at most 26 options (A-Z); got {len(options)}")
    seen: set[str] = set()
    for option in options:
        if not isinstance(option, str) or not _normalize_text(option):
            raise ValueError(f"each choice must be a non-empty string; got {option!r}")
        key = _normalize_text(option)
        if key in seen:
            raise ValueError(
                f"choices must differ (ignoring case, spacing and punctuation); {option!r} repeats"
            )
        seen.add(key)
    return options


def _marked_spans(text: str) -> Iterator[tuple[str, bool, int]]:
    """Spans that a marker announces as the answer, most trusted kind first and, within a
    kind, the last one first, each with a flag (read the span's last number, not the one
    it asserts) and where its marker starts in ``text``."""
    for start, value in reversed(_json_answers(text)):
        yield (value if isinstance(value, str) else json.dumps(value)), False, start
    for match in reversed(list(_ANSWER_LINE.finditer(text))):
        yield _rest_of_line(text, match), False, match.start()
    for match in reversed(list(_BOXED.finditer(text))):
        yield match["body"], True, match.start()
    for match in reversed(list(_ANSWER_IS.finditer(text))):
        span = _SENTENCE_END.split(_rest_of_line(text, match), maxsplit=1)[0]
        yield span, False, match.start()


def _json_answers(text: str) -> list[tuple[int, object]]:
    decoder = json.JSONDecoder()
    found: list[tuple[int, object]] = []
    start = text.find("{")
    while start != -1:
        try:
            obj, _ = decoder.raw_decode(text, start)
        except ValueError:
            obj = None  # pragma: no mutate (anything but a dict is skipped)
        if isinstance(obj, dict):
            found.extend(
                (start, v) for k, v in obj.items() if k.lower().replace("_", " ") in _ANSWER_KEYS
            )
        # Every brace is tried, so an answer nested inside a larger object is found too.
        start = text.find("{", start + 1)
    return found


def _line_at(text: str, position: int) -> str:
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return text[start : len(text) if end == -1 else end].strip()


def _rest_of_line(text: str, match: re.Match[str]) -> str:
    # A marker alone at the end of its line introduces the answer on the next line.
    if match["rest"].strip():
        return match["rest"]
    return text[match.end() :].strip().split("\n", 1)[0]


def asserted_number(span: str) -> float | None:
    """The number a stated answer asserts, or None if it holds no readable number.

    ``span`` is what a marker announces: the rest of an ``Answer:`` line, a JSON string,
    what follows "the answer is". Its first sentence with a number counts, without leading
    working (``12 - 4 = 8``), without an aside after the answer (a bracket, or a clause
    opened by "because", "since", "as", "but", "which", ...) and, when a word such as "so",
    "therefore" or "in total" introduces a conclusion with a number, from that word on.
    In what is left:

    1. an equation or approximation gives the number after its last ``=`` (or ``≈``):
       ``Sara has 12 - 4 = 8 candies left`` reads 8;
    2. else a verb that states a quantity (is, are, was, equals, totals, has, costs, gets,
       ...) gives the first number after the last such verb that has one after it:
       ``The total number of pencils in 5 boxes is 30`` reads 30;
    3. else a span that opens with a number gives that number: ``30 pencils in 5 boxes``
       reads 30, ``$1,234.50`` 1234.5;
    4. else the last number: ``Tom ends up with 7 apples`` reads 7.
    """
    for sentence in _SENTENCE_END.split(_latex_separators(span)):
        clause = _conclusion(_without_aside(_WORKING.sub("", sentence, count=1)))
        readable = list(_readable(clause))
        if not readable:
            continue
        starts = [start for start, _, _ in readable]
        for marker in (_EQUALS, _ASSERTS):
            # The last marker with a number after it, and the first number after that.
            ends = [m.end() for m in marker.finditer(clause, 0, starts[-1])]
            if ends:
                return readable[bisect.bisect_left(starts, ends[-1])][2]
        start, _, first = readable[0]
        if _LEADING.fullmatch(_LATEX_COMMAND.sub("", clause[:start])):
            return first
        return readable[-1][2]
    return None


def _without_aside(clause: str) -> str:
    """``clause`` up to its first aside that follows a number."""
    first = next(_readable(clause), None)
    if first is None:
        return clause
    for match in _ASIDE.finditer(clause, first[1]):
        head = clause[: match.start()]
        if not _OPERATOR_BEFORE.search(head[-50:]):
            return head
    return clause


def _conclusion(clause: str) -> str:
    """What follows the last word that introduces a conclusion and holds a number, else
    ``clause``."""
    starts = [start for start, _, _ in _readable(clause)]
    if not starts:
        return clause
    ends = [m.end() for m in _CONCLUSION.finditer(clause, 0, starts[-1])]
    return clause[ends[-1] :] if ends else clause


def _latex_separators(text: str) -> str:
    for latex, plain in _LATEX_SEPARATORS:
        text = text.replace(latex, plain)
    return text


def _readable(text: str) -> Iterator[tuple[int, int, float]]:
    """Where each readable number of ``text`` starts and ends, and its value. Positions
    count in ``text`` with LaTeX thousands separators made plain, as the clauses of
    :func:`asserted_number` already are."""
    for match in _NUMBER.finditer(_latex_separators(text)):
        value = _number_value(match)
        if value is not None and math.isfinite(value):
            yield match.start(), match.end(), value


def _numbers(text: str) -> list[float]:
    return [value for _, _, value in _readable(text)]


def _number_value(match: re.Match[str]) -> float | None:
    if match["fden"] is not None:
        ratio = _ratio(match["fnum"], match["fden"])
        return -ratio if match["fsign"] and ratio is not None else ratio
    if match["mantissa"] is not None:
        # Going through a decimal string keeps 1.2 x 10^-3 exactly 0.0012 and turns a huge
        # exponent into inf (dropped as unreadable) instead of an OverflowError.
        exponent = match["exponent"].replace("\u2212", "-")
        return float(f"{_to_float(match['mantissa'])}e{exponent}")
    if match["whole"] is not None:
        whole, part = match["whole"], _ratio(match["mnum"], match["mden"])
        if part is None:
            return None
        negative = whole.startswith(("-", "\u2212"))
        return _to_float(whole) - part if negative else _to_float(whole) + part
    if match["den"] is not None:
        return _ratio(match["num"], match["den"])
    return _to_float(match["plain"])


def _to_float(token: str) -> float:
    return float(_SEPARATORS.sub("", token).replace("\u2212", "-"))


def _ratio(numerator: str, denominator: str) -> float | None:
    bottom = _to_float(denominator)
    return _to_float(numerator) / bottom if bottom else None


def _first_number(span: str) -> float | None:
    values = _numbers(_WORKING.sub("", span, count=1))
    return values[0] if values else None


def _last_number(text: str) -> float | None:
    values = _numbers(text)
    return values[-1] if values else None


def _as_float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def _significant(value: float) -> float:
    return float(f"{value:.9g}")


def _within(
    a: float, b: float, tolerance: float | None, rel_tolerance: float | None, *, scale: float
) -> bool:
    # Rounding both sides keeps a boundary case such as 0.0525 against 0.05 at 5% from
    # failing on binary representation error.
    difference = _significant(abs(a - b))
    if tolerance is not None and difference <= _significant(tolerance):
        return True
    return rel_tolerance is not None and difference <= _significant(rel_tolerance * scale)


def _choice_in_span(span: str, choices: tuple[str, ...]) -> str | None:
    span = _unwrap_latex(span).strip()
    letter = _first_letter(_MARKED_LETTER, span, choices)
    if letter is None and choices:
        letter = _option_named(span, choices)
    return letter or _first_letter(_BARE_LETTER, span, choices)


def _choice_fallback(text: str, choices: tuple[str, ...]) -> str | None:
    lines = [line for line in text.splitlines() if line.strip()]
    if choices and lines:
        last_line = _normalize_text(lines[-1])
        for index, option in enumerate(choices):
            if _normalize_text(option) == last_line:
                return _LETTERS[index]
    letters = (_letter(match, choices) for match in _LETTER_MENTION.finditer(text))
    return next((letter for letter in reversed(list(letters)) if letter), None)


def _first_letter(pattern: re.Pattern[str], text: str, choices: tuple[str, ...]) -> str | None:
    letters = (_letter(match, choices) for match in pattern.finditer(text))
    return next((letter for letter in letters if letter), None)


def _letter(match: re.Match[str], choices: tuple[str, ...]) -> str | None:
    """The choice letter a match captured, if it names one of the options."""
    letter = next(group for group in match.groups() if group).upper()
    return letter if _LETTERS.index(letter) < (len(choices) or len(_LETTERS)) else None


def _option_named(span: str, choices: tuple[str, ...]) -> str | None:
    """The letter of the option whose text appears earliest in ``span`` (longest on a tie)."""
    text = _normalize_text(span)
    best: tuple[int, int, int] | None = None
    for index, option in enumerate(choices):
        found = re.search(rf"(?<!\w){re.escape(_normalize_text(option))}(?!\w)", text)
        if found and (best is None or (found.start(), -len(found[0])) < best[:2]):
            best = (found.start(), -len(found[0]), index)
    return _LETTERS[best[2]] if best else None


def _unwrap_latex(text: str) -> str:
    count = 1
    while count:
        # Each pass unwraps the innermost commands, so \boxed{\text{Paris}} takes two.
        text, count = _LATEX_WRAPPER.subn(r"\1", text)
    return text


def _normalize_text(text: str) -> str:
    text = " ".join(_MATH_DELIMITER.sub(" ", _unwrap_latex(text)).casefold().split())
    while True:
        stripped = text.strip().lstrip("*").rstrip(_TRAILING).strip()
        for opening, closing in _QUOTES:
            if len(stripped) > 1 and stripped[0] == opening and stripped[-1] == closing:
                stripped = stripped[1:-1]
                break
        if stripped == text:
            return text
        text = stripped
