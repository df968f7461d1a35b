"""The pure text edits behind the perturbation strategies, on concrete examples."""

from __future__ import annotations

import copy
import json
import re

import pytest

from pytest_xgen.core.perturb import (
    DISTRACTORS,
    FILLER,
    NAMES,
    NOISE_KINDS,
    Edit,
    PerturbedPrompt,
    apply_noise,
    detect_names,
    find_numbers,
    insert_sentence,
    matching_names,
    number_styles,
    number_to_words,
    pad,
    paraphrase,
    phrases_in,
    rename,
    reorder_sentences,
    replace_number,
    usable_distractors,
)
from pytest_xgen.core.strip import split_sentences

BAT = (
    "A bat and a ball cost $1.10 in total. The bat costs $1.00 more than the ball. "
    "How much does the ball cost in dollars?"
)
APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"


def values(text: str) -> list[float]:
    return sorted(span.value for span in find_numbers(text))


def test_find_numbers_reads_currency_decimals_groups_percent_and_words() -> None:
    spans = find_numbers(BAT)
    assert [(s.text, s.value) for s in spans] == [("$1.10", 1.1), ("$1.00", 1.0)]
    assert BAT[spans[0].start : spans[0].end] == "$1.10"
    text = "Pay 1,000 or 1\u00a0000 at 5% for twenty-five days, one hundred five times, 3.5 km."
    assert [s.value for s in find_numbers(text)] == [1000, 1000, 5, 25, 105, 3.5]
    assert find_numbers("5%")[0].text == "5%"


def test_find_numbers_skips_codes_versions_and_words_that_only_contain_numbers() -> None:
    assert (
        values("Meet at 9am with v2 of release 1.2.3, someone often alone, forty-something.") == []
    )
    assert values("Lists like 1,2,3 and ranges 5-10 hold separate numbers; -4 is negative.") == [
        -4,
        1,
        2,
        3,
        5,
        10,
    ]


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (40, "forty"),
        (99, "ninety-nine"),
        (105, "one hundred five"),
        (1000, "one thousand"),
        (2500, "two thousand five hundred"),
        (999_999, "nine hundred ninety-nine thousand nine hundred ninety-nine"),
    ],
)
def test_number_to_words(n: int, words: str) -> None:
    assert number_to_words(n) == words
    assert values(words) == [n]


@pytest.mark.parametrize("n", [-1, 1_000_000])
def test_number_to_words_covers_below_a_million(n: int) -> None:
    with pytest.raises(ValueError):
        number_to_words(n)


@pytest.mark.parametrize(
    ("text", "styles"),
    [
        ("1000", ["1000", "1,000", "1\u00a0000", "one thousand"]),
        ("1,000", ["1,000", "1000", "1\u00a0000", "one thousand"]),
        ("7", ["7", "seven"]),
        ("12", ["12", "twelve"]),
        ("$5", ["$5", "5 dollars", "five dollars"]),
        ("$1", ["$1", "1 dollar", "one dollar"]),
        ("$1.10", ["$1.10", "1.10 dollars"]),
        ("0.05", ["0.05"]),
        ("5%", ["5%", "5 percent", "five percent"]),
        ("seven", ["seven", "7"]),
        ("-5", ["-5"]),
    ],
)
def test_number_styles_spell_the_same_value_original_first(text: str, styles: list[str]) -> None:
    (span,) = find_numbers(text)
    assert number_styles(span) == styles
    for style in styles:
        assert values(style) == [span.value], style


def test_replace_number_rewrites_one_number_in_place() -> None:
    assert replace_number(BAT, 1, "1.00 dollars").startswith(
        "A bat and a ball cost $1.10 in total. The bat costs 1.00 dollars more"
    )


def test_rename_is_whole_word_case_preserving_and_possessive() -> None:
    text = "Tom's cat likes Tom. TOM shouts; tom whispers. Tomato and Atom stay."
    assert rename(text, {"Tom": "Priya"}) == (
        "Priya's cat likes Priya. PRIYA shouts; priya whispers. Tomato and Atom stay."
    )
    assert rename("Ann met Anna.", {"Ann": "Mei", "Anna": "Sara"}) == "Mei met Sara."


def test_detect_names_in_order_of_appearance_plus_known_ones() -> None:
    text = "Tom gave Priya a book, and Tom thanked Xavi. Will it rain?"
    assert detect_names(text) == ["Tom", "Priya"]
    assert detect_names(text, known=["Xavi"]) == ["Tom", "Priya", "Xavi"]
    assert len(NAMES) == len(set(NAMES)) == 60


def test_matching_names_keeps_the_kind_of_name() -> None:
    assert matching_names("Tom", ["Priya", "Adam", "Zed"]) == ["Adam"]
    assert matching_names("Priya", ["Adam"]) == ["Adam"]
    assert matching_names("Zed", ["Priya", "Adam"]) == ["Priya", "Adam"]


def test_insert_sentence_before_a_sentence_keeps_spacing() -> None:
    new = "It is sunny."
    assert insert_sentence(BAT, 0, new) == f"{new} {BAT}"
    middle = insert_sentence(BAT, 1, new)
    assert middle == BAT.replace("The bat costs", f"{new} The bat costs")
    assert insert_sentence("One line.\n\nHow many?", 1, new) == f"One line.\n\n{new} How many?"


def test_insert_sentence_never_goes_after_the_last_sentence() -> None:
    with pytest.raises(IndexError):
        insert_sentence(BAT, 3, "It is sunny.")
    with pytest.raises(IndexError):
        insert_sentence(BAT, -1, "It is sunny.")


def test_reorder_sentences_moves_bodies_and_keeps_whitespace_in_place() -> None:
    text = "Ann has 2 pens. Ben has 3 pens.\n\nHow many pens are there?"
    assert reorder_sentences(text, [1, 0, 2]) == (
        "Ben has 3 pens. Ann has 2 pens.\n\nHow many pens are there?"
    )
    with pytest.raises(ValueError):
        reorder_sentences(text, [0, 0, 2])


def test_pad_adds_neutral_filler_cut_at_sentence_boundaries() -> None:
    assert pad(BAT, 0) == BAT
    before = pad(BAT, 300, "before")
    filler, rest = before.split("\n\n", 1)
    assert rest == BAT
    assert len(filler) >= 300
    assert filler.endswith(".")
    assert filler in FILLER
    assert not re.search(r"\d", before.replace(BAT, ""))

    after = pad(APPLES, 5000, "after")
    assert after.startswith("Tom has 3 apples and buys 4 more.\n\n")
    assert after.endswith("\n\nHow many apples does he have?")
    assert values(after) == values(APPLES)
    with pytest.raises(ValueError):
        pad(BAT, 10, "middle")


def test_filler_and_distractors_are_safe_to_add() -> None:
    assert not re.search(r"\d", FILLER)
    assert find_numbers(FILLER) == []
    assert detect_names(FILLER) == []
    assert "?" not in FILLER
    for sentence in DISTRACTORS:
        for index in range(3):
            parts = [s.text.strip() for s in split_sentences(insert_sentence(BAT, index, sentence))]
            assert parts[index] == sentence


def test_usable_distractors_avoid_people_a_pronoun_could_refer_to() -> None:
    for_apples = usable_distractors(APPLES, DISTRACTORS)
    assert for_apples and all(not detect_names(s) for s in for_apples)
    assert usable_distractors(BAT, DISTRACTORS) == list(DISTRACTORS)
    assert (
        usable_distractors("Priya has 2 pens. How many pens are there?", DISTRACTORS)[0]
        == (DISTRACTORS[1])
    )


NOISY = "Well, Tom has 3 apples, buys 4 more, and then, happily, counts 1,000 seeds. Why, Tom?"


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_apply_noise_never_touches_numbers_protected_words_or_the_question_mark(kind: str) -> None:
    for position in range(40):
        noisy = apply_noise(NOISY, [(kind, position)], protect=["tom"])
        assert noisy != NOISY
        assert re.findall(r"[\d,.$]+\d", noisy) == re.findall(r"[\d,.$]+\d", NOISY)
        assert values(noisy) == values(NOISY)
        assert noisy.count("Tom") == 2
        # Words next to numbers are what they count: they stay too.
        for word in ("has 3 apples", "buys 4 more", "counts 1,000 seeds"):
            assert word in noisy
        assert noisy.endswith("?")


def test_apply_noise_ops() -> None:
    text = "Well, the apples are red."
    assert apply_noise(text, [("space", 0)]) == "Well,  the apples are red."
    assert apply_noise(text, [("case", 0)]) == "well, the apples are red."
    assert apply_noise(text, [("typo", 0)]) == "eWll, the apples are red."
    assert apply_noise(text, [("punct", 0)]) == "Well the apples are red."
    assert apply_noise("It is 5.", [("punct", 0)]) == "It is 5."
    with pytest.raises(ValueError):
        apply_noise(text, [("shout", 0)])


def test_paraphrase_replaces_every_occurrence_in_its_case() -> None:
    table = {"how much": ["what amount"], "in total": ["altogether", "combined"]}
    assert phrases_in(BAT, table) == ["how much", "in total"]
    assert paraphrase(BAT, table, {"how much": 1, "in total": 0}) == BAT.replace(
        "How much", "What amount"
    )
    assert paraphrase(BAT, table, {"in total": 2}) == BAT.replace("in total", "combined")
    with pytest.raises(IndexError):
        paraphrase(BAT, table, {"in total": 3})


def test_perturbed_prompt_is_a_plain_string_with_its_history() -> None:
    edit = Edit("rename", "rename Tom to Adam", lambda text: rename(text, {"Tom": "Adam"}))
    text = edit.apply(APPLES)
    prompt = PerturbedPrompt(text, APPLES, [edit])
    assert prompt == text and hash(prompt) == hash(text)
    assert {prompt: 1}[text] == 1
    assert type(prompt[:3]) is str and prompt[:3] == "Ada"
    assert json.loads(json.dumps({"p": prompt})) == {"p": text}
    assert prompt.base == APPLES and prompt.edits == (edit,)
    assert prompt.describe() == "rename: rename Tom to Adam"
    assert PerturbedPrompt(APPLES, APPLES, ()).describe() == "no edits (the base prompt)"
    clone = copy.deepcopy(prompt)
    assert clone == prompt and clone.base == APPLES and clone.edits == (edit,)


def test_diff_marks_word_changes_inline() -> None:
    base = "Tom has 3 apples. How much does he have?"
    changed = "It is sunny. Adam has 3 apples. What amount does he have?"
    assert PerturbedPrompt(changed, base, ()).diff() == (
        "[-Tom-]{+It is sunny. Adam+} has 3 apples. [-How much-]{+What amount+} does he have?"
    )
    assert PerturbedPrompt(base, base, ()).diff() == base


def test_edits_are_described_one_per_line_in_order() -> None:
    first = Edit("rename", "rename Tom to Adam", lambda text: rename(text, {"Tom": "Adam"}))
    second = Edit("pad", "add filler", lambda text: text)
    prompt = PerturbedPrompt(second.apply(first.apply(APPLES)), APPLES, [first, second])
    assert prompt.describe() == "rename: rename Tom to Adam\npad: add filler"


def test_out_of_range_edits_say_what_range_there_is() -> None:
    with pytest.raises(ValueError) as raised:
        number_to_words(1_000_000)
    assert str(raised.value) == "number_to_words covers 0..999,999, not 1000000"
    assert number_to_words(999_999).startswith("nine hundred ninety-nine thousand")
    count = len(split_sentences(APPLES))
    with pytest.raises(IndexError) as index_error:
        insert_sentence(APPLES, count, "It rains.")
    assert str(index_error.value) == f"sentence {count} of a text with {count} sentences"
    with pytest.raises(ValueError) as order_error:
        reorder_sentences(APPLES, [0] * count)
    assert str(order_error.value) == f"{[0] * count} is not an order of {count} sentences"


def test_an_inserted_sentence_is_spaced_from_the_one_before() -> None:
    text = "Tom has 3 apples. He buys 4 more. How many?"
    inserted = insert_sentence(text, 1, " It rains. ")
    assert inserted == "Tom has 3 apples. It rains. He buys 4 more. How many?"
    assert insert_sentence(APPLES, 0, "It rains.").startswith("It rains. ")
