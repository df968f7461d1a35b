"""Monte-Carlo simulations behind the calibration rows C1-C5.

Each trial builds what the plugin would record from models with known answer
distributions and hands it to the plugin's own decision code: the gate rows build two JSON
reports (``metrics.units`` counts, per sample) and call ``compare``/``gate``; the
invariance rows call ``invariance.invariant`` with an ``ask`` that samples a noisy model
(a fresh draw per distinct request, as a server would); the check row calls the transfer
check's interval and judgement. The real HTTP path of the same decisions is tested in
``tests/plugin/test_calibration.py``.

A rate ``r`` over ``n`` trials has Monte-Carlo standard error ``sqrt(r (1 - r) / n)``; the
rows print it.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from typing import Any

from benchmarks import _common
from pytest_xgen.checks.invariance import invariant
from pytest_xgen.checks.transfer import _judge, consistency_interval
from pytest_xgen.core.answers import answer_spec
from pytest_xgen.models.base import ChatResult, Usage
from pytest_xgen.report import gate as gate_module
from pytest_xgen.settings.marker import TransferOptions

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
    out = _common.result(rates, target, text)
    out["ratio"] = rate
    out["target_met"] = _common.meets(rate, target)
    return out


# --- the gate (C1, C2) ----------------------------------------------------------------------


def _count(hits: int, total: int) -> dict[str, Any]:
    return {"agree": hits, "total": total, "value": hits / total if total else None}


def _test_metrics(rng: random.Random, accuracies: Sequence[float], baseline: float) -> dict:
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


def _report(tests: dict[str, dict]) -> dict[str, Any]:
    return {"tests": [{"nodeid": k, "metrics": v} for k, v in sorted(tests.items())]}


def gate_trial(
    rng: random.Random, n_tests: int, after_accuracy: float | None = None
) -> tuple[str, str]:
    """One comparison of two runs of ``n_tests`` tests (problem accuracies drawn once per
    trial from 0.6-1.0, the same in both runs); with ``after_accuracy`` the second
    evaluator's accuracy is that in the second run. Returns ``(gate result, legacy)``:
    the gate's verdict and the verdict of the gate before calibration (per-test Fisher on
    pooled pairs at alpha, no correction, no suite test)."""
    problems = [rng.uniform(0.6, 1.0) for _ in range(n_tests)]
    before = {f"t{i}": _test_metrics(rng, (acc, acc), 0.5) for i, acc in enumerate(problems)}
    after = {
        f"t{i}": _test_metrics(rng, (acc, acc if after_accuracy is None else after_accuracy), 0.5)
        for i, acc in enumerate(problems)
    }
    old, new = _report(before), _report(after)
    comparison = gate_module.compare(old, new, thresholds=THRESHOLDS)
    result = gate_module.gate(comparison).result
    legacy_comparison = gate_module.compare(old, new, adjust_with="none", thresholds=THRESHOLDS)
    legacy = (
        "fail"
        if any(
            not line.startswith("suite:") for line in gate_module.gate(legacy_comparison).failures
        )
        else "pass"
    )
    return result, legacy


# --- invariance searches (C3, C4) -------------------------------------------------------------


def noisy_ask(trial: int, accuracy: float, distract: float = 0.0, wrong: int = 2) -> Any:
    """An ``ask`` whose model answers 7 with probability ``accuracy`` (else 7 +- 1..wrong),
    whatever padding or noise the prompt has; with ``distract``, a prompt holding the
    number 20 (a distractor) gets 27 with that probability. A fresh draw per distinct
    request: the generator is seeded with the trial, model, prompt and sample."""

    def ask(model: str, messages: list[dict[str, str]], sample: int, params: dict) -> ChatResult:
        prompt = messages[-1]["content"]
        digest = hashlib.sha256(f"{trial}|{model}|{prompt}|{sample}".encode()).digest()
        rng = random.Random(digest)
        value = 7
        if "20" in prompt and rng.random() < distract:
            value = 27
        elif rng.random() >= accuracy:
            off = rng.randint(1, wrong)
            value += off if rng.random() < 0.5 else -off
        return ChatResult(text=f"Answer: {value}", finish_reason="stop", usage=Usage(1, 1, 2))

    return ask


def _extract(text: str, spec: Any) -> Any:
    return spec.extract(text)


BASE = "Tom has 3 apples and buys 4 more. How many apples does he have?"
DISTRACTORS = ("The bus leaves every 20 minutes. ", "The bus leaves every 20 minutes. Sam reads. ")


def options(evaluators: tuple[str, ...] = ("a", "b")) -> TransferOptions:
    from pytest_xgen.settings.marker import KEYWORDS

    values = {name: kw.default for name, kw in KEYWORDS.items()}
    values.update(generator=None, evaluators=evaluators, samples="auto", temperature=0.7)
    return TransferOptions(**values)


def search_trial(trial: int, *, distract: float, expected: bool, examples: int = 10) -> bool:
    """One search of ``examples`` perturbed prompts; True when an example failed (the
    search reports a flip). With ``distract`` > 0, an example holds a distractor with
    probability 2/3 (Hypothesis's ``distractors()`` draws 0, 1 or 2 of them)."""
    rng = random.Random(trial)
    spec = answer_spec("number")
    ask = noisy_ask(trial, accuracy=0.7 if distract == 0 else 0.95, distract=distract)
    opts = options(("a",) if distract else ("a", "b"))
    for index in range(examples):
        if distract:
            kind = rng.randrange(3)
            prompt = (DISTRACTORS[kind - 1] if kind else "") + BASE + " " * index
        else:
            prompt = BASE + " " * (index + 1) + "." * rng.randrange(3)  # padding and noise
        result = invariant(
            BASE,
            prompt,
            opts,
            spec,
            7 if expected else None,
            ask,
            _extract,
            search_size=examples,
        )
        if result.verdict == "fail":
            return True
    return False


# --- check verdicts between recordings (C5) ---------------------------------------------------


class _Pooled:
    def __init__(self, agree: int, total: int) -> None:
        self.agree, self.total = agree, total


def check_verdict(rng: random.Random, consistency: float, threshold: float, interval: bool) -> str:
    """A transfer check's consistency verdict for two evaluators that agree on a sample
    with probability ``consistency``: at the defaults (``samples="auto"``: rounds of 5 up to
    20, 95% intervals) or, with ``interval=False``, as before (5 samples, point estimate)."""
    flags: list[bool] = []
    while True:
        flags += [rng.random() < consistency for _ in range(5)]
        pooled = _Pooled(sum(flags), len(flags))
        value = pooled.agree / pooled.total
        if not interval:
            return _judge(value, None, threshold)
        bounds = consistency_interval(pooled, flags, 0.95)  # type: ignore[arg-type]
        verdict = _judge(value, bounds, threshold)
        if verdict != "inconclusive" or len(flags) >= 20:
            return verdict
