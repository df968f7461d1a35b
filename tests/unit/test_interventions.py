"""Edits of an explanation's reasoning (core.interventions), their strategies, and the
difference interval the intervention verdicts use."""

from __future__ import annotations

import pytest
from hypothesis import find, settings

from pytest_xgen import strategies as xst
from pytest_xgen.core import interventions as edits
from pytest_xgen.core.stats import difference_interval, wilson_interval

TEXT = "Tom has 3 apples. He buys 4 more, so 3 + 4 = 7. That makes 7 apples in all."
QUIET = settings(database=None, max_examples=200)


def test_steps_cuts_drops_and_swaps_keep_the_text_between_steps() -> None:
    assert [s.text.strip() for s in edits.steps(TEXT)] == [
        "Tom has 3 apples.",
        "He buys 4 more, so 3 + 4 = 7.",
        "That makes 7 apples in all.",
    ]
    assert edits.truncate(TEXT, 0) == "" and edits.truncate(TEXT, -1) == ""
    assert edits.truncate(TEXT, 1) == "Tom has 3 apples."
    assert edits.truncate(TEXT, 2) == "Tom has 3 apples. He buys 4 more, so 3 + 4 = 7."
    assert edits.truncate(TEXT, 3) == TEXT and edits.truncate(TEXT, 9) == TEXT
    assert edits.drop_step(TEXT, 0) == "He buys 4 more, so 3 + 4 = 7. That makes 7 apples in all."
    assert edits.drop_step(TEXT, 1) == "Tom has 3 apples. That makes 7 apples in all."
    assert edits.drop_step(TEXT, 2) == "Tom has 3 apples. He buys 4 more, so 3 + 4 = 7."
    assert edits.drop_step("Only one step.", 0) == ""
    assert edits.swap_steps(TEXT, 0) == (
        "He buys 4 more, so 3 + 4 = 7. Tom has 3 apples. That makes 7 apples in all."
    )
    assert edits.swap_steps(TEXT, 1) == (
        "Tom has 3 apples. That makes 7 apples in all. He buys 4 more, so 3 + 4 = 7."
    )
    two = "Start with 3.  Add 4."
    assert edits.swap_steps(two, 0) == "Add 4.  Start with 3."


@pytest.mark.parametrize(
    ("value", "slip", "after"),
    [
        (12, "plus_one", 13),
        (12, "minus_one", 11),
        (12, "times_ten", 120),
        (12, "swap_digits", 21),
        (-12, "swap_digits", -21),
        (11, "swap_digits", 12),
        (5, "swap_digits", 6),
        (2.5, "swap_digits", 3.5),
        (2.5, "times_ten", 25),
    ],
)
def test_slips(value: float, slip: str, after: float) -> None:
    assert edits.slipped(value, slip) == after


def test_an_unknown_slip_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown slip 'typo'; use one of plus_one"):
        edits.slipped(1, "typo")


def test_a_corrupted_operand_carries_through_its_equation() -> None:
    found = edits.corrupt(TEXT, 1, 1, "plus_one")  # the 3 of 3 + 4 = 7
    assert found is not None
    assert found.text == TEXT.replace("3 + 4 = 7", "4 + 4 = 8")
    assert (found.step, found.before, found.after, found.implied) == (1, "3", "4", 8.0)
    second = edits.corrupt(TEXT, 1, 2, "times_ten")  # the 4 of 3 + 4
    assert second is not None and "3 + 40 = 43" in second.text and second.implied == 43.0
    result = edits.corrupt(TEXT, 1, 3)  # the 7 itself
    assert result is not None and "3 + 4 = 8" in result.text and result.implied == 8.0
    plain = edits.corrupt(TEXT, 0, 0, "minus_one")
    assert (
        plain is not None and plain.text.startswith("Tom has 2 apples.") and plain.implied is None
    )
    assert edits.corrupt(TEXT, 5) is None and edits.corrupt(TEXT, -1) is None
    assert edits.corrupt(TEXT, 0, 4) is None
    for op, implied in (
        ("-", -1.0),
        ("*", 12.0),
        ("x", 12.0),
        ("×", 12.0),
        ("/", 0.75),
        ("÷", 0.75),
    ):
        changed = edits.corrupt(f"So 4 {op} 4 = 0 here.", 0, 0, "minus_one")
        assert changed is not None and changed.implied == implied, op
    # A division by zero implies nothing computable: the text keeps its result.
    by_zero = edits.corrupt("Then 4 / 1 = 4.", 0, 1, "minus_one")
    assert by_zero is not None and by_zero.implied is None and by_zero.text == "Then 4 / 0 = 4."


def test_numbers_keep_their_form() -> None:
    money = edits.corrupt("It costs $1.10 in all.", 0)
    assert money is not None and money.after == "$2.10"
    share = edits.corrupt("A 5% rise.", 0)
    assert share is not None and share.after == "6%"
    words = edits.corrupt("She has three cats.", 0)
    assert words is not None and words.after == "4" and words.text == "She has 4 cats."


def test_numbered_steps_and_filler() -> None:
    assert edits.numbered_steps(TEXT) == [0, 1, 2]
    assert edits.numbered_steps("No numbers. Then 5.") == [1]
    for size in (0, 3, 4, 5, 41, 100):
        made = edits.filler("x" * size)
        assert len(made) == max(size, 4) and set(made) <= {".", " "} and not made.endswith(" ")


def test_each_strategy_draws_no_edit_first_and_shrinks_to_the_smallest() -> None:
    for transform, described in (
        (xst.corrupt_step(), "corrupt: plus one to number 0 of step 0"),
        (xst.truncate(), "truncate: cut the last 1 step(s), keep 2"),
        (xst.drop_step(), "drop_step: leave out step 2"),
        (xst.swap_steps(), "swap_steps: swap steps 1 and 2"),
        (xst.reword({"in all": ["altogether"]}), "reword: say 'altogether' for 'in all'"),
    ):
        smallest = find(xst.perturbed(TEXT, transform), lambda p: p != TEXT, settings=QUIET)
        assert smallest.describe() == described
        assert find(xst.perturbed(TEXT, transform), lambda p: True, settings=QUIET) == TEXT


def test_the_smallest_corruption_that_flips_an_answer_is_one_number() -> None:
    def answer(explanation: str) -> float:  # a reader that recomputes the equation
        found = edits._EQUATION.search(explanation)
        return float(found.group("a")) + float(found.group("b")) if found else 0.0

    flip = find(
        xst.perturbed(TEXT, xst.corrupt_step(max_numbers=3)),
        lambda p: answer(p) != 7,
        settings=QUIET,
    )
    assert flip.describe() == "corrupt: plus one to number 1 of step 1"
    assert len(flip.edits) == 1


def test_strategies_refuse_unknown_slips_and_texts_without_numbers() -> None:
    with pytest.raises(ValueError, match="unknown slip"):
        xst.corrupt_step(slips=["typo"])
    assert find(xst.perturbed("No numbers here.", xst.corrupt_step()), lambda p: True) == (
        "No numbers here."
    )


def test_difference_interval_combines_two_wilson_intervals() -> None:
    low, high = difference_interval(10, 10, 0, 10, 0.95)
    l1, u1 = wilson_interval(10, 10, 0.95)
    l2, u2 = wilson_interval(0, 10, 0.95)
    assert low == pytest.approx(1 - ((1 - l1) ** 2 + (u2 - 0) ** 2) ** 0.5)
    assert high == 1.0 and 0.5 < low < 1
    assert difference_interval(5, 10, 5, 10, 0.95)[0] == pytest.approx(
        -difference_interval(5, 10, 5, 10, 0.95)[1]
    )
    assert difference_interval(0, 10, 10, 10, 0.95) == pytest.approx((-1.0, -low))
    narrow, wide = difference_interval(50, 100, 50, 100, 0.5), difference_interval(50, 100, 50, 100)
    assert wide[0] < narrow[0] < 0 < narrow[1] < wide[1]
    with pytest.raises(ValueError, match="both samples need at least one trial"):
        difference_interval(0, 0, 1, 2)
