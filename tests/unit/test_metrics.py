"""Consistency, its breakdown and accuracy, checked against hand-computed examples."""

from __future__ import annotations

import math

import pytest

from pytest_xgen.core.metrics import (
    PairAgreement,
    accuracy,
    agreement_with,
    breakdown,
    pairwise_consistency,
    sample_agreement,
)

# Three evaluators, four problems. Answers are normalized values; "1/2" and "0.5" stand for
# one right answer that normalization did not unify.
#
#   problem   a        b        c        right answer
#   0         "4"  ✓   "4"  ✓   "4"  ✓   4
#   1         "1/2" ✓  "0.5" ✓  "1/2" ✓  1/2
#   2         "3"  ✗   "3"  ✗   "7"  ✗   5
#   3         "9"  ✓   None ✗   "9"  ✓   9        (b's reply could not be parsed)
ANSWERS: dict[str, list[object | None]] = {
    "a": ["4", "1/2", "3", "9"],
    "b": ["4", "0.5", "3", None],
    "c": ["4", "1/2", "7", "9"],
}
CORRECT = {
    "a": [True, True, False, True],
    "b": [True, True, False, False],
    "c": [True, True, False, True],
}


def test_three_models_by_hand() -> None:
    # (a, b): 0 equal, 1 both right, 2 equal (both wrong), 3 excluded    -> 3/3 = 1
    # (a, c): 0 equal, 1 equal, 2 differ, 3 equal                         -> 3/4 = 0.75
    # (b, c): 0 equal, 1 both right, 2 differ, 3 excluded                 -> 2/3
    # mean = (1 + 3/4 + 2/3) / 3 = (36 + 27 + 24) / 108 = 29/36
    # deviations from the mean: 7/36, -2/36, -5/36
    # population variance = (49 + 4 + 25) / 36² / 3 = 26/1296, std = sqrt(26)/36
    result = pairwise_consistency(ANSWERS, CORRECT)

    assert result.pairs == {
        ("a", "b"): PairAgreement(agree=3, total=3, excluded=1),
        ("a", "c"): PairAgreement(agree=3, total=4, excluded=0),
        ("b", "c"): PairAgreement(agree=2, total=3, excluded=1),
    }
    # The None is excluded from exactly the pairs that involve b.
    assert result.excluded == {("a", "b"): 1, ("a", "c"): 0, ("b", "c"): 1}
    assert result.mean == pytest.approx(29 / 36)
    assert result.std == pytest.approx(math.sqrt(26) / 36)
    assert (result.agree, result.total) == (8, 10)


def test_different_right_answers_agree_only_with_correctness() -> None:
    # Without correctness, problem 1 of (a, b) is "1/2" vs "0.5": a disagreement.
    # (a, b): 0 equal, 1 differ, 2 equal, 3 excluded -> 2/3
    without = pairwise_consistency(ANSWERS)
    assert without.pair("a", "b") == PairAgreement(agree=2, total=3, excluded=1)
    with_correct = pairwise_consistency(ANSWERS, CORRECT)
    assert with_correct.pair("a", "b") == PairAgreement(agree=3, total=3, excluded=1)


def test_pair_lookup_is_order_insensitive() -> None:
    result = pairwise_consistency(ANSWERS, CORRECT)
    assert result.pair("c", "a") is result.pairs[("a", "c")]
    assert result.pair("a", "c").rate == 0.75
    with pytest.raises(KeyError, match="'a', 'z'"):
        result.pair("a", "z")


def test_mean_of_pair_rates_differs_from_pooled_rate() -> None:
    # y could parse only problem 0, so both of its pairs compare a single problem.
    #
    #   problem   x     y      z
    #   0         "A"   "A"    "A"
    #   1         "B"   None   "B"
    #   2         "C"   None   "C"
    #   3         "D"   None   "E"
    #
    # (x, y): 1/1 = 1, 3 excluded;  (x, z): 3/4;  (y, z): 1/1 = 1, 3 excluded
    # mean of pair rates = (1 + 3/4 + 1) / 3 = 11/12: every pair weighs the same
    # pooled = (1 + 3 + 1) / (1 + 4 + 1) = 5/6: the pair with more comparisons weighs more
    # std: deviations 1/12, -2/12, 1/12 -> variance 6/144 / 3 = 2/144 -> sqrt(2)/12
    answers: dict[str, list[object | None]] = {
        "x": ["A", "B", "C", "D"],
        "y": ["A", None, None, None],
        "z": ["A", "B", "C", "E"],
    }
    result = pairwise_consistency(answers)

    assert result.mean == pytest.approx(11 / 12)
    assert result.agree / result.total == pytest.approx(5 / 6)
    assert result.std == pytest.approx(math.sqrt(2) / 12)
    assert result.excluded == {("x", "y"): 3, ("x", "z"): 0, ("y", "z"): 3}


def test_pairs_with_nothing_to_compare_are_left_out_of_the_mean() -> None:
    # (p, q) never both parse, so it has no rate; the mean is over (p, r) and (q, r) alone.
    # (p, r): problem 0 equal -> 1/1;  (q, r): problem 1 differs -> 0/1
    answers: dict[str, list[object | None]] = {
        "p": [1, None],
        "q": [None, 2],
        "r": [1, 3],
    }
    result = pairwise_consistency(answers)
    assert result.pair("p", "q") == PairAgreement(agree=0, total=0, excluded=2)
    assert result.pair("p", "q").rate is None
    assert result.mean == pytest.approx(0.5)
    assert result.std == pytest.approx(0.5)

    nothing = pairwise_consistency({"p": [None], "q": [1]})
    assert (nothing.mean, nothing.std, nothing.total) == (None, None, 0)


def test_custom_equality() -> None:
    # 0.1 + 0.2 is not == 0.3 in floating point, but it is the same answer.
    def close(x: object, y: object) -> bool:
        return isinstance(x, float) and isinstance(y, float) and math.isclose(x, y)

    answers: dict[str, list[object | None]] = {"a": [0.1 + 0.2, 1.0], "b": [0.3, 2.0]}
    assert pairwise_consistency(answers).mean == 0.0
    assert pairwise_consistency(answers, equal=close).mean == 0.5


def test_breakdown_sums_to_one_and_matches_pooled_consistency() -> None:
    # Per comparison, from the table at the top:
    # (a, b): 0 both right, 1 both right, 2 equal but wrong, 3 excluded
    # (a, c): 0 both right, 1 both right, 2 differ,          3 both right
    # (b, c): 0 both right, 1 both right, 2 differ,          3 excluded
    # consistent-correct 7, consistent-wrong 1, inconsistent 2 (of 10), excluded 2
    result = breakdown(ANSWERS, CORRECT)

    assert result.counts == {
        "consistent_correct": 7,
        "consistent_wrong": 1,
        "inconsistent": 2,
        "excluded": 2,
    }
    assert result.consistent_correct == pytest.approx(0.7)
    assert result.consistent_wrong == pytest.approx(0.1)
    assert result.inconsistent == pytest.approx(0.2)
    assert result.consistent_correct + result.consistent_wrong + result.inconsistent == (
        pytest.approx(1.0)
    )
    pooled = pairwise_consistency(ANSWERS, CORRECT)
    assert result.consistent_correct + result.consistent_wrong == pytest.approx(
        pooled.agree / pooled.total
    )


def test_breakdown_with_nothing_counted_is_all_zero() -> None:
    result = breakdown({"a": [None], "b": ["1"]}, {"a": [False], "b": [True]})
    assert (result.consistent_correct, result.consistent_wrong, result.inconsistent) == (0, 0, 0)
    assert result.counts["excluded"] == 1


def test_accuracy_counts_an_unparseable_answer_as_wrong() -> None:
    # The grader marked b's problem 1 right from the raw text, but its answer could not be
    # parsed: with the answers given it counts as wrong (1/3), without them as right (2/3).
    correct = {"a": [True, True, False], "b": [True, True, False], "e": []}
    answers: dict[str, list[object | None]] = {"a": [1, 2, 3], "b": [1, None, 3], "e": []}
    assert accuracy(correct) == {"a": pytest.approx(2 / 3), "b": pytest.approx(2 / 3), "e": None}
    assert accuracy(correct, answers) == {
        "a": pytest.approx(2 / 3),
        "b": pytest.approx(1 / 3),
        "e": None,
    }


def test_accuracy_checks_answers_match() -> None:
    with pytest.raises(ValueError, match="correct names models"):
        accuracy({"a": [True]}, {"b": [1]})
    with pytest.raises(ValueError, match=r"correct\['a'\] has 1 entries, but answers\['a'\] has 2"):
        accuracy({"a": [True]}, {"a": [1, 2]})


def test_agreement_with_a_reference_for_one_evaluator() -> None:
    # One evaluator's answers against the generator's answer per problem:
    #
    #   problem   generator   evaluator   outcome
    #   0         "A" ✓       "A" ✓       equal
    #   1         "B" ✓       "B'" ✓      both right: agree
    #   2         "C" ✓       None        excluded
    #   3         "D" ✗       "D" ✗       equal (both wrong)
    #   4         "E" ✓       "F" ✗       differ
    #
    # agree 3 of 4 counted, 1 excluded; without correctness problem 1 differs: 2 of 4.
    reference = ["A", "B", "C", "D", "E"]
    evaluator: list[object | None] = ["A", "B'", None, "D", "F"]
    correct_ref = [True, True, True, False, True]
    correct = [True, True, False, False, False]

    result = agreement_with(reference, evaluator, correct_ref, correct)
    assert result == PairAgreement(agree=3, total=4, excluded=1)
    assert result.rate == 0.75
    assert agreement_with(reference, evaluator) == PairAgreement(agree=2, total=4, excluded=1)


def test_agreement_with_errors() -> None:
    with pytest.raises(ValueError, match="differ in length: 2 and 1"):
        agreement_with(["A", "B"], ["A"])
    with pytest.raises(ValueError, match="both answer lists or for neither"):
        agreement_with(["A"], ["A"], [True])
    with pytest.raises(ValueError, match="correctness lists have 1 and 2 entries"):
        agreement_with(["A", "B"], ["A", "B"], [True], [True, False])


def test_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="lengths are a=2, b=1"):
        pairwise_consistency({"a": ["1", "2"], "b": ["1"]})


@pytest.mark.parametrize("answers", [{"a": ["1"]}, {}])
def test_fewer_than_two_models(answers: dict[str, list[object | None]]) -> None:
    with pytest.raises(ValueError, match="consistency needs at least two models; got"):
        pairwise_consistency(answers)


def test_mismatched_correct() -> None:
    answers: dict[str, list[object | None]] = {"a": ["1", "2"], "b": ["1", "2"]}
    with pytest.raises(ValueError, match=r"correct names models \['a'\], but answers names"):
        pairwise_consistency(answers, {"a": [True, True]})
    with pytest.raises(ValueError, match=r"correct\['b'\] has 1 entries"):
        breakdown(answers, {"a": [True, True], "b": [True]})


def test_sample_agreement_asks_whether_every_parsed_answer_agrees() -> None:
    # Per problem of the table at the top: 0 all equal; 1 "1/2" vs "0.5" differ unless
    # both are right; 2 c differs; 3 b did not parse, a and c agree.
    assert sample_agreement(ANSWERS) == [True, False, False, True]
    assert sample_agreement(ANSWERS, CORRECT) == [True, True, False, True]


def test_sample_agreement_needs_two_parsed_answers_and_uses_the_rule_given() -> None:
    answers: dict[str, list[object | None]] = {
        "a": [None, "1", 1.0, "x"],
        "b": [None, None, 1.04, "x"],
        "c": ["2", None, 0.98, "x"],
    }
    assert sample_agreement(answers) == [None, None, False, True]

    def close(x: object, y: object) -> bool:
        if isinstance(x, float) and isinstance(y, float):
            return abs(x - y) < 0.1
        return x == y

    assert sample_agreement(answers, equal=close) == [None, None, True, True]
    with pytest.raises(ValueError, match="at least two models"):
        sample_agreement({"a": ["1"]})
    with pytest.raises(ValueError, match="correct names models"):
        sample_agreement(answers, {"a": [True] * 4})


def test_breakdown_uses_the_rule_given() -> None:
    answers: dict[str, list[object | None]] = {"a": [1.0, 2.0], "b": [1.05, 5.0]}
    correct = {"a": [False, False], "b": [False, False]}
    assert breakdown(answers, correct).counts["consistent_wrong"] == 0
    near = breakdown(answers, correct, equal=lambda x, y: abs(x - y) < 0.1)  # type: ignore[operator]
    assert near.counts == {
        "consistent_correct": 0,
        "consistent_wrong": 1,
        "inconsistent": 1,
        "excluded": 0,
    }


def test_correctness_for_one_answer_list_only_is_refused() -> None:
    with pytest.raises(ValueError) as raised:
        agreement_with(["1"], ["1"], [True], None)
    assert str(raised.value) == "correctness must be given for both answer lists or for neither"
