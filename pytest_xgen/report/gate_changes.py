"""One test's change of each gate metric between two runs, with its one-sided tests.

Each metric of :data:`pytest_xgen.core.gate_metrics.GATE_METRICS` reads its counts from the
test's ``metrics.units`` in both runs and is tested as its row says (a rate, or a
difference of rates). Values, deltas and p-values come from the counts, never from the
stored ``value`` fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pytest_xgen.core.gate_metrics import COUNT, DIFFERENCE, GATE_METRICS, Counts, GateMetric
from pytest_xgen.core.significance import binomial_variance
from pytest_xgen.report.build import explanation_digests


@dataclass(frozen=True)
class MetricChange:
    """One metric of one test in both runs."""

    metric: str
    before: float | None
    after: float | None
    delta: float | None
    """``after - before``; ``None`` when either side is missing."""
    p_value: float | None
    """One-sided, before adjustment: the p-value for "dropped by more than ``margin``".
    ``None`` when not tested: either side is missing, or the test read a new explanation."""
    significant: bool = False
    """A change shown after the adjustment, either way: a drop beyond ``margin``
    (``regressed``) or a rise (``improved``). Only metrics in the gate's family can be."""
    p_adjusted: float | None = None
    """``p_value`` adjusted for the family (``None`` outside it: an ungated metric)."""
    variance: float = 0.0
    """The sampling variance of ``delta`` from the counts (for the suite-level test)."""
    margin: float = 0.0
    """The margin the drop was tested against: the metric's DELTA when gated, else 0."""
    p_rise: float | None = None
    """One-sided, before adjustment: the p-value for "rose"."""
    p_rise_adjusted: float | None = None
    """``p_rise`` adjusted among the family's rise tests (``None`` outside it)."""
    regressed: bool = False
    """A drop beyond ``margin`` shown: ``p_adjusted < alpha`` and ``delta < -margin``."""

    @property
    def in_family(self) -> bool:
        """Whether the change was judged (adjusted with the gate's family)."""
        return self.p_adjusted is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "before": self.before,
            "after": self.after,
            "delta": self.delta,
            "margin": self.margin,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "p_rise": self.p_rise,
            "p_rise_adjusted": self.p_rise_adjusted,
            "significant": self.significant,
            "regressed": self.regressed,
        }


def changes(
    before: Mapping[str, Any], after: Mapping[str, Any], margins: Mapping[str, float], paired: bool
) -> dict[str, MetricChange]:
    """Every gate metric of one test, from its ``metrics`` in both runs, by name. A metric
    is tested against its margin (0 when not in ``margins``) only when the test is
    ``paired`` and the metric has per-test tests; else its change is shown untested."""
    old, new = before["units"], after["units"]
    return {
        metric.name: change(
            metric, old, new, margins.get(metric.name, 0.0), paired and metric.per_test
        )
        for metric in GATE_METRICS
    }


def counts(units: Mapping[str, Any], metric: GateMetric) -> Counts | None:
    """``(successes, total, ...)`` of the counts ``metric`` reads; ``None`` when one is
    missing or has no units (a zero total)."""
    found: list[int] = []
    for name in metric.counts:
        count = units.get(name)
        if count is None or count["total"] == 0:
            return None
        found += [count[COUNT[name].success], count["total"]]
    return tuple(found)


def value(found: Counts | None, metric: GateMetric) -> float | None:
    """The metric's value from its counts: a rate, or the difference of two; ``None``
    without counts."""
    return None if found is None else _value(found, metric)


def _value(found: Counts, metric: GateMetric) -> float:
    first = found[0] / found[1]
    return first - found[2] / found[3] if metric.test is DIFFERENCE else first


def change(
    metric: GateMetric,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    margin: float,
    tested: bool,
) -> MetricChange:
    """One metric of one test from the ``units`` of both runs; with ``tested``, its
    one-sided p-values for a drop beyond ``margin`` and for a rise."""
    old_counts, new_counts = counts(before, metric), counts(after, metric)
    if old_counts is None or new_counts is None:
        shown = value(old_counts, metric), value(new_counts, metric)
        return MetricChange(metric.name, *shown, None, None, margin=margin)
    old, new = _value(old_counts, metric), _value(new_counts, metric)
    variance = sum(
        binomial_variance(found[i], found[i + 1])
        for found in (old_counts, new_counts)
        for i in range(0, len(found), 2)
    )
    result = MetricChange(metric.name, old, new, new - old, None, variance=variance, margin=margin)
    if not tested:
        return result
    return replace(
        result,
        p_value=metric.test.drop_p(old_counts, new_counts, margin),
        p_rise=metric.test.drop_p(new_counts, old_counts),
    )


def digests(test: Mapping[str, Any]) -> list[str]:
    """The test's explanation digests: stored in its metrics, or (a report written before
    they were) computed from its checks."""
    stored = (test.get("metrics") or {}).get("explanations")
    if stored is not None:
        return [str(d) for d in stored]

    return explanation_digests(test.get("checks") or [])


def paired(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """Whether both runs of a test gave their evaluators the same explanations."""
    old = digests(before)
    # In any order: Hypothesis may replay a test's examples in another order.
    return bool(old) and sorted(old) == sorted(digests(after))
