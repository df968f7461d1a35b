"""Significance tests behind every verdict that compares two samples, and their corrections.

Exact tests come from ``scipy.stats`` (imported inside each function, so that loading the
plugin stays light); what scipy lacks is written here and cross-checked against scipy or
an enumeration in the tests:

- :func:`fisher_p`: Fisher's exact test on a 2x2 table (a rate in two runs, or an answer
  on a base and a perturbed prompt);
- :func:`lift_change_p`: a Wald test for a change in lift (a difference of differences);
- :func:`adjust`: Holm's step-down correction (family-wise error) or Benjamini-Hochberg
  (false discovery rate, via ``scipy.stats.false_discovery_control``);
- :func:`paired_margin`: the suite-level paired comparison with a non-inferiority margin;
- :func:`reference_drop_p`: a permutation test for "the perturbed prompt gives the base
  prompt's most common answer less often".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

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


def lift_change_p(before: tuple[int, int, int, int], after: tuple[int, int, int, int]) -> float:
    """The two-sided p-value of a Wald z-test for a change in lift between two runs.

    Each run is ``(transfer_agree, transfer_total, baseline_agree, baseline_total)`` and its
    lift is ``transfer_agree / transfer_total - baseline_agree / baseline_total``. A change
    in lift is a difference of differences of four proportions with no exact small-sample
    test, so this is the normal approximation: the standard error is
    ``sqrt(sum(p * (1 - p) / n))`` over the four proportions, treated as independent. When
    the standard error is zero the p-value is ``1.0`` if the lift did not change and
    ``0.0`` if it did.
    """
    proportions: list[tuple[float, int]] = []
    lifts: list[float] = []
    for label, (t_agree, t_total, b_agree, b_total) in (("before", before), ("after", after)):
        for agree, total in ((t_agree, t_total), (b_agree, b_total)):
            if total <= 0 or not 0 <= agree <= total:
                raise ValueError(
                    f"{label}: each count must be between 0 and a total > 0; got {agree} of {total}"
                )
        transfer = t_agree / t_total
        baseline = b_agree / b_total
        proportions += [(transfer, t_total), (baseline, b_total)]
        lifts.append(transfer - baseline)
    change = lifts[1] - lifts[0]
    se = math.sqrt(sum(p * (1 - p) / n for p, n in proportions))
    if se == 0:
        return 1.0 if change == 0 else 0.0
    # erfc(|z| / sqrt(2)) equals 2 * (1 - Phi(|z|)) without rounding a far tail to 0; it is
    # at most erfc(0) = 1.
    return math.erfc(abs(change) / se / math.sqrt(2))


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
    """The suite-level comparison of one metric over the tests both runs share.

    Each test is one unit: its rate after minus its rate before (the same prompts were asked
    in both runs, so the difference removes how hard each problem is). ``verdict`` is
    ``"pass"`` when the mean change is shown to be above ``-margin`` (non-inferiority at
    level alpha), ``"regressed"`` when it is shown to be below ``-margin``, and
    ``"inconclusive"`` otherwise: the suite cannot tell a drop of ``margin`` from noise.
    """

    metric: str
    tests: int
    mean_change: float | None
    standard_error: float | None
    margin: float
    p_regressed: float | None
    """One-sided p-value against "the drop is at most ``margin``"."""
    p_noninferior: float | None
    """One-sided p-value against "the drop is at least ``margin``"."""
    detectable_drop: float | None
    """The mean drop this suite detects with 80% power at alpha."""
    verdict: str

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data."""
        return {
            "metric": self.metric,
            "tests": self.tests,
            "mean_change": self.mean_change,
            "standard_error": self.standard_error,
            "margin": self.margin,
            "p_regressed": self.p_regressed,
            "p_noninferior": self.p_noninferior,
            "detectable_drop": self.detectable_drop,
            "verdict": self.verdict,
        }


def paired_margin(
    metric: str,
    changes: Sequence[float],
    variances: Sequence[float],
    margin: float,
    alpha: float,
) -> PairedChange:
    """Test the mean of per-test ``changes`` against the non-inferiority ``margin``.

    ``variances`` are each change's sampling variance from its counts (binomial, with one
    success and one failure added so that a rate of 0 or 1 still has some). The standard
    error of the mean is the larger of the one these variances give and the one the
    spread of the changes gives: the first is all there is with few tests, the second
    also holds what the counts cannot see (a new explanation in each run moves a test's
    rate more than its samples do). The statistic is then taken as normal.
    """
    n = len(changes)
    if n == 0:
        return PairedChange(metric, 0, None, None, margin, None, None, None, "inconclusive")
    mean = sum(changes) / n
    se = math.sqrt(sum(variances)) / n
    if n >= 2:
        spread = sum((c - mean) ** 2 for c in changes) / (n - 1)
        se = max(se, math.sqrt(spread / n))
    normal = NormalDist()
    detectable = (normal.inv_cdf(1 - alpha) + normal.inv_cdf(POWER)) * se
    if se == 0:
        below = mean < -margin
        p_reg, p_ok = (0.0 if below else 1.0), (1.0 if below or mean == -margin else 0.0)
    else:
        z = (mean + margin) / se
        p_reg, p_ok = normal.cdf(z), 1 - normal.cdf(z)
    # ("no mutate": a p-value equal to alpha has probability zero; < and <= agree.)
    if p_reg < alpha:  # pragma: no mutate
        verdict = "regressed"
    elif p_ok < alpha:  # pragma: no mutate
        verdict = "pass"
    else:
        verdict = "inconclusive"
    return PairedChange(metric, n, mean, se, margin, p_reg, p_ok, detectable, verdict)


def binomial_variance(successes: int, total: int) -> float:
    """The sampling variance of ``successes / total``, from the rate with one success and
    one failure added (so that 0/n and n/n are not taken as certain)."""
    if total <= 0:
        return 0.25
    p = (successes + 1) / (total + 2)
    return p * (1 - p) / total


def reference_drop_p(
    base: Sequence[Hashable | None], perturbed: Sequence[Hashable | None], *, seed: int = 0
) -> tuple[float, Hashable | None, float, float]:
    """Does the perturbed prompt give the base prompt's most common answer less often?

    Returns ``(p, reference, base_rate, perturbed_rate)``: the one-sided p-value, the base
    samples' most common answer and its rate in each sample. The most common answer is
    chosen from the base samples, which makes the base rate look higher than it is; the
    permutation test accounts for that by choosing it again in every permutation (if the
    prompts do not matter, the samples are exchangeable and the test is exact).
    Unparseable answers (``None``) count as not the reference answer.
    """
    pooled = list(base) + list(perturbed)
    k = len(base)
    if k == 0 or len(perturbed) == 0:
        return (1.0, None, 0.0, 0.0)

    def drop(first: Sequence[Hashable | None], second: Sequence[Hashable | None]) -> float:
        reference = _mode(first)
        if reference is None:
            return 0.0
        return sum(a == reference for a in first) / len(first) - sum(
            a == reference for a in second
        ) / len(second)

    reference = _mode(base)
    observed = drop(base, perturbed)
    base_rate = sum(a == reference for a in base) / k if reference is not None else 0.0
    perturbed_rate = (
        sum(a == reference for a in perturbed) / len(perturbed) if reference is not None else 0.0
    )
    if observed <= 0:
        return (1.0, reference, base_rate, perturbed_rate)
    if min(k, len(perturbed)) == 1:
        # scipy needs two answers in each sample; with one, its n places are all the splits.
        splits = [(pooled[:i] + pooled[i + 1 :], [pooled[i]]) for i in range(len(pooled))]
        if k == 1:
            splits = [(single, rest) for rest, single in splits]
        # A rounding tolerance, as scipy's ("no mutate": no split lands exactly on its edge).
        close = observed - 1e-12
        extreme = sum(drop(a, b) >= close for a, b in splits)  # pragma: no mutate
        return (extreme / len(splits), reference, base_rate, perturbed_rate)
    from scipy.stats import permutation_test

    codes = {answer: i for i, answer in enumerate(dict.fromkeys(pooled))}
    coded = [codes[a] for a in pooled]
    none_code = codes.get(None)

    def statistic(x: Sequence[int], y: Sequence[int]) -> float:
        first = [None if v == none_code else v for v in x]
        # (The reference comes from the first sample, so an unmapped None code in the
        # second could never equal it: "no mutate".)
        second = [None if v == none_code else v for v in y]  # pragma: no mutate
        return drop(first, second)

    # ("no mutate": scipy reads these two names in any case.)
    result = permutation_test(
        (coded[:k], coded[k:]),
        statistic,
        permutation_type="independent",  # pragma: no mutate
        alternative="greater",  # pragma: no mutate
        n_resamples=9999,
        vectorized=False,  # pragma: no mutate (None is as false)
        random_state=seed,
    )
    return (float(result.pvalue), reference, base_rate, perturbed_rate)


def _mode(answers: Sequence[Hashable | None]) -> Hashable | None:
    """The most common parsed answer; ties go to the one seen first."""
    common = Counter(a for a in answers if a is not None).most_common(1)  # pragma: no mutate
    return common[0][0] if common else None
