"""``xgen.invariant()`` as the registry runs it (``invariance.run_check`` on a check
context): the calls planned for the progress line, a product's explanations replanned as
they come, one budget of confirmations for a search, and the arguments it refuses."""

from __future__ import annotations

import pytest

from pytest_xgen.checks import invariance
from pytest_xgen.checks.confirmation import SearchBudget
from pytest_xgen.errors import XgenConfigError
from tests.options import check_context
from tests.unit.test_invariance import BASE, Scripted

MOVED = BASE + " Sam reads."


def flips(model: str, perturbed: bool, sample: int, rng: object) -> int:
    return 9 if perturbed else 7


def tutor(prompt: str) -> str:
    return "3 + 4 = 7.\nAnswer: 7" if prompt == BASE else "3 + 5 = 8.\nAnswer: 8"


def test_xgen_invariant_plans_its_calls_and_decides_the_test() -> None:
    ask = Scripted(flips)
    ctx = check_context(ask, evaluators=("a",), samples="auto")
    ran = invariance.run_check(ctx, BASE, MOVED, 7)
    result = ran.value
    assert list(ran.checks) == [(result, True)]
    assert ctx.progress == [(100, True, False)]
    assert len(ask.calls) == 100 and invariance.planned_calls(result.options) == (100, True)
    assert result.verdict == "fail" and result.flipped == ["a"]
    assert result.expected == 7.0 and result.spec.kind == "number"
    assert result.search_size == 1 and ctx.search_budget is None


def test_a_product_s_explanations_are_replanned_as_they_come() -> None:
    ask = Scripted(lambda m, perturbed, i, rng: 7)
    ctx = check_context(ask, evaluators=("a",), samples="auto")
    result = invariance.run_check(ctx, BASE, MOVED, 7, explanation=tutor).value
    # Nothing known before the product explains; then the check's calls, plus one for
    # each prompt still to explain.
    assert ctx.progress[:3] == [(0, False, False), (101, True, True), (100, True, True)]
    assert result.explanation is not None
    assert result.explanation.origin == f"callable {__name__}.tutor"
    assert result.verdict == "fail"
    assert result.reasons[0].startswith(
        "the explanation's answer changed from 7 on the base prompt to 8 on the perturbed one"
    )
    same = check_context(Scripted(lambda m, perturbed, i, rng: 7), evaluators=("a",))
    invariance.run_check(same, BASE, BASE, 7, explanation=tutor)
    # One prompt: one explanation, and nothing left to explain after it.
    assert same.progress == [(0, False, False), (100, True, True)]


def test_a_search_shares_one_budget_of_confirmations() -> None:
    ctx = check_context(Scripted(flips), evaluators=("a",), samples="auto")
    ctx.search_size = 10
    result = invariance.run_check(ctx, BASE, MOVED, 7).value
    assert isinstance(ctx.search_budget, SearchBudget)
    assert result.search_size == 10
    budget = ctx.search_budget
    invariance.run_check(ctx, BASE, MOVED, 7)
    assert ctx.search_budget is budget


def test_the_arguments_xgen_invariant_refuses() -> None:
    ctx = check_context(Scripted(flips), evaluators=("a",))
    with pytest.raises(
        XgenConfigError, match=r"explanation='text'\): explanation= takes a callable"
    ):
        invariance.run_check(ctx, BASE, MOVED, 7, explanation="text")
    with pytest.raises(XgenConfigError, match="give problem= .* not both"):
        invariance.run_check(ctx, BASE, MOVED, 7, explanation=tutor, problem="q")
