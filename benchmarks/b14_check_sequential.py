"""B14: the transfer check's sequential sampling (``samples="auto"``, defaults) measured
through its own decision code.

Each trial runs ``pytest_xgen.checks.transfer.check()`` with a scripted ``ask``: the
generator answers 7; in the transfer condition every sample's evaluators agree (all answer
7) with probability ``p``, else the second evaluator answers 8; in the baseline condition
they agree with probability ``q``. Draws are seeded by (trial, condition, sample), so each
sample is an independent Bernoulli whatever the round it falls in. ``min_consistency``
0.8, ``min_lift`` 0, ``confidence`` 0.95, two evaluators: the defaults.

The row's ratio is calls per check with ``p`` spread uniformly over 0.3-1.0 (``q`` 0.3),
over the calls of a fixed ``samples=20`` (81 with two evaluators); target <= 0.8. The detail
gives, each with its Monte-Carlo error (sqrt(r (1 - r) / n)):

- the worst false-fail rate over true consistencies in [0.8, 1.0] (a fail when the
  consistency meets ``min_consistency``; ``q`` 0.3, so the lift is clear) and the worst
  false-pass rate over [0.3, 0.8) (a pass below it), target <= 0.025 each;
- the false-pass rate at a true lift of -0.10 (``p`` 0.9 against ``q`` 1.0 at the defaults,
  and with ``min_consistency=0`` so that the lift alone decides: 0.9 against 1.0 and 0.5
  against 0.6), the worst of the three, target <= 0.025;
- the share of checks decided (pass or fail, not inconclusive) by true consistency.

The exact figures (no Monte Carlo) of the consistency's boundaries are in
``tests/unit/test_sequential.py``; these rows check the whole path, lift and stopping
included.
"""

from __future__ import annotations

import math
import random
import sys
from typing import Any

from benchmarks import _common
from pytest_xgen.checks import looks, transfer
from pytest_xgen.core import prompts, sequential
from pytest_xgen.core.answers import answer_spec
from pytest_xgen.models.base import ChatResult, Usage
from pytest_xgen.settings.marker import KEYWORDS, TransferOptions

ROW = "B14"
WHAT = 'transfer check, samples="auto": calls per check / samples=20, p uniform on 0.3-1.0'
TARGET = "<= 0.8"
DEFAULT_REPS = 3
SPREAD_CHECKS = 500  # checks per rep with p uniform on 0.3-1.0
GRID = (0.3, 0.5, 0.6, 0.7, 0.75, 0.78, 0.8, 0.85, 0.9, 0.95, 1.0)
GRID_CHECKS = 200  # checks per rep at each true consistency of the grid ...
EDGE_CHECKS = 1000  # ... and at those next to the threshold, where the errors peak
EDGE = (0.78, 0.8)
THRESHOLD = 0.8  # min_consistency: below it a pass is false, at or above it a fail is
# (transfer, baseline) agreement with a true lift of -0.10, and the min_consistency: the
# default, where the consistency must pass too, or 0, where the lift alone decides.
LIFT_CASES = ((0.9, 1.0, 0.8), (0.9, 1.0, 0.0), (0.5, 0.6, 0.0))
FIXED = 20
MOST = 1000  # samples a scripted evaluator can be asked for
EVALUATORS = ("a", "b")


def options(**changes: Any) -> TransferOptions:
    """The check's options at their defaults, with ``changes``."""
    values = {name: kw.default for name, kw in KEYWORDS.items() if name != "prompts"}
    values.update(generator="gen", evaluators=EVALUATORS, temperature=0.7)
    values.update(changes)
    return TransferOptions(**values)


def scripted_ask(trial: str, p: float, q: float) -> Any:
    """An ``ask`` whose evaluators agree on a transfer sample with probability ``p`` and
    on a baseline sample with probability ``q``, independently per sample (drawn up front
    from a generator seeded with ``trial``); it counts its calls in ``ask.calls``."""
    rng = random.Random(trial)
    agrees = {
        "transfer": [rng.random() < p for _ in range(MOST)],
        "baseline": [rng.random() < q for _ in range(MOST)],
    }

    def ask(
        model: str, messages: list[dict[str, str]], sample: int, params: dict[str, Any]
    ) -> ChatResult:
        ask.calls += 1  # type: ignore[attr-defined]
        system = messages[0]["content"]
        if model == "gen":
            text = "1. Tom has 3 apples.\n2. He buys 4 more: 3 + 4 = 7.\nAnswer: 7"
        else:
            condition = "transfer" if system == prompts.TRANSFER_SYSTEM else "baseline"
            same = model == EVALUATORS[0] or agrees[condition][sample]
            text = f"Answer: {7 if same else 8}"
        return ChatResult(text=text, finish_reason="stop", usage=Usage(1, 1, 2))

    ask.calls = 0  # type: ignore[attr-defined]
    return ask


def _extract(text: str, spec: Any) -> Any:
    return spec.extract(text)


PROMPT = "Tom has 3 apples and buys 4 more. How many apples does he have?"
SPEC = answer_spec("number")


def run_check(trial: str, p: float, q: float, **changes: Any) -> tuple[str, int]:
    """One check's verdict and the model calls it made."""
    ask = scripted_ask(trial, p, q)
    result = transfer.check(PROMPT, options(**changes), SPEC, None, ask, _extract)
    return result.verdict, ask.calls


def mc_error(rate: float, n: int) -> float:
    return math.sqrt(rate * (1 - rate) / n) if n else float("nan")


def exact() -> tuple[float, float, float]:
    """The consistency's own error rates and calls ratio, computed exactly over the
    binomial paths (two evaluators, every answer parsed, both conditions sampled every
    round): P(fail) at p = 0.8, P(pass) as p rises to 0.8, and calls per check over p
    uniform on 0.3-1.0 (a grid of 141 points) / calls of samples=20."""
    bounds = sequential.plan(THRESHOLD, 0.025, [looks.AUTO_LOOKS[0]], looks.AUTO_LOOKS)

    def give_up(look: int, agreements: float) -> bool:
        return looks.unlikely(bounds, look, agreements)

    passed, failed, _ = sequential.outcome(bounds, THRESHOLD, give_up=give_up)
    grid = [0.3 + 0.7 * k / 140 for k in range(141)]
    samples = [sequential.outcome(bounds, p, give_up=give_up)[2] for p in grid]
    fixed = 1 + 2 * len(EVALUATORS) * FIXED
    calls = sum(1 + 2 * len(EVALUATORS) * n for n in samples) / len(samples) / fixed
    return failed, passed, calls


def run(reps: int) -> dict[str, Any]:
    ratios = []
    verdicts: dict[float, list[str]] = {p: [] for p in GRID}
    lift_passes = {case: 0 for case in LIFT_CASES}
    fixed_calls = 1 + 2 * len(EVALUATORS) * FIXED
    for rep in range(reps):
        rng = random.Random(f"B14-{rep}")
        calls = [
            run_check(f"spread|{rep}|{i}", rng.uniform(0.3, 1.0), 0.3)[1]
            for i in range(SPREAD_CHECKS)
        ]
        ratios.append(sum(calls) / len(calls) / fixed_calls)
        for p in GRID:
            checks = EDGE_CHECKS if p in EDGE else GRID_CHECKS
            verdicts[p] += [run_check(f"grid|{rep}|{p}|{i}", p, 0.3)[0] for i in range(checks)]
        for case in LIFT_CASES:
            p, q, least = case
            lift_passes[case] += sum(
                run_check(f"lift|{rep}|{case}|{i}", p, q, min_consistency=least)[0] == "pass"
                for i in range(GRID_CHECKS)
            )

    def share(p: float, verdict: str) -> float:
        return sum(v == verdict for v in verdicts[p]) / len(verdicts[p])

    fail_rate, fail_at = max((share(p, "fail"), p) for p in GRID if p >= THRESHOLD)
    pass_rate, pass_at = max((share(p, "pass"), p) for p in GRID if p < THRESHOLD)
    fail_error = mc_error(fail_rate, len(verdicts[fail_at]))
    pass_error = mc_error(pass_rate, len(verdicts[pass_at]))
    lift_checks = reps * GRID_CHECKS
    lift_rate = max(n / lift_checks for n in lift_passes.values())
    lift_error = mc_error(lift_rate, lift_checks)
    lifts = ", ".join(
        f"{p:g} vs {q:g} with min_consistency {least:g}: {n / lift_checks:.3f}"
        for (p, q, least), n in lift_passes.items()
    )
    decided = ", ".join(f"{p:g}: {1 - share(p, 'inconclusive'):.2f}" for p in GRID)
    exact_fail, exact_pass, exact_calls = exact()
    detail = (
        f"{reps * SPREAD_CHECKS} checks with p uniform on 0.3-1.0, baseline agreement 0.3; "
        f"worst false fail over p in [0.8, 1] {fail_rate:.3f} ± {fail_error:.3f} "
        f"(at p = {fail_at:g}), worst false pass over p in [0.3, 0.8) {pass_rate:.3f} ± "
        f"{pass_error:.3f} (at p = {pass_at:g}), targets <= 0.025 (exact, consistency alone: "
        f"{exact_fail:.4f} and {exact_pass:.4f}); lift false pass at a true lift of -0.10, "
        f"worst {lift_rate:.3f} ± {lift_error:.3f} ({lifts}), target <= 0.025; share decided "
        f"by p: {decided} ({reps * GRID_CHECKS} checks per point, {reps * EDGE_CHECKS} at "
        f"{' and '.join(map(str, EDGE))}); exact calls ratio with the baseline sampled every "
        f"round: {exact_calls:.3f}"
    )
    result = _common.result(ratios, TARGET, detail)
    # An error row meets its target unless it is above it by more than twice its
    # Monte-Carlo error (the exact rates sit just under 0.025 at the threshold).
    result["target_met"] = bool(
        result["target_met"]
        and fail_rate - 2 * fail_error <= 0.025
        and pass_rate - 2 * pass_error <= 0.025
        and lift_rate - 2 * lift_error <= 0.025
    )
    return result


if __name__ == "__main__":
    sys.exit(_common.main(sys.modules[__name__]))
