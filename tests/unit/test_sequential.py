"""Group-sequential boundaries of the transfer check: exact against enumeration and scipy,
their error rates, and ``samples="auto"`` driven through ``check()``."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from pytest_xgen.checks import looks, transfer
from pytest_xgen.checks.transfer_report import TransferResult
from pytest_xgen.core import prompts, sequential
from pytest_xgen.core.answers import answer_spec
from pytest_xgen.core.sequential import Boundary, boundaries, outcome, plan, spending
from pytest_xgen.settings.marker import KEYWORDS, TransferOptions
from tests.scripted import Call, ScriptedAsk


def enumerate_paths(
    bounds: tuple[Boundary, ...], p: float
) -> tuple[float, float, list[float], list[float]]:
    """P(pass), P(fail) and their totals by each look, summing every sequence of
    agreements (2**n of them) that the boundaries stop or let through."""
    last = bounds[-1].samples
    passed = [0.0] * len(bounds)
    failed = [0.0] * len(bounds)
    for flags in itertools.product((0, 1), repeat=last):
        weight = 1.0
        for flag in flags:
            weight *= p if flag else 1 - p
        for k, bound in enumerate(bounds):
            verdict = bound.judge(sum(flags[: bound.samples]))
            if verdict == "pass":
                passed[k] += weight
                break
            if verdict == "fail":
                failed[k] += weight
                break
    by_pass = list(itertools.accumulate(passed))
    by_fail = list(itertools.accumulate(failed))
    return by_pass[-1], by_fail[-1], by_pass, by_fail


SMALL = (3, 6, 9, 12)


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8])
def test_the_dynamic_programme_matches_an_enumeration_of_every_path(threshold: float) -> None:
    passes, fails = spending(SMALL, 0.1)
    bounds = boundaries(threshold, SMALL, passes, fails)
    total_pass, total_fail, by_pass, by_fail = enumerate_paths(bounds, threshold)
    # Every look keeps its budget, at p = threshold ...
    for k in range(len(SMALL)):
        assert by_pass[k] <= passes[k] + 1e-12
        assert by_fail[k] <= fails[k] + 1e-12
    # ... the forward computation agrees with the enumeration, at any p ...
    for p in (threshold, 0.3, 0.95):
        expected = enumerate_paths(bounds, p)
        found = outcome(bounds, p)
        assert found[0] == pytest.approx(expected[0], abs=1e-12)
        assert found[1] == pytest.approx(expected[1], abs=1e-12)
    assert outcome(bounds, threshold)[:2] == pytest.approx((total_pass, total_fail), abs=1e-12)
    # ... and each boundary is the widest the budget allows: one step wider overspends.
    for k, bound in enumerate(bounds):
        if bound.pass_at > bound.fail_at + 1:
            wider = list(bounds)
            wider[k] = Boundary(bound.samples, bound.pass_at - 1, bound.fail_at)
            if bound.pass_at - 1 > bound.fail_at and bound.pass_at - 1 <= bound.samples:
                assert enumerate_paths(tuple(wider), threshold)[2][k] > passes[k]
        if bound.fail_at + 1 < bound.pass_at:
            wider = list(bounds)
            wider[k] = Boundary(bound.samples, bound.pass_at, bound.fail_at + 1)
            assert enumerate_paths(tuple(wider), threshold)[3][k] > fails[k]


@pytest.mark.parametrize("n", [1, 5, 10, 17, 20, 30])
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8, 0.9])
def test_one_look_is_the_exact_one_sided_binomial_test(n: int, threshold: float) -> None:
    from scipy.stats import binom

    [bound] = boundaries(threshold, (n,), (0.025,), (0.025,))
    passing = [a for a in range(n + 1) if binom.sf(a - 1, n, threshold) <= 0.025]
    failing = [b for b in range(n + 1) if binom.cdf(b, n, threshold) <= 0.025]
    assert bound.pass_at == (min(passing) if passing else n + 1)
    assert bound.fail_at == (max(failing) if failing else -1)


def test_a_pass_at_0_8_needs_17_straight_agreements() -> None:
    # 0.8**17 = 0.0225 <= 0.025 < 0.8**16 = 0.0281
    assert boundaries(0.8, (16,), (0.025,), (0.025,))[0].pass_at == 17  # none can pass
    assert boundaries(0.8, (17,), (0.025,), (0.025,))[0].pass_at == 17


def test_the_default_design_holds_its_rates_at_every_true_consistency() -> None:
    bounds = plan(0.8, 0.025, [5], looks.AUTO_LOOKS)
    assert [(b.samples, b.pass_at, b.fail_at) for b in bounds] == [
        (5, 6, 1),
        (10, 11, 4),
        (15, 16, 7),
        (20, 20, 11),
        (25, 25, 14),
        (30, 29, 18),
    ]

    def give_up(look: int, agreements: float) -> bool:
        return looks.unlikely(bounds, look, agreements)

    at = outcome(bounds, 0.8)
    assert at[0] <= 0.025 and at[1] <= 0.025
    assert at[0] == pytest.approx(0.01772, abs=1e-5)
    assert at[1] == pytest.approx(0.02432, abs=1e-5)
    grid = [0.3 + k / 100 for k in range(71)]
    for stop in (None, give_up):
        rates = [outcome(bounds, p, give_up=stop)[:2] for p in grid]
        below = [passed for p, (passed, _) in zip(grid, rates, strict=True) if p < 0.8]
        above = [failed for p, (_, failed) in zip(grid, rates, strict=True) if p >= 0.8]
        assert max(below) <= 0.025 and max(above) <= 0.025
        # the monotonicity the bound rests on
        assert below == sorted(below) and above == sorted(above, reverse=True)
    # Giving up never turns a verdict the other way, and saves samples.
    for p in (0.6, 0.8, 0.9):
        kept, stopped = outcome(bounds, p), outcome(bounds, p, give_up=give_up)
        assert stopped[0] <= kept[0] and stopped[1] <= kept[1] and stopped[2] < kept[2]


def test_counts_with_left_out_samples_keep_the_budget() -> None:
    passes, fails = spending((5, 10, 15), 0.025)
    bounds = boundaries(0.7, (4, 9, 13), passes, fails)
    assert [b.samples for b in bounds] == [4, 9, 13]
    passed, failed, _, _ = enumerate_paths(bounds, 0.7)
    assert passed <= 0.025 + 1e-12 and failed <= 0.025 + 1e-12
    with pytest.raises(ValueError, match="must not decrease"):
        boundaries(0.7, (5, 4), passes, fails)


def test_thresholds_at_the_ends() -> None:
    assert boundaries(0.0, (5, 10), (0.01, 0.02), (0.01, 0.02)) == (
        Boundary(5, 0, -1),
        Boundary(10, 0, -1),
    )
    # Nothing is above a threshold of 1: no pass; any disagreement fails.
    assert boundaries(1.0, (5,), (0.025,), (0.025,)) == (Boundary(5, 6, 4),)


def test_boundaries_are_cached() -> None:
    boundaries.cache_clear()
    plan(0.75, 0.025, [5, 10], looks.AUTO_LOOKS)
    plan(0.75, 0.025, [5, 10], looks.AUTO_LOOKS)
    assert boundaries.cache_info().hits == 1


def test_the_exact_interval_is_clopper_pearson() -> None:
    from scipy.stats import binomtest

    for k, n in [(0, 5), (4, 5), (5, 5), (13, 20), (29, 30)]:
        expected = binomtest(k, n).proportion_ci(0.9, method="exact")
        low, high = sequential.exact_interval(k, n, 0.9)
        assert (low, high) == pytest.approx((expected.low, expected.high), abs=1e-9)
    assert sequential.exact_interval(3, 0, 0.95) == (0.0, 1.0)
    # A pooled count between two whole ones lies between their bounds.
    assert (
        sequential.exact_interval(3, 5, 0.95)[0]
        < sequential.exact_interval(3.5, 5, 0.95)[0]
        < sequential.exact_interval(4, 5, 0.95)[0]
    )


def test_samples_to_decide_is_the_first_fixed_count_that_clears() -> None:
    from scipy.stats import binom

    needed = sequential.samples_to_decide(0.9, 0.8, 0.025, 21)
    assert needed is not None

    def decides(n: int) -> bool:
        x = 0.9 * n
        return bool(binom.sf(-(-x // 1) - 1, n, 0.8) <= 0.025)

    assert decides(needed) and not any(decides(n) for n in range(21, needed))
    # half agreeing fails 0.8 at 9 samples: P(Binomial(9, 0.8) <= 4) = 0.0196, while
    # P(Binomial(8, 0.8) <= 4) = 0.056 and P(Binomial(7, 0.8) <= 3) = 0.033
    assert sequential.samples_to_decide(0.5, 0.8, 0.025, 6) == 9
    assert binom.cdf(4, 9, 0.8) <= 0.025 < binom.cdf(3, 7, 0.8)
    assert sequential.samples_to_decide(0.8, 0.8, 0.025, 21) is None


def test_chance_to_decide_is_zero_when_no_verdict_is_reachable() -> None:
    bounds = plan(0.8, 0.025, [5, 10, 15, 20], looks.AUTO_LOOKS)
    # 19 of 20: a pass needs 25 of 25 next (impossible), then 29 of 30 (possible).
    assert sequential.chance_to_decide(bounds, 3, 19) > 0
    assert sequential.chance_to_decide(bounds, 5, 29) == 0  # the last look: nothing later
    # 15 of 20: 29 of 30 is out of reach; a fail needs 18 or fewer of 30, unlikely.
    assert sequential.chance_to_decide(bounds, 3, 15) < looks.AUTO_GIVE_UP


# -- samples="auto" through check() ---------------------------------------------------------


def options(**changes: Any) -> TransferOptions:
    values = {name: kw.default for name, kw in KEYWORDS.items() if name != "prompts"}
    values.update(generator="gen", evaluators=("a", "b"), temperature=0.7)
    values.update(changes)
    return TransferOptions(**values)


def scripted(transfer_flags: list[bool], baseline_flags: list[bool]) -> ScriptedAsk:
    """Evaluator a answers 7; b answers 7 on a sample whose flag is set, else 8."""

    def reply(call: Call) -> str:
        if call.model == "gen":
            return "1. 3 + 4 = 7.\nAnswer: 7"
        flags = transfer_flags if call.system == prompts.TRANSFER_SYSTEM else baseline_flags
        return f"Answer: {7 if call.model == 'a' or flags[call.sample % len(flags)] else 8}"

    return ScriptedAsk(reply)


def run(ask: Any, **changes: Any) -> TransferResult:
    return transfer.check(
        "q", options(**changes), answer_spec("number"), None, ask, lambda t, s: s.extract(t)
    )


def test_a_clear_fail_stops_at_the_first_look() -> None:
    ask = scripted([True, False, False, False, False], [False])
    result = run(ask)
    assert (result.verdict, result.samples_used, result.stopped) == ("fail", 5, "verdict")
    assert len(ask.calls) == 1 + 2 * 2 * 5
    assert result.reasons[0] == (
        "consistency 0.20 vs min_consistency 0.8 (1 of 5 samples agree; 1 or fewer fail at 5)"
    )
    assert [look.to_dict() for look in result.looks] == [
        {"samples": 5, "scored": 5, "agreements": 1.0, "pass_at": 6, "fail_at": 1}
    ]
    data = result.to_dict()
    assert (data["stopped"], data["samples_used"], len(data["looks"])) == ("verdict", 5, 1)
    valid(data)


def valid(data: dict[str, Any]) -> None:
    """``data`` is a transfer check as report.schema.json describes it."""
    import jsonschema

    from pytest_xgen.settings.config import load_schema

    schema = load_schema("report.schema.json")
    check = {"$defs": schema["$defs"], "$ref": "#/$defs/check"}
    jsonschema.Draft202012Validator(check).validate(data)
    broken = {**data, "stopped": "tired"}
    assert not jsonschema.Draft202012Validator(check).is_valid(broken)


def test_a_clear_pass_takes_20_samples_and_stops_sampling_the_baseline_once_the_lift_passed() -> (
    None
):
    ask = scripted([True], [False])
    result = run(ask)
    assert (result.verdict, result.samples_used, result.stopped) == ("pass", 20, "verdict")
    # The lift passed at the first look (1.0 against 0.0, its lower bound at one-sided
    # 0.025 * 5/30); the three rounds after it ask for transfer samples only.
    assert len(result.baseline.answers["a"]) == 5
    assert len(ask.calls) == 1 + 2 * 2 * 5 + 3 * 2 * 5
    assert len(ask.calls) <= transfer.planned_calls(options())[0] == 1 + 2 * 2 * 30
    assert result.notes == [
        "samples='auto': stopped after 20 of at most 30 samples, the verdict reached on 95% "
        "sequential boundaries",
        "samples='auto': the lift passed after 5 samples; later rounds sampled the transfer "
        "condition only",
    ]
    assert result.lift_interval is not None and result.lift_interval[0] >= 0
    valid(result.to_dict())


def test_an_undecidable_check_gives_up_and_says_what_would_decide_it() -> None:
    flags = [True, True, True, False]  # 4 of 5, then 8 of 10: at min_consistency 0.8
    result = run(scripted(flags, [False]))
    assert result.verdict == "inconclusive" and result.stopped == "unlikely"
    assert result.samples_used == 10
    assert result.reasons == [
        "consistency 0.80 vs min_consistency 0.8 (8 of 10 samples agree; at 10 samples none "
        "can pass, 4 or fewer fail): no verdict at 95%; samples='auto' stopped after 10 "
        "samples, a verdict by 30 having become unlikely; at this rate no fixed samples up to "
        "1000 would decide it (too close to min_consistency)"
    ]
    flags = [True] * 9 + [False]  # 18 of 20: a pass by 30 (29 of 30) became unlikely
    result = run(scripted(flags, [False]))
    assert (result.verdict, result.stopped, result.samples_used) == ("inconclusive", "unlikely", 20)
    assert result.reasons[0].endswith("at this rate a fixed samples=48 would decide it")
    flags = [True] * 14 + [False]  # 28 of 30: one short of a pass at the last look
    result = run(scripted(flags, [False]))
    assert (result.verdict, result.stopped, result.samples_used) == ("inconclusive", "maximum", 30)
    assert result.reasons == [
        "consistency 0.93 vs min_consistency 0.8 (28 of 30 samples agree; at 30 samples 29 or "
        "more pass, 18 or fewer fail): no verdict at 95% after the maximum of 30 samples of "
        "samples='auto'; at this rate a fixed samples=34 would decide it"
    ]


def test_without_confidence_auto_decides_on_point_estimates_where_it_stopped() -> None:
    result = run(scripted([True, True, True, False], [False]), confidence=None)
    assert result.samples_used == 10 and result.consistency == 0.8
    assert result.verdict == "pass" and result.interval_level is None and result.looks == []
    assert result.notes == [
        "samples='auto': stopped after 10 of at most 30 samples without a verdict at 95%: one "
        "by 30 had become unlikely; decided on point estimates, as samples=10 does",
        "samples='auto': the lift passed after 5 samples; later rounds sampled the transfer "
        "condition only",
    ]


def test_a_fixed_sample_decides_on_one_exact_look() -> None:
    ask = scripted([True], [False])
    result = run(ask, samples=17)
    assert result.verdict == "pass" and len(ask.calls) == 1 + 2 * 2 * 17
    assert [(look.scored, look.pass_at) for look in result.looks] == [(17, 17)]
    assert result.stopped == ""
    valid(result.to_dict())  # one look, "stopped": null
    result = run(scripted([True], [False]), samples=16)
    assert result.verdict == "inconclusive"
    assert result.reasons[0].startswith("consistency 1.00 [0.79, 1.00] vs min_consistency 0.8")
    assert (
        "raise samples (now 16); at this rate a fixed samples=17 would decide it"
        in (result.reasons[0])
    )


def test_the_lift_interval_keeps_its_width_when_every_sample_agrees() -> None:
    # Both conditions agree on every sample: the bootstrap gave [0, 0] here.
    result = run(scripted([True], [True]), samples=10)
    low, high = result.lift_interval or (0.0, 0.0)
    assert low < -0.2 and high > 0.2
    assert result.verdict == "inconclusive"


def test_a_true_lift_of_minus_0_1_rarely_passes() -> None:
    rng = random.Random(0)
    passes = 0
    for _ in range(100):
        moved = [rng.random() < 0.9 for _ in range(30)]
        result = run(scripted(moved, [True]))
        passes += result.verdict == "pass"
    assert passes <= 2
