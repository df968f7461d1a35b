"""Answer stripping removes exactly the sentences that declare the answer, verbatim otherwise."""

from __future__ import annotations

import pytest

from pytest_xgen.core.answers import answer_spec
from pytest_xgen.core.strip import split_sentences, strip_answer, strip_with_model

NUMBER = answer_spec("number", tolerance=0.005)

QWEN = (
    "To find the cost of the ball, let the ball cost $x.\n\n"
    "1. The bat costs $1.00 more, i.e. x + 1.00 dollars.\n"
    "2. Together they cost $1.10, so x + (x + 1.00) = 1.10.\n"
    "3. Then 2x = 0.10, and x = 0.05.\n\n"
    "So the ball costs $0.05. Answer: 0.05"
)


def test_decimals_abbreviations_and_steps_survive_splitting() -> None:
    sentences = [s.text.strip() for s in split_sentences(QWEN)]
    assert sentences == [
        "To find the cost of the ball, let the ball cost $x.",
        "1. The bat costs $1.00 more, i.e. x + 1.00 dollars.",
        "2. Together they cost $1.10, so x + (x + 1.00) = 1.10.",
        "3. Then 2x = 0.10, and x = 0.05.",
        "So the ball costs $0.05.",
        "Answer: 0.05",
    ]


def test_answer_sentences_go_and_the_rest_stays_verbatim() -> None:
    stripped = strip_answer(QWEN, 0.05, NUMBER)
    assert stripped.removed == ("So the ball costs $0.05.", "Answer: 0.05")
    # Intermediate "x = 0.05" computes the answer but does not declare it: it stays.
    assert stripped.text == QWEN[: QWEN.index("So the ball")].rstrip()
    assert stripped.method == "rules"


@pytest.mark.parametrize(
    ("text", "answer", "removed"),
    [
        ("We add 3 and 4.\nThe answer is 7.", 7, ("The answer is 7.",)),
        (
            "We add 3 and 4. Therefore, Tom now has \\(\\boxed{7}\\) apples.",
            7,
            ("Therefore, Tom now has \\(\\boxed{7}\\) apples.",),
        ),
        ('Compute 3 + 4.\n{"answer": 7}', 7, ('{"answer": 7}',)),
        ("Step one gives 7.\nThus the total is 7 apples.", 7, ("Thus the total is 7 apples.",)),
        (
            "Thus the first part is 3.\nWe then add 4 to get 7.\nFinal answer: 7",
            7,
            ("Final answer: 7",),
        ),
        (
            "Dr. Smith has 3 apples. He buys 4 more. In total, he has 7 apples.",
            7,
            ("In total, he has 7 apples.",),
        ),
        ("No answer sentence here. Just 3 + 4.", 7, ()),
    ],
)
def test_rule_table(text: str, answer: float, removed: tuple[str, ...]) -> None:
    stripped = strip_answer(text, float(answer), answer_spec("number"))
    assert stripped.removed == removed
    kept = [s.text.strip() for s in split_sentences(text) if s.text.strip() not in removed]
    # Verbatim: what remains is the original's kept sentences, in order, character for character.
    assert [s.text.strip() for s in split_sentences(stripped.text)] == kept
    # ... and nothing else: the kept sentences appear in the stripped text in order, with
    # only the whitespace between them.
    position = 0
    for sentence in kept:
        found = stripped.text.find(sentence, position)
        assert found >= 0 and not stripped.text[position:found].strip(), (sentence, stripped)
        position = found + len(sentence)
    assert not stripped.text[position:].strip()


def test_a_concluding_sentence_mid_explanation_stays() -> None:
    """Only the closing sentences can conclude: a "So ... 7." in the middle of the steps is
    reasoning the evaluators need, not the declared answer."""
    text = (
        "Tom has 3 apples. He buys 4 more. So he has 7 apples. Then he gives 2 away and "
        "gets 2 back. He counts them again. Therefore, Tom has 7 apples."
    )
    stripped = strip_answer(text, 7.0, answer_spec("number"))
    assert stripped.removed == ("Therefore, Tom has 7 apples.",)
    assert "So he has 7 apples." in stripped.text


def test_a_model_filter_cuts_the_sentences_it_names_and_nothing_else() -> None:
    asked: list[str] = []

    def ask(messages: list[dict]) -> str:
        asked.append(messages[1]["content"])
        return 'Sure. {"remove": [5, 6]}'

    stripped = strip_with_model(QWEN, 0.05, NUMBER, ask, "cutter")
    assert asked[0].splitlines()[0] == "1. To find the cost of the ball, let the ball cost $x."
    assert stripped.method == "model cutter"
    assert stripped.removed == ("So the ball costs $0.05.", "Answer: 0.05")
    assert stripped.text == strip_answer(QWEN, 0.05, NUMBER).text


@pytest.mark.parametrize(
    "reply", ["I would remove the last one.", '{"remove": [99]}', '{"remove": "6"}']
)
def test_an_unusable_model_reply_falls_back_to_the_rules(reply: str) -> None:
    stripped = strip_with_model(QWEN, 0.05, NUMBER, lambda messages: reply, "cutter")
    assert stripped.method == "rules (cutter reply unusable)"
    assert stripped.removed == ("So the ball costs $0.05.", "Answer: 0.05")
    assert stripped.text == strip_answer(QWEN, 0.05, NUMBER).text


def test_sentences_carry_their_place_in_the_text() -> None:
    text = "  First step.   Second step is 3.5 long.\n\nThird."
    sentences = split_sentences(text)
    assert [s.text.strip() for s in sentences] == [
        "First step.",
        "Second step is 3.5 long.",
        "Third.",
    ]
    assert all(text[s.start : s.end] == s.text for s in sentences)


def test_in_a_short_explanation_every_sentence_may_conclude() -> None:
    stripped = strip_answer("So the total is 7. That uses every apple.", 7.0, NUMBER)
    assert stripped.removed == ("So the total is 7.",)
    assert stripped.text == "That uses every apple."


@pytest.mark.parametrize(
    ("reply", "removed"),
    [
        ('{"remove": [1]}', ("To find the cost of the ball, let the ball cost $x.",)),
        ('{"remove": [6]} and then {not json}', ("Answer: 0.05",)),
        ('{"remove": []}', ()),
    ],
)
def test_a_model_filter_takes_the_last_usable_object_it_wrote(
    reply: str, removed: tuple[str, ...]
) -> None:
    stripped = strip_with_model(QWEN, 0.05, NUMBER, lambda messages: reply, "cutter")
    assert stripped.method == "model cutter"
    assert stripped.removed == removed


def _long_explanation(steps: int) -> str:
    """An explanation in the numbered format the elicit prompt asks for, with prose, a
    decimal, an abbreviation and a display formula in every step."""
    return "".join(
        f"{k}. Tom has {k} apples, i.e. {k}.5 dozen halves; he buys {k + 3} more.\n"
        f"\\[ {k} + 3 = {k + 3} \\] So far Dr. Lee counts {k + 3} apples in all. "
        f"Then he checks it again!\n"
        for k in range(1, steps + 1)
    )


def test_a_long_explanation_is_split_in_windows_as_pysbd_splits_it_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_xgen.core import strip

    text = _long_explanation(60)  # about 8,000 characters
    whole = [
        strip.Sentence(span.sent, span.start, span.end)
        for span in strip._segmenter().segment(text)
        if span.sent.strip()
    ]
    given: list[int] = []
    segment = strip._segment

    def watched(text: str, start: int, end: int) -> list[strip.Sentence]:
        given.append(end - start)
        return segment(text, start, end)

    monkeypatch.setattr(strip, "_segment", watched)
    monkeypatch.setattr(strip, "WINDOW", 500)
    strip._split.cache_clear()
    try:
        found = split_sentences(text)
    finally:
        strip._split.cache_clear()
    # pysbd's time grows with the square of what it is given: never more than a window.
    assert len(given) > 10 and max(given) <= 500
    assert found == whole
    assert all(text[s.start : s.end] == s.text for s in found)


def test_a_sentence_longer_than_the_window_is_kept_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_xgen.core import strip

    long = "Tom adds " + " and ".join(str(n) for n in range(400)) + " apples. "
    text = "First he counts. " + long + "Then he stops."
    monkeypatch.setattr(strip, "WINDOW", 300)
    strip._split.cache_clear()
    try:
        found = [s.text for s in split_sentences(text)]
    finally:
        strip._split.cache_clear()
    assert found == ["First he counts. ", long, "Then he stops."]
