"""The transfer check's verdict machinery against independent computations: the consistency
interval counts samples (not evaluator pairs), and ``samples="auto"`` stops at the first look
that settles the check, whichever way it goes."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_xgen.checks import conditions, transfer
from pytest_xgen.checks.transfer_report import TransferResult
from pytest_xgen.core import metrics, prompts
from pytest_xgen.core.answers import answer_spec
from pytest_xgen.settings.marker import KEYWORDS, TransferOptions
from tests.scripted import Call, ScriptedAsk

SPEC = answer_spec("number")

# Three evaluators on ten samples: on six all agree (3 of 3 pairs), on three one differs
# (1 of 3 pairs), on one all differ (0 of 3). Pooled pair agreement 21 of 30, so 7 agreeing
# samples of 10: the interval is Clopper-Pearson for 7 of 10, not for 21 of 30.
THREE = {
    "a": [7] * 10,
    "b": [7] * 6 + [7, 7, 8] + [8],
    "c": [7] * 6 + [8, 8, 7] + [9],
}


def options(**changes: Any) -> TransferOptions:
    values = {name: kw.default for name, kw in KEYWORDS.items() if name != "prompts"}
    values.update(generator="gen", evaluators=("a", "b"), temperature=0.7)
    values.update(changes)
    return TransferOptions(**values)


def clopper_pearson(x: float, n: int, confidence: float) -> tuple[float, float]:
    """The exact interval from scipy's beta quantiles (the textbook formula)."""
    from scipy.stats import beta

    tail = (1 - confidence) / 2
    low = 0.0 if x == 0 else float(beta.ppf(tail, x, n - x + 1))
    high = 1.0 if x == n else float(beta.ppf(1 - tail, x + 1, n - x))
    return low, high


def interval_of(answers: dict[str, list[Any]], confidence: float) -> tuple[float, float] | None:
    consistency = metrics.pairwise_consistency(answers, equal=SPEC.equal)
    per_sample = metrics.sample_agreement(answers, equal=SPEC.equal)
    return conditions.consistency_interval(consistency, per_sample, confidence)


@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_the_consistency_interval_counts_samples_not_evaluator_pairs(confidence: float) -> None:
    consistency = metrics.pairwise_consistency(THREE, equal=SPEC.equal)
    assert (consistency.agree, consistency.total) == (21, 30)
    interval = interval_of(THREE, confidence)
    assert interval == pytest.approx(clopper_pearson(7, 10, confidence), abs=1e-9)
    by_pairs = clopper_pearson(21, 30, confidence)
    assert interval is not None and interval[1] - interval[0] > by_pairs[1] - by_pairs[0] + 0.1


def test_a_pooled_count_that_is_not_whole_keeps_the_samples_as_its_size() -> None:
    # One differs on four samples: 22 of 30 pairs, 22/30 * 10 = 7.33 samples.
    answers = {
        "a": [7] * 10,
        "b": [7] * 6 + [8] * 4,
        "c": [7] * 10,
    }
    interval = interval_of(answers, 0.95)
    assert interval == pytest.approx(clopper_pearson(22 / 3, 10, 0.95), abs=1e-9)


def test_samples_with_fewer_than_two_answers_read_are_not_counted() -> None:
    # Two of the ten samples have one answer read: 8 scored samples, 6 of them agree.
    answers: dict[str, list[Any]] = {
        "a": [7] * 10,
        "b": [7] * 6 + [8, 8] + [None, None],
        "c": [7] * 6 + [8, 8] + [None, None],
    }
    consistency = metrics.pairwise_consistency(answers, equal=SPEC.equal)
    assert (consistency.agree, consistency.total) == (20, 24)
    interval = interval_of(answers, 0.95)
    assert interval == pytest.approx(clopper_pearson(20 / 24 * 8, 8, 0.95), abs=1e-9)


def table(answers: dict[str, list[Any]], baseline: dict[str, list[Any]]) -> ScriptedAsk:
    """An ``ask`` whose evaluators answer sample i of the transfer condition with
    ``answers[model][i]`` and of the baseline with ``baseline[model][i]`` (cycling); the
    generator explains with 7. ``calls`` logs every call as ``(model, prompt, sample)``."""

    def reply(call: Call) -> str:
        if call.model == "gen":
            return "1. 3 + 4 = 7.\nAnswer: 7"
        values = (answers if call.system == prompts.TRANSFER_SYSTEM else baseline)[call.model]
        return f"Answer: {values[call.sample % len(values)]}"

    return ScriptedAsk(reply)


def run(ask: Any, expected: Any = None, **changes: Any) -> TransferResult:
    return transfer.check(
        "q", options(**changes), SPEC, expected, ask, lambda text, spec: spec.extract(text)
    )


def test_a_fixed_sample_shows_the_interval_of_its_samples() -> None:
    ask = table(THREE, {"a": [7], "b": [8], "c": [9]})
    result = run(ask, evaluators=("a", "b", "c"), samples=10, confidence=0.95)
    low, high = clopper_pearson(7, 10, 0.95)
    assert result.transfer.interval == pytest.approx((low, high), abs=1e-9)
    assert (round(low, 2), round(high, 2)) == (0.35, 0.93)
    assert result.verdict == "inconclusive"  # 7 of 10: the interval holds 0.8
    assert result.reasons[0].startswith("consistency 0.70 [0.35, 0.93] vs min_consistency 0.8")
    shown = result.to_dict()["conditions"]["transfer"]["interval"]
    assert shown == pytest.approx([low, high], abs=1e-9)


AGREE = {"a": [7], "b": [7]}
SPLIT = {"a": [7], "b": [8]}
ONE_OF_FIVE = {"a": [7] * 5, "b": [7, 8, 8, 8, 8]}


@pytest.mark.parametrize(
    ("transferred", "baseline", "expected", "changes", "reason"),
    [
        # consistency: 1 of 5 samples agree, at or below the fail boundary of the first look
        (ONE_OF_FIVE, SPLIT, None, {}, "consistency 0.20 vs min_consistency 0.8"),
        # lift: both conditions agree on every sample; its upper bound (+0.52) is below 0.6
        (AGREE, AGREE, None, {"min_lift": 0.6}, "lift +0.00 [-0.58, +0.52] vs min_lift 0.6"),
        # require_correct: the evaluators agree on a wrong answer
        (
            {"a": [8], "b": [8]},
            SPLIT,
            7,
            {"require_correct": True},
            "consistent-wrong 1.00 > 0 with require_correct=True",
        ),
    ],
    ids=["consistency", "lift", "require_correct"],
)
def test_a_clear_fail_stops_auto_sampling_at_the_first_look(
    transferred: dict[str, list[Any]],
    baseline: dict[str, list[Any]],
    expected: Any,
    changes: dict[str, Any],
    reason: str,
) -> None:
    ask = table(transferred, baseline)
    result = run(ask, expected, **changes)
    assert result.options.samples == conditions.AUTO
    assert (result.verdict, result.stopped, result.samples_used) == ("fail", "verdict", 5)
    assert any(r.startswith(reason) for r in result.reasons), result.reasons
    # The explanation, then 5 samples per evaluator and condition: no second round.
    assert len(ask.calls) == 1 + 2 * 2 * conditions.AUTO_FIRST
    assert max(sample for _, _, sample in ask.calls) == conditions.AUTO_FIRST - 1
    assert result.notes[-1] == (
        "samples='auto': stopped after 5 of at most 30 samples, the verdict reached on 95% "
        "sequential boundaries"
    )


def test_an_undecided_look_is_not_settled_and_sampling_goes_on() -> None:
    # The other side of the rule: all agree, but a pass needs 17 straight agreements.
    ask = table(AGREE, SPLIT)
    result = run(ask)
    assert (result.verdict, result.stopped, result.samples_used) == ("pass", "verdict", 20)
    assert [look.verdict for look in result.looks] == ["inconclusive"] * 3 + ["pass"]
