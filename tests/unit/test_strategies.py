"""Properties of the perturbation strategies: meaning preservation, identity, shrinking."""

from __future__ import annotations

import re

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from pytest_xgen import strategies as xst
from pytest_xgen.core.perturb import DISTRACTORS, EDIT_KINDS, PerturbedPrompt, find_numbers
from pytest_xgen.core.strip import split_sentences

BAT = (
    "A bat and a ball cost $1.10 in total. The bat costs $1.00 more than the ball. "
    "How much does the ball cost in dollars?"
)
APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"
TRAINS = (
    "Priya drives 1200 km at 80 km per hour.\n\nSam walks 12 km, and Ben cycles 45 km. "
    "How many hours does Priya drive?"
)
BASES = [BAT, APPLES, TRAINS]

SETTINGS = settings(max_examples=50, deadline=None)


def values(text: str) -> list[float]:
    return sorted(span.value for span in find_numbers(text))


def sentences(text: str) -> list[str]:
    return [s.text.strip() for s in split_sentences(text)]


def is_subsequence(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(item in rest for item in part)


def keeps_every_sentence(prompt: PerturbedPrompt) -> None:
    before, after = sentences(prompt.base), sentences(prompt)
    assert is_subsequence(before, after), prompt.diff()
    assert after[-1] == before[-1], prompt.diff()
    assert is_subsequence(values(prompt.base), values(prompt))


def replays(prompt: PerturbedPrompt) -> None:
    text = prompt.base
    for edit in prompt.edits:
        text = edit.apply(text)
    assert text == prompt


@SETTINGS
@given(data=st.data(), base=st.sampled_from(BASES))
def test_no_transforms_yield_the_base(data: st.DataObject, base: str) -> None:
    prompt = data.draw(xst.perturbed(base))
    assert prompt == base and prompt.edits == () and isinstance(prompt, PerturbedPrompt)


@SETTINGS
@given(data=st.data(), base=st.sampled_from(BASES))
def test_distractors_add_sentences_and_keep_the_rest_in_order(
    data: st.DataObject, base: str
) -> None:
    prompt = data.draw(xst.perturbed(base, xst.distractors(pool=["Snow fell on 2 hills."])))
    keeps_every_sentence(prompt)
    replays(prompt)
    assert len(prompt.edits) <= 2
    assert len(sentences(prompt)) == len(sentences(base)) + len(prompt.edits)


@SETTINGS
@given(data=st.data(), base=st.sampled_from(BASES))
def test_padding_keeps_sentences_numbers_and_the_question_last(
    data: st.DataObject, base: str
) -> None:
    prompt = data.draw(xst.perturbed(base, xst.padding(max_chars=600)))
    keeps_every_sentence(prompt)
    replays(prompt)
    assert values(prompt) == values(base)
    assert len(prompt) <= len(base) + 600 + 300


@SETTINGS
@given(data=st.data(), base=st.sampled_from(BASES))
def test_renamed_changes_only_names(data: st.DataObject, base: str) -> None:
    prompt = data.draw(xst.perturbed(base, xst.renamed()))
    replays(prompt)
    assert values(prompt) == values(base)
    assert len(sentences(prompt)) == len(sentences(base))
    assert re.sub(r"[A-Z][a-z]+", "Name", prompt) == re.sub(r"[A-Z][a-z]+", "Name", base)
    renamed = {edit.description.split()[-1] for edit in prompt.edits}
    assert not renamed & set(re.findall(r"\w+", base))


def test_renamed_uses_given_names_and_pool() -> None:
    prompt = find(
        xst.perturbed(TRAINS, xst.renamed(names=["Sam"], pool=["Kim", "Lou"])),
        lambda p: len(p.edits) >= 1,
        settings=SETTINGS,
    )
    assert prompt == TRAINS.replace("Sam", "Kim")


@SETTINGS
@given(data=st.data(), base=st.sampled_from(BASES))
def test_reformat_numbers_keeps_the_values(data: st.DataObject, base: str) -> None:
    prompt = data.draw(xst.perturbed(base, xst.reformat_numbers()))
    replays(prompt)
    assert values(prompt) == values(base)
    assert sentences(prompt)[-1] == sentences(base)[-1]


@SETTINGS
@given(data=st.data())
def test_reorder_permutes_only_the_independent_sentences(data: st.DataObject) -> None:
    base = "Ann has 2 pens. Ben has 3 pens. Cat has 4 pens. How many pens are there?"
    prompt = data.draw(xst.perturbed(base, xst.reorder([0, 1, 2])))
    replays(prompt)
    assert values(prompt) == values(base)
    assert sorted(sentences(prompt)) == sorted(sentences(base))
    assert sentences(prompt)[-1] == sentences(base)[-1]


def test_reorder_rejects_bad_indices() -> None:
    with pytest.raises(ValueError):
        xst.reorder([0, 0])
    with pytest.raises(ValueError, match="3 sentences"):
        find(xst.perturbed(BAT, xst.reorder([0, 5])), lambda p: True)


@SETTINGS
@given(data=st.data(), base=st.sampled_from(BASES))
def test_noise_spares_numbers_protected_words_and_the_question_mark(
    data: st.DataObject, base: str
) -> None:
    prompt = data.draw(xst.perturbed(base, xst.noise(rate=0.3, protect=["ball", "apples"])))
    replays(prompt)
    assert values(prompt) == values(base)
    assert prompt.count("ball") == base.count("ball")
    assert prompt.count("apples") == base.count("apples")
    assert prompt.endswith("?")
    assert len(prompt.edits) <= max(1, round(0.3 * len(base.split())))


TABLE = {"in total": ["altogether", "combined"], "how much": ["what amount"], "buys": ["gets"]}


@SETTINGS
@given(data=st.data(), base=st.sampled_from(BASES))
def test_paraphrase_keeps_numbers_and_sentences(data: st.DataObject, base: str) -> None:
    prompt = data.draw(xst.perturbed(base, xst.paraphrase(TABLE)))
    replays(prompt)
    assert values(prompt) == values(base)
    assert len(sentences(prompt)) == len(sentences(base))


def test_paraphrase_rejects_equivalents_with_other_numbers() -> None:
    with pytest.raises(ValueError, match="changes the numbers"):
        xst.paraphrase({"a dozen": ["ten"]})


@SETTINGS
@given(data=st.data(), base=st.sampled_from(BASES))
def test_all_transforms_together(data: st.DataObject, base: str) -> None:
    prompt = data.draw(
        xst.perturbed(
            base,
            xst.renamed(),
            xst.paraphrase(TABLE),
            xst.reformat_numbers(),
            xst.noise(protect=["ball"]),
            xst.distractors(),
            xst.padding(max_chars=400),
        )
    )
    replays(prompt)
    assert is_subsequence(values(base), values(prompt))
    assert len(prompt.describe().splitlines()) == max(1, len(prompt.edits))
    assert all(edit.kind in EDIT_KINDS for edit in prompt.edits)


def test_one_distractor_is_the_minimal_distraction() -> None:
    prompt = find(xst.perturbed(BAT, xst.distractors()), lambda p: len(p.edits) >= 1)
    assert len(prompt.edits) == 1
    assert prompt == f"{DISTRACTORS[0]} {BAT}"
    assert prompt.describe() == f"distractor: insert {DISTRACTORS[0]!r} before sentence 0"


@pytest.mark.parametrize(
    "transform",
    [
        xst.distractors(),
        xst.renamed(),
        xst.reformat_numbers(),
        xst.reorder([0, 1]),
        xst.padding(),
        xst.noise(),
        xst.paraphrase(TABLE),
    ],
    ids=lambda t: t.name,
)
def test_every_transform_shrinks_to_the_base(transform: xst.Transform) -> None:
    for base in (BAT, APPLES):
        prompt = find(xst.perturbed(base, transform), lambda p: True)
        assert prompt == base and prompt.edits == ()


@pytest.mark.parametrize(
    ("transform", "edit"),
    [
        (xst.renamed(), "rename: rename Tom to Adam"),
        (xst.reformat_numbers(), "number: write '4' as 'four'"),
        (xst.padding(), "padding: add about 1 characters of filler before the prompt"),
        (xst.paraphrase(TABLE), "paraphrase: say 'gets' for 'buys'"),
    ],
    ids=lambda x: x.name if isinstance(x, xst.Transform) else None,
)
def test_the_smallest_change_is_one_simple_edit(transform: xst.Transform, edit: str) -> None:
    prompt = find(xst.perturbed(APPLES, transform), lambda p: len(p.edits) >= 1)
    assert prompt.describe() == edit


def test_shrinking_keeps_only_the_edit_a_failure_needs() -> None:
    prompt = find(
        xst.perturbed(APPLES, xst.renamed(), xst.reformat_numbers(), xst.distractors()),
        lambda p: bool(re.search(r"\d", p.replace("3", "").replace("4", ""))),
    )
    assert [edit.kind for edit in prompt.edits] == ["distractor"]


@SETTINGS
@given(
    pair=xst.templated(
        "Tom has {a} apples and buys {b} more. How many apples does he have?",
        lambda a, b: a + b,
        a=st.integers(0, 50),
        b=st.integers(0, 50),
    )
)
def test_templated_pairs_are_consistent(pair: tuple[str, int]) -> None:
    prompt, expected = pair
    a, b = (int(span.value) for span in find_numbers(prompt))
    assert expected == a + b


def test_templated_shrinks_like_its_fields() -> None:
    pair = find(
        xst.templated(
            "{a} + {b} = ?", lambda a, b: a + b, a=st.integers(0, 9), b=st.integers(0, 9)
        ),
        lambda p: p[1] >= 5,
    )
    assert pair == ("0 + 5 = ?", 5)


def test_perturbed_rejects_strategies_in_place_of_transforms() -> None:
    with pytest.raises(TypeError, match="transforms"):
        xst.perturbed(BAT, st.just([]))  # type: ignore[arg-type]
