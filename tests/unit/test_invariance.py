"""Invariance checks under noise: the screen, the confirmation on fresh samples, the search's
budget of confirmations, the test against ``max_drop`` and the stated power."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from pytest_xgen.checks import confirmation, invariance
from pytest_xgen.checks.confirmation import SearchBudget
from pytest_xgen.checks.invariance import invariant
from pytest_xgen.core import metrics, significance
from pytest_xgen.core.answers import answer_spec
from pytest_xgen.settings.marker import KEYWORDS, TransferOptions
from tests.scripted import Call, ScriptedAsk

BASE = "Tom has 3 apples and buys 4 more. How many apples does he have?"
SPEC = answer_spec("number")

Script = Callable[[str, bool, int, random.Random], int]
"""(model, perturbed?, sample index, a generator for this request) -> the answer."""


def options(evaluators: tuple[str, ...] = ("a",), **values: Any) -> TransferOptions:
    found = {name: kw.default for name, kw in KEYWORDS.items()}
    found.update(generator=None, evaluators=evaluators, samples="auto", temperature=0.7)
    found.update(values)
    return TransferOptions(**found)


class Scripted(ScriptedAsk):
    """An ``ask`` that answers ``Answer: <script(...)>`` and logs every call."""

    def __init__(self, script: Script, seed: int = 0) -> None:
        super().__init__(lambda c: script(c.model, c.user != BASE, c.sample, c.rng(seed)))


def extract(text: str, spec: Any) -> Any:
    return spec.extract(text)


def check(
    ask: Scripted, perturbed: str, budget: SearchBudget | None = None, **values: Any
) -> invariance.InvariantResult:
    expected = values.pop("expected", 7)
    size = values.pop("search_size", 10 if budget is not None else 1)
    return invariant(
        BASE,
        perturbed,
        options(**values),
        SPEC,
        expected,
        ask,
        extract,
        search_size=size,
        budget=budget,
    )


def screens_in_only(model: str, perturbed: bool, sample: int, rng: random.Random) -> int:
    """Always right, except the perturbed prompt's screening samples (indices below 10):
    every example passes the screen and no confirmation finds a drop."""
    return 8 if perturbed and sample < 10 else 7


def test_a_budget_holds_at_most_its_confirmations_on_fresh_indices() -> None:
    assert [SearchBudget.for_search(n).size for n in (0, 1, 2, 3, 10, 100)] == [1, 1, 2, 3, 3, 3]
    budget = SearchBudget.for_search(10)
    assert budget.take(10, 40) == range(10, 50)
    assert budget.take(10, 40) == range(50, 90)
    assert budget.take(100, 5) == range(100, 105)  # past the screens, never back
    assert budget.left == 0
    with pytest.raises(RuntimeError, match="no confirmation left"):
        budget.take(10, 40)


def test_a_search_never_confirms_more_than_its_budget() -> None:
    ask = Scripted(screens_in_only)
    budget = SearchBudget.for_search(10)
    results = [check(ask, f"{BASE}{' ' * (i + 1)}", budget) for i in range(10)]
    assert budget.spent == confirmation.CONFIRMATIONS == 3
    assert all(r.verdict == "pass" for r in results)
    confirmed = [r for r in results if r.tests["a"].confirmation is not None]
    assert len(confirmed) == 3 and confirmed == results[:3]
    assert all(r.tests["a"].screened for r in results)
    for late in results[3:]:
        assert late.tests["a"].note == (
            "screen suggests a drop; not confirmed: the search's 3 confirmation(s) are spent"
        )
        assert "not confirmed" in late.explain()
    # Each confirmation asked base samples no other call of the search used.
    base = [sample for _, prompt, sample in ask.calls if prompt == BASE]
    assert sorted(set(base)) == list(range(10 + 3 * 40))
    assert Counter(base) == {i: 10 if i < 10 else 1 for i in range(130)}  # screens shared
    assert results[0].level == pytest.approx(0.05 / 3)
    assert results[0].confirmation_samples == 40 and results[-1].spent == 3
    assert "at most 3 confirmation(s) in 10 example(s), 3 spent" in results[-1].explain()


def test_outside_a_search_a_check_has_one_confirmation_at_the_full_level() -> None:
    ask = Scripted(lambda m, perturbed, i, rng: 9 if perturbed else 7)
    result = check(ask, BASE + " Sam reads.")
    assert result.verdict == "fail" and result.confirmations == 1 and result.level == 0.05
    assert result.flipped == ["a"] and result.tests["a"].confirmation == (
        1.0,
        0.0,
        pytest.approx(significance.drop_beyond_p(40, 40, 0, 40)),
    )
    assert "and again on 40 fresh samples per prompt from 1.00 to 0.00" in result.reasons[0]


def test_an_example_seen_again_reuses_its_decision() -> None:
    ask = Scripted(lambda m, perturbed, i, rng: 9 if perturbed else 7)
    budget = SearchBudget.for_search(10)
    first = check(ask, BASE + " Sam reads.", budget)
    calls = len(ask.calls)
    again = check(ask, BASE + " Sam reads.", budget)
    assert first.verdict == again.verdict == "fail" and budget.spent == 1
    assert len(ask.calls) == calls  # no call, no confirmation spent
    assert again is not first and again.to_dict() == first.to_dict()


def test_a_search_of_unchanged_prompts_fails_at_most_alpha_even_when_every_screen_passes() -> None:
    # On the screening samples the base prompt is always right and the perturbed one always
    # wrong, so every example is confirmed while the budget lasts; on fresh samples both
    # prompts are right half of the time. The search fails falsely when any confirmation rejects: at most alpha (0.3 here,
    # so the count is large enough to see a budget that leaks). Confirming at alpha each, or
    # confirming every example, fails about half the searches.
    def script(model: str, perturbed: bool, sample: int, rng: random.Random) -> int:
        if sample < 10:
            return 8 if perturbed else 7
        return 7 if rng.random() < 0.5 else 8

    fails = 0
    searches = 100
    for trial in range(searches):
        ask = Scripted(script, seed=trial)
        budget = SearchBudget.for_search(10)
        verdicts = [
            check(ask, f"{BASE}{' ' * (i + 1)}", budget, confidence=0.7).verdict for i in range(10)
        ]
        assert budget.spent == 3
        fails += "fail" in verdicts
    assert fails / searches <= 0.3


def test_the_drop_is_tested_against_max_drop() -> None:
    # Base always right; the perturbed prompt right on 7 of every 10 samples: a drop of
    # exactly 0.3, on the screen (its first look, 2 of 5, takes a second) and on fresh
    # samples alike.
    def script(model: str, perturbed: bool, sample: int, rng: random.Random) -> int:
        return 8 if perturbed and sample % 10 < 3 else 7

    at_margin = check(Scripted(script), BASE + " Sam reads.", max_drop=0.3)
    assert at_margin.verdict == "pass" and not at_margin.tests["a"].screened
    assert at_margin.tests["a"].p_value == pytest.approx(
        significance.drop_beyond_p(10, 10, 7, 10, margin=0.3)
    )
    below = check(Scripted(script), BASE + " Sam reads.", max_drop=0.1)
    test = below.tests["a"]
    assert below.verdict == "fail" and test.screened
    assert test.confirmation == (
        1.0,
        0.7,
        pytest.approx(significance.drop_beyond_p(40, 40, 28, 40, margin=0.1)),
    )
    assert "beyond a drop of 0.1" in below.reasons[0]


def test_without_expected_the_reference_comes_from_the_screen() -> None:
    # The base's screening samples answer 8 most often; fresh ones answer 7. The confirmation
    # counts the screen's reference (8), not the fresh samples' most common answer.
    def script(model: str, perturbed: bool, sample: int, rng: random.Random) -> int:
        if not perturbed:
            return 8 if sample < 10 and sample % 3 else 7
        return 9

    result = check(Scripted(script), BASE + " Sam reads.", expected=None)
    test = result.tests["a"]
    assert test.measure == "the base's most common answer" and test.reference == 8
    assert test.base_rate == pytest.approx(0.6) and not test.tie
    assert test.confirmation is not None and test.confirmation[0] == 0.0  # no fresh 8
    assert result.verdict == "pass"


def test_a_tied_reference_goes_to_the_answer_seen_first() -> None:
    assert metrics.most_common([8, 7, 7, 8, None], SPEC.equal) == (8, True)
    assert metrics.most_common([None, 7, 8, 7], SPEC.equal) == (7, False)
    assert metrics.most_common([None, None], SPEC.equal) == (None, False)


@pytest.mark.parametrize(("size", "margin"), [(6, 0.0), (8, 0.0), (8, 0.3), (12, 0.2)])
def test_the_stated_power_is_the_exact_binomial_sum(size: int, margin: float) -> None:
    from scipy.stats import binom

    level = 0.05 / 3
    region = confirmation.rejection_region(size, level, margin)
    for x in range(size + 1):
        for y in range(size + 1):
            rejected = significance.drop_beyond_p(x, size, y, size, margin) < level
            assert rejected == (y <= region[x]), (x, y)
    for base_rate in (0.5, 0.8, 1.0):
        after = max(0.0, base_rate - margin - confirmation.POWER_DROP)
        brute = sum(
            binom.pmf(x, size, base_rate) * binom.pmf(y, size, after)
            for x in range(size + 1)
            for y in range(size + 1)
            if significance.drop_beyond_p(x, size, y, size, margin) < level
        )
        power = confirmation.confirmation_power(base_rate, size, level, margin)
        assert power == pytest.approx(brute, abs=1e-12)
    assert confirmation.confirmation_power(margin, size, level, margin) is None


def test_the_default_confirmation_finds_a_drop_from_0_8_to_0_5_often() -> None:
    power = confirmation.confirmation_power(0.8, 40, 0.05 / 3, 0.0)
    assert power is not None and 0.68 < power < 0.70
    result = check(Scripted(lambda m, p, i, rng: 7), BASE + " ")
    assert result.power_drop == 0.3 and result.tests["a"].power == pytest.approx(
        confirmation.confirmation_power(1.0, 40, 0.05, 0.0)
    )
    assert f"power {result.tests['a'].power:.2f} to confirm a drop of 0.3" in result.explain()


def test_a_confirmation_too_small_to_show_a_flip_is_inconclusive() -> None:
    # One sample per prompt: a confirmation of 4 cannot show a drop beyond 0.6 at 0.05.
    result = check(Scripted(lambda m, p, i, rng: 7), BASE + " ", samples=1, max_drop=0.6)
    assert result.verdict == "inconclusive"
    smallest = significance.drop_beyond_p(4, 4, 0, 4, 0.6)
    assert smallest >= 0.05
    needed = next(
        n for n in range(2, 50) if significance.drop_beyond_p(4 * n, 4 * n, 0, 4 * n, 0.6) < 0.05
    )
    assert result.reasons == [
        f"a confirmation of 4 sample(s) per prompt cannot show any drop beyond 0.6 at level "
        f"0.05 (even a complete flip gives p={smallest:.3g}); use samples={needed} or more"
    ]


def test_planned_calls_bound_what_a_check_asks() -> None:
    ask = Scripted(lambda m, perturbed, i, rng: 9 if perturbed else 7)
    opts = options(("a", "b"))
    result = invariant(BASE, BASE + " Sam reads.", opts, SPEC, 7, ask, extract)
    assert result.verdict == "fail"
    assert invariance.planned_calls(opts) == (2 * (10 + 10 + 2 * 40), True)
    assert len(ask.calls) == invariance.planned_calls(opts)[0]
    greedy = options(samples=1, temperature=0)
    assert invariance.planned_calls(greedy) == (2, False)


@pytest.mark.parametrize(("before", "after"), [(0.8, 0.5), (0.9, 0.6), (1.0, 0.7), (0.6, 0.3)])
def test_a_confirmation_at_a_drop_of_exactly_max_drop_fails_at_most_its_level(
    before: float, after: float
) -> None:
    # The exact size of the default confirmation (40 + 40 fresh samples, 0.05 / 3) when the
    # rate falls by exactly max_drop = 0.3: below its level, so 3 of them stay below 0.05.
    from scipy.stats import binom

    level = 0.05 / 3
    region = confirmation.rejection_region(40, level, 0.3)
    size = sum(
        binom.pmf(x, 40, before) * binom.cdf(y, 40, after) for x, y in enumerate(region) if y >= 0
    )
    assert 0.01 < size <= level


def test_a_failure_by_the_reference_answer_names_it() -> None:
    def script(model: str, perturbed: bool, sample: int, rng: random.Random) -> int:
        return 9 if perturbed else 8

    result = check(Scripted(script), BASE + " Sam reads.", expected=None)
    assert result.verdict == "fail"
    assert result.reasons[0].startswith(
        "a: the base's most common answer (8) fell from 1.00 to 0.00 (screen p="
    )


# -- a product under perturbation: explanation= a callable --------------------------------

RENAMED = BASE.replace("Tom", "Sam")


class Product:
    """A product's explain(): answers 7, but 9 once the prompt names Sam; logs its prompts."""

    def __init__(self, base_answer: int = 7) -> None:
        self.base_answer = base_answer
        self.seen: list[str] = []

    def explain(self, prompt: str) -> str:
        self.seen.append(prompt)
        answer = 9 if "Sam" in prompt else self.base_answer
        return f"Step 1: we carry {answer} forward.\nAnswer: {answer}"


def following(call: Call) -> str:
    """An evaluator that answers the last number of the explanation it was handed (8 when
    it was handed none: the plugin's own prompt)."""
    carried = re.findall(r"carry (\d+)", call.user.split("Explanation:")[-1])
    value = carried[-1] if "Explanation:" in call.user and carried else 8
    return f"Answer: {value}"


def product_check(
    product: Product, perturbed: str, expected: Any = 7, **values: Any
) -> invariance.InvariantResult:
    values.setdefault("samples", 1)
    values.setdefault("temperature", 0)
    return invariant(
        BASE,
        perturbed,
        options(**values),
        SPEC,
        expected,
        ScriptedAsk(following),
        extract,
        explanation=product.explain,
    )


def test_a_product_explains_both_prompts_and_its_answers_are_compared() -> None:
    product = Product()
    same = product_check(product, BASE)
    assert product.seen == [BASE]  # one call: the base is its own perturbation here
    assert same.verdict == "pass" and not same.explanation_changed
    assert same.explanation is not None and same.explanation.answer == 7
    assert same.explanation.origin.startswith("callable ")
    changed = product_check(product, RENAMED)
    assert product.seen[-2:] == [BASE, RENAMED]
    assert changed.base_explanation is not None and changed.base_explanation.answer == 7
    assert changed.explanation is not None and changed.explanation.answer == 9
    assert changed.verdict == "fail" and changed.explanation_changed
    text = changed.explain()
    assert "the explanation's answer changed from 7 on the base prompt to 9" in text
    assert "  explanation  7" in text and "<- flipped" in text
    data = changed.to_dict()["explanation"]
    assert data["changed"] and data["base"]["answer"] == 7 and data["perturbed"]["answer"] == 9


def test_the_evaluators_are_handed_the_products_explanation_of_each_prompt() -> None:
    result = product_check(Product(), RENAMED, expected=None)
    # Following the product's explanation they answer 7 on the base prompt and 9 on the
    # renamed one (answering by themselves, they would say 8 on both).
    assert result.base_answers == {"a": [7]} and result.perturbed_answers == {"a": [9]}
    assert result.flipped == ["a"]


def test_a_wrong_base_answer_is_the_reference_unless_right_answers_are_required() -> None:
    # The product is wrong on the base prompt (5, expected 7) and stays wrong on a
    # perturbation that keeps its answer: its answer survived, the check passes.
    product = Product(base_answer=5)
    kept = BASE.replace("apples and", "apples  and")
    assert product_check(product, kept).verdict == "pass"
    asked = product_check(product, kept, require_correct=True)
    assert asked.verdict == "fail"
    assert "the explanation's answer on the base prompt is 5 (expected 7: wrong" in asked.explain()


def test_a_product_in_a_screened_check_fails_on_a_changed_answer_without_a_confirmation() -> None:
    result = product_check(Product(), RENAMED, samples="auto", temperature=0.7)
    assert not result.exact
    assert result.explanation_changed and result.verdict == "fail"


def test_without_a_product_the_evaluators_are_asked_with_the_projects_own_prompt() -> None:
    systems: list[str] = []

    def reply(call: Call) -> str:
        systems.append(call.system)
        return "Answer: 7"

    opts = options(samples=1, temperature=0, prompts={"own_system": "Answer as our app does."})
    invariant(BASE, RENAMED, opts, SPEC, 7, ScriptedAsk(reply), extract)
    assert systems == ["Answer as our app does."] * 2


# -- fresh samples, and answers that cannot be read ----------------------------------------


def flips(model: str, perturbed: bool, sample: int, rng: random.Random) -> int:
    return 9 if perturbed else 7


@pytest.mark.parametrize(
    ("samples", "screen", "size"),
    [("auto", 10, 40), (5, 5, 20)],
    ids=["auto", "fixed"],
)
def test_a_confirmation_asks_both_prompts_at_indices_the_screen_never_used(
    samples: Any, screen: int, size: int
) -> None:
    ask = Scripted(flips)
    result = check(ask, BASE + " Sam reads.", samples=samples)
    assert result.verdict == "fail" and result.tests["a"].confirmation is not None
    assert result.confirmation_samples == size
    # The confirmation is the last round: `size` calls per prompt.
    screened, confirmed = ask.calls[: -2 * size], ask.calls[-2 * size :]
    used = {sample for _, _, sample in screened}
    assert used == set(range(screen))
    for prompt in (BASE, BASE + " Sam reads."):
        fresh = [sample for _, asked, sample in confirmed if asked == prompt]
        assert fresh == list(range(screen, screen + size))
        assert not used & set(fresh)


def test_the_confirmations_of_a_search_never_share_an_index_on_either_prompt() -> None:
    ask = Scripted(flips)
    budget = SearchBudget.for_search(10)
    for i in range(4):
        check(ask, f"{BASE}{' ' * (i + 1)} Sam reads.", budget)
    assert budget.spent == 3
    perturbed = Counter(sample for _, prompt, sample in ask.calls if prompt != BASE)
    base = Counter(sample for _, prompt, sample in ask.calls if prompt == BASE)
    # Three confirmations of 40 past the screens (10 samples each prompt), then one screened
    # example: every perturbed prompt's screen reuses 0..9, every fresh index is asked once.
    assert {i: n for i, n in perturbed.items() if i >= 10} == {i: 1 for i in range(10, 130)}
    assert {i: n for i, n in base.items() if i >= 10} == {i: 1 for i in range(10, 130)}
    assert {i: n for i, n in perturbed.items() if i < 10} == {i: 4 for i in range(10)}
    assert {i: n for i, n in base.items() if i < 10} == {i: 4 for i in range(10)}


class Unreadable(Scripted):
    """A ``Scripted`` whose answers to the prompts ``unread`` picks (by "perturbed?") have no
    answer in them."""

    def __init__(self, script: Script, unread: Callable[[bool], bool]) -> None:
        super().__init__(script)
        answer = self.reply

        def reply(call: Call) -> object:
            if call.model == "a" and unread(call.user != BASE):
                return "I am not sure."
            return answer(call)

        self.reply = reply


@pytest.mark.parametrize("unread", ["perturbed", "base", "both"])
@pytest.mark.parametrize(
    "mode",
    [{"samples": 1, "temperature": 0}, {"samples": 5, "confidence": None}],
    ids=["greedy", "point"],
)
@pytest.mark.parametrize("expected", [7, None])
def test_an_evaluator_without_a_readable_answer_pair_fails_the_exact_comparison(
    unread: str, mode: dict[str, Any], expected: Any
) -> None:
    # Evaluator a's answers cannot be read on one prompt or both: its agreement has no
    # pair to count (rate None). That fails, never passes; b, readable and unchanged, passes.
    which = {"perturbed": lambda p: p, "base": lambda p: not p, "both": lambda p: True}[unread]
    ask = Unreadable(lambda m, p, i, rng: 7, which)
    result = check(ask, BASE + " Sam reads.", expected=expected, evaluators=("a", "b"), **mode)
    assert result.exact
    assert result.agreement["a"].total == 0 and result.agreement["a"].rate is None
    assert result.agreement["b"].rate == 1.0
    assert result.verdict == "fail" and not result.passed
    assert result.flipped == ["a"]
    assert result.reasons == ["a gave no parseable answer pair"]
    assert result.to_dict()["flipped"] == ["a"]
    assert "<- flipped" in next(line for line in result.explain().splitlines() if "  a  " in line)


@pytest.mark.parametrize("unread", ["base", "both"])
def test_a_screen_without_a_readable_base_answer_fails_without_expected(unread: str) -> None:
    # Screened mode, no expected answer: a's base answers are the reference, and none can be
    # read. Nothing can be compared, which is no evidence of invariance: fail, as exact mode.
    which = {"base": lambda p: not p, "both": lambda p: True}[unread]
    ask = Unreadable(lambda m, p, i, rng: 7, which)
    result = check(ask, BASE + " Sam reads.", expected=None, evaluators=("a", "b"))
    assert not result.exact
    assert result.tests["a"].reference is None and result.tests["b"].reference == 7
    assert result.verdict == "fail" and not result.passed
    assert result.reasons == [
        "a gave no parseable answer on the base prompt's 10 screening sample(s), so there is "
        "no reference answer to compare with"
    ]
    # b alone, readable and unchanged, passes.
    alone = check(ask, BASE + " Sam reads.", expected=None, evaluators=("b",))
    assert alone.verdict == "pass"
