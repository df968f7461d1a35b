"""Answer extraction from model outputs, normalization of expected values, and judging."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from fractions import Fraction

import pytest

from pytest_xgen.core.answers import AnswerSpec, answer_spec, extract_answer

NUMBER = answer_spec("number")
STRICT = answer_spec("number", fallback=False)
LETTER = answer_spec("choice")
CITY = answer_spec("choice", choices=("Paris", "Lyon", "Marseille", "Nice"))
TEXT = answer_spec("text")

OUTPUTS = [
    # Qwen2.5-Coder-0.5B, as recorded.
    pytest.param(
        NUMBER,
        "To find out how many apples Tom has now, we need to add the number of apples he "
        "started with to the number he bought.\n\nTom started with 3 apples and bought 4 "
        "more.\n\nNow, we perform the addition:\n\\[ 3 + 4 = 7 \\]\n\nTherefore, Tom now "
        "has \\(\\boxed{7}\\) apples.",
        7.0,
        id="qwen-inline-boxed",
    ),
    pytest.param(
        NUMBER,
        "Let the cost of the ball be \\( x \\). Then the bat costs \\( x + 1 \\), so "
        "\\( 2x + 1 = 5 \\) and \\( x = 2 \\).\n\nTherefore, the cost of the ball is:\n"
        "\\[ \\boxed{2} \\]",
        2.0,
        id="qwen-display-boxed",
    ),
    pytest.param(NUMBER, "7 times 6 is 42.", 42.0, id="qwen-sentence"),
    pytest.param(NUMBER, "42", 42.0, id="qwen-bare"),
    pytest.param(
        TEXT,
        "The capital of France is Paris.",
        "the capital of france is paris",
        id="qwen-text-last-line",
    ),
    # SmolLM2-135M, as recorded: wrong arithmetic is still the answer it gave.
    pytest.param(NUMBER, "12 + 30 = 32.", 32.0, id="smollm-equation"),
    pytest.param(
        NUMBER,
        "Tom has 3 apples and buys 4 more, so he has a total of 2 + 4 = 6 apples.",
        6.0,
        id="smollm-total",
    ),
    pytest.param(NUMBER, "The answer is 42.", 42.0, id="smollm-answer-is"),
    # JSON.
    pytest.param(NUMBER, '{"answer": 0.05}', 0.05, id="json"),
    pytest.param(
        NUMBER,
        'Here is my reply:\n```json\n{"reasoning": "The bat costs $1.05, so the ball costs '
        '$0.05.", "answer": "$0.05"}\n```',
        0.05,
        id="json-fenced-string",
    ),
    pytest.param(
        NUMBER,
        'First attempt: {"answer": 10}\nChecking again, I was off by two: {"answer": 12}',
        12.0,
        id="json-restated",
    ),
    pytest.param(
        NUMBER,
        'Answer: 3\n\nCorrection:\n{"result": {"answer": 4, "unit": "apples"}}',
        4.0,
        id="json-nested-beats-answer-line",
    ),
    # Answer lines.
    pytest.param(
        NUMBER,
        "The ball costs five cents and the bat a dollar more.\n\nAnswer: $0.05 (five cents)",
        0.05,
        id="answer-line-currency",
    ),
    pytest.param(NUMBER, "**Answer:** 1,250 dollars", 1250.0, id="answer-bold-thousands"),
    pytest.param(NUMBER, "Final answer: \u22123", -3.0, id="final-answer-unicode-minus"),
    pytest.param(NUMBER, "Answer: 3 + 4 = 7", 7.0, id="answer-line-working"),
    pytest.param(
        NUMBER,
        "Answer: 12\n\nWait, I forgot the three apples Tom ate.\n\nAnswer: 9",
        9.0,
        id="answer-line-restated",
    ),
    pytest.param(NUMBER, "### Final Answer:\n\n42", 42.0, id="answer-on-next-line"),
    pytest.param(NUMBER, "Answer: 1 000 000 people", 1_000_000.0, id="space-thousands"),
    pytest.param(NUMBER, "Answer: 12\u202f500 km", 12_500.0, id="narrow-space-thousands"),
    pytest.param(NUMBER, "Answer: 50%", 50.0, id="percent"),
    pytest.param(NUMBER, "Answer: 1 1/2 cups of flour", 1.5, id="mixed-fraction"),
    pytest.param(NUMBER, "Answer: 1.2e3", 1200.0, id="scientific-e"),
    pytest.param(NUMBER, "Answer: 1.2E-3 mol", 0.0012, id="scientific-negative-e"),
    pytest.param(NUMBER, "Answer: 1.2 \u00d7 10^3 m", 1200.0, id="scientific-times"),
    pytest.param(NUMBER, "Answer: 1.2 x 10^{3}", 1200.0, id="scientific-latex-braces"),
    pytest.param(NUMBER, "Answer: 1.2*10^3", 1200.0, id="scientific-star"),
    pytest.param(NUMBER, "Answer: \u20ac4.50", 4.5, id="euro"),
    # Boxed.
    pytest.param(NUMBER, "So the share is $\\boxed{\\frac{3}{4}}$.", 0.75, id="boxed-frac"),
    pytest.param(
        NUMBER,
        "That gives \\boxed{5}. Hmm, let me recount the eggs.\n\nThe correct total is \\boxed{6}.",
        6.0,
        id="boxed-last-wins",
    ),
    pytest.param(NUMBER, "\\boxed{2 + 3 = 5}", 5.0, id="boxed-equation"),
    pytest.param(
        NUMBER, "The total is \\(\\boxed{\\$1{,}000}\\).", 1000.0, id="boxed-latex-thousands"
    ),
    pytest.param(
        NUMBER, "\\[\\boxed{\\dfrac{1}{2}\\text{ dollars}}\\]", 0.5, id="boxed-dfrac-unit"
    ),
    # "The answer is".
    pytest.param(
        NUMBER, "So the ball costs five cents. The final answer is 0.05.", 0.05, id="answer-is-dot"
    ),
    pytest.param(NUMBER, "I believe the answer is .05 dollars", 0.05, id="leading-dot"),
    pytest.param(NUMBER, "Each gets a share, so the answer is 3/4.", 0.75, id="fraction"),
    # Fallback.
    pytest.param(NUMBER, "The temperature dropped to -3 degrees.", -3.0, id="negative"),
    pytest.param(NUMBER, "It costs 5 cents.", 5.0, id="cents-not-converted"),
    pytest.param(NUMBER, "Version Qwen2.5 says 8", 8.0, id="digits-in-a-name"),
    # Unreadable.
    pytest.param(NUMBER, "I don't know.", None, id="no-number"),
    pytest.param(NUMBER, "", None, id="empty"),
    pytest.param(NUMBER, "Answer: 1e999", None, id="overflow"),
    pytest.param(STRICT, "12 + 30 = 32.", None, id="no-marker-no-fallback"),
    pytest.param(STRICT, "Answer: 32", 32.0, id="marker-without-fallback"),
    # Choices.
    pytest.param(LETTER, "Answer: B", "B", id="choice-answer-line"),
    pytest.param(LETTER, "The correct answer is (C).", "C", id="choice-parenthesized"),
    pytest.param(
        LETTER, "Looking at each option, I pick D) since it fits.", "D", id="choice-paren"
    ),
    pytest.param(LETTER, "After comparing, option b is the best fit.", "B", id="choice-option"),
    pytest.param(LETTER, "**A**", "A", id="choice-bold"),
    pytest.param(LETTER, "Answer: b.", "B", id="choice-lower-alone"),
    pytest.param(LETTER, "Answer: C. 12 apples", "C", id="choice-letter-dot"),
    pytest.param(
        LETTER, "I think the answer is B because it is larger.", "B", id="choice-bare-capital"
    ),
    pytest.param(LETTER, "Answer: a bat and a ball", None, id="choice-article-is-not-a"),
    pytest.param(CITY, "The answer is Lyon.", "B", id="choice-option-text"),
    pytest.param(CITY, '{"answer": "Marseille"}', "C", id="choice-json-option-text"),
    pytest.param(CITY, "Nice", "D", id="choice-option-text-fallback"),
    pytest.param(
        CITY,
        "(A) Paris\n(B) Lyon\n(C) Marseille\nParis is the capital of France.\nA",
        "A",
        id="choice-lone-letter-last",
    ),
    pytest.param(CITY, "Answer: E", None, id="choice-out-of-range"),
    # Text.
    pytest.param(TEXT, 'Answer: "Paris".', "paris", id="text-quotes"),
    pytest.param(TEXT, "The answer is   New   York City!", "new york city", id="text-spaces"),
    pytest.param(TEXT, "$\\boxed{\\text{Paris}}$", "paris", id="text-boxed"),
    pytest.param(TEXT, "Let me think.\n\n**PARIS**\n\n", "paris", id="text-bold-last-line"),
    pytest.param(TEXT, "**Answer:** 'Blue'", "blue", id="text-single-quotes"),
    pytest.param(answer_spec("text", fallback=False), "Paris", None, id="text-no-fallback"),
]


@pytest.mark.parametrize(("spec", "text", "expected"), OUTPUTS)
def test_extract(spec: AnswerSpec, text: str, expected: object) -> None:
    assert spec.extract(text) == expected
    assert extract_answer(text, spec) == expected


def test_fraction_keeps_full_precision() -> None:
    assert NUMBER.extract("Answer: 2/3") == 2 / 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.05, 0.05),
        (7, 7.0),
        ("0.05", 0.05),
        ("$0.05", 0.05),
        ("5%", 5.0),
        ("3/4", 0.75),
        ("\u22121,000", -1000.0),
        (Fraction(1, 4), 0.25),
        (Decimal("0.05"), 0.05),
        (True, None),
        ("seven", None),
        (None, None),
    ],
)
def test_normalize_number(value: object, expected: object) -> None:
    assert NUMBER.normalize(value) == expected


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        (LETTER, "B", "B"),
        (LETTER, "b", "B"),
        (LETTER, "(c)", "C"),
        (CITY, "Paris", "A"),
        (CITY, "lyon", "B"),
        (CITY, "E", None),
        (TEXT, "  Paris. ", "paris"),
        (TEXT, '"New  York"', "new york"),
        (TEXT, "...", None),
    ],
)
def test_normalize_choice_and_text(spec: AnswerSpec, value: object, expected: object) -> None:
    assert spec.normalize(value) == expected


@pytest.mark.parametrize(
    ("value", "expected", "correct"),
    [
        (0.0525, 0.05, True),  # 5% by default for a fractional expected value
        (0.0475, 0.05, True),
        (0.0526, 0.05, False),
        (7.0, 7.0, True),
        (7.0001, 7.0, False),  # whole expected values must match exactly
        (0.1 + 0.2, 0.3, True),
        (None, 7.0, False),
        (7.0, None, False),
    ],
)
def test_correct_default_rules(value: object, expected: object, correct: bool) -> None:
    assert NUMBER.correct(value, expected) is correct


def test_correct_with_tolerances() -> None:
    absolute = answer_spec(tolerance=0.005)
    assert absolute.correct(0.055, 0.05)
    assert not absolute.correct(0.0551, 0.05)
    assert absolute.correct(7.004, 7.0)  # the given tolerance replaces the exact rule
    relative = answer_spec(rel_tolerance=0.01)
    assert relative.correct(101.0, 100.0)
    assert not relative.correct(102.0, 100.0)
    either = answer_spec(tolerance=0.5, rel_tolerance=0.01)
    assert either.correct(100.5, 100.0)
    assert either.correct(1000.0 + 10.0, 1000.0)
    assert not either.correct(1000.0 + 11.0, 1000.0)


def test_equal() -> None:
    assert NUMBER.equal(0.1 + 0.2, 0.3)
    assert not NUMBER.equal(0.05, 0.0525)
    assert not NUMBER.equal(None, None)
    assert answer_spec(tolerance=0.01).equal(1.0, 1.01)
    assert answer_spec(rel_tolerance=0.01).equal(100.0, 101.0)
    assert CITY.equal("B", "B")
    assert not TEXT.equal("paris", "lyon")


def test_choice_and_text_correct_compare_normalized_values() -> None:
    assert CITY.correct(CITY.extract("The answer is Lyon."), CITY.normalize("b"))
    assert not CITY.correct(None, "B")
    assert TEXT.correct(TEXT.extract("Answer: PARIS!"), TEXT.normalize("Paris"))


def parse_date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text.strip().rstrip("."))
    except ValueError:
        return None


def test_custom_kind() -> None:
    spec = answer_spec(parse_date)
    assert spec.kind == "custom"
    assert spec.extract("I checked the calendar.\nAnswer: 2024-01-31") == datetime.date(2024, 1, 31)
    # Without a marker the whole output goes to the parse function.
    assert spec.extract("2024-02-29") == datetime.date(2024, 2, 29)
    assert spec.extract("sometime in spring") is None
    assert spec.normalize("2024-01-31") == datetime.date(2024, 1, 31)
    assert spec.normalize(datetime.date(2024, 1, 31)) == datetime.date(2024, 1, 31)
    assert spec.correct(spec.extract("Answer: 2024-01-31"), datetime.date(2024, 1, 31))


@pytest.mark.parametrize(
    ("spec", "description"),
    [
        (NUMBER, "number (exact for integers, else rel tol 0.05)"),
        (answer_spec(tolerance=0.005), "number (abs tol 0.005)"),
        (answer_spec(tolerance=0.5, rel_tolerance=0.01), "number (abs tol 0.5; rel tol 0.01)"),
        (LETTER, "choice (a letter)"),
        (answer_spec("choice", choices=["Paris", "Lyon"]), "choice (A=Paris, B=Lyon)"),
        (TEXT, "text"),
        (answer_spec("text", fallback=False), "text (no fallback)"),
        (answer_spec(parse_date), "custom (parse_date)"),
    ],
)
def test_describe(spec: AnswerSpec, description: str) -> None:
    assert spec.describe() == description


def test_answer_spec_builds_specs() -> None:
    spec = answer_spec(" Choice ", choices=["Paris", "Lyon"])
    assert spec == AnswerSpec(kind="choice", choices=("Paris", "Lyon"))
    assert answer_spec(spec) is spec
    assert answer_spec() == AnswerSpec()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"answer": "numbr"},
            "answer must be 'number', 'choice', 'text' or a callable; got 'numbr'",
        ),
        ({"answer": 42}, "answer must be 'number', 'choice', 'text' or a callable; got 42"),
        ({"answer": "custom"}, "or a callable; got 'custom'"),
        ({"tolerance": -0.1}, "tolerance must be a finite number, 0 or more; got -0.1"),
        ({"rel_tolerance": float("nan")}, "rel_tolerance must be a finite number, 0 or more"),
        (
            {"answer": "text", "tolerance": 0.1},
            "tolerance applies only to number answers, not 'text' answers",
        ),
        (
            {"answer": "number", "choices": ["Paris"]},
            "choices apply only to choice answers, not 'number' answers",
        ),
        (
            {"answer": "choice", "choices": "ABCD"},
            "choices must be a list of option texts, not one string; got 'ABCD'",
        ),
        ({"answer": "choice", "choices": ["Paris", "paris."]}, "choices must differ"),
        ({"answer": "choice", "choices": ["Paris", ""]}, "each choice must be a non-empty string"),
        (
            {"answer": "choice", "choices": [str(i) for i in range(27)]},
            "at most 26 options (A-Z); got 27",
        ),
        (
            {"answer": AnswerSpec(), "tolerance": 0.1},
            "set tolerance on the AnswerSpec itself",
        ),
    ],
)
def test_answer_spec_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        answer_spec(**kwargs)  # type: ignore[arg-type]


def test_answer_spec_checks_direct_construction() -> None:
    with pytest.raises(ValueError, match="kind must be 'number', 'choice', 'text' or 'custom'"):
        AnswerSpec(kind="numbr")
    with pytest.raises(ValueError, match="a custom answer needs parse"):
        AnswerSpec(kind="custom")
    with pytest.raises(ValueError, match="parse applies only to custom answers"):
        AnswerSpec(kind="text", parse=str)


def test_a_bold_number_in_the_closing_paragraph_beats_the_last_number() -> None:
    # Qwen2.5-Coder's closing style: the result is bold, a later number is context.
    spec = answer_spec("number")
    text = "1. Speed is 60 km/h.\n\nTherefore, the car travels a total of **180 km** in 3 hours."
    assert spec.extract(text) == 180.0
    assert spec.extract("**Step 1:** the speed is 60.\n\nSo he has 7 apples.") == 7.0


def test_a_ready_spec_refuses_every_setting_given_beside_it() -> None:
    with pytest.raises(ValueError) as raised:
        answer_spec(NUMBER, tolerance=1, rel_tolerance=0.1, choices=["a", "b"], fallback=False)
    assert str(raised.value) == (
        "set tolerance, rel_tolerance, choices, fallback on the AnswerSpec itself, not next "
        "to it; got an AnswerSpec and tolerance, rel_tolerance, choices, fallback"
    )
    assert answer_spec(NUMBER) is NUMBER


def test_a_custom_answer_needs_a_callable() -> None:
    with pytest.raises(ValueError) as raised:
        AnswerSpec(kind="custom")
    assert str(raised.value) == (
        "a custom answer needs parse: a callable taking the model's text and returning the "
        "answer or None"
    )


def test_the_default_answer_is_a_number() -> None:
    assert answer_spec() == NUMBER
    assert answer_spec().kind == "number"


def test_choices_are_kept_as_a_tuple_and_described_by_letter() -> None:
    spec = AnswerSpec(kind="choice", choices=["Paris", "Lyon"])  # type: ignore[arg-type]
    assert spec.choices == ("Paris", "Lyon")
    assert spec.describe() == "choice (A=Paris, B=Lyon)"


def test_a_custom_parser_is_described_by_its_name_or_its_repr() -> None:
    def yes_no(text: str) -> bool | None:
        return None

    class Parser:
        def __call__(self, text: str) -> str | None:
            return None

        def __repr__(self) -> str:
            return "<the parser>"

    assert answer_spec(yes_no).describe() == "custom (yes_no)"
    assert answer_spec(Parser()).describe() == "custom (<the parser>)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\boxed{3 + 4 = 7}", 7.0),  # a box holds the working: its last number
        ("Answer: 3 apples, then 4 more", 3.0),  # an answer line: its first number
        ('{"answer": "3 apples, then 4 more"}', 3.0),
        ("So the answer is 3 apples, then 4 more.", 3.0),
        ('Working: 2 + 3. {"final_answer": 5} is my reply, not 9', 5.0),
        ('{"Final Answer": 6}', 6.0),
        ('{"answer": 4} and later {"answer": 5}', 5.0),
        ('{"steps": ["1 + 1"], "result": {"answer": 8}} then 2', 8.0),
        ('{"answer": 4, "detail": {"note": 1}} then 9', 4.0),
        ('{broken {"answer": 3}', 3.0),
    ],
)
def test_each_marker_reads_its_span_its_own_way(text: str, expected: float) -> None:
    assert NUMBER.extract(text) == expected
