"""Monte-Carlo simulations behind the invariance and intervention rows (C3, C4, C3m, I1).

Each trial drives the plugin's own decision code with a scripted ``ask`` that samples a
noisy model, a fresh draw per distinct request (seeded with the trial, model, prompt and
sample index, as a server would answer): ``invariance.invariant`` with one
:class:`~pytest_xgen.checks.confirmation.SearchBudget` per search (as the ``xgen`` fixture
keeps one per Hypothesis test), and ``interventions.run`` on a given explanation. Every
call an ``ask`` answers is counted. The real HTTP path of the same decisions is tested in
``tests/plugin/test_calibration.py`` and ``tests/plugin/test_interventions.py``.

A rate ``r`` over ``n`` trials has Monte-Carlo standard error ``sqrt(r (1 - r) / n)``.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks import _common
from pytest_xgen.checks.confirmation import SearchBudget
from pytest_xgen.checks.invariance import invariant
from pytest_xgen.core.answers import answer_spec
from pytest_xgen.models.base import ChatResult, Usage
from pytest_xgen.settings.marker import TransferOptions

BASE = "Tom has 3 apples and buys 4 more. How many apples does he have?"
PERTURBED = "PERTURBED"
"""Prompts holding this word are answered at the perturbed accuracy."""


def mc_error(rate: float, n: int) -> float:
    return math.sqrt(rate * (1 - rate) / n) if n else float("nan")


def shown(rate: float, n: int) -> str:
    """A rate with its Monte-Carlo standard error."""
    return f"{rate:.3f} ± {mc_error(rate, n):.3f}"


def rate_row(rates: Sequence[float], trials: int, target: str, detail: str) -> dict[str, Any]:
    """A row whose ratio is the rate over all reps (``rates`` per rep, ``trials`` each).
    ``detail`` may hold ``{rate}`` (the rate ± its Monte-Carlo error) and ``{n}``."""
    n = len(rates) * trials
    rate = sum(rates) / len(rates)
    out = _common.result(rates, target, detail.format(rate=shown(rate, n), n=n), ratio=rate)
    return out


class Counted:
    """An ``ask`` that counts its calls."""

    def __init__(self, ask: Any) -> None:
        self.ask, self.calls = ask, 0

    def __call__(self, *args: Any) -> ChatResult:
        self.calls += 1
        result: ChatResult = self.ask(*args)
        return result


def _draw(*parts: object) -> random.Random:
    return random.Random(hashlib.sha256("|".join(map(str, parts)).encode()).digest())


def noisy_ask(trial: int, accuracy: float, perturbed: float | None = None, wrong: int = 2) -> Any:
    """An ``ask`` whose model answers 7 with probability ``accuracy`` (else 7 +- 1..wrong,
    each equally likely), whatever padding the prompt has; a prompt holding
    :data:`PERTURBED` at ``perturbed`` instead (default: ``accuracy``). A fresh draw per
    distinct request."""

    def ask(model: str, messages: list[dict[str, str]], sample: int, params: dict) -> ChatResult:
        prompt = messages[-1]["content"]
        rng = _draw(trial, model, prompt, sample)
        right = accuracy if perturbed is None or PERTURBED not in prompt else perturbed
        value = 7
        if rng.random() >= right:
            off = rng.randint(1, wrong)
            value += off if rng.random() < 0.5 else -off
        return ChatResult(text=f"Answer: {value}", finish_reason="stop", usage=Usage(1, 1, 2))

    return ask


def _extract(text: str, spec: Any) -> Any:
    return spec.extract(text)


def options(evaluators: tuple[str, ...] = ("a", "b"), **values: Any) -> TransferOptions:
    """The marker's defaults (``samples="auto"``, confidence 0.95) at temperature 0.7."""
    from pytest_xgen.settings.marker import KEYWORDS

    defaults = {name: kw.default for name, kw in KEYWORDS.items()}
    defaults.update(generator=None, evaluators=evaluators, samples="auto", temperature=0.7)
    defaults.update(values)
    return TransferOptions(**defaults)


@dataclass
class Search:
    """One search's outcome: whether an example failed, its calls and confirmations."""

    failed: bool
    calls: int
    confirmations: int


def search_trial(
    trial: int,
    *,
    examples: int,
    before: float,
    after: float,
    expected: bool = True,
    evaluators: tuple[str, ...] = ("a",),
    max_drop: float | None = None,
) -> Search:
    """A search of ``examples`` perturbed prompts, as a Hypothesis search runs them (one
    budget, the same base prompt): every evaluator right with probability ``before`` on
    the base prompt and ``after`` on every perturbed one. It stops at the first failure,
    as Hypothesis does before shrinking."""
    rng = random.Random(trial)
    spec = answer_spec("number")
    ask = Counted(noisy_ask(trial, accuracy=before, perturbed=after))
    extra = {} if max_drop is None else {"max_drop": max_drop}
    opts = options(evaluators, **extra)
    budget = SearchBudget.for_search(examples)
    for index in range(examples):
        prompt = f"{PERTURBED}{' ' * index}{'.' * rng.randrange(3)} {BASE}"
        result = invariant(
            BASE,
            prompt,
            opts,
            spec,
            7 if expected else None,
            ask,
            _extract,
            search_size=examples,
            budget=budget,
        )
        if result.verdict == "fail":
            return Search(True, ask.calls, budget.spent)
    return Search(False, ask.calls, budget.spent)


def searches(trials: int, seed: int, **kwargs: Any) -> tuple[float, float, float]:
    """``(rate of failed searches, mean calls, mean confirmations)`` over ``trials``
    searches; trial ``t`` uses the answers without ``expected`` when ``t`` is odd and
    ``expected`` is ``"both"``."""
    both = kwargs.pop("expected", True) == "both"
    found = [search_trial(seed + t, expected=not (both and t % 2), **kwargs) for t in range(trials)]
    return (
        sum(s.failed for s in found) / trials,
        sum(s.calls for s in found) / trials,
        sum(s.confirmations for s in found) / trials,
    )


# --- interventions under an edit that changes nothing (I1) ----------------------------------

SPREAD = (0.40, 0.35, 0.25)
"""The evaluators' answers 7, 8, 9 with these probabilities, whatever they read."""
EXPLANATION = "Tom starts with 3 apples. He buys 4 more."


def spread_ask(trial: int) -> Any:
    """An evaluator that ignores the explanation: 7, 8 or 9 at :data:`SPREAD`, a fresh draw
    per request (so every edit of the explanation changes nothing); asked to reword, it
    says "has, at first," for "starts with"."""
    from pytest_xgen.checks.interventions import PARAPHRASE_SYSTEM

    def ask(model: str, messages: list[dict[str, str]], sample: int, params: dict) -> ChatResult:
        if messages[0]["content"] == PARAPHRASE_SYSTEM:
            text = messages[-1]["content"].replace("starts with", "has, at first,")
        else:
            rng = _draw(trial, model, messages[-1]["content"], sample)
            text = f"Answer: {rng.choices((7, 8, 9), weights=SPREAD)[0]}"
        return ChatResult(text=text, finish_reason="stop", usage=Usage(1, 1, 2))

    return ask


def intervention_trial(trial: int) -> dict[str, Any]:
    """The interventions on a given explanation at the defaults, two evaluators that ignore
    it (answers spread over 7, 8, 9) and a rewording that changes nothing: every true
    difference is 0. Per measure, whether the verdict's one-sided test shows it above 0
    (Fisher's exact test at ``(1 - confidence) / 2``: a one-sided error, stated at most
    that), with the reference chosen as the plugin chooses it and, for comparison, as the
    mode of the compared original answers."""
    from pytest_xgen.checks import arms, conditions, interventions, verdicts

    spec = answer_spec("number")
    opts = options(("a", "b"), paraphrase_with="a")
    ask = Counted(spread_ask(trial))
    made = conditions.given("given", EXPLANATION, opts, spec, ask, _extract, "given", "text")
    found = interventions.run(BASE, opts, spec, made, ask, _extract)
    out: dict[str, Any] = {"calls": ask.calls, "tie": found.mistake.tie}
    for name, check in (("follow", found.mistake), ("paraphrase", found.paraphrase)):
        assert check is not None and check.interval is not None
        original = check.original
        now = sum(a.hits(check.reference, spec)[0] for a in check.arms)
        asked = sum(a.hits(check.reference, spec)[1] for a in check.arms)
        hits = (*original.hits(check.reference, spec), now, asked)
        out[name] = verdicts.above_p(hits, 0.0) < 0.025
        old = arms.modal(original.flat(), spec)
        hit = sum(a.hits(old, spec)[0] for a in check.arms)
        total = sum(a.hits(old, spec)[1] for a in check.arms)
        out[name + "_old"] = verdicts.above_p((*original.hits(old, spec), hit, total), 0) < 0.025
        out[name + "_value"] = check.value
        n, m = original.hits(old, spec)
        out[name + "_old_value"] = n / m - hit / total
    return out
