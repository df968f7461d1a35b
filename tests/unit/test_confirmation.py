"""Screen, then confirm, piece by piece: the budget of one search, the drop test on answers,
when a screen suggests a drop, and the sizes, smallest p-value and words of a confirmation."""

from __future__ import annotations

import functools
from dataclasses import fields
from typing import Any

import pytest

from pytest_xgen.checks import confirmation
from pytest_xgen.checks.confirmation import ModelTest, SearchBudget
from pytest_xgen.core import significance
from pytest_xgen.core.answers import answer_spec
from tests.options import check_options

SPEC = answer_spec("number")


options = functools.partial(check_options, generator=None, evaluators=("a",))


def test_the_constants_of_the_design() -> None:
    assert confirmation.SCREEN_P == 0.3
    assert confirmation.CONFIRMATIONS == 3
    assert confirmation.CONFIRM_FACTOR == 4
    assert confirmation.POWER_DROP == 0.3


@pytest.mark.parametrize(("examples", "size"), [(0, 1), (1, 1), (2, 2), (3, 3), (100, 3)])
def test_a_search_confirms_at_most_three_examples_never_more_than_it_has(
    examples: int, size: int
) -> None:
    budget = SearchBudget.for_search(examples)
    assert (budget.size, budget.spent, budget.next_index, budget.decided) == (size, 0, 0, {})
    assert budget.left == size


def test_each_confirmation_takes_indices_no_earlier_one_used() -> None:
    budget = SearchBudget(size=3)
    assert budget.take(10, 40) == range(10, 50)
    assert (budget.spent, budget.next_index, budget.left) == (1, 50, 2)
    # A later example starting lower still gets fresh indices.
    assert budget.take(10, 40) == range(50, 90)
    # One starting past them starts where it asks.
    assert budget.take(100, 5) == range(100, 105)
    assert (budget.spent, budget.next_index, budget.left) == (3, 105, 0)
    with pytest.raises(RuntimeError) as raised:
        budget.take(0, 1)
    assert str(raised.value) == "no confirmation left in this search"
    assert budget.spent == 3


@pytest.mark.parametrize(
    ("samples", "sizes", "confirm"),
    [("auto", (10, 5, 10), 40), (3, (3, 3, 3), 12), (8, (8, 8, 8), 32)],
)
def test_screen_and_confirmation_sizes(
    samples: Any, sizes: tuple[int, int, int], confirm: int
) -> None:
    opts = options(samples=samples)
    assert confirmation.screen_sizes(opts) == sizes
    assert confirmation.confirmation_size(opts) == confirm


def test_the_smallest_p_is_a_complete_flip_on_the_confirmation_size() -> None:
    opts = options(samples=3, max_drop=0.2)
    assert confirmation.smallest_p(opts, 5) == significance.drop_beyond_p(20, 20, 0, 20, 0.2)
    assert confirmation.smallest_p(opts, 1) == significance.drop_beyond_p(4, 4, 0, 4, 0.2)
    assert confirmation.smallest_p(opts, 1) > confirmation.smallest_p(opts, 5)


def test_a_drop_of_right_answers_is_tested_with_an_expected_answer() -> None:
    before = [7, 7, 7, 8, None]
    after = [7, 8, 8, 8, 8]
    test = confirmation.drop_test(before, after, SPEC, 7, 0.1)
    assert test.measure == "accuracy"
    assert (test.base_rate, test.perturbed_rate) == (0.6, 0.2)
    assert test.p_value == significance.drop_beyond_p(3, 5, 1, 5, 0.1)
    assert test.reference is None and test.tie is False
    assert test.drop == pytest.approx(0.4)
    # pairs of the base: 3 of (7,7) agree, one (8, None) and the rest differ: 3 of 10
    assert test.noise_floor == pytest.approx(0.3)


def test_without_expected_the_reference_is_the_bases_most_common_answer() -> None:
    before = [8, 7, 7, None]
    after = [7, 9, 9, 9]
    test = confirmation.drop_test(before, after, SPEC, None, 0.0)
    assert test.measure == "the base's most common answer"
    assert (test.reference, test.tie) == (7, False)
    assert (test.base_rate, test.perturbed_rate) == (0.5, 0.25)
    assert test.p_value == significance.drop_beyond_p(2, 4, 1, 4, 0.0)
    tied = confirmation.drop_test([8, 7], [7, 7], SPEC, None, 0.0)
    assert (tied.reference, tied.tie) == (8, True)
    assert (tied.base_rate, tied.perturbed_rate) == (0.5, 0.0)


def test_the_reference_groups_answers_as_the_spec_compares_them() -> None:
    spec = answer_spec("number", tolerance=0.3)
    test = confirmation.drop_test([8, 7.0, 7.1], [7.0, 8, 8], spec, None, 0.0)
    assert (test.reference, test.tie) == (7.0, False)
    assert (test.base_rate, test.perturbed_rate) == (pytest.approx(2 / 3), pytest.approx(1 / 3))


def test_a_confirmation_keeps_the_screens_reference() -> None:
    test = confirmation.drop_test([8, 8, 8], [7, 7, 7], SPEC, None, 0.0, reference=7, fixed=True)
    assert (test.reference, test.tie) == (7, False)
    assert (test.base_rate, test.perturbed_rate) == (0.0, 1.0)
    unread = confirmation.drop_test([8], [8], SPEC, None, 0.0, reference=None, fixed=True)
    assert (unread.base_rate, unread.perturbed_rate, unread.reference) == (0.0, 0.0, None)
    nothing = confirmation.drop_test([None, None], [None], SPEC, None, 0.0)
    assert (nothing.reference, nothing.base_rate, nothing.perturbed_rate) == (None, 0.0, 0.0)
    assert nothing.noise_floor == 0.0


def test_no_answers_have_rates_of_zero_and_no_noise_floor() -> None:
    test = confirmation.drop_test([], [], SPEC, 7, 0.0)
    assert (test.base_rate, test.perturbed_rate, test.noise_floor) == (0.0, 0.0, None)
    assert confirmation.self_agreement([7], SPEC) is None
    assert confirmation.self_agreement([7, 7.0], SPEC) == 1.0
    assert confirmation.self_agreement([7, None, None], SPEC) == 0.0


@pytest.mark.parametrize(
    ("base", "perturbed", "p", "margin", "suggested"),
    [
        (0.9, 0.5, 0.29, 0.2, True),
        (0.9, 0.5, 0.3, 0.2, False),  # the p-value must be below SCREEN_P
        (0.9, 0.7, 0.01, 0.2, False),  # a drop of exactly the margin is tolerated
        (0.9, 0.69, 0.01, 0.2, True),
        (0.5, 0.5, 0.01, 0.0, False),
        (1e-9, 0.0, 0.01, 0.0, False),  # within the slack of the margin
        (2e-9, 0.0, 0.01, 0.0, True),
    ],
)
def test_a_screen_suggests_a_drop_beyond_the_margin_with_a_small_p(
    base: float, perturbed: float, p: float, margin: float, suggested: bool
) -> None:
    test = ModelTest("accuracy", base, perturbed, p, None)
    assert confirmation.suggests(test, margin) is suggested


def test_a_test_describes_its_screen_and_its_confirmation() -> None:
    test = ModelTest("accuracy", 0.9, 0.4, 0.0123, 0.8)
    assert test.describe() == "0.90 -> 0.40 (p=0.0123), 0.80"
    test.note = "screen suggests a drop; not confirmed"
    assert test.describe() == "0.90 -> 0.40 (p=0.0123), 0.80; screen suggests a drop; not confirmed"
    test.confirmation = (0.85, 0.3, 0.0042)
    assert test.describe() == (
        "0.90 -> 0.40 (p=0.0123), 0.80; fresh samples 0.85 -> 0.30 (p=0.0042) not confirmed"
    )
    test.failed = True
    assert test.describe().endswith("(p=0.0042) confirmed")
    floorless = ModelTest("accuracy", 1.0, 1.0, 1.0, None)
    assert floorless.describe() == "1.00 -> 1.00 (p=1), -"


def test_a_test_as_json_keeps_every_field_in_order() -> None:
    from fractions import Fraction

    test = ModelTest("m", 0.9, 0.4, 0.01, None, Fraction(7, 2), True, True, (0.8, 0.3, 0.02))
    test.power, test.note, test.failed = 0.7, "n", True
    assert test.to_dict() == {
        "measure": "m",
        "base_rate": 0.9,
        "perturbed_rate": 0.4,
        "p_value": 0.01,
        "noise_floor": None,
        "reference": "7/2",
        "tie": True,
        "screened": True,
        "confirmation": [0.8, 0.3, 0.02],
        "power": 0.7,
        "note": "n",
        "failed": True,
    }
    assert list(test.to_dict()) == [f.name for f in fields(ModelTest)]
    assert ModelTest("m", 0.0, 0.0, 1.0, None).to_dict()["confirmation"] is None


def test_the_rejection_region_is_where_the_drop_test_rejects() -> None:
    size, level, margin = 12, 0.05, 0.1
    region = confirmation.rejection_region(size, level, margin)
    assert len(region) == size + 1
    for x, y in enumerate(region):
        rejected = [
            z
            for z in range(size + 1)
            if significance.drop_beyond_p(x, size, z, size, margin) < level
        ]
        assert y == (max(rejected) if rejected else -1)
        assert rejected == list(range(y + 1))
