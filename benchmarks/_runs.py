"""Runs that look like real ones, recorded through the plugin's own check and gate.

A suite is a list of problems, each with a difficulty: the evaluators' own accuracy
``own`` (uniform on 0.3-1.0), 3 or 4 wrong answers with Dirichlet(2) weights (spread, no
single dominant wrong answer), and the rate ``right`` (uniform on 0.6-1.0) at which the
generator's explanation of it is right. Every recording (a *run*) draws, per test:

- the explanation anew (unless the run replays the baseline's: a *paired* run): right with
  probability ``right``, else it states one of the wrong answers; and its clarity, uniform
  on 0-1;
- each evaluator's samples: it follows the explanation (copies the answer it states, a
  wrong one included) with a probability between 0.2 and 0.8 that depends on the evaluator
  and the clarity, and otherwise answers on its own (right with ``own``, else one of the
  wrong answers). The baseline condition has no explanation: own answers only.

Every sample is a fresh draw per (run, model, request, sample index), seeded by a hash as a
server would answer it; the generator's call is seeded by the run's *explanation* seed, so
a paired run answers it exactly as the baseline run did. The runs go through the plugin's
own code, as a real run does: :func:`pytest_xgen.checks.transfer.check` at the marker's
defaults (``samples="auto"``), ``to_dict()``, :func:`pytest_xgen.report.build.test_metrics`,
and :func:`pytest_xgen.report.gate.compare` / :func:`~pytest_xgen.report.gate.gate` at their
defaults, so whatever that code decides today is what the rows measure.

Where the variance between two runs of a test comes from: whether the explanation is right
(a wrong one moves every follower to the same wrong answer, which raises agreement and
lowers accuracy), its clarity (how many evaluators follow it at all), and only then the
evaluators' sampling. :func:`variance_ratio` measures the first two against the binomial
variance the per-test tests assume.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pytest_xgen.core import prompts
from pytest_xgen.models.base import ChatResult, Usage

GENERATOR = "gen"
EVALUATORS = ("a", "b")
SUITE = 200  # problems per drawn suite; smaller suites are disjoint blocks of it
_TOKEN = re.compile(r"draft ([a-z]{12})\b")
_LETTERS = "bcdfghjklmnpqrstvwxz"
# Simpson's rule on clarity 0, 1/2, 1: exact for the polynomials of degree <= 3 that the
# agreement of up to three evaluators is (each follows with a rate linear in the clarity).
_CLARITY = ((0.0, 1 / 6), (0.5, 4 / 6), (1.0, 1 / 6))


@dataclass(frozen=True)
class Problem:
    """One test's problem and its difficulty."""

    index: int
    truth: int
    wrong: tuple[int, ...]
    weights: tuple[float, ...]
    own: float
    """The evaluators' own accuracy (before an evaluator's ``own_factor``)."""
    right: float
    """The rate at which the generator's explanation is right."""

    @property
    def prompt(self) -> str:
        return f"Problem {self.index}: how many marbles are in jar {self.index}?"

    def wrong_answer(self, rng: random.Random) -> int:
        return rng.choices(self.wrong, self.weights)[0]


@dataclass(frozen=True)
class Evaluator:
    """An evaluator: how often it follows an explanation, by clarity, and how well it does
    on its own (a factor on each problem's ``own``)."""

    name: str
    follow_low: float
    """The follow rate at clarity 0."""
    follow_high: float
    """The follow rate at clarity 1."""
    own_factor: float = 1.0

    def follow(self, clarity: float) -> float:
        return self.follow_low + (self.follow_high - self.follow_low) * clarity


@dataclass(frozen=True)
class World:
    """The models of one run. ``generator_drop`` lowers every problem's ``right``;
    ``varied=False`` is the iid special case: the explanation is always right with clarity
    1/2, so only the evaluators' sampling varies between runs."""

    evaluators: tuple[Evaluator, ...] = (
        Evaluator("a", 0.2, 0.8),
        Evaluator("b", 0.3, 0.7),
    )
    generator_drop: float = 0.0
    varied: bool = True

    def right(self, problem: Problem) -> float:
        if not self.varied:
            return 1.0
        return min(1.0, max(0.0, problem.right - self.generator_drop))

    def evaluator(self, name: str) -> Evaluator:
        return next(e for e in self.evaluators if e.name == name)


REALISTIC = World()
IID = World(varied=False)


def evaluator_regression(world: World, strength: float) -> World:
    """``world`` with its last evaluator worse by ``strength`` (0-1): its follow rates and
    its own accuracy scaled by ``1 - strength``."""
    *kept, last = world.evaluators
    scale = 1.0 - strength
    worse = replace(
        last,
        follow_low=last.follow_low * scale,
        follow_high=last.follow_high * scale,
        own_factor=last.own_factor * scale,
    )
    return replace(world, evaluators=(*kept, worse))


def generator_regression(world: World, drop: float) -> World:
    """``world`` with a generator whose explanations are right ``drop`` less often."""
    return replace(world, generator_drop=world.generator_drop + drop)


def draw_suite(seed: object, size: int | None = None) -> tuple[Problem, ...]:
    """``size`` problems (default :data:`SUITE`) drawn from ``seed`` (the first ``n`` of a
    larger suite are the same)."""
    problems = []
    for index in range(SUITE if size is None else size):
        rng = random.Random(f"suite|{seed}|{index}")
        truth = 20 + index % 60
        offsets = [d for d in range(-4, 5) if d]
        wrong = tuple(truth + d for d in rng.sample(offsets, rng.choice((3, 4))))
        gammas = [rng.gammavariate(2.0, 1.0) for _ in wrong]
        total = sum(gammas)
        problems.append(
            Problem(
                index=index,
                truth=truth,
                wrong=wrong,
                weights=tuple(g / total for g in gammas),
                own=rng.uniform(0.3, 1.0),
                right=rng.uniform(0.6, 1.0),
            )
        )
    return tuple(problems)


# --- what the model says: exact expectations -----------------------------------------------


def _own(problem: Problem, evaluator: Evaluator) -> dict[int, float]:
    r = min(1.0, problem.own * evaluator.own_factor)
    found = {problem.truth: r}
    for value, weight in zip(problem.wrong, problem.weights, strict=True):
        found[value] = (1 - r) * weight
    return found


def _statements(problem: Problem, world: World) -> list[tuple[int, float]]:
    q = world.right(problem)
    found = [(problem.truth, q)]
    found += [(w, (1 - q) * p) for w, p in zip(problem.wrong, problem.weights, strict=True)]
    return found


@dataclass(frozen=True)
class Expected:
    """A test's expected metrics under a world, over its explanation draws."""

    consistency: float
    baseline_consistency: float
    accuracy: float
    explanation: float
    """The chance the explanation is right."""


def expected(problem: Problem, world: World) -> Expected:
    """The exact expected transfer consistency (every evaluator agrees on a sample),
    baseline consistency, transfer accuracy (per answer) and explanation rightness."""
    values = [problem.truth, *problem.wrong]
    own = [[_own(problem, e)[v] for v in values] for e in world.evaluators]
    clarities = _CLARITY if world.varied else ((0.5, 1.0),)
    consistency = accuracy = 0.0
    for j, (_, p_stated) in enumerate(_statements(problem, world)):
        if p_stated == 0:
            continue
        for clarity, p_clarity in clarities:
            mixed = []
            for e, dist in zip(world.evaluators, own, strict=True):
                f = e.follow(clarity)
                mix = [(1 - f) * p for p in dist]
                mix[j] += f
                mixed.append(mix)
            weight = p_stated * p_clarity
            consistency += weight * sum(math.prod(column) for column in zip(*mixed, strict=True))
            accuracy += weight * sum(m[0] for m in mixed) / len(mixed)
    baseline = sum(math.prod(column) for column in zip(*own, strict=True))
    return Expected(consistency, baseline, accuracy, world.right(problem))


def mean_expected(problems: Sequence[Problem], world: World) -> Expected:
    found = [expected(p, world) for p in problems]
    return Expected(
        *(
            sum(getattr(e, name) for e in found) / len(found)
            for name in Expected.__dataclass_fields__
        )
    )


@functools.cache
def strength_for(drop: float, kind: str) -> float:
    """The knob that lowers the mean expected metric by ``drop`` over a reference population
    of :data:`REFERENCE` problems: for ``kind="evaluator"`` the regression strength that
    lowers transfer consistency (bisection, to 1e-9), for ``"generator"`` the drop in the
    explanation's rightness (``drop`` itself)."""
    if kind == "generator":
        return drop
    if kind != "evaluator":
        raise ValueError(f"kind is 'evaluator' or 'generator', not {kind!r}")
    population = _reference()
    base = mean_expected(population, REALISTIC).consistency
    low, high = 0.0, 1.0
    for _ in range(30):
        mid = (low + high) / 2
        worse = mean_expected(population, evaluator_regression(REALISTIC, mid)).consistency
        low, high = (mid, high) if base - worse < drop else (low, mid)
    return (low + high) / 2


REFERENCE = 500


@functools.lru_cache(maxsize=1)
def _reference() -> tuple[Problem, ...]:
    return draw_suite("reference", REFERENCE)


def regressed(kind: str, drop: float) -> World:
    """The realistic world with a regression of ``kind`` sized to ``drop`` (see
    :func:`strength_for`)."""
    strength = strength_for(drop, kind)
    if kind == "generator":
        return generator_regression(REALISTIC, strength)
    return evaluator_regression(REALISTIC, strength)


# --- what the model says: sampled answers through check() ----------------------------------


def _rng(*parts: object) -> random.Random:
    return random.Random(hashlib.sha256("|".join(map(str, parts)).encode()).digest())


class Models:
    """The ``ask`` of one run: the generator draws its explanation from the explanation
    seed, the evaluators draw every sample from the run seed."""

    def __init__(
        self, problems: Sequence[Problem], world: World, run_seed: object, explanation_seed: object
    ) -> None:
        self.world = world
        self.run_seed = run_seed
        self.explanation_seed = explanation_seed
        self.by_prompt = {p.prompt: p for p in problems}
        self.drafts: dict[str, tuple[Problem, int, float]] = {}

    def explain(self, prompt: str, sample: int) -> tuple[int, float, str]:
        """The stated answer, clarity and token of the explanation of ``prompt``."""
        problem = self.by_prompt[prompt]
        rng = _rng("explain", self.explanation_seed, GENERATOR, prompt, sample)
        right = rng.random() < self.world.right(problem)
        stated = problem.truth if right else problem.wrong_answer(rng)
        clarity = rng.random() if self.world.varied else 0.5
        token = "".join(rng.choice(_LETTERS) for _ in range(12))
        self.drafts[token] = (problem, stated, clarity)
        return stated, clarity, token

    def __call__(
        self, model: str, messages: list[dict[str, str]], sample: int, params: dict[str, Any]
    ) -> ChatResult:
        system = messages[0]["content"] if messages[0]["role"] == "system" else ""
        user = messages[-1]["content"]
        if system == prompts.ELICIT_SYSTEM:
            stated, _, token = self.explain(user, sample)
            text = f"Take draft {token} and count the marbles one by one.\nAnswer: {stated}"
            return ChatResult(text=text, finish_reason="stop", usage=Usage(1, 1, 2))
        rng = _rng("answer", self.run_seed, model, messages, sample)
        evaluator = self.world.evaluator(model)
        if system == prompts.TRANSFER_SYSTEM:
            found = _TOKEN.search(user)
            if found is None:
                raise ValueError(f"no explanation in the transfer request: {user!r}")
            problem, stated, clarity = self.drafts[found[1]]
            if rng.random() < evaluator.follow(clarity):
                return _says(stated)
        else:
            problem = self.by_prompt[user]
        own = min(1.0, problem.own * evaluator.own_factor)
        return _says(problem.truth if rng.random() < own else problem.wrong_answer(rng))


def _says(value: int) -> ChatResult:
    return ChatResult(
        text=f"So: {value}.\nAnswer: {value}", finish_reason="stop", usage=Usage(1, 1, 2)
    )


def _extract(text: str, spec: Any) -> Any:
    return spec.extract(text)


def options() -> Any:
    """The marker's defaults (``samples="auto"``, its confidence) with the generator and
    the two evaluators."""
    from pytest_xgen.settings.marker import KEYWORDS, TransferOptions

    values = {name: kw.default for name, kw in KEYWORDS.items()}
    values.update(generator=GENERATOR, evaluators=EVALUATORS)
    return TransferOptions(**values)


@dataclass
class Run:
    """One recording of a suite: per test, the report entry the gate reads and the test's
    outcome (passed, failed, xfailed, error)."""

    entries: list[dict[str, Any]]
    outcomes: list[str]
    verdicts: list[str] = field(default_factory=list)
    """Each check's verdict (pass, fail, inconclusive; error when it raised)."""
    samples: list[int] = field(default_factory=list)
    """Samples per evaluator and condition each check took."""

    def report(self, indices: Sequence[int] | None = None) -> dict[str, Any]:
        chosen = range(len(self.entries)) if indices is None else indices
        return {"tests": [self.entries[i] for i in chosen]}

    def consistency(self, index: int) -> tuple[int, int] | None:
        metrics = self.entries[index]["metrics"]
        if metrics is None:
            return None
        units = metrics["units"]["consistency"]
        return units["agree"], units["total"]


def outcome(verdict: str, on_inconclusive: str) -> str:
    """A test's outcome from its check's verdict, as the fixture's ``enforce`` makes it."""
    if verdict == "fail" or (verdict == "inconclusive" and on_inconclusive == "fail"):
        return "failed"
    if verdict == "inconclusive" and on_inconclusive == "xfail":
        return "xfailed"
    return "passed"


def record(
    problems: Sequence[Problem],
    world: World,
    run_seed: object,
    explanation_seed: object | None = None,
    opts: Any = None,
) -> Run:
    """Record the suite once: one ``check()`` per problem at the defaults (or ``opts``). The
    explanation seed defaults to the run seed (a fresh explanation); give the baseline run's
    to replay its explanation (a paired run)."""
    from pytest_xgen.checks.transfer import check
    from pytest_xgen.core.answers import answer_spec
    from pytest_xgen.errors import XgenError
    from pytest_xgen.report.build import test_metrics

    ask = Models(
        problems, world, run_seed, run_seed if explanation_seed is None else explanation_seed
    )
    opts = options() if opts is None else opts
    spec = answer_spec("number")
    run = Run([], [])
    for problem in problems:
        nodeid = f"test_suite.py::test_problem[{problem.index}]"
        try:
            result = check(problem.prompt, opts, spec, problem.truth, ask, _extract)
        except XgenError as exc:  # the plugin's own errors make a test error, as in a real run
            run.entries.append({"nodeid": nodeid, "metrics": None, "error": repr(exc)})
            run.outcomes.append("error")
            run.verdicts.append("error")
            run.samples.append(0)
            continue
        checks = [result.to_dict()]
        run.entries.append({"nodeid": nodeid, "checks": checks, "metrics": test_metrics(checks)})
        run.outcomes.append(outcome(result.verdict, opts.on_inconclusive))
        run.verdicts.append(result.verdict)
        run.samples.append(result.samples_used)
    return run


# --- comparisons -------------------------------------------------------------------------


@dataclass(frozen=True)
class Gated:
    """What the gate made of one comparison."""

    result: str
    exit_nonzero: bool
    regressed: int
    """Tests reported ``regressed`` (the per-test verdicts, adjusted as the gate adjusts)."""
    paired: int | None = None
    """Tests the comparison found reading the same explanations in both runs (None: the
    gate does not tell)."""


def gated(before: dict[str, Any], after: dict[str, Any], thresholds: dict[str, float]) -> Gated:
    """``compare()`` and ``gate()`` at their defaults, as ``--xgen-compare`` runs them."""
    from pytest_xgen.report import gate as gate_module

    comparison = gate_module.compare(before, after, thresholds=thresholds)
    verdict = gate_module.gate(comparison)
    pairing = getattr(comparison, "pairing", None)
    paired = pairing()[0] if callable(pairing) else None
    return Gated(verdict.result, verdict.failed, comparison.counts()["regressed"], paired)


def blocks(size: int, total: int | None = None) -> list[range]:
    """Disjoint blocks of ``size`` tests of a suite of ``total`` (default :data:`SUITE`):
    independent comparisons, since every test's problem and draws are independent of the
    others'."""
    total = SUITE if total is None else total
    return [range(start, start + size) for start in range(0, total - size + 1, size)]


def thresholds(*metrics: str, delta: float = 0.05) -> dict[str, float]:
    """``{metric: delta}`` for the metrics the gate knows (checked at run time), so a row
    that asks for a metric the gate does not have yet leaves it out."""
    from pytest_xgen.settings.options import METRICS

    return {m: delta for m in metrics if m in METRICS}


def variance_ratio(
    problems: Sequence[Problem],
    world: World,
    runs: int,
    *,
    paired: bool = False,
    seed: object = 0,
    opts: Any = None,
) -> tuple[float, float]:
    """Between-run variance of each test's consistency (units) over ``runs`` recordings,
    against the binomial variance a per-test test assumes (``p (1 - p) / n`` at the test's
    pooled rate and each run's sample count), pooled over the tests. Returns ``(ratio, mean
    samples per check)``. ``paired``: every run replays the first run's explanations."""
    recorded = [
        record(problems, world, f"var|{seed}|{k}", f"var|{seed}|0" if paired else None, opts)
        for k in range(runs)
    ]
    between = binomial = 0.0
    samples = []
    for index in range(len(problems)):
        counts = [c for run in recorded if (c := run.consistency(index)) is not None and c[1]]
        if len(counts) < 2:
            continue
        rates = [a / n for a, n in counts]
        pooled = sum(a for a, _ in counts) / sum(n for _, n in counts)
        mean = sum(rates) / len(rates)
        between += sum((r - mean) ** 2 for r in rates) / (len(rates) - 1)
        binomial += pooled * (1 - pooled) * sum(1 / n for _, n in counts) / len(counts)
        samples += [n for _, n in counts]
    ratio = between / binomial if binomial else float("nan")
    return ratio, sum(samples) / len(samples) if samples else float("nan")
