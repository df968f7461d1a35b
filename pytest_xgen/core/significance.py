"""Significance tests behind every verdict that compares two samples, and their corrections.

Exact tests come from ``scipy.stats`` (imported inside each function, so that loading the
plugin stays light); what scipy lacks is written here and cross-checked against scipy or
an enumeration in the tests:

- :func:`fisher_p`: Fisher's exact test on a 2x2 table (a rate in two runs, or an answer
  on a base and a perturbed prompt);
- :func:`drop_beyond_p`: "a rate dropped by more than a margin" for two independent
  samples (Fisher's exact test at margin 0, an exact test on the Farrington-Manning score
  at other margins);
- :func:`adjust`: Holm's step-down correction (family-wise error) or Benjamini-Hochberg
  (false discovery rate, via ``scipy.stats.false_discovery_control``);
- :func:`lift_drop_p`: a shifted Wald test for "the lift dropped by more than a margin";
- :func:`paired_margin`: the suite-level comparison of per-test changes against a
  non-inferiority margin (a t-test on the changes).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

ADJUSTMENTS = ("holm", "bh", "none")
POWER = 0.8
"""The power at which the detectable drop is reported."""


def fisher_p(a: int, b: int, c: int, d: int, alternative: str = "two-sided") -> float:
    """Fisher's exact test p-value for the table ``[[a, b], [c, d]]`` (one row per sample:
    successes, failures). ``alternative="greater"`` asks whether the first row's rate is
    higher. A table without data (a zero margin) gives ``1.0``, as scipy computes it."""
    for name, value in (("a", a), ("b", b), ("c", c), ("d", d)):
        if value < 0:
            raise ValueError(f"cell {name} must be >= 0; got {value}")
    from scipy.stats import fisher_exact

    p = float(fisher_exact([[a, b], [c, d]], alternative=alternative).pvalue)
    return min(1.0, p)  # pragma: no mutate (a sum of table probabilities may round above 1)


def drop_beyond_p(
    before_hits: int, before_total: int, after_hits: int, after_total: int, margin: float = 0.0
) -> float:
    """The one-sided p-value for "the rate dropped by more than ``margin``" between two
    independent samples: ``before_hits / before_total`` and ``after_hits / after_total``.

    The null hypothesis is a drop of at most ``margin`` (a shifted null: non-inferiority
    read the other way round), so a drop of exactly ``margin`` is significant at level
    alpha in at most about alpha of samples. ``margin`` may be anywhere in ``(-1, 1)``; the
    null is ``p1 - p2 <= margin`` whatever its sign, so a negative margin asks whether the
    first rate is shown to be below the second by less than ``-margin`` (non-inferiority
    of the first sample). At ``margin == 0`` this is Fisher's exact test
    (``alternative="greater"``: the first sample's rate is higher). Otherwise it is the
    Farrington-Manning score: the difference's variance is taken at the rates that
    maximise the likelihood under a difference of exactly ``margin`` (Miettinen and
    Nurminen's closed form). Its p-value is exact (Chan's unconditional test: the tail is
    maximised over every pair of rates ``p1 = p2 + margin``, on a grid of
    :data:`NUISANCE_GRID` points of ``p2``) up to :data:`EXACT_CELLS` outcomes, where the
    normal approximation of the score would exceed alpha by up to half; above, the normal
    tail. An empty sample gives ``1.0``.
    """
    for name, hits, total in (
        ("before", before_hits, before_total),
        ("after", after_hits, after_total),
    ):
        if total < 0 or not 0 <= hits <= max(total, 0):
            raise ValueError(
                f"{name}: hits must be between 0 and a total >= 0; got {hits} of {total}"
            )
    if not -1 < margin < 1:
        raise ValueError(f"margin must be above -1 and below 1; got {margin}")
    if before_total == 0 or after_total == 0:
        return 1.0
    if margin == 0:
        return fisher_p(
            before_hits, before_total - before_hits, after_hits, after_total - after_hits, "greater"
        )
    observed = _score(before_hits, before_total, after_hits, after_total, margin)
    if before_total * after_total > EXACT_CELLS:
        return 0.5 * math.erfc(observed / math.sqrt(2))
    import numpy as np

    # Chan's exact unconditional test: the chance of a score at least as large as the one
    # observed, maximised over the rates the null allows (a difference of exactly margin).
    extreme = (_scores(before_total, after_total, margin) >= observed - 1e-9).astype(float)
    first, second = _chances(before_total, margin, margin), _chances(after_total, 0.0, margin)
    return float(min(1.0, np.einsum("ga,ab,gb->g", first, extreme, second).max()))


EXACT_CELLS = 2500
"""Above this many outcomes (``before_total * after_total``) the score test's normal tail
is used instead of the exact unconditional test."""
NUISANCE_GRID = 201


def _score(a: int, n: int, b: int, m: int, margin: float) -> float:
    """The Farrington-Manning score of a drop beyond ``margin``: large when ``a / n`` is
    more than ``margin`` above ``b / m``."""
    p1, p2 = a / n, b / m
    r1, r2 = restricted_rates(p1, n, p2, m, margin)
    se = math.sqrt(r1 * (1 - r1) / n + r2 * (1 - r2) / m)
    excess = p1 - p2 - margin
    if se == 0:  # pragma: no cover (the restricted rates differ by 0 < |margin| < 1)
        return math.inf if excess > 0 else -math.inf
    return excess / se


@functools.lru_cache(maxsize=256)
def _chances(n: int, shift: float, margin: float) -> Any:
    """Binomial probabilities of ``0..n`` hits (columns) at each rate of the null's grid
    (rows): ``shift`` plus a point of the second sample's rates under a difference of
    ``margin``, ``[max(0, -margin), min(1, 1 - margin)]``."""
    import numpy as np
    from scipy.stats import binom

    rates = np.linspace(max(0.0, -margin), min(1.0, 1.0 - margin), NUISANCE_GRID) + shift
    return binom.pmf(np.arange(n + 1)[None, :], n, np.clip(rates, 0.0, 1.0)[:, None])


@functools.lru_cache(maxsize=256)
def _scores(n: int, m: int, margin: float) -> Any:
    """Every outcome's score, as an ``(n + 1) x (m + 1)`` array."""
    import numpy as np

    return np.array([[_score(a, n, b, m, margin) for b in range(m + 1)] for a in range(n + 1)])


def restricted_rates(
    p1: float, n1: int, p2: float, n2: int, difference: float
) -> tuple[float, float]:
    """The rates ``(r1, r2)`` with ``r1 - r2 == difference`` (in ``(-1, 1)``) that maximise
    the binomial likelihood of the observed rates ``p1`` (of ``n1``) and ``p2`` (of ``n2``):
    the root of Miettinen and Nurminen's cubic (1985), as Farrington and Manning (1990) use
    it, kept within ``[max(0, difference), min(1, 1 + difference)]``."""
    theta = n2 / n1
    a = 1 + theta
    b = -(1 + theta + p1 + theta * p2 + difference * (theta + 2))
    c = difference**2 + difference * (2 * p1 + theta + 1) + p1 + theta * p2
    d = -p1 * difference * (1 + difference)
    v = b**3 / (27 * a**3) - b * c / (6 * a**2) + d / (2 * a)
    square = b**2 / (9 * a**2) - c / (3 * a)
    u = math.copysign(math.sqrt(max(square, 0.0)), v)
    if abs(u) < 1e-12:
        r1 = -b / (3 * a)
    else:
        w = (math.pi + math.acos(max(-1.0, min(1.0, v / u**3)))) / 3
        r1 = 2 * u * math.cos(w) - b / (3 * a)
    r1 = max(0.0, difference, min(1.0, 1.0 + difference, r1))
    return r1, max(0.0, min(1.0, r1 - difference))


def adjust(p_values: Sequence[float], method: str = "holm") -> list[float]:
    """``p_values`` adjusted for their number, in the same order.

    ``"holm"``: Holm's step-down method. Rejecting every adjusted p-value below alpha keeps
    the chance of *any* false rejection at most alpha, whatever the dependence between the
    tests. ``"bh"``: Benjamini-Hochberg; the expected share of false rejections among all
    rejections stays at most alpha (for independent or positively dependent tests).
    ``"none"``: unchanged.
    """
    if method not in ADJUSTMENTS:
        raise ValueError(f"unknown adjustment {method!r}; use one of {', '.join(ADJUSTMENTS)}")
    values = [float(p) for p in p_values]
    if method == "none" or not values:
        return values
    if method == "bh":
        from scipy.stats import false_discovery_control

        return [float(p) for p in false_discovery_control(values)]  # "bh" is its default
    m = len(values)
    order = sorted(range(m), key=lambda i: values[i])
    adjusted = [0.0] * m  # pragma: no mutate (every place is filled below)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted


@dataclass(frozen=True)
class PairedChange:
    """The suite-level comparison of one metric over the tests measured in both runs.

    Each test is one unit: its rate after minus its rate before (the same prompts were asked
    in both runs, so the difference removes how hard each problem is). ``verdict`` is
    ``"regressed"`` when the mean change is shown to be below ``-margin`` (a drop beyond the
    margin), ``"pass"`` when it is shown to be above ``-margin`` (non-inferiority at level
    alpha), and ``"underpowered"`` otherwise: the suite can tell neither.
    """

    metric: str
    tests: int
    mean_change: float | None
    standard_error: float | None
    margin: float
    p_regressed: float | None
    """The p-value for "the mean dropped by more than ``margin``": small when it did, near 1
    when nothing changed (one-sided, the null being a drop of at most ``margin``)."""
    p_noninferior: float | None
    """The p-value for "the mean dropped by less than ``margin``": small when the suite shows
    that the metric held (one-sided, the null being a drop of at least ``margin``)."""
    detectable_drop: float | None
    """The true mean drop this suite finds with 80% power at alpha (the normal/t
    approximation): ``margin + (t[1 - alpha] + t[0.8]) * standard_error``."""
    verdict: str
    paired: int = 0
    """How many of the tests read the same explanation in both runs."""
    df: int | None = None
    """Degrees of freedom of the t-test; ``None``: a z-test (one paired test) or no test."""
    adjusted: str | None = None
    """How ``p_regressed`` was adjusted for the family it was judged in (``"holm"``,
    ``"bh"``, ``"none"``); ``None``: unadjusted (an ungated metric)."""
    sampling_error: float | None = None
    """The part of the standard error the counts give, ``sqrt(sum(variances)) / n``: when it
    is the standard error, more samples per test shrink it; otherwise the spread between
    tests sets it."""

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data."""
        return {
            "metric": self.metric,
            "tests": self.tests,
            "paired": self.paired,
            "mean_change": self.mean_change,
            "standard_error": self.standard_error,
            "margin": self.margin,
            "p_regressed": self.p_regressed,
            "p_noninferior": self.p_noninferior,
            "detectable_drop": self.detectable_drop,
            "df": self.df,
            "sampling_error": self.sampling_error,
            "adjusted": self.adjusted,
            "verdict": self.verdict,
        }


def paired_margin(
    metric: str,
    changes: Sequence[float],
    variances: Sequence[float],
    margin: float,
    alpha: float,
    paired: Sequence[bool] | None = None,
) -> PairedChange:
    """Test the mean of per-test ``changes`` against the non-inferiority ``margin``.

    ``variances`` are each change's sampling variance from its counts (binomial, with one
    success and one failure added so that a rate of 0 or 1 still has some). ``paired`` says,
    per change, whether the test read the same explanation in both runs (default: all did).

    The standard error of the mean is the larger of ``sqrt(sum(variances)) / n`` and the
    spread of the changes, ``sd / sqrt(n)``: the first is all there is with few tests, the
    second also holds what the counts cannot see (a new explanation in each run moves all
    of a test's samples together). The statistic ``(mean + margin) / se`` is referred to
    Student's t with ``n - 1`` degrees of freedom (``n >= 2``). With one test: a paired one
    is referred to the normal (its binomial error is all its error); an unpaired one is not
    tested (one test with a new explanation has no estimate of the explanation's variance),
    and the verdict is ``"underpowered"`` with no p-values.

    A standard error of exactly zero (only possible when ``variances`` are zero, never from
    :func:`binomial_variance`) decides by the sign of ``mean + margin``.
    """
    n = len(changes)
    flags = [True] * n if paired is None else [bool(p) for p in paired]
    if len(flags) != n or len(variances) != n:
        raise ValueError("changes, variances and paired need one entry per test")
    n_paired = sum(flags)
    if n == 0:
        return PairedChange(metric, 0, None, None, margin, None, None, None, "underpowered")
    mean = sum(changes) / n
    se = sampling = math.sqrt(sum(variances)) / n
    if n >= 2:
        spread = sum((c - mean) ** 2 for c in changes) / (n - 1)
        se = max(se, math.sqrt(spread / n))
    elif not flags[0]:
        return PairedChange(
            metric, 1, mean, None, margin, None, None, None, "underpowered", 0, None, None, sampling
        )
    df = n - 1 if n >= 2 else None
    upper, power = _quantile(1 - alpha, df), _quantile(POWER, df)
    detectable = margin + (upper + power) * se
    if se == 0:
        below = mean < -margin
        p_reg, p_ok = (0.0 if below else 1.0), (1.0 if below or mean == -margin else 0.0)
    else:
        statistic = (mean + margin) / se
        p_reg, p_ok = _cdf(statistic, df), _cdf(-statistic, df)
    # ("no mutate": a p-value equal to alpha has probability zero; < and <= agree.)
    if p_reg < alpha:  # pragma: no mutate
        verdict = "regressed"
    elif p_ok < alpha:  # pragma: no mutate
        verdict = "pass"
    else:
        verdict = "underpowered"
    return PairedChange(
        metric, n, mean, se, margin, p_reg, p_ok, detectable, verdict, n_paired, df, None, sampling
    )


def _quantile(q: float, df: int | None) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom (normal: ``None``)."""
    if df is None:
        return NormalDist().inv_cdf(q)
    from scipy.stats import t

    return float(t.ppf(q, df))


def _cdf(x: float, df: int | None) -> float:
    """``P(T <= x)`` for Student's t with ``df`` degrees of freedom (normal: ``None``)."""
    if df is None:
        return NormalDist().cdf(x)
    from scipy.stats import t

    return float(t.cdf(x, df))


def lift_drop_p(
    before: tuple[int, int, int, int], after: tuple[int, int, int, int], margin: float = 0.0
) -> float:
    """The one-sided p-value for "the lift dropped by more than ``margin``" between two runs.

    Each run is ``(transfer_agree, transfer_total, baseline_agree, baseline_total)``. A
    shifted Wald z-test: ``z = (change + margin) / se``, ``p = Phi(z)``, with the standard
    error from :func:`binomial_variance` of the four proportions (one success and one
    failure added, so that 0/n and n/n do not make a change look certain).
    """
    lifts = []
    variance = 0.0
    for label, (t_agree, t_total, b_agree, b_total) in (("before", before), ("after", after)):
        for agree, total in ((t_agree, t_total), (b_agree, b_total)):
            if total <= 0 or not 0 <= agree <= total:
                raise ValueError(
                    f"{label}: each count must be between 0 and a total > 0; got {agree} of {total}"
                )
            variance += binomial_variance(agree, total)
        lifts.append(t_agree / t_total - b_agree / b_total)
    if margin < 0:
        raise ValueError(f"margin must be at least 0; got {margin}")
    z = (lifts[1] - lifts[0] + margin) / math.sqrt(variance)
    return 0.5 * math.erfc(-z / math.sqrt(2))


def binomial_variance(successes: int, total: int) -> float:
    """The sampling variance of ``successes / total``, from the rate with one success and
    one failure added (so that 0/n and n/n are not taken as certain)."""
    if total <= 0:
        return 0.25
    p = (successes + 1) / (total + 2)
    return p * (1 - p) / total
