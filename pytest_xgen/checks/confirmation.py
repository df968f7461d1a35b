"""Screen, then confirm: how ``xgen.invariant()`` tests a drop, and the budget of
confirmations one search spends.

A check screens, then confirms:

1. **Screen.** The base prompt's screening samples (10 with ``samples="auto"``, else
   ``samples``; the same recording keys in every example of a search, so a search pays for
   them once) against the perturbed prompt's (5, then 10 when the first 5 suggest a drop,
   with ``samples="auto"``). An evaluator passes the screen when its rate drops by more
   than ``max_drop`` with :func:`~pytest_xgen.core.significance.drop_beyond_p` below
   :data:`SCREEN_P`. The screen spends no error rate: nothing fails on it.
2. **Confirmation.** The evaluators that passed the screen answer both prompts again on
   :data:`CONFIRM_FACTOR` times as many *fresh* samples (sample indices never used before in
   the search, recorded like every call), and the drop beyond ``max_drop`` is tested on
   those alone, against the reference fixed by the screen: ``drop_beyond_p`` at
   ``(1 - confidence) / C``, Holm over the evaluators confirmed together. A search
   (:class:`SearchBudget`) confirms at most ``C`` examples (:data:`CONFIRMATIONS`, 1 outside
   a Hypothesis search); later examples are screened and reported, never failed.

Each confirmation's data are independent of everything that chose it, so under "no drop
beyond ``max_drop``" it fails with probability at most ``(1 - confidence) / C``; at most
``C`` of them run, so a whole search fails falsely with probability at most
``1 - confidence``, whatever the screen does and however Hypothesis shrinks (a shrunk
example spends from the same budget; an example seen again reuses its decision).

The result states the confirmation's power to find a drop of ``max_drop + POWER_DROP`` at
its level, computed exactly from binomials at the base prompt's observed rate. A check is
inconclusive when the confirmation is too small for even a complete flip to be significant.
Greedy single samples (``temperature=0, samples=1``) and ``confidence=None`` keep the exact
comparison: sample *i* against sample *i*, at least ``min_invariance`` of them equal.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from pytest_xgen.checks import data
from pytest_xgen.checks.conditions import sample_count
from pytest_xgen.core import metrics, significance
from pytest_xgen.core.answers import AnswerSpec
from pytest_xgen.settings.marker import TransferOptions

SCREEN_P = 0.3
"""An evaluator passes the screen when the drop beyond ``max_drop`` has a p-value below this
on the screening samples (with ``samples="auto"``, also what takes the second look)."""
CONFIRMATIONS = 3
"""The most examples one search confirms, each at ``(1 - confidence) / CONFIRMATIONS``."""
CONFIRM_FACTOR = 4
"""Fresh samples per prompt in a confirmation, as a multiple of the screening samples (10 with
``samples="auto"``, so 40): a drop of 0.3 from 0.8 is confirmed at 0.05 / 3 with probability
0.69 at 40 samples (0.55 at 30, 0.33 at 20)."""
POWER_DROP = 0.3
"""The power is stated for a true drop of ``max_drop`` plus this."""


@dataclass
class SearchBudget:
    """The confirmations one search may spend, and what it decided.

    ``size`` confirmations at most, each at ``alpha / size``; confirmation ``j`` asks fresh
    sample indices that no earlier call of the search used. An example seen again (Hypothesis
    replays the failing example, and a shrink may revisit one) reuses its decision without
    spending or calling again."""

    size: int = 1
    spent: int = 0
    next_index: int = 0
    decided: dict[Any, Any] = field(default_factory=dict)
    """The result of each example decided, by its key."""

    @classmethod
    def for_search(cls, search_size: int) -> SearchBudget:
        """The budget of a search of ``search_size`` examples: at most :data:`CONFIRMATIONS`
        confirmations, never more than there are examples."""
        return cls(size=max(1, min(CONFIRMATIONS, search_size)))

    @property
    def left(self) -> int:
        return self.size - self.spent

    def take(self, start: int, count: int) -> range:
        """Spend one confirmation: ``count`` sample indices never used before (from ``start``,
        the first index past the screening samples, or past the last confirmation's)."""
        if self.left <= 0:
            raise RuntimeError("no confirmation left in this search")
        first = max(start, self.next_index)
        self.spent += 1
        self.next_index = first + count
        return range(first, first + count)


@dataclass
class ModelTest:
    """One evaluator's screen and, if it passed, its confirmation."""

    measure: str
    """``"accuracy"`` or ``"the base's most common answer"``."""
    base_rate: float
    perturbed_rate: float
    p_value: float
    """The screen's p-value for a drop beyond ``max_drop``."""
    noise_floor: float | None
    """How often two base samples agree with each other (``None``: fewer than two)."""
    reference: Any = None
    """The reference answer (without ``expected``): the base screening samples' most common."""
    tie: bool = False
    """Whether the reference tied with another answer (the first seen was taken)."""
    screened: bool = False
    """Whether the screen suggested a drop beyond ``max_drop``."""
    confirmation: tuple[float, float, float] | None = None
    """``(base_rate, perturbed_rate, p)`` on fresh samples, ``p`` Holm-adjusted over the
    evaluators confirmed together; ``None`` when not confirmed for."""
    power: float | None = None
    """The confirmation's power to find a drop of ``max_drop + POWER_DROP`` from the observed
    base rate at its level (``None``: the base rate leaves no room for such a drop)."""
    note: str = ""
    failed: bool = False

    @property
    def drop(self) -> float:
        return self.base_rate - self.perturbed_rate

    def describe(self) -> str:
        floor = "-" if self.noise_floor is None else f"{self.noise_floor:.2f}"
        text = f"{self.base_rate:.2f} -> {self.perturbed_rate:.2f} (p={self.p_value:.3g}), {floor}"
        if self.confirmation is not None:
            b, a, p = self.confirmation
            again = "confirmed" if self.failed else "not confirmed"
            text += f"; fresh samples {b:.2f} -> {a:.2f} (p={p:.3g}) {again}"
        elif self.note:
            text += f"; {self.note}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            **asdict(self),
            "reference": data.jsonable(self.reference),
            "confirmation": None if self.confirmation is None else list(self.confirmation),
        }


def screen_sizes(options: TransferOptions) -> tuple[int, int, int]:
    """``(base, first, most)``: the base prompt's screening samples, the perturbed prompt's
    first look, and its most (a second look with ``samples="auto"``)."""
    count = sample_count(options)
    if options.samples == "auto":
        return 2 * count, count, 2 * count
    return count, count, count


def confirmation_size(options: TransferOptions) -> int:
    """Fresh samples per prompt and evaluator in a confirmation."""
    return CONFIRM_FACTOR * screen_sizes(options)[2]


def smallest_p(options: TransferOptions, samples: int) -> float:
    """The smallest p-value a confirmation can give with ``samples`` per prompt: every fresh
    base answer a hit, no perturbed one."""
    size = confirmation_size(replace(options, samples=samples))
    return significance.drop_beyond_p(size, size, 0, size, options.tolerated_drop)


def suggests(test: ModelTest, margin: float) -> bool:
    return test.drop > margin + 1e-9 and test.p_value < SCREEN_P


@functools.lru_cache(maxsize=256)
def confirmation_power(base_rate: float, size: int, level: float, margin: float) -> float | None:
    """The probability that a confirmation of ``size`` samples per prompt shows a drop beyond
    ``margin`` at ``level`` when the true rate falls from ``base_rate`` by ``margin +
    POWER_DROP`` (to 0 when it cannot fall that far): exact, from two binomials.
    ``None`` when ``base_rate`` is not above ``margin``."""
    if base_rate <= margin + 1e-9:
        return None
    from scipy.stats import binom

    after = max(0.0, base_rate - margin - POWER_DROP)
    region = rejection_region(size, level, margin)
    base = binom.pmf(range(size + 1), size, base_rate)
    below = binom.cdf(region, size, after)  # 0 where the region is empty (-1)
    return min(1.0, float(sum(b * c for b, c in zip(base, below, strict=True))))


@functools.lru_cache(maxsize=64)
def rejection_region(size: int, level: float, margin: float) -> tuple[int, ...]:
    """Per base count ``x`` (0..size), the largest perturbed count ``y`` at which
    ``drop_beyond_p(x, size, y, size, margin) < level`` (-1: none). The p-value grows with
    ``y``, so these ``y`` and all below are exactly the rejections."""
    region = []
    for x in range(size + 1):
        low, high = -1, size  # p(low) < level (or low == -1); p(high + 1) >= level
        while low < high:
            mid = (low + high + 1) // 2
            if significance.drop_beyond_p(x, size, mid, size, margin) < level:
                low = mid
            else:
                high = mid - 1
        region.append(low)
    return tuple(region)


def drop_test(
    before: list[Any],
    after: list[Any],
    spec: AnswerSpec,
    expected: Any,
    margin: float,
    *,
    reference: Any = None,
    fixed: bool = False,
) -> ModelTest:
    """The drop beyond ``margin`` from ``before`` to ``after``: of right answers with
    ``expected``, else of ``reference`` (the most common of ``before`` unless ``fixed``)."""
    floor = self_agreement(before, spec)
    if expected is not None:
        hits_before = sum(spec.correct(a, expected) for a in before)
        hits_after = sum(spec.correct(a, expected) for a in after)
        measure, tie = "accuracy", False
    else:
        tie = False
        if not fixed:
            reference, tie = metrics.most_common(before, spec.equal)

        def hits(answers: list[Any]) -> int:
            if reference is None:
                return 0
            return sum(a is not None and spec.equal(a, reference) for a in answers)

        hits_before, hits_after = hits(before), hits(after)
        measure = "the base's most common answer"
    p = significance.drop_beyond_p(hits_before, len(before), hits_after, len(after), margin)
    return ModelTest(
        measure,
        hits_before / len(before) if before else 0.0,
        hits_after / len(after) if after else 0.0,
        p,
        floor,
        reference=reference,
        tie=tie,
    )


def self_agreement(answers: list[Any], spec: AnswerSpec) -> float | None:
    pairs = list(itertools.combinations(answers, 2))
    if not pairs:
        return None
    return sum(a is not None and b is not None and spec.equal(a, b) for a, b in pairs) / len(pairs)
