"""Answer extraction from model outputs, normalization of expected values, and judging."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from pytest_xgen.core import answers
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


# --- a corpus of answer lines --------------------------------------------------------------
#
# Lines as the embedded models wrote them, mined from every committed version of the demo
# cassettes (evaluator outputs and generator explanations), each with the number it asserts.
# "was N" marks a line read as N before an answer line was read for the number its sentence
# asserts.
MINED = [
    # Qwen2.5-Coder-0.5B answer lines.
    ("   Answer: 3", 3.0),
    ("Answer: $0.10", 0.1),
    ("Answer: $1.00", 1.0),
    ("Answer: $17.50", 17.5),
    ("Answer: 100 centimeters.", 100.0),
    ("Answer: 195 minutes", 195.0),
    ("Answer: 250 centimeters", 250.0),
    ("Answer: 2500.0", 2500.0),
    ("Answer: 7.", 7.0),
    ("Answer: 8 candies left.", 8.0),
    ("Answer: 12 - 4 = 8", 8.0),
    ("Answer: 12 - (12/3) = 12 - 4 = 8", 8.0),
    ("Answer: <answer>7</answer>", 7.0),
    ("Answer: Sara has 12 - 4 = 8 candies left.", 8.0),  # was 12
    ("Answer: Sara has 4 candies left.", 4.0),
    ("Answer: Sara has \\(\\boxed{8}\\) candies left.", 8.0),
    ("Answer: Sara has \\boxed{4} candies left.", 4.0),
    ("Answer: The ball costs $1.00 in dollars.", 1.0),
    ("Answer: The car travels a total of 180 kilometers.", 180.0),
    ("Answer: The sale price of the shirt is \\(\\boxed{17.0}\\).", 17.0),
    ("Answer: Tom has \\(\\boxed{7}\\) apples after buying 4 more.", 7.0),
    ("Answer: \\boxed{5}", 5.0),
    ("\\[ Answer: 7 \\]", 7.0),
    ("Answer: Sunday", None),
    ("Answer: B) Some cats are black.", None),
    ("Therefore, the final answer is:", None),
    ("Thus, the final answer is \\(\\boxed{64}\\).", 64.0),
    ("So, the final answer is \\( \\boxed{8} \\).", 8.0),
    ("The final answer is \\(3 + 24 = 27\\).", 27.0),
    ("The answer is that Tom has \\(\\boxed{7}\\) apples after buying 4 more.", 7.0),
    ("\\boxed{0.35}", 0.35),
    ("\\boxed{\\text{Tuesday}}", None),
    # SmolLM2-135M.
    ("Answer: 259.", 259.0),
    ("Answer: Answer: \\[ 4 \\times 5 = 20 ]", 20.0),  # was 4
    ("Answer: One candy is left Sara's candies", None),
    ("The answer is the total number of candies she has left: 12 - 4 = 8 candies.", 8.0),  # was 12
    ("- The answer is 9 / 1.4 = 4 cents.", 4.0),
    ("Final answer is approximately 24.95 minutes", 24.95),
    (
        "If Tom has 3 apples and buys a total of 4 more, then he has 9 apples. "
        "The answer is 9 + 1 = 10.",
        10.0,
    ),
    ("So the answer is \\(6\\).", 6.0),
    ("So the final answer is 100.", 100.0),
    ("So, the answer is 1 + 9 = 11, but you want a final answer that has your original", 11.0),
    ('The answer is "22.5".', 22.5),
    ('The answer is "5 cm"', 5.0),
    ("The answer is 07.", 7.0),
    (
        "The answer is 1.5 meters, but the original question asked for 2.5 feet or inches "
        "to centimeters.",
        1.5,
    ),
    (
        "The answer is 12. To find out how many eggs are in 4 boxes, we need to multiply "
        "the number of boxes by the number of eggs per box: 4 x 6 = 20. Therefore, there "
        "are 20 eggs in a box that contains 6 eggs.",
        12.0,
    ),
    ("The answer is 2x + 1 = 5.", 5.0),
    ("The answer is 46.68 km.", 46.68),
    ("The answer is 540", 540.0),
    ("The answer is 9. ", 9.0),
    ("The answer is `6`.", 6.0),
    ("The answer is: 30", 30.0),
    ("The answer is: Answer: 8", 8.0),
    (
        "The final answer is that there are 250 centimeters in 2.5 meters, which matches "
        "the problem's constraints.",
        250.0,
    ),
    ("The sum is 3 times itself, which equals 6 dollars. So the answer is 6 dollars.", 6.0),
    (
        "The total cost of the ball and bat together is $1.10. So, 1 + 1.02 = $2. "
        "The answer is $2.",
        2.0,
    ),
    (
        "There are 3 x 4 = 12 apples in total. So, Tom has 3 + 4 = 7 apples. The answer is `9`.",
        9.0,
    ),
    (
        "This calculation uses a straightforward approach and can be simplified with just "
        "one line. The answer is: $43",
        43.0,
    ),
    (
        "To calculate the answer, you need to multiply 186.27 by 30 in meters/hour or "
        '186.27 * m/s where "m" is the speed of car at that moment. You add these numbers '
        "together and get 259.40 km. So the answer is 259.",
        259.0,
    ),
    ("You are correct, the answer is 36.", 36.0),
    ('So, the answer is "one-three."', None),
    ('The answer is either "yes" or "no."', None),
    ('print("The answer is:", calculate_sara())', None),
]

# Lines that assert no one number (loops, self-contradictions, an expression for an
# answer): what the rule reads is pinned, so that a change to it shows.
INCOHERENT = [
    ("Answer: 8 Answer: <answer> 6 Answer: <answer> 4 Answer", 8.0),
    ("Final answer: 9 Answer: <answer>Answer: 8 Answer: <answer>Answer", 9.0),
    (
        "Answer: Sara has 12 candies and gives away one third of them, leaving her with "
        "<answer> Answer: 4 Candy Answer: Sara has 12 candies and gives away one third of "
        "them, leaving her with 1 Candy Answer: Sara has 12 candies and gives away one third "
        "of them",
        12.0,
    ),
    ("So the answer is 2x + 1.", 2.0),
    ("Final answer is 12 - 1 or 10.", 12.0),
    ("The answer is 9.6cm / 304 = 0.288 which equals about 2.88 centimeters.", 0.288),
    (
        "The answer is 4 boxes have 3 eggs and there are only 2 remaining boxes that do not "
        "contain any eggs, which means the last box contains exactly 1 egg.",
        2.0,
    ),
    (
        "The answer is `12/3 = 4` but it's actually `(Sara - 1) * 3 / 2 = 6*3 + 4 = 20% of "
        "the remaining candies. So, Sara has 6% left.",
        4.0,
    ),
    (
        "A negative answer is not allowed in this case because you can't have a fraction of "
        "a kilometer (km). Therefore, your answer should be 100 * 2 + 50.",
        50.0,
    ),
]

# How hosted models and people write answers.
HOSTED = [
    ("Answer: The total number of pencils in 5 boxes is 30.", 30.0),
    ("\\boxed{30}", 30.0),
    ("The final answer is $\\boxed{30}$.", 30.0),
    ("**Answer:** 30 pencils", 30.0),
    ("**Final Answer:** The ball costs **$0.05**.", 0.05),
    ("The answer is 30.", 30.0),
    ("Answer: 30 (thirty)", 30.0),
    ("Answer: $1,234.50", 1234.5),
    ("Answer: 12 - 4 = 8", 8.0),
    ("Answer: 8 candies", 8.0),
    ("Answer: -3", -3.0),
    ("Answer: 2.5 hours", 2.5),
    ("Answer: 3/4", 0.75),
    ("Answer: \\( \\frac{3}{4} \\) of the pie", 0.75),
    ("ANSWER: 1,000,000", 1_000_000.0),
    ("Answer: approximately 33.3 km", 33.3),
    ("Answer: 30 pencils in 5 boxes", 30.0),
    ("Answer: 30 pencils, 6 in each of 5 boxes", 30.0),
    ("Answer: 5 boxes × 6 pencils = 30 pencils", 30.0),
    ("Answer: 8 (12 - 4 = 8)", 8.0),
    ("Answer: 30, because 5 × 6 = 30", 30.0),
    ("Answer: 30, which is 5 × 6", 30.0),
    ("Answer: 7 apples; he started with 3", 7.0),
    ("Answer: The ball costs $0.05, since $1.05 + $0.05 = $1.10", 0.05),
    ("Answer: There are 5 boxes, so the total is 30.", 30.0),
    ("Answer: In total, 5 boxes hold 30 pencils.", 30.0),
    ("Answer: The speed is 60 km/h, so in 3 hours it travels 180 km.", 180.0),
    ("Answer: It takes 3 hours to travel 180 km.", 3.0),
    ("Answer: The car travels 180 km in 3 hours.", 180.0),
    ("Answer: She had 12 candies, gave away 4, and has 8 left.", 8.0),
    ("Answer: 8 candies are left", 8.0),
    ("Answer: Tom ends up with 7 apples.", 7.0),
    ("Answer: approx. 30 km", 30.0),
    ("Answer: x = 2", 2.0),
    ('{"answer": "The total is 30 pencils"}', 30.0),
]


@pytest.mark.parametrize(
    ("line", "expected"),
    [pytest.param(line, value, id=line[:50]) for line, value in MINED + INCOHERENT + HOSTED],
)
def test_an_answer_line_reads_as_the_number_it_asserts(line: str, expected: float | None) -> None:
    assert NUMBER.extract(line) == expected


def test_the_answer_sentence_wins_over_the_working_before_it() -> None:
    tutor = (
        "1. Each box holds 6 pencils.\n2. 5 boxes hold 5 x 6 = 30 pencils.\n"
        "Answer: The total number of pencils in 5 boxes is 30."
    )
    assert NUMBER.extract(tutor) == 30.0
    assert STRICT.extract(tutor) == 30.0


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Let me count.\nAnswer: thirty pencils\n", "Answer: thirty pencils"),
        ("### Final Answer:\n\nthirty", "### Final Answer: thirty"),
        ('Steps.\n{"answer": "thirty"}', '{"answer": "thirty"}'),
        ("So it is \\boxed{x}.", "So it is \\boxed{x}."),
        ("I am not sure.\nMaybe many.\n\n", "Maybe many."),
        ("Answer: 3\nMore text.\nAnswer: many", "Answer: many"),
        ("", ""),
        ("  \n ", ""),
    ],
)
def test_a_miss_names_the_line_the_answer_was_looked_for_in(text: str, line: str) -> None:
    assert NUMBER.answer_line(text) == line


def documented_readings() -> list[tuple[str, float | None]]:
    """The rows of the table in docs/transfer.md that shows how answers are read: each
    example in the first column with its value in the second (one value for all, or one
    each)."""
    page = Path(__file__).resolve().parents[2] / "docs" / "transfer.md"
    table = page.read_text(encoding="utf-8").split("| the model writes | read as |", 1)[1]
    rows = []
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cell, value = line.strip("|").rsplit("|", 1)
        examples = re.findall(r"`([^`]+)`", cell)
        values = [None if "miss" in v else float(v) for v in value.strip().split(", ")]
        rows += zip(examples, values * len(examples) if len(values) == 1 else values, strict=True)
    return rows


def test_the_documented_readings_are_the_readings() -> None:
    rows = documented_readings()
    assert len(rows) >= 15
    assert [(text, NUMBER.extract(text)) for text, _ in rows] == rows


class CountingPattern:
    """A compiled pattern that counts the characters it is asked to scan."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.scanned = 0

    def finditer(self, text: str, *args: int) -> Iterator[re.Match[str]]:
        self.scanned += len(text)
        return self.pattern.finditer(text, *args)


@pytest.mark.parametrize(
    "line",
    [
        "Answer: " + "(x " * 3000 + "1",  # asides before any number
        "Answer: 1 " + "is " * 3000,  # verbs after the last number
        "Answer: 1 " + "so " * 3000,  # conclusions after the last number
        "Answer: 1 " + "12 - (" * 3000,  # brackets that group arithmetic
        "Answer: " + "1 = " * 3000,  # equations
    ],
    ids=["asides", "verbs", "conclusions", "brackets", "equations"],
)
def test_reading_a_long_answer_line_scans_it_a_few_times_not_once_per_word(
    monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    counting = CountingPattern(answers._NUMBER)
    monkeypatch.setattr(answers, "_NUMBER", counting)
    assert NUMBER.extract(line) is not None
    assert counting.scanned <= 5 * len(line)
