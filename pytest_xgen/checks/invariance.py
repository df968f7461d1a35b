"""Prompt invariance: a meaning-preserving perturbation must not change the answers.

With a temperature above 0 a model answers the same prompt differently from sample to
sample, so "the answer changed" says nothing by itself. Each evaluator's answers on the
base and on the perturbed prompt are therefore two samples, and the question is whether
the perturbed prompt gives a *lower rate*: of right answers when ``expected`` is given,
otherwise of the base samples' most common answer (a permutation test that picks that
answer again in every permutation, so the choice does not bias it). A check fails when

1. the drop is larger than the tolerated ``max_drop`` (default ``1 - min_invariance``) and
   significant at ``(1 - confidence) / search_size`` (``search_size`` is the number of
   examples a Hypothesis search may try, so a whole search keeps the stated level); with
   ``samples="auto"`` a first look of 5 samples that suggests a drop (p < 0.2) takes a
   second look at 10, and each look gets half that level, and
2. the drop reproduces on fresh samples (new sample indices, recorded like every call) at
   ``1 - confidence``.

It is inconclusive when the samples are too few for even a complete flip to be
significant, and passes otherwise; the result reports the base prompt's agreement with
itself (the noise floor). Greedy single samples (``temperature=0, samples=1``) and
``confidence=None`` keep the exact comparison: sample *i* against sample *i*, at least
``min_invariance`` of them equal.

The base prompt's calls have the same recording keys in every example, so Hypothesis pays
for them once.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_xgen.checks import data
from pytest_xgen.checks.parallel import serial
from pytest_xgen.checks.transfer import sample_count
from pytest_xgen.checks.transfer_report import show
from pytest_xgen.core import metrics, prompts, significance
from pytest_xgen.core.answers import AnswerSpec
from pytest_xgen.errors import hide_frame
from pytest_xgen.settings.marker import TransferOptions

if TYPE_CHECKING:
    from pytest_xgen.checks.parallel import FanOut
    from pytest_xgen.checks.transfer import Ask, Extract
    from pytest_xgen.models.base import Message

__tracebackhide__ = hide_frame


@dataclass
class ModelTest:
    """One evaluator's two-sample test of the perturbation."""

    measure: str
    """``"accuracy"`` or ``"base's most common answer"``."""
    base_rate: float
    perturbed_rate: float
    p_value: float
    noise_floor: float | None
    """How often two base samples agree with each other (``None``: fewer than two)."""
    confirmation: tuple[float, float, float] | None = None
    """``(base_rate, perturbed_rate, p)`` on fresh samples, when a drop was confirmed for."""
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
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "measure": self.measure,
            "base_rate": self.base_rate,
            "perturbed_rate": self.perturbed_rate,
            "p_value": self.p_value,
            "noise_floor": self.noise_floor,
            "confirmation": None if self.confirmation is None else list(self.confirmation),
            "failed": self.failed,
        }


@dataclass
class InvariantResult:
    """The outcome of ``xgen.invariant()``."""

    kind: ClassVar[str] = "invariant"

    base: str
    perturbed: str
    options: TransferOptions
    spec: AnswerSpec
    expected: Any
    base_answers: dict[str, list[Any]]
    perturbed_answers: dict[str, list[Any]]
    agreement: dict[str, metrics.PairAgreement]
    verdict: str = "pass"
    reasons: list[str] = field(default_factory=list)
    tests: dict[str, ModelTest] = field(default_factory=dict)
    """Per evaluator, the two-sample test; empty in exact mode."""
    level: float | None = None
    """The per-example significance level (``None``: the exact comparison)."""
    search_size: int = 1
    problem: str | None = None
    """With explanations compared (``xgen.invariant(..., problem=PROMPT)``): the problem."""

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def exact(self) -> bool:
        """Whether the check compared sample by sample instead of testing."""
        return self.level is None

    @property
    def flipped(self) -> list[str]:
        """Evaluators whose answers the perturbation changed: beyond ``min_invariance`` in
        exact mode, otherwise by a significant, confirmed drop beyond ``max_drop``."""
        if not self.exact:
            return [m for m, t in self.tests.items() if t.failed]
        return [
            m
            for m, a in self.agreement.items()
            if a.rate is None or a.rate < self.options.min_invariance
        ]

    def to_dict(self) -> dict[str, Any]:
        """The check as the JSON report holds it (kind invariant)."""
        from pytest_xgen.core.perturb import PerturbedPrompt

        prompt = self.perturbed
        if getattr(prompt, "edits", None) is None:
            prompt = PerturbedPrompt(str(self.perturbed), str(self.base), ())
        return {
            "kind": "invariant",
            "prompt": str(self.base),
            "perturbed": str(self.perturbed),
            "perturbation": data.perturbation(prompt),
            "evaluators": list(self.options.evaluators),
            "options": data.jsonable(self.options.to_dict()),
            "answer_spec": self.spec.describe(),
            "expected": data.jsonable(self.expected),
            "models": {
                m: {
                    "base": data.jsonable(self.base_answers[m]),
                    "perturbed": data.jsonable(self.perturbed_answers[m]),
                    "agree": self.agreement[m].agree,
                    "total": self.agreement[m].total,
                }
                for m in self.agreement
            },
            "flipped": self.flipped,
            "level": self.level,
            "search_size": self.search_size,
            "problem": self.problem,
            "tests": {m: t.to_dict() for m, t in self.tests.items()},
            "verdict": self.verdict,
            "reasons": list(self.reasons),
        }

    def explain(self) -> str:
        from pytest_xgen.core.perturb import PerturbedPrompt

        lines = [f"invariance {self.verdict.upper()}: " + "; ".join(self.reasons or ["ok"])]
        prompt: Any = self.perturbed
        if getattr(prompt, "edits", None) is None:
            prompt = PerturbedPrompt(self.perturbed, self.base, ())
        lines.append(f"perturbation: {prompt.describe()}")
        lines.extend(f"  {line}" for line in prompt.diff().splitlines())
        width = max([len(m) for m in self.agreement] + [len("answers")])
        lines.append("")
        if self.exact:
            lines.append(f"  {'answers':<{width}}  {'base':<20}  {'perturbed':<20}  agreement")
        else:
            lines.append(
                f"  {'answers':<{width}}  {'base':<20}  {'perturbed':<20}  "
                "rate base -> perturbed (p), noise floor"
            )
        for model, pair in self.agreement.items():
            row = (
                f"  {model:<{width}}  {' '.join(map(show, self.base_answers[model])):<20}  "
                f"{' '.join(map(show, self.perturbed_answers[model])):<20}  "
            )
            test = self.tests.get(model)
            if test is None:
                row += f"{pair.agree}/{pair.total}"
            else:
                row += test.describe()
            lines.append(row + ("   <- flipped" if model in self.flipped else ""))
        if not self.exact:
            lines.append(
                f"  level {self.level:.2g} per example and look (1 - confidence over "
                f"{self.search_size} example(s)"
                + (" and 2 looks" if self.options.samples == "auto" else "")
                + f"); tolerated drop {self.options.tolerated_drop:g}"
            )
        if self.expected is not None:
            lines.append(f"  expected: {show(self.expected)}")
        lines.append(f"  base prompt: {' '.join(self.base.split())}")
        return "\n".join(lines)


def invariant(
    base: str,
    perturbed: str,
    options: TransferOptions,
    spec: AnswerSpec,
    expected: Any,
    ask: Ask,
    extract: Extract,
    fan_out: FanOut | None = None,
    *,
    search_size: int = 1,
    problem: str | None = None,
) -> InvariantResult:
    """Answer both prompts with every evaluator and compare (see the module docstring).
    Every call of a round is independent, so all of them go to ``fan_out`` together.
    ``samples="auto"`` starts with the first round's count (5) and may double it.

    With ``problem``, ``base`` and ``perturbed`` are two explanations of it (an original and
    an edit, such as ``xst.corrupt_step()`` draws), each handed to the evaluators as the
    transfer check hands one: the same search-level control then finds the smallest edit of
    an explanation that changes an answer."""
    count = sample_count(options)
    _answers = functools.partial(_answers_of, problem=problem)
    found = _answers(base, perturbed, options, spec, ask, extract, fan_out, range(count))
    agreement = {}
    for model in options.evaluators:
        before, after = found["base"][model], found["perturbed"][model]
        correct_before = correct_after = None
        if expected is not None:
            correct_before = [spec.correct(a, expected) for a in before]
            correct_after = [spec.correct(a, expected) for a in after]
        agreement[model] = metrics.agreement_with(
            before, after, correct_before, correct_after, equal=spec.equal
        )
    result = InvariantResult(
        base, perturbed, options, spec, expected, found["base"], found["perturbed"], agreement
    )
    result.problem = problem
    greedy = options.temperature == 0 and count == 1
    if greedy or options.confidence is None:
        _exact(result)
        return result
    alpha = round(1 - options.confidence, 12)  # 1 - 0.95 is 0.05000000000000004
    result.level = alpha / max(1, search_size)
    result.search_size = max(1, search_size)
    tolerated = options.tolerated_drop + 1e-9
    # samples="auto": a second look at twice the samples when the first suggests a drop,
    # each look at half the level (Bonferroni over the two looks).
    looks = 2 if options.samples == "auto" else 1
    per_look = result.level / looks
    for model in options.evaluators:
        result.tests[model] = _test(found["base"][model], found["perturbed"][model], spec, expected)
    if looks == 2:
        extend = [m for m, t in result.tests.items() if t.drop > tolerated and t.p_value < EXTEND_P]
        if extend:
            more = _answers(
                base,
                perturbed,
                replace(options, evaluators=tuple(extend)),
                spec,
                ask,
                extract,
                fan_out,
                range(count, 2 * count),
            )
            for model in extend:
                for label in ("base", "perturbed"):
                    found[label][model] = found[label][model] + more[label][model]
                result.tests[model] = _test(
                    found["base"][model], found["perturbed"][model], spec, expected
                )
    suspects = [m for m, t in result.tests.items() if t.p_value < per_look and t.drop > tolerated]
    by_size: dict[int, list[str]] = {}
    for model in suspects:
        by_size.setdefault(len(found["base"][model]), []).append(model)
    for size, models in by_size.items():
        # A flip must reproduce on fresh samples (indices never used before) to count.
        start = looks * count
        fresh = _answers(
            base,
            perturbed,
            replace(options, evaluators=tuple(models)),
            spec,
            ask,
            extract,
            fan_out,
            range(start, start + size),
        )
        for model in models:
            again = _test(fresh["base"][model], fresh["perturbed"][model], spec, expected)
            test = result.tests[model]
            test.confirmation = (again.base_rate, again.perturbed_rate, again.p_value)
            test.failed = again.p_value < alpha and again.drop > tolerated
    result.level = per_look
    for model in result.flipped:
        test = result.tests[model]
        assert test.confirmation is not None  # a failed test was confirmed
        result.reasons.append(
            f"{model}: {test.measure} fell from {test.base_rate:.2f} to "
            f"{test.perturbed_rate:.2f} (p={test.p_value:.3g} < {result.level:.2g}), and again "
            f"on fresh samples from {test.confirmation[0]:.2f} to {test.confirmation[1]:.2f} "
            f"(p={test.confirmation[2]:.3g})"
        )
    if result.reasons:
        result.verdict = "fail"
        return result
    largest = count * looks
    smallest = _smallest_p(largest)
    if smallest >= result.level:
        result.verdict = "inconclusive"
        needed = next(n for n in range(count, 200) if _smallest_p(n * looks) < result.level)
        result.reasons.append(
            f"{largest} sample(s) per prompt cannot show any change at level "
            f"{result.level:.2g} (even a complete flip gives p={smallest:.3g}); use "
            f"samples={needed} or more"
        )
    return result


EXTEND_P = 0.2
"""With ``samples="auto"``: a first look with a drop and a p-value below this takes a second
look at twice the samples."""


def _smallest_p(count: int) -> float:
    """The smallest one-sided p-value two samples of ``count`` answers can give: every base
    answer the reference, no perturbed one."""
    return 1 / math.comb(2 * count, count)


def _answers_of(
    base: str,
    perturbed: str,
    options: TransferOptions,
    spec: AnswerSpec,
    ask: Ask,
    extract: Extract,
    fan_out: FanOut | None,
    indices: range,
    *,
    problem: str | None = None,
) -> dict[str, dict[str, list[Any]]]:
    params = {"temperature": options.temperature}
    labelled = (("base", base), ("perturbed", perturbed))

    def messages(text: str) -> list[Message]:
        if problem is None:
            return prompts.baseline(text, "own", options.prompts)
        return prompts.transfer(problem, text, options.delivery, options.prompts)

    calls = [
        functools.partial(ask, model, messages(str(prompt)), i, params)
        for _, prompt in labelled
        for model in options.evaluators
        for i in indices
    ]
    results = iter((fan_out or serial)(calls, options.evaluators))
    found: dict[str, dict[str, list[Any]]] = {"base": {}, "perturbed": {}}
    for label, _ in labelled:
        for model in options.evaluators:
            found[label][model] = [extract(next(results).text, spec) for _ in indices]
    return found


def _test(before: list[Any], after: list[Any], spec: AnswerSpec, expected: Any) -> ModelTest:
    floor = _self_agreement(before, spec)
    if expected is not None:
        right_before = sum(spec.correct(a, expected) for a in before)
        right_after = sum(spec.correct(a, expected) for a in after)
        p = significance.fisher_p(
            right_before,
            len(before) - right_before,
            right_after,
            len(after) - right_after,
            alternative="greater",
        )
        return ModelTest("accuracy", right_before / len(before), right_after / len(after), p, floor)
    labels = _classes(before + after, spec)
    p, _, base_rate, perturbed_rate = significance.reference_drop_p(
        labels[: len(before)], labels[len(before) :]
    )
    return ModelTest("the base's most common answer", base_rate, perturbed_rate, p, floor)


def _classes(answers: list[Any], spec: AnswerSpec) -> list[int | None]:
    """Each answer as the index of the first earlier answer it equals (by ``spec.equal``,
    which need not be hashable or transitive), ``None`` for an unparseable one."""
    representatives: list[Any] = []
    labels: list[int | None] = []
    for answer in answers:
        if answer is None:
            labels.append(None)
            continue
        for index, seen in enumerate(representatives):
            if spec.equal(answer, seen):
                labels.append(index)
                break
        else:
            representatives.append(answer)
            labels.append(len(representatives) - 1)
    return labels


def _self_agreement(answers: list[Any], spec: AnswerSpec) -> float | None:
    pairs = list(itertools.combinations(answers, 2))
    if not pairs:
        return None
    return sum(a is not None and b is not None and spec.equal(a, b) for a, b in pairs) / len(pairs)


def _exact(result: InvariantResult) -> None:
    """Sample *i* against sample *i*: at least ``min_invariance`` of them must agree."""
    options = result.options
    for model in result.flipped:
        pair = result.agreement[model]
        if pair.total == 0:
            result.reasons.append(f"{model} gave no parseable answer pair")
        else:
            changed = pair.total - pair.agree
            result.reasons.append(
                f"{model} changed its answer on {changed} of {pair.total} sample(s) "
                f"(min_invariance {options.min_invariance:g})"
            )
    result.verdict = "fail" if result.reasons else "pass"
