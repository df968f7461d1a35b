"""Agreement between evaluator models: consistency, its breakdown, and accuracy.

For a set of problems and a set of evaluator models, the *consistency* of a condition is the
mean, over all unordered pairs ``(i, j)`` of evaluators, of ``c_ij``: the fraction of problems
on which ``i`` and ``j`` agree. Two answers agree when their normalized values are equal, or
when both are correct (``"1/2"`` and ``"0.5"`` are the same right answer). A problem where
either answer could not be parsed (``None``) says nothing about agreement, so it is left out
of that pair's denominator and counted as excluded instead.

Each pair weighs the same in the mean however many problems it lost to exclusions, so the
mean of the pair rates and the pooled ``agree / total`` can differ; both are reported.

Agreement is not correctness: evaluators that all make the same mistake are perfectly
consistent. :func:`breakdown` therefore splits the counted comparisons into consistent-correct,
consistent-wrong and inconsistent.
"""

from __future__ import annotations

import itertools
import operator
import statistics
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Equal = Callable[[object, object], bool]

# How one comparison of two answers came out. "both_correct" wins over "equal" because two
# right answers agree even when their normalized values differ.
_Outcome = Literal["excluded", "both_correct", "equal", "differ"]


@dataclass(frozen=True)
class PairAgreement:
    """How often two answer lists agree, over the problems where both answers parsed."""

    agree: int
    total: int
    excluded: int

    @property
    def rate(self) -> float | None:
        """``agree / total``, or ``None`` when nothing could be compared."""
        return self.agree / self.total if self.total else None


@dataclass(frozen=True)
class Consistency:
    """Pairwise consistency of a set of models; see the module docstring for the definition.

    ``mean`` and ``std`` (population) are over the pairs that compared at least one problem,
    and are ``None`` when no pair did. ``agree`` and ``total`` are pooled over all pairs.
    """

    mean: float | None
    std: float | None
    pairs: dict[tuple[str, str], PairAgreement]
    excluded: dict[tuple[str, str], int]
    agree: int
    total: int

    def pair(self, a: str, b: str) -> PairAgreement:
        """The agreement of models ``a`` and ``b``, in either order."""
        key = (a, b) if a <= b else (b, a)  # pragma: no mutate (a == b: either order)
        try:
            return self.pairs[key]
        except KeyError:
            raise KeyError(f"no pair ({a!r}, {b!r}); pairs are {sorted(self.pairs)}") from None


@dataclass(frozen=True)
class Breakdown:
    """Counted comparisons split by outcome; the three fractions sum to 1 (or are all 0).

    ``counts`` has the keys ``consistent_correct``, ``consistent_wrong``, ``inconsistent`` and
    ``excluded`` (comparisons left out because either answer was ``None``).
    """

    consistent_correct: float
    consistent_wrong: float
    inconsistent: float
    counts: dict[str, int]


def pairwise_consistency(
    answers: Mapping[str, Sequence[object | None]],
    correct: Mapping[str, Sequence[bool]] | None = None,
    *,
    equal: Equal | None = None,
) -> Consistency:
    """The consistency of ``answers`` (model name -> normalized answer per problem).

    ``correct``, when given, marks each answer right or wrong, so that two different right
    answers count as agreement. ``equal`` compares two normalized answers (default ``==``).
    Raises ``ValueError`` for fewer than two models or lists of different lengths.
    """
    names = _check_models(answers, correct)
    pairs = {
        (a, b): agreement_with(
            answers[a],
            answers[b],
            None if correct is None else correct[a],
            None if correct is None else correct[b],
            equal=equal,
        )
        for a, b in itertools.combinations(names, 2)
    }
    rates = [rate for rate in (p.rate for p in pairs.values()) if rate is not None]
    return Consistency(
        mean=statistics.fmean(rates) if rates else None,
        std=statistics.pstdev(rates) if rates else None,
        pairs=pairs,
        excluded={key: p.excluded for key, p in pairs.items()},
        agree=sum(p.agree for p in pairs.values()),
        total=sum(p.total for p in pairs.values()),
    )


def agreement_with(
    reference: Sequence[object | None],
    answers: Sequence[object | None],
    correct_ref: Sequence[bool] | None = None,
    correct: Sequence[bool] | None = None,
    *,
    equal: Equal | None = None,
) -> PairAgreement:
    """How often ``answers`` agree with a fixed ``reference`` answer per problem.

    With a single evaluator there are no pairs of evaluators to compare, so its answers are
    compared with the generator's instead, under the same rules as :func:`pairwise_consistency`.
    ``correct_ref`` and ``correct`` go together: both or neither.
    """
    counts = Counter(_outcomes(reference, answers, correct_ref, correct, equal))
    agree = counts["both_correct"] + counts["equal"]
    return PairAgreement(agree=agree, total=agree + counts["differ"], excluded=counts["excluded"])


def breakdown(
    answers: Mapping[str, Sequence[object | None]],
    correct: Mapping[str, Sequence[bool]],
    *,
    equal: Equal | None = None,
) -> Breakdown:
    """Split every (pair, problem) comparison into consistent-correct, consistent-wrong and
    inconsistent, leaving out comparisons with a ``None`` answer.

    ``consistent_correct + consistent_wrong`` equals the pooled ``agree / total`` of
    :func:`pairwise_consistency` on the same data.
    """
    names = _check_models(answers, correct)
    counts: Counter[_Outcome] = Counter()
    for a, b in itertools.combinations(names, 2):
        counts.update(_outcomes(answers[a], answers[b], correct[a], correct[b], equal))
    counted = counts["both_correct"] + counts["equal"] + counts["differ"]

    def share(outcome: _Outcome) -> float:
        return counts[outcome] / counted if counted else 0.0

    return Breakdown(
        consistent_correct=share("both_correct"),
        consistent_wrong=share("equal"),
        inconsistent=share("differ"),
        counts={
            "consistent_correct": counts["both_correct"],
            "consistent_wrong": counts["equal"],
            "inconsistent": counts["differ"],
            "excluded": counts["excluded"],
        },
    )


def accuracy(
    correct: Mapping[str, Sequence[bool]],
    answers: Mapping[str, Sequence[object | None]] | None = None,
) -> dict[str, float | None]:
    """The fraction of problems each model got right (``None`` for a model with no problems).

    Unlike consistency, accuracy is over *all* problems: when ``answers`` is given, an answer
    that could not be parsed (``None``) counts as wrong whatever ``correct`` says.
    """
    if answers is not None:
        _check_labels(answers, correct)
    result: dict[str, float | None] = {}
    for name, flags in correct.items():
        hits = sum(
            1
            for k, ok in enumerate(flags)
            if ok and (answers is None or answers[name][k] is not None)
        )
        result[name] = hits / len(flags) if flags else None
    return result


def sample_agreement(
    answers: Mapping[str, Sequence[object | None]],
    correct: Mapping[str, Sequence[bool]] | None = None,
    *,
    equal: Equal | None = None,
) -> list[bool | None]:
    """Per sample index: whether every parsed answer agrees with every other (by the rule of
    :func:`pairwise_consistency`), or ``None`` when fewer than two answers parsed.

    This is the unit the upgrade gate counts: samples are independent draws, while the
    pairs of one sample share its answers and are not independent trials.
    """
    names = _check_models(answers, correct)
    length = len(answers[names[0]])
    found: list[bool | None] = []
    for k in range(length):
        parsed = [n for n in names if answers[n][k] is not None]
        if len(parsed) < 2:
            found.append(None)
            continue
        outcomes = [
            _outcomes(
                [answers[a][k]],
                [answers[b][k]],
                None if correct is None else [correct[a][k]],
                None if correct is None else [correct[b][k]],
                equal,
            )[0]
            for a, b in itertools.combinations(parsed, 2)
        ]
        found.append("differ" not in outcomes)
    return found


def most_common(answers: Sequence[object], equal: Equal = operator.eq) -> tuple[object, bool]:
    """The most common parseable answer (grouped by ``equal``, which need not be hashable
    or transitive: an answer joins the first group whose first answer it equals) and
    whether another answer was as common; a tie goes to the answer seen first.
    ``(None, False)`` without any parseable answer."""
    groups: list[list[object]] = []
    for answer in answers:
        if answer is None:
            continue
        for group in groups:
            if equal(group[0], answer):
                group.append(answer)
                break
        else:
            groups.append([answer])
    if not groups:
        return None, False
    top = max(groups, key=len)  # the first of equally large groups
    return top[0], sum(len(g) == len(top) for g in groups) > 1


def _outcomes(
    first: Sequence[object | None],
    second: Sequence[object | None],
    first_correct: Sequence[bool] | None,
    second_correct: Sequence[bool] | None,
    equal: Equal | None,
) -> list[_Outcome]:
    if len(first) != len(second):
        raise ValueError(f"answer lists differ in length: {len(first)} and {len(second)}")
    if (first_correct is None) != (second_correct is None):
        raise ValueError("correctness must be given for both answer lists or for neither")
    if first_correct is None or second_correct is None:  # pragma: no mutate (both or neither)
        both_correct = [False] * len(first)
    else:
        if len(first_correct) != len(first) or len(second_correct) != len(second):
            raise ValueError(
                f"correctness lists have {len(first_correct)} and {len(second_correct)} "
                f"entries; the answer lists have {len(first)}"
            )
        # The lengths are checked above: "strict" cannot change the outcome.
        pairs = zip(first_correct, second_correct, strict=True)  # pragma: no mutate
        both_correct = [x and y for x, y in pairs]
    same = operator.eq if equal is None else equal
    outcomes: list[_Outcome] = []
    for x, y, right in zip(first, second, both_correct, strict=True):  # pragma: no mutate
        if x is None or y is None:
            outcomes.append("excluded")
        elif right:
            outcomes.append("both_correct")
        else:
            outcomes.append("equal" if same(x, y) else "differ")
    return outcomes


def _check_models(
    answers: Mapping[str, Sequence[object | None]],
    correct: Mapping[str, Sequence[bool]] | None,
) -> list[str]:
    """The sorted model names, after checking there are at least two with aligned lists."""
    names = sorted(answers)
    if len(names) < 2:
        raise ValueError(f"consistency needs at least two models; got {len(names)}: {names}")
    lengths = {name: len(answers[name]) for name in names}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"answer lists must have one entry per problem; lengths are {listed}")
    if correct is not None:
        _check_labels(answers, correct)
    return names


def _check_labels(
    answers: Mapping[str, Sequence[object | None]], correct: Mapping[str, Sequence[bool]]
) -> None:
    if set(correct) != set(answers):
        raise ValueError(
            f"correct names models {sorted(correct)}, but answers names {sorted(answers)}"
        )
    for name in sorted(answers):
        if len(correct[name]) != len(answers[name]):
            raise ValueError(
                f"correct[{name!r}] has {len(correct[name])} entries, "
                f"but answers[{name!r}] has {len(answers[name])}"
            )
