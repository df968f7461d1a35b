"""Prompt invariance: a meaning-preserving perturbation must not change the answers.

Each evaluator answers the base prompt and the perturbed prompt ``samples`` times (reasoning
by itself, sample *i* paired with sample *i*); two answers agree by the transfer check's
rule (equal, or both correct). The base prompt's calls have the same recording keys in
every example, so Hypothesis pays for them once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_xgen import metrics, prompts
from pytest_xgen.answers import AnswerSpec
from pytest_xgen.errors import hide_frame
from pytest_xgen.marker import TransferOptions
from pytest_xgen.parallel import serial
from pytest_xgen.transfer import sample_count
from pytest_xgen.transfer_report import show

if TYPE_CHECKING:
    from pytest_xgen.parallel import FanOut
    from pytest_xgen.transfer import Ask, Extract

__tracebackhide__ = hide_frame


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

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def flipped(self) -> list[str]:
        """Evaluators whose answers the perturbation changed beyond ``min_invariance``."""
        return [
            m
            for m, a in self.agreement.items()
            if a.rate is None or a.rate < self.options.min_invariance
        ]

    def explain(self) -> str:
        from pytest_xgen.perturb import PerturbedPrompt

        lines = [f"invariance {self.verdict.upper()}: " + "; ".join(self.reasons or ["ok"])]
        prompt: Any = self.perturbed
        if getattr(prompt, "edits", None) is None:
            prompt = PerturbedPrompt(self.perturbed, self.base, ())
        lines.append(f"perturbation: {prompt.describe()}")
        lines.extend(f"  {line}" for line in prompt.diff().splitlines())
        width = max([len(m) for m in self.agreement] + [len("answers")])
        lines.append("")
        lines.append(f"  {'answers':<{width}}  {'base':<20}  {'perturbed':<20}  agreement")
        for model, pair in self.agreement.items():
            row = (
                f"  {model:<{width}}  {' '.join(map(show, self.base_answers[model])):<20}  "
                f"{' '.join(map(show, self.perturbed_answers[model])):<20}  "
                f"{pair.agree}/{pair.total}"
            )
            lines.append(row + ("   <- flipped" if model in self.flipped else ""))
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
) -> InvariantResult:
    """Answer both prompts with every evaluator and compare, sample by sample. Every call
    is independent, so all of them go to ``fan_out`` together. ``samples="auto"`` takes the
    first round's count (there is no interval to stop on)."""
    params = {"temperature": options.temperature}
    count = sample_count(options)
    labelled = (("base", base), ("perturbed", perturbed))
    calls = [
        functools.partial(ask, model, prompts.baseline(str(prompt), "own"), i, params)
        for _, prompt in labelled
        for model in options.evaluators
        for i in range(count)
    ]
    results = iter((fan_out or serial)(calls, options.evaluators))
    found: dict[str, dict[str, list[Any]]] = {"base": {}, "perturbed": {}}
    for label, _ in labelled:
        for model in options.evaluators:
            found[label][model] = [extract(next(results).text, spec) for _ in range(count)]
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
    for model in result.flipped:
        pair = agreement[model]
        if pair.total == 0:
            result.reasons.append(f"{model} gave no parseable answer pair")
        else:
            changed = pair.total - pair.agree
            result.reasons.append(
                f"{model} changed its answer on {changed} of {pair.total} sample(s) "
                f"(min_invariance {options.min_invariance:g})"
            )
    result.verdict = "fail" if result.reasons else "pass"
    return result
