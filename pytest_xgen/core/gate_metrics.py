"""The metrics the upgrade gate compares, one row each, and the unit counts they read.

A test's ``metrics.units`` in the JSON report holds one :class:`Count` per row of
:data:`COUNTS`: successes of a total, pooled over the test's checks of one gated kind (the
kind's ``units`` function in :data:`pytest_xgen.checks.kinds.KINDS` gives a check's
counts). Each :class:`GateMetric` of :data:`GATE_METRICS` says which counts it reads, how a
test's change is tested, which way is better and how its values print. The JSON report
(``report.build``), the gate (``report.gate`` and its modules) and the ``--fail`` option
(``settings.options``) read these tables and name no metric themselves.

The table lives in ``core/`` because it is plain data that the settings layer (below the
reports) must read to check ``--xgen-compare-fail`` names, and the reports read too; it
imports nothing but :mod:`pytest_xgen.core.significance` (its tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pytest_xgen.core.significance import drop_beyond_p, lift_drop_p


def _two_decimals(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


@dataclass(frozen=True)
class Count:
    """One count of a test's units: ``success`` of ``total``, pooled over its checks."""

    name: str
    """Its name in a kind's ``units`` and, for a unit count, its key in ``metrics.units``."""
    success: str
    """The key of its successes: ``agree``, ``correct``, ``followed``."""
    kind: str
    """The gated check kind whose ``units`` function gives it."""
    always: bool
    """Written for every test with metrics (as 0 of 0 when none of its units ran); else
    only when a check of its kind gave it."""
    null_when_empty: bool = False
    """Written as ``null`` rather than 0 of 0 when the test has no such unit (a check
    without an expected answer has no accuracy)."""
    unit: bool = True
    """Whether the gate reads it: one unit per independent draw, in ``metrics.units``.
    The counts of evaluator pairs (which are not independent) are shown, not tested."""
    report: str | None = None
    """The key of ``metrics`` that shows it, if any (the value the checks report)."""
    junit: str | None = None
    """Its JUnit XML property, ``xgen_`` and this (default: its ``report`` key)."""

    @property
    def required(self) -> bool:
        """Whether every report with metrics holds it as a count (never null, never absent)."""
        return self.always and not self.null_when_empty


Counts = tuple[int, ...]
"""A metric's counts in one run: ``(successes, total)`` per count it reads."""


def _rate_drop_p(before: Counts, after: Counts, margin: float) -> float:
    (hits, total), (later, later_total) = before, after
    return drop_beyond_p(hits, total, later, later_total, margin=margin)


def _difference_drop_p(before: Counts, after: Counts, margin: float) -> float:
    a, b, c, d = before
    e, f, g, h = after
    return lift_drop_p((a, b, c, d), (e, f, g, h), margin)


@dataclass(frozen=True)
class DropTest:
    """How one test's change of a metric is tested: one-sided tests of "dropped by more
    than the margin" and of "rose" (a drop of the other run beyond 0)."""

    name: str
    """``rate``: a proportion in two independent samples; ``difference``: the difference
    of two proportions (transfer minus baseline) in two runs."""
    exact: str
    """The test's name at margin 0, as the gate's lines print it."""
    shifted: str
    """Its name at a margin above 0."""
    p: Callable[[Counts, Counts, float], float]
    """``p(before, after, margin)``: the p-value for "dropped by more than ``margin``"."""
    most: float | None = None
    """The largest drop the quantity can show (a rate: 1): a margin at or beyond it has
    p = 1 for "dropped by more than the margin" without testing."""

    def label(self, margin: float) -> str:
        """The name of the test against ``margin``."""
        return self.exact if margin == 0 else self.shifted

    def drop_p(self, before: Counts, after: Counts, margin: float = 0.0) -> float:
        """The one-sided p-value for "dropped by more than ``margin``" from ``before`` to
        ``after``."""
        if self.most is not None and margin >= self.most:
            return 1.0
        return self.p(before, after, margin)


RATE = DropTest("rate", "Fisher", "Farrington-Manning", _rate_drop_p, most=1.0)
DIFFERENCE = DropTest("difference", "Wald", "Wald", _difference_drop_p)


@dataclass(frozen=True)
class GateMetric:
    """One metric the gate compares, ``--fail METRIC:DELTA`` names and the reports show."""

    name: str
    counts: tuple[str, ...]
    """The :data:`COUNTS` it reads: one for a rate; for a difference, the count and the
    one it is taken from (``consistency`` minus ``baseline_consistency``)."""
    test: DropTest
    per_test: bool = True
    """Whether a test that read the same explanations in both runs gets its own drop
    test; ``False`` when such a test cannot change it (the explanations' own
    correctness): it is tested over the suite only."""
    adds: str | None = None
    """What to add for the suite to see a smaller drop, when more samples add no units
    (the gate's advice); ``None``: samples per test or tests."""
    higher_is_better: bool = True
    """Its direction: a drop beyond ``DELTA`` is a regression."""
    always_shown: bool = True
    """Whether the gate's table shows its column when no test measured it."""
    value_text: Callable[[float | None], str] = _two_decimals
    """How one value prints in the gate's lines (``-`` when not measured)."""

    def __post_init__(self) -> None:
        if not self.higher_is_better:
            # The per-test and suite tests are one-sided drop tests: a metric better lower
            # enters as its complement (the share of answers that did not follow).
            raise ValueError(
                f"gate metric {self.name!r}: the gate's tests are drop tests, so a metric must "
                "be better higher; enter its complement (the share that did not follow)"
            )
        need = 2 if self.test is DIFFERENCE else 1
        if len(self.counts) != need:
            raise ValueError(
                f"gate metric {self.name!r}: a {self.test.name} reads {need} count(s); got "
                f"{len(self.counts)}: {', '.join(self.counts)}"
            )


COUNTS: tuple[Count, ...] = (
    # Every evaluator pair of a check (not independent): the consistency the checks report.
    Count("consistency_pairs", "agree", "transfer", True, unit=False, report="consistency"),
    Count(
        "baseline_consistency_pairs",
        "agree",
        "transfer",
        True,
        unit=False,
        report="baseline_consistency",
    ),
    # One unit per sample whose evaluators all agree.
    Count("consistency", "agree", "transfer", always=True),
    Count("baseline_consistency", "agree", "transfer", always=True),
    # One unit per evaluator answer; one per check's own explanation.
    Count("accuracy", "correct", "transfer", True, null_when_empty=True, report="accuracy"),
    Count("explanation", "correct", "transfer", True, null_when_empty=True, report="explanation"),
    # One unit per answer given an edited explanation: followed the mistake when it left
    # the reference answer.
    Count("follow", "followed", "added_mistake", False, report="follow", junit="follow_rate"),
)
COUNT = {count.name: count for count in COUNTS}

GATE_METRICS: tuple[GateMetric, ...] = (
    GateMetric("consistency", ("consistency",), RATE),
    GateMetric("lift", ("consistency", "baseline_consistency"), DIFFERENCE),
    GateMetric("accuracy", ("accuracy",), RATE),
    GateMetric(
        "explanation",
        ("explanation",),
        RATE,
        per_test=False,
        adds="tests or checks per test (one explanation per check: samples add none)",
        always_shown=False,
    ),
    GateMetric("follow", ("follow",), RATE, always_shown=False),
)
GATE_METRIC = {metric.name: metric for metric in GATE_METRICS}
METRICS = tuple(GATE_METRIC)
"""The names ``--fail METRIC:DELTA`` accepts, in the order the gate shows them."""
