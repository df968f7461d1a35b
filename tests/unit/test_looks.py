"""Looks at the transfer agreement, each piece against the computation it stands for: the
boundaries and error spent at a look, the lift's one-sided bounds, when ``samples="auto"``
gives up, how many samples would decide, and the notes that say so."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_xgen.checks import conditions, looks
from pytest_xgen.checks.conditions import Condition
from pytest_xgen.checks.looks import Look
from pytest_xgen.core import sequential, stats
from pytest_xgen.core.answers import answer_spec
from pytest_xgen.core.strip import Stripped
from tests.options import check_options

SPEC = answer_spec("number")


options = check_options


def condition(agree: list[bool | None]) -> Condition:
    """Two evaluators whose answers agree on the samples marked True, differ on False, and
    have one unread answer on None."""
    a = [1 for _ in agree]
    b: list[Any] = [None if flag is None else (1 if flag else 2) for flag in agree]
    made = conditions.Explanation("gen", "", "text", 1, Stripped("", (), "rules"))
    return conditions.measure(
        "c", {"a": [""] * len(a), "b": [""] * len(b)}, {"a": a, "b": b}, options(), SPEC, None, made
    )


def test_the_auto_plan_looks_every_five_samples_up_to_thirty() -> None:
    assert looks.AUTO_LOOKS == (5, 10, 15, 20, 25, 30)
    assert (looks.AUTO_STEP, looks.AUTO_MAX_SAMPLES) == (5, 30)
    assert (looks.AUTO_CONFIDENCE, looks.AUTO_GIVE_UP, looks.MOST_SAMPLES_ADVISED) == (
        0.95,
        0.2,
        1000,
    )


@pytest.mark.parametrize(
    ("look", "verdict", "words"),
    [
        (Look(10, 10, 9.0, 9, 4), "pass", "at 10 samples 9 or more pass, 4 or fewer fail"),
        (Look(10, 10, 4.0, 9, 4), "fail", "at 10 samples 9 or more pass, 4 or fewer fail"),
        (Look(10, 10, 8.0, 11, 4), "inconclusive", "at 10 samples none can pass, 4 or fewer fail"),
        (Look(10, 8, 5.0, 8, -1), "inconclusive", "at 8 samples 8 or more pass, none can fail"),
        (Look(10, 8, 8.0, 8, -1), "pass", "at 8 samples 8 or more pass, none can fail"),
        (Look(5, 5, 1.0, 6, 0), "inconclusive", "at 5 samples none can pass, 0 or fewer fail"),
        (Look(5, 5, 5.0, 5, 1), "pass", "at 5 samples 5 or more pass, 1 or fewer fail"),
    ],
)
def test_a_look_judges_its_count_on_its_boundaries_and_says_them(
    look: Look, verdict: str, words: str
) -> None:
    assert look.verdict == verdict
    assert looks.boundaries(look) == words
    assert look.to_dict() == {
        "samples": look.samples,
        "scored": look.scored,
        "agreements": look.agreements,
        "pass_at": look.pass_at,
        "fail_at": look.fail_at,
    }


def test_the_one_look_of_a_fixed_sample_spends_the_whole_error_at_once() -> None:
    moved = condition([True] * 14 + [False] * 2 + [None])
    taken, pass_alpha, fail_alpha = looks.look_at(moved, 17, 0.8, 0.9, None, ())
    here = sequential.plan(0.8, 0.05, [16], (17,))[0]
    assert taken == [Look(17, 16, 14.0, here.pass_at, here.fail_at)]
    assert pass_alpha == pytest.approx(0.05) and fail_alpha == pytest.approx(0.05)


def test_a_later_look_of_auto_spends_only_what_its_share_adds() -> None:
    first = Look(5, 5, 5.0, 6, 1)
    moved = condition([True] * 9 + [False])
    taken, pass_alpha, fail_alpha = looks.look_at(moved, 10, 0.8, 0.95, 1, [first])
    alpha = 0.025
    here = sequential.plan(0.8, alpha, [5, 10], looks.AUTO_LOOKS)[1]
    assert taken == [first, Look(10, 10, 9.0, here.pass_at, here.fail_at)]
    passes, fails = sequential.spending(looks.AUTO_LOOKS, alpha)
    assert pass_alpha == pytest.approx(passes[1] - passes[0])
    assert fail_alpha == pytest.approx(fails[1] - fails[0])
    assert pass_alpha < fail_alpha  # a fail spends its error early
    # The first look spends the first share only.
    _, first_pass, first_fail = looks.look_at(condition([True] * 5), 5, 0.8, 0.95, 0, ())
    assert (first_pass, first_fail) == pytest.approx((passes[0], fails[0]))


def test_the_lift_interval_bounds_each_side_at_its_own_error() -> None:
    moved, base = condition([True] * 8 + [False] * 2), condition([True] * 3 + [False] * 7)
    low, high = looks.lift_interval(base, moved, 0.01, 0.04) or (0.0, 0.0)
    assert low == pytest.approx(stats.difference_interval(8, 10, 3, 10, 0.98)[0])
    assert high == pytest.approx(stats.difference_interval(8, 10, 3, 10, 0.92)[1])
    # A side that spends nothing is not judged: it stays at the end of the scale.
    assert looks.lift_interval(base, moved, 0.0, 0.04) == (-1.0, high)
    assert looks.lift_interval(base, moved, 0.01, 0.0) == (low, 1.0)
    nothing = condition([None, None])
    assert looks.lift_interval(nothing, moved, 0.01, 0.04) is None
    assert looks.lift_interval(base, nothing, 0.01, 0.04) is None


def test_auto_gives_up_only_on_an_undecided_look_with_a_verdict_unlikely() -> None:
    # 8 of 10 at min_consistency 0.8: neither side is reachable by 30.
    bounds = sequential.plan(0.8, 0.025, [5, 10], looks.AUTO_LOOKS)
    first, second = (
        Look(n, n, a, bounds[i].pass_at, bounds[i].fail_at)
        for i, (n, a) in enumerate([(5, 4.0), (10, 8.0)])
    )
    assert second.verdict == "inconclusive"
    assert looks.gives_up([first, second], 0.95, 0.8)
    assert looks.unlikely(bounds, 1, 8.0)
    assert sequential.chance_to_decide(bounds, 1, 8.0) < looks.AUTO_GIVE_UP
    assert not looks.gives_up([first, second], None, 0.8)  # point estimates: no looks
    assert not looks.gives_up([], 0.95, 0.8)
    settled = Look(10, 10, 10.0, 9, 4)
    assert not looks.gives_up([first, settled], 0.95, 0.8)
    # 9 of 10: a pass by 30 is still likely.
    hopeful = Look(10, 10, 9.0, bounds[1].pass_at, bounds[1].fail_at)
    assert hopeful.verdict == "inconclusive"
    assert not looks.gives_up([first, hopeful], 0.95, 0.8)
    assert not looks.unlikely(bounds, 1, 9.0)


def test_giving_up_plans_the_boundaries_at_the_checks_level() -> None:
    # 8 of 10 at 0.8 with a 90% level: a verdict by 30 is still likely enough.
    bounds = sequential.plan(0.8, 0.05, [5, 10], looks.AUTO_LOOKS)
    first = Look(5, 5, 3.0, bounds[0].pass_at, bounds[0].fail_at)
    second = Look(10, 10, 8.0, bounds[1].pass_at, bounds[1].fail_at)
    assert second.verdict == "inconclusive"
    assert not looks.gives_up([first, second], 0.9, 0.8)
    assert looks.unlikely(sequential.plan(0.8, 0.1 / 3, [5, 10], looks.AUTO_LOOKS), 1, 8.0)


def test_the_last_look_never_gives_up_it_is_the_maximum() -> None:
    bounds = sequential.plan(0.8, 0.025, [5, 10, 15, 20, 25, 30], looks.AUTO_LOOKS)
    assert not looks.unlikely(bounds, 5, 24.0)
    assert not looks.unlikely(bounds, 6, 24.0)
    assert looks.unlikely(bounds, 4, 20.0)


def test_samples_to_decide_the_consistency_is_the_exact_fixed_sample_count() -> None:
    found = looks.samples_to_decide("consistency", (9.0, 10), (0.0, 10), 0.8, 0.95, 10)
    assert found == sequential.samples_to_decide(0.9, 0.8, 0.025, 11, 1000)
    assert found is not None and found > 10
    # Without a level, the auto default; the count starts past the samples used.
    assert looks.samples_to_decide("consistency", (9.0, 10), (0.0, 10), 0.8, None, 40) == (
        sequential.samples_to_decide(0.9, 0.8, 0.025, 41, 1000)
    )
    assert looks.samples_to_decide("consistency", (9.0, 10), (0.0, 10), 0.8, 0.8, 10) == (
        sequential.samples_to_decide(0.9, 0.8, 0.1, 11, 1000)
    )
    assert looks.samples_to_decide("consistency", (0.0, 0), (5.0, 10), 0.8, 0.95, 10) is None


def test_samples_to_decide_the_lift_is_the_first_count_whose_interval_clears() -> None:
    found = looks.samples_to_decide("lift", (8.0, 10), (5.0, 10), 0.0, 0.95, 10)
    assert found is not None and found > 10
    low, _ = stats.difference_interval(0.8 * found, found, 0.5 * found, found, 0.95)
    assert low >= 0.0
    before = found - 1
    low, high = stats.difference_interval(0.8 * before, before, 0.5 * before, before, 0.95)
    assert low < 0.0 <= high
    # A lift shown below its threshold decides too (on the upper bound).
    below = looks.samples_to_decide("lift", (5.0, 10), (8.0, 10), 0.0, 0.95, 10)
    assert below == found
    assert looks.samples_to_decide("lift", (8.0, 10), (8.0, 10), 0.0, 0.95, 10) is None
    assert looks.samples_to_decide("lift", (8.0, 10), (0.0, 0), 0.0, 0.95, 10) is None
    assert looks.samples_to_decide("lift", (0.0, 0), (8.0, 10), 0.0, 0.95, 10) is None
    # Already decided at the next count: that count.
    assert looks.samples_to_decide("lift", (10.0, 10), (0.0, 10), 0.0, 0.95, 10) == 11
    # A bound exactly at the threshold: a lower bound there decides, an upper one does not.
    assert looks.samples_to_decide("lift", (0.0, 10), (10.0, 10), -1.0, 0.95, 10) == 11
    assert looks.samples_to_decide("lift", (10.0, 10), (0.0, 10), 1.0, 0.95, 10) is None


def test_the_lift_count_goes_up_to_the_most_advised_and_no_further() -> None:
    assert looks.samples_to_decide("lift", (5.2191, 10), (4.7809, 10), 0.0, 0.95, 10) == 1000
    assert looks.samples_to_decide("lift", (5.21925, 10), (4.78075, 10), 0.0, 0.95, 10) == 999
    assert looks.samples_to_decide("lift", (5.219, 10), (4.781, 10), 0.0, 0.95, 10) is None


def test_the_lift_count_uses_the_level_given_or_the_auto_default() -> None:
    at_95 = looks.samples_to_decide("lift", (8.0, 10), (5.0, 10), 0.0, 0.95, 10)
    assert looks.samples_to_decide("lift", (8.0, 10), (5.0, 10), 0.0, None, 10) == at_95
    at_80 = looks.samples_to_decide("lift", (8.0, 10), (5.0, 10), 0.0, 0.8, 10)
    assert at_80 is not None and at_95 is not None and at_80 < at_95
    assert looks.samples_to_decide("lift", (8.0, 10), (5.0, 10), 0.0, 0.95, 5) == at_95
    assert looks.samples_to_decide("lift", (8.0, 10), (5.0, 10), 0.0, 0.95, at_95) == at_95 + 1


@pytest.mark.parametrize(
    ("stopped", "level", "note"),
    [
        (
            "verdict",
            0.9,
            "samples='auto': stopped after 15 of at most 30 samples, the verdict reached on "
            "90% sequential boundaries",
        ),
        (
            "unlikely",
            None,
            "samples='auto': stopped after 15 of at most 30 samples without a verdict at 95%: "
            "one by 30 had become unlikely",
        ),
        ("maximum", 0.8, "samples='auto': no verdict at 80% after the maximum of 15 samples"),
    ],
)
def test_the_auto_note_says_how_far_sampling_went_and_why_it_stopped(
    stopped: str, level: float | None, note: str
) -> None:
    assert looks.auto_note(stopped, 15, level) == note
