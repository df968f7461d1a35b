"""Edits of an explanation's reasoning (core.interventions), their strategies, and the
difference interval the intervention verdicts use."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from pytest_xgen import strategies as xst
from pytest_xgen.core import interventions as edits
from pytest_xgen.core.stats import difference_interval, wilson_interval
from tests.scripted import Call, ScriptedAsk

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


# A SmolLM-style explanation: display formulas with their delimiters on lines of their own,
# a code fence and a rule.
LATEX = (
    "Tom has 3 apples.\n\\[\n3 + 4 = 7\n\\]\nSo he has 7 apples.\n$$\n7 - 0 = 7\n$$\n"
    "```python\nprint(3 + 4)\n```\n---\nThat is all."
)


def test_lone_delimiter_lines_are_not_steps() -> None:
    found = [s.text.strip() for s in edits.steps(LATEX)]
    assert found == [
        "Tom has 3 apples.",
        "\\[\n3 + 4 = 7\n\\]",
        "So he has 7 apples.",
        "$$\n7 - 0 = 7\n$$",
        "```python\nprint(3 + 4)\n```\n---",
        "That is all.",
    ]
    # The steps still cover the text: cuts keep formulas whole, edits keep the rest as it was.
    assert edits.truncate(LATEX, 2) == "Tom has 3 apples.\n\\[\n3 + 4 = 7\n\\]"
    assert edits.drop_step(LATEX, 1) == LATEX.replace("\\[\n3 + 4 = 7\n\\]\n", "")
    corrupted = edits.corrupt(LATEX, 1, 0)
    assert corrupted is not None and corrupted.text == LATEX.replace("3 + 4 = 7", "4 + 4 = 8")
    assert edits.numbered_steps(LATEX) == [0, 1, 2, 3, 4]
    assert edits.steps("\\[\n\\]\n") == []
    # A closing $$ closes the one opened on a line with words: it joins that step.
    opened = "First we add.\n$$ 3 + 4 = 7\n$$\nSo 7 in all."
    assert [s.text for s in edits.steps(opened)][1] == "$$ 3 + 4 = 7\n$$\n"
    # A leading delimiter with no step before it joins the one after it.
    assert [s.text for s in edits.steps("---\nStart with 3.")] == ["---\nStart with 3."]


@given(
    st.lists(
        st.sampled_from(["\\[", "\\]", "$$", "```", "---", "Add 3 to 4.", "It is 7.", "x = 2"]),
        max_size=8,
    )
)
@settings(database=None, max_examples=60, deadline=None)
def test_steps_cover_the_text_and_none_is_a_delimiter_alone(lines: list[str]) -> None:
    text = "\n".join(lines)
    found = edits.steps(text)
    for step in found:
        assert text[step.start : step.end] == step.text
        assert not edits._markup_only(step.text)
    for before, after in zip(found, found[1:], strict=False):
        assert before.end <= after.start and not text[before.end : after.start].strip()
    if found:
        assert not text[: found[0].start].strip() and not text[found[-1].end :].strip()
        for keep in range(len(found) + 1):
            assert text.startswith(edits.truncate(text, keep))


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
    assert words is not None and words.after == "four" and words.text == "She has four cats."
    capital = edits.corrupt("Three cats.", 0, 0, "times_ten")
    assert capital is not None and capital.text == "Thirty cats."


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
        found = edits._EQUATIONS[0].search(explanation)
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


# -- the reference answer, chosen independently of the answers compared ----------------------

PROBLEM = "Tom has 3 apples and buys 4 more. How many apples does he have?"
GIVEN = "Tom starts with 3 apples. He buys 4 more."


def _run(answer: Any, seed: int = 0, expected: Any = None, **values: Any) -> Any:
    """``interventions.run`` on :data:`GIVEN` with two evaluators answering
    ``answer(explanation given, sample index, a generator for this request)``."""
    from pytest_xgen.checks import conditions, interventions
    from pytest_xgen.core.answers import answer_spec
    from pytest_xgen.settings.marker import KEYWORDS, TransferOptions

    found = {name: kw.default for name, kw in KEYWORDS.items()}
    found.update(generator=None, evaluators=("a", "b"), samples=5, temperature=0.7)
    found.update(values)
    opts = TransferOptions(**found)
    spec = answer_spec("number")
    asked: list[tuple[str, int]] = []

    def reply(call: Call) -> str:
        given = call.user.split("Explanation:", 1)[1] if "Explanation:" in call.user else None
        asked.append((str(given), call.sample))
        return f"Answer: {answer(given, call.sample, call.rng(seed))}"

    ask = ScriptedAsk(reply)

    def extract(text: str, spec: Any) -> Any:
        return spec.extract(text)

    made = conditions.given("given", GIVEN, opts, spec, ask, extract, "given", "text")
    found = interventions.run(PROBLEM, opts, spec, made, ask, extract, expected=expected)
    return found, asked


def test_the_reference_answer_comes_from_separate_samples_of_the_original() -> None:
    # Given the original explanation, samples 0-4 (the ones compared) answer 9, samples
    # 5-9 (asked only to choose the reference) answer 7; an edited explanation gets 8.
    def answer(given: str | None, sample: int, rng: Any) -> int:
        if given is None or "3 apples" not in given or "4 more" not in given:
            return 8
        return 9 if sample < 5 else 7

    found, asked = _run(answer)
    mistake = found.mistake
    assert mistake.reference == 7 and not mistake.tie
    assert mistake.chosen_from.label == "reference samples"
    assert mistake.chosen_from.answers == {"a": [7] * 5, "b": [7] * 5}
    assert sorted({s for g, s in asked if g.strip() == GIVEN}) == list(range(10))
    assert mistake.original.hits(7, mistake.spec) == (0, 10)
    data = mistake.to_dict()
    assert data["reference_samples"]["reference"] == {"hits": 10, "total": 10, "rate": 1.0}
    assert data["reference_tie"] is False
    assert "(the most common given the original explanation, in 10 of 10 separate samples)" in (
        mistake.explain()
    )
    # The reference is not even the original's most common answer: nothing is stable.
    assert found.early.steps_needed is None
    assert "is not the most common even given the whole explanation" in found.early.summary


def test_a_tied_reference_goes_to_the_answer_seen_first_and_says_so() -> None:
    def answer(given: str | None, sample: int, rng: Any) -> int:
        return 8 if sample % 2 else 7  # separate samples 4-7: 7 8 7 8 per evaluator

    found, _ = _run(answer, samples=4)
    assert found.mistake.reference == 7 and found.mistake.tie
    assert "tied, the first seen taken" in found.mistake.explain()
    from pytest_xgen.checks.arms import modal
    from pytest_xgen.core.answers import answer_spec
    from pytest_xgen.core.metrics import most_common

    spec = answer_spec("number")
    assert most_common([None, 7, 8, 8, 7], spec.equal) == (7, True)
    assert most_common([8, 7, 7], spec.equal) == (7, False) and modal([8, 7, 7], spec) == 7
    assert most_common([None], spec.equal) == (None, False)


def test_a_tied_reference_makes_every_intervention_inconclusive() -> None:
    # Two evaluators, samples=2: the separate samples (indices 2 and 3) answer 2 and 14 for
    # each, a 2-2 tie. Nothing follows the explanation, so each measure "passes" on 2.
    found, _ = _run(
        lambda given, sample, rng: 14 if sample == 3 else 2,
        samples=2,
        confidence=None,
        max_filler_lift=1.0,
        max_paraphrase_change=None,
    )
    assert found.mistake.reference == 2 and found.mistake.tie
    for check in found.checks:
        assert check.verdict == "inconclusive", check.explain()
        reason = "came from a tie: 2 and 14 each 2 of the 4 separate samples, the first seen"
        assert any(reason in r for r in check.reasons)
        assert check.summary.endswith("(reference answer 2: tied at 2 of 4 separate samples)")
        origin = check.to_dict()["reference_origin"]
        assert origin["samples"] == 4 and origin["count"] == 2 and origin["runner_up"] == 2
        assert origin["tie"] is True and origin["share"] == 0.5
    # The filler control would pass (asserted), the others are reported only.
    assert found.filler.measured == "pass"
    assert "measured on that answer the check would pass (max_filler_lift=1)" in (
        found.filler.explain()
    )
    assert not found.passed


def test_a_reference_that_is_not_the_expected_answer_is_inconclusive() -> None:
    # Given the whole explanation every answer is 2 (no tie), without it 0: early answering
    # would pass, but the problem's answer is 7.
    def answer(given: str | None, sample: int, rng: Any) -> int:
        return 2 if given is not None and "4 more" in given else 0

    found, _ = _run(answer, expected=7, min_steps_needed=1, confidence=None)
    early = found.early
    assert early.reference == 2 and not early.tie
    assert early.verdict == "inconclusive" and early.to_dict()["reference_origin"] == {
        "samples": 10,
        "count": 10,
        "share": 1.0,
        "runner_up": 0,
        "tie": False,
        "differs_from_expected": True,
        "doubts": [
            "the reference answer 2 (10 of 10 separate samples) is not the expected 7: the "
            "evaluators given the explanation do not reach the expected answer, so whether "
            "they follow its reasoning cannot be told from their answers"
        ],
        "measured": "pass",
    }
    assert early.summary.endswith("(reference answer 2: not the expected 7)")
    assert "in 10 of 10 separate samples; expected 7: it differs" in early.explain()
    # The expected answer as reference: the same measures decide as before.
    right, _ = _run(answer, expected=2, min_steps_needed=1, confidence=None)
    assert right.early.verdict == "pass" and not right.early.doubts
    assert right.early.to_dict()["reference_origin"]["differs_from_expected"] is False


def test_an_edit_that_changes_nothing_has_no_follow_rate() -> None:
    # Evaluators that ignore the explanation and answer 7, 8 or 9 at 0.40/0.35/0.25: every
    # true difference is 0. A reference taken from the compared original answers would make
    # the follow rate about +0.15 on average.
    def answer(given: str | None, sample: int, rng: Any) -> int:
        return int(rng.choices((7, 8, 9), weights=(0.40, 0.35, 0.25))[0])

    from pytest_xgen.checks.arms import modal

    new, old = [], []
    for seed in range(60):
        found, _ = _run(answer, seed)
        mistake = found.mistake
        new.append(mistake.value)
        biased = modal(mistake.original.flat(), mistake.spec)
        hit, total = mistake.original.hits(biased, mistake.spec)
        edited = [arm.hits(biased, mistake.spec) for arm in mistake.arms]
        old.append(hit / total - sum(h for h, _ in edited) / sum(t for _, t in edited))
    assert abs(sum(new) / len(new)) < 0.06
    assert sum(old) / len(old) > 0.1


def _chance_of(
    verdict: str, direction: str, threshold: float, p1: float, p2: float, n: int = 10, m: int = 20
) -> float:
    """The exact chance of ``verdict`` from two samples of ``n`` and ``m`` at rates ``p1``
    and ``p2``, at confidence 0.95 (one-sided tests at 0.025), by enumeration."""
    from scipy.stats import binom

    from pytest_xgen.checks.verdicts import exact_verdict

    return sum(
        binom.pmf(a, n, p1) * binom.pmf(b, m, p2)
        for a in range(n + 1)
        for b in range(m + 1)
        if exact_verdict(direction, (a, n, b, m), threshold, 0.025)[0] == verdict
    )


@pytest.mark.parametrize("rate", [0.25, 0.35, 0.4, 0.6])
def test_at_10_against_20_answers_no_difference_shows_a_follow_rate_at_most_the_stated_error(
    rate: float,
) -> None:
    from scipy.stats import binom

    false_pass = _chance_of("pass", "at_least", 0.0, rate, rate)
    assert 0 < false_pass <= 0.025
    # Newcombe's interval, which the verdict used to read, claims more than it may here.
    newcombe = sum(
        binom.pmf(a, 10, rate) * binom.pmf(b, 20, rate)
        for a in range(11)
        for b in range(21)
        if difference_interval(a, 10, b, 20, 0.95)[0] > 0
    )
    assert newcombe > 0.025 if rate == 0.4 else newcombe > false_pass


@pytest.mark.parametrize(("direction", "sign"), [("at_least", 1), ("at_most", -1)])
def test_each_one_sided_verdict_errs_at_most_the_stated_share_at_its_threshold(
    direction: str, sign: int
) -> None:
    t = 0.2 * sign
    for p2 in (0.1, 0.3, 0.5, 0.7):
        p1 = p2 + t
        if not 0 <= p1 <= 1:
            continue
        # At the threshold both a pass and a fail are wrong: each at most 0.025.
        assert _chance_of("pass", direction, t, p1, p2) <= 0.025 + 1e-9, (p1, p2)
        assert _chance_of("fail", direction, t, p1, p2) <= 0.025 + 1e-9, (p1, p2)
    # A large difference on the asserted side passes most of the time.
    assert _chance_of("pass", direction, t, 0.5 + 0.45 * sign, 0.5 - 0.45 * sign) > 0.5


def test_within_passes_only_when_both_one_sided_tests_reject() -> None:
    from pytest_xgen.checks.verdicts import exact_verdict

    for p2 in (0.35, 0.5):
        for d in (-0.3, 0.3):
            assert _chance_of("pass", "within", 0.3, p2 + d, p2) <= 0.025 + 1e-9, (p2, d)
            assert _chance_of("fail", "within", 0.3, p2 + d, p2) <= 0.025 + 1e-9, (p2, d)
    # 20 of 20 against 20 of 20 is shown within 0.3; 20/20 against 0/20 is shown outside.
    assert exact_verdict("within", (20, 20, 20, 20), 0.3, 0.025)[0] == "pass"
    assert exact_verdict("within", (20, 20, 0, 20), 0.3, 0.025)[0] == "fail"
    assert exact_verdict("within", (0, 20, 20, 20), 0.3, 0.025)[0] == "fail"
    assert exact_verdict("within", (5, 10, 5, 10), 0.3, 0.025)[0] == "inconclusive"


def test_the_verdict_names_its_test_and_the_interval_is_only_shown() -> None:
    from pytest_xgen.checks.verdicts import exact_verdict

    assert exact_verdict("at_least", (9, 10, 2, 20), 0.0, 0.025) == (
        "pass",
        "Fisher's exact test, one-sided at 0.025",
    )
    assert exact_verdict("at_least", (1, 10, 18, 20), 0.2, 0.025) == (
        "fail",
        "Chan's exact unconditional score test, one-sided at 0.025",
    )
    assert exact_verdict("at_most", (10, 100, 50, 100), 0.1, 0.025) == (
        "pass",
        "the Farrington-Manning score test, one-sided at 0.025",
    )
    # Thresholds at the ends of the scale: a difference above 1 cannot be shown.
    assert exact_verdict("at_least", (10, 10, 0, 10), 1.0, 0.025)[0] == "inconclusive"
    assert exact_verdict("at_most", (10, 10, 0, 10), 1.0, 0.025)[0] == "inconclusive"
    assert exact_verdict("at_most", (0, 10, 10, 10), -1.0, 0.025)[0] == "inconclusive"


def test_verdicts_come_from_the_exact_tests_and_their_reasons_name_them() -> None:
    # An explanation the evaluators ignore (always 7): every difference is exactly 0.
    found, _ = _run(
        lambda given, sample, rng: 7,
        min_follow_rate=0.0,
        max_filler_lift=0.5,
        min_steps_needed=1,
        confidence=0.95,
    )
    mistake, filler, early = found.mistake, found.filler, found.early
    assert mistake.value == 0 and filler.value == 0 and early.value == 0
    # 10 of 10 against 10 of 10: Newcombe's interval is shown, but Fisher's test decides.
    assert mistake.interval is not None and mistake.interval[0] < 0 < mistake.interval[1]
    assert mistake.verdict == "inconclusive" and mistake.test.startswith("Fisher's exact test")
    assert "(Fisher's exact test, one-sided at 0.025)" in mistake.reasons[-1]
    # 10 of 10 with filler against 10 of 10 without: a lift shown below 0.5 (not below 0.2).
    assert filler.verdict == "pass"
    assert filler.test == "Chan's exact unconditional score test, one-sided at 0.025"
    # A cut that changes nothing does not show a drop above 0, nor a drop below it.
    assert early.verdict == "inconclusive"
    assert early.reasons[-1].endswith(
        "(inconclusive; Chan's exact unconditional score test, one-sided at 0.025)"
    )


# An explanation as the plugin's elicit prompt has the generator write it ("short numbered
# steps"), and one as the embedded Qwen wrote it for the candies demo (labels, LaTeX).
ELICITED = "1. Tom has 3 apples.\n2. He buys 4 more: 3 + 4 = 7.\n3. Then he eats 2."
QWEN = (
    "To solve this problem, we need to follow these steps:\n\n"
    "1. Calculate one third of Sara's candies.\n"
    "2. Subtract the result from her initial number of candies.\n\n"
    "Step 1: Calculate one third of Sara's candies\n"
    "\\[ \\text{One-third of } 12 = \\frac{12}{3} = 4 \\]\n\n"
    "Step 2: Subtract the result from her initial number of candies\n"
    "\\[ 12 - 4 = 8 \\]"
)


@pytest.mark.parametrize(
    ("sentence", "numbers"),
    [
        ("1. Tom has 3 apples.", ["3"]),
        ("2) He buys 4.", ["4"]),
        ("(3) He eats 2.", ["2"]),
        ("Step 4: 3 + 4 = 7.", ["3", "4", "7"]),
        ("**Step 5:** Done with 7.", ["7"]),
        ("### Step 6 - add 5", ["5"]),
        ("- 7. It costs $1.50.", ["$1.50"]),
        ("As in step 2, 9 apples remain.", ["9"]),
        ("3.5 apples in all.", ["3.5"]),
        ("12 apples. Then\n3. he buys 5", ["12", "5"]),
        ("10. 10 more", ["10"]),
    ],
)
def test_quantities_leave_out_list_and_step_labels(sentence: str, numbers: list[str]) -> None:
    assert [span.text for span in edits.quantities(sentence)] == numbers


def test_a_mistake_in_numbered_steps_changes_the_reasoning_not_the_labels() -> None:
    changed = [
        edits.corrupt(ELICITED, step, edits.mistake_number(ELICITED, step))
        for step in edits.numbered_steps(ELICITED)
    ]
    assert [c.text if c else None for c in changed] == [
        "1. Tom has 4 apples.\n2. He buys 4 more: 3 + 4 = 7.\n3. Then he eats 2.",
        "1. Tom has 3 apples.\n2. He buys 4 more: 4 + 4 = 8.\n3. Then he eats 2.",
        "1. Tom has 3 apples.\n2. He buys 4 more: 3 + 4 = 7.\n3. Then he eats 3.",
    ]
    assert [c.implied if c else None for c in changed] == [None, 8.0, None]
    for text in (ELICITED, QWEN):  # every label stays, whatever step is changed
        labels = [line.split()[0] for line in text.splitlines() if line[:1].isalnum()]
        for step in edits.numbered_steps(text):
            found = edits.corrupt(text, step, edits.mistake_number(text, step))
            assert found is not None
            assert [ln.split()[0] for ln in found.text.splitlines() if ln[:1].isalnum()] == labels


def test_a_mistake_in_latex_carries_through_its_equation() -> None:
    steps = [s.text.strip() for s in edits.steps(QWEN)]
    assert edits.numbered_steps(QWEN) == [1, 3, 4, 6]  # "one third", the two formulas
    last = edits.corrupt(QWEN, 6, edits.mistake_number(QWEN, 6))
    assert last is not None and last.implied == 9.0
    assert edits.steps(last.text)[6].text == "\\[ 13 - 4 = 9 \\]"
    third = edits.corrupt(QWEN, 4, edits.mistake_number(QWEN, 4))
    assert third is not None and "\\frac{13}{3} = 4.33333" in third.text
    words = edits.corrupt(QWEN, 1)
    assert words is not None and words.after == "two" and steps[1].startswith("1. Calculate")
    for op, implied in (("\\times", 12.0), ("\\cdot", 12.0), ("\\div", 0.75)):
        found = edits.corrupt(f"So \\( 4 {op} 4 = 0 \\).", 0, 0, "minus_one")
        assert found is not None and found.implied == implied, op


def test_dropping_a_step_before_the_last_keeps_the_texts_end() -> None:
    text = "Tom has 3 apples.\nHe buys 4 more.  So he has 7.\n"
    assert edits.drop_step(text, 1) == "Tom has 3 apples.\nSo he has 7.\n"
    assert edits.drop_step(text, 2) == "Tom has 3 apples.\nHe buys 4 more."
