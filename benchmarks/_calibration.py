"""Monte-Carlo simulations behind the calibration rows.

The rows C1, C2, C5 and C7-C9 run on realistic data (:mod:`benchmarks._runs`: explanations
drawn anew per run, evaluators that follow them, spread difficulties, ``samples="auto"``)
through the plugin's own ``check()``, ``test_metrics`` and ``compare``/``gate``; the
functions for them are in the first section below. The rows C1-iid, C2-iid and C5-iid keep
the earlier simulations, in which only each evaluator's sampling varies (no explanation),
as the iid special case:

Each iid trial builds what the plugin would record from models with known answer
distributions and hands it to the plugin's own decision code: the gate rows build two JSON
reports (``metrics.units`` counts, per sample) and call ``compare``/``gate``; the check row
runs the transfer check's ``check()``. The invariance rows (C3, C4) are in
:mod:`benchmarks._searches`. The real HTTP path of the same decisions is tested in
``tests/plugin/test_calibration.py``.

A rate ``r`` over ``n`` trials has Monte-Carlo standard error ``sqrt(r (1 - r) / n)``; the
rows print it.
"""

from __future__ import annotations

import functools
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks import _common, _runs
from pytest_xgen.checks.verdicts import judge
from pytest_xgen.report import gate as gate_module

THRESHOLDS = {"consistency": 0.05, "accuracy": 0.02}
SAMPLES = 10  # per evaluator and condition in the gate rows


def mc_error(rate: float, n: int) -> float:
    return math.sqrt(rate * (1 - rate) / n) if n else float("nan")


def rate_row(rates: Sequence[float], trials: int, target: str, detail: str) -> dict[str, Any]:
    """A row whose ratio is the rate over all reps (``rates`` per rep, ``trials`` each).
    ``detail`` may hold ``{rate}`` (the rate ± its Monte-Carlo error) and ``{n}``."""
    n = len(rates) * trials
    rate = sum(rates) / len(rates)
    text = detail.format(rate=f"{rate:.3f} ± {mc_error(rate, n):.3f}", n=n)
    return _common.result(rates, target, text, ratio=rate)


# --- realistic runs (C1, C2, C5, C7-C9) -----------------------------------------------------

AA_SIZES = (1, 5, 10, 30, 50, 200)
POWER_SIZES = (10, 50, 200)
DROPS = (0.05, 0.1, 0.15, 0.2, 0.3)
#: What the A/A and evaluator rows gate; the generator rows add accuracy and, once the gate
#: has it, the explanation's own correctness.
AA_GATE = ("consistency",)
GENERATOR_GATE = ("consistency", "accuracy", "explanation")


@dataclass(frozen=True)
class AATrial:
    """One drawn suite of 200 tests recorded three times: ``first``; ``fresh`` (fresh samples
    and a fresh explanation); ``replayed`` (fresh samples, ``first``'s explanations). Per
    suite size, the gate on every disjoint block of that size, for ``first`` against
    ``fresh`` (unpaired), against ``replayed`` (paired) and against itself (identity)."""

    unpaired: dict[int, list[_runs.Gated]]
    paired: dict[int, list[_runs.Gated]]
    identity: dict[int, list[_runs.Gated]]
    outcomes: list[tuple[str, str]]
    """Each test's outcome in ``first`` and in ``fresh``."""
    verdicts: list[tuple[str, str]]
    """Each test's check verdict in ``first`` and in ``fresh``."""
    samples: list[int]
    """Samples per evaluator and condition of every check of ``first`` and ``fresh``."""


def _by_size(
    before: _runs.Run, after: _runs.Run, sizes: Sequence[int], metrics: Sequence[str]
) -> dict[int, list[_runs.Gated]]:
    limits = _runs.thresholds(*metrics)
    return {
        n: [
            _runs.gated(before.report(block), after.report(block), limits)
            for block in _runs.blocks(n)
        ]
        for n in sizes
    }


@functools.cache
def aa_trial(trial: int) -> AATrial:
    """The A/A comparisons of trial ``trial`` (cached: C1, C5, C7 and C8 share them)."""
    problems = _runs.draw_suite(f"aa|{trial}")
    first = _runs.record(problems, _runs.REALISTIC, f"aa|{trial}|1")
    fresh = _runs.record(problems, _runs.REALISTIC, f"aa|{trial}|2")
    replayed = _runs.record(problems, _runs.REALISTIC, f"aa|{trial}|2", f"aa|{trial}|1")
    return AATrial(
        unpaired=_by_size(first, fresh, AA_SIZES, AA_GATE),
        paired=_by_size(first, replayed, AA_SIZES, AA_GATE),
        identity=_by_size(first, first, AA_SIZES, AA_GATE),
        outcomes=list(zip(first.outcomes, fresh.outcomes, strict=True)),
        verdicts=list(zip(first.verdicts, fresh.verdicts, strict=True)),
        samples=first.samples + fresh.samples,
    )


@functools.lru_cache(maxsize=2)
def _baseline(trial: int) -> tuple[tuple[_runs.Problem, ...], _runs.Run]:
    problems = _runs.draw_suite(f"power|{trial}")
    return problems, _runs.record(problems, _runs.REALISTIC, f"power|{trial}|base")


@functools.cache
def power_trial(trial: int, kind: str, drop: float) -> dict[int, list[_runs.Gated]]:
    """The gate on a baseline run against a run with a regression of ``kind`` sized to a
    mean drop of ``drop`` (:func:`benchmarks._runs.strength_for`), per suite size in
    :data:`POWER_SIZES`. ``kind``: ``"evaluator"`` (the candidate replays the baseline's
    explanations: paired), ``"evaluator-fresh"`` (the same regression with fresh
    explanations) or ``"generator"`` (a worse generator: fresh explanations)."""
    problems, base = _baseline(trial)
    world = _runs.regressed("generator" if kind == "generator" else "evaluator", drop)
    seed = f"power|{trial}|{kind}|{drop}"
    replay = f"power|{trial}|base" if kind == "evaluator" else None
    after = _runs.record(problems, world, seed, replay)
    metrics = GENERATOR_GATE if kind == "generator" else AA_GATE
    return _by_size(base, after, POWER_SIZES, metrics)


def true_drop(kind: str, drop: float, trials: Sequence[int]) -> _runs.Expected:
    """The model's mean expected drop per metric (before - after) over the suites of
    ``trials``, computed from the model, not from samples."""
    suites = [p for t in trials for p in _runs.draw_suite(f"power|{t}")]
    world = _runs.regressed("generator" if kind == "generator" else "evaluator", drop)
    before = _runs.mean_expected(suites, _runs.REALISTIC)
    after = _runs.mean_expected(suites, world)
    return _runs.Expected(
        *(
            getattr(before, name) - getattr(after, name)
            for name in _runs.Expected.__dataclass_fields__
        )
    )


def rate_text(hits: int, n: int) -> str:
    """``rate ± MC error`` of ``hits`` in ``n``."""
    rate = hits / n if n else float("nan")
    return f"{rate:.3f} ± {mc_error(rate, n):.3f}"


# --- the gate (C1, C2) ----------------------------------------------------------------------


def _count(hits: int, total: int) -> dict[str, Any]:
    return {"agree": hits, "total": total, "value": hits / total if total else None}


def _test_metrics(
    rng: random.Random, accuracies: Sequence[float], baseline: float
) -> dict[str, Any]:
    """One test's metrics from two evaluators sampled ``SAMPLES`` times: a sample agrees when
    both are right, or both wrong with the same one of three wrong answers."""
    agree = correct = base_agree = 0
    for _ in range(SAMPLES):
        answers = [0 if rng.random() < acc else rng.choice((1, 2, 3)) for acc in accuracies]
        correct += sum(a == 0 for a in answers)
        agree += answers[0] == answers[1]
        base = [0 if rng.random() < baseline else rng.choice((1, 2, 3)) for _ in accuracies]
        base_agree += base[0] == base[1]
    accuracy = {"correct": correct, "total": 2 * SAMPLES, "value": correct / (2 * SAMPLES)}
    units = {
        "consistency": _count(agree, SAMPLES),
        "baseline_consistency": _count(base_agree, SAMPLES),
        "accuracy": accuracy,
    }
    return {
        "consistency": units["consistency"],
        "baseline_consistency": units["baseline_consistency"],
        "lift": None,
        "accuracy": accuracy,
        "units": units,
    }


def _report(tests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"tests": [{"nodeid": k, "metrics": v} for k, v in sorted(tests.items())]}


def gate_trial(
    rng: random.Random, n_tests: int, after_accuracy: float | None = None
) -> tuple[str, str]:
    """One comparison of two runs of ``n_tests`` tests (problem accuracies drawn once per
    trial from 0.6-1.0, the same in both runs); with ``after_accuracy`` the second
    evaluator's accuracy is that in the second run. Returns ``(gate result, legacy)``:
    the gate's verdict and the verdict of the gate before calibration (per-test Fisher on
    pooled pairs at alpha, no correction, no suite test)."""
    result, _, legacy = iid_gate_trial(rng, n_tests, after_accuracy)
    return result, legacy


def iid_gate_trial(
    rng: random.Random, n_tests: int, after_accuracy: float | None = None
) -> tuple[str, bool, str]:
    """:func:`gate_trial` with whether the gate exits non-zero at its defaults:
    ``(result, exit non-zero, legacy)``."""
    problems = [rng.uniform(0.6, 1.0) for _ in range(n_tests)]
    before = {f"t{i}": _test_metrics(rng, (acc, acc), 0.5) for i, acc in enumerate(problems)}
    after = {
        f"t{i}": _test_metrics(rng, (acc, acc if after_accuracy is None else after_accuracy), 0.5)
        for i, acc in enumerate(problems)
    }
    old, new = _report(before), _report(after)
    comparison = gate_module.compare(old, new, thresholds=THRESHOLDS)
    verdict = gate_module.gate(comparison)
    legacy_comparison = gate_module.compare(old, new, adjust_with="none", thresholds=THRESHOLDS)
    legacy = (
        "fail"
        if any(
            not line.startswith("suite:") for line in gate_module.gate(legacy_comparison).failures
        )
        else "pass"
    )
    return verdict.result, verdict.failed, legacy


Pairs = Sequence[tuple[str, str]]


def outcome_row(reps: Sequence[tuple[Pairs, Pairs]], target: str) -> dict[str, Any]:
    """The row of test outcomes that differ between two recordings (C5, C5t): per rep, each
    test's outcome in both recordings and its checks' verdict in both. The ratio is the
    share of tests whose outcome differs, over all reps; the detail splits the changes by
    verdicts (pass <-> fail flips apart) and gives the share of each outcome and verdict;
    ``passing`` is the share of passed outcomes."""
    rates = []
    changed: Counter[tuple[str, ...]] = Counter()
    outcomes: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    hits = total = 0
    for pairs, checks in reps:
        differ = 0
        for (first, second), verdict in zip(pairs, checks, strict=True):
            outcomes.update((first, second))
            verdicts.update(verdict)
            if first != second:
                differ += 1
                changed[tuple(sorted(verdict))] += 1
        rates.append(differ / len(pairs))
        hits, total = hits + differ, total + len(pairs)
    flips = changed[("fail", "pass")]
    shown = ", ".join(f"{a} <-> {b} {n}" for (a, b), n in sorted(changed.items()))
    seen = ", ".join(f"{k} {v / (2 * total):.2f}" for k, v in sorted(outcomes.items()))
    checked = ", ".join(f"{k} {v / (2 * total):.2f}" for k, v in sorted(verdicts.items()))
    detail = (
        f"{rate_text(hits, total)} of {total} tests changed outcome; pass <-> fail verdict "
        f"flips {rate_text(flips, total)}; changed verdicts: {shown or 'none'}; outcomes: "
        f"{seen}; verdicts: {checked}"
    )
    out = _common.result(rates, target, detail, ratio=hits / total)
    out["passing"] = outcomes["passed"] / (2 * total)
    return out


# --- check verdicts between recordings (C5) ---------------------------------------------------


def check_verdict(rng: random.Random, consistency: float, threshold: float, interval: bool) -> str:
    """A transfer check's consistency verdict for two evaluators that agree on a sample
    with probability ``consistency``: through the plugin's own ``check()`` at the defaults
    (``samples="auto"``, its sequential boundaries at 95%; the lift not judged) or, with
    ``interval=False``, as before the boundaries (5 samples, point estimate)."""
    if interval:
        from benchmarks.b14_check_sequential import run_check

        trial = f"C5-iid-{rng.random()}"
        return run_check(trial, consistency, 0.3, min_consistency=threshold, min_lift=-1)[0]
    flags = [rng.random() < consistency for _ in range(5)]
    return judge(sum(flags) / len(flags), None, threshold)


def main(module: Any, argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.bN_name [--reps N] [--trials T]``: a realistic row alone, with
    ``T`` suites per rep instead of the module's ``TRIALS``."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m {module.__name__}", description=module.WHAT)
    parser.add_argument("--reps", type=int, default=module.DEFAULT_REPS)
    parser.add_argument("--trials", type=int, default=module.TRIALS)
    args = parser.parse_args(argv)
    res = module.run(args.reps, trials=args.trials)
    print(_common.format_table([_common.table_row(module, res)]))
    return 0
