"""Peer review: evaluators judge an explanation step by step, like a picky colleague.

Each evaluator answers ``Step N: agree`` or ``Step N: disagree - why`` per step and names
the first step that breaks. The result gives each evaluator's first disputed step and the
step-level agreement across evaluators (pairwise, over steps, as for answers).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_xgen.checks.conditions import explanation_of
from pytest_xgen.checks.context import Ran
from pytest_xgen.checks.parallel import serial
from pytest_xgen.core import metrics, prompts
from pytest_xgen.core.printable import rate
from pytest_xgen.core.strip import split_sentences
from pytest_xgen.errors import hide_frame
from pytest_xgen.settings.marker import TransferOptions

if TYPE_CHECKING:
    from pytest_xgen.checks.conditions import Ask
    from pytest_xgen.checks.context import CheckContext
    from pytest_xgen.checks.parallel import FanOut

__tracebackhide__ = hide_frame

_VERDICT = re.compile(
    r"step\s*(\d+)\s*\**\s*[:.)-]?\s*\**\s*"
    r"(agree|disagree|correct|incorrect|wrong)\b[ \t*:,.-]*(.*)",
    re.IGNORECASE,
)
_FIRST = re.compile(r"first\s+error\s*\**\s*:\s*\**\s*(none|no\b|step\s*)?(\d+)?", re.IGNORECASE)
_YES = {"agree", "correct"}


def split_steps(explanation: str) -> list[str]:
    """The explanation's sentences; a numbered line ("2. He buys 4 more.") is one step."""
    return [s.text.strip() for s in split_sentences(explanation)]


@dataclass(frozen=True)
class StepReview:
    """One evaluator's verdict per step (``None``: it did not say)."""

    verdicts: list[bool | None]
    first_disputed: int | None
    reasons: dict[int, str]
    output: str


def parse_review(text: str, steps: int) -> StepReview:
    """Read ``Step N: agree|disagree - why`` lines and ``First error: N|none``."""
    verdicts: list[bool | None] = [None] * steps
    reasons: dict[int, str] = {}
    for match in _VERDICT.finditer(text):
        number = int(match.group(1))
        if 1 <= number <= steps and verdicts[number - 1] is None:
            agree = match.group(2).lower() in _YES
            verdicts[number - 1] = agree
            reason = match.group(3).strip()
            if not agree and reason and reason != "<why>":  # "<why>": the template, copied
                reasons[number] = reason
    first: int | None = None
    stated = _FIRST.search(text)
    if stated and stated.group(2) and 1 <= int(stated.group(2)) <= steps:
        first = int(stated.group(2))
    elif any(v is False for v in verdicts):
        first = verdicts.index(False) + 1
    return StepReview(verdicts, first, reasons, text)


@dataclass
class ReviewResult:
    """The outcome of ``xgen.review()``."""

    kind: ClassVar[str] = "review"

    prompt: str
    options: TransferOptions
    steps: list[str]
    reviews: dict[str, StepReview]
    agreement: metrics.Consistency | metrics.PairAgreement
    verdict: str = "pass"
    reasons: list[str] = field(default_factory=list)

    @property
    def step_agreement(self) -> float | None:
        """Mean pairwise agreement of the evaluators' step verdicts (with one evaluator: the
        share of steps it agrees with)."""
        if isinstance(self.agreement, metrics.PairAgreement):
            return self.agreement.rate
        return self.agreement.mean

    @property
    def first_disputed(self) -> dict[str, int | None]:
        return {m: r.first_disputed for m, r in self.reviews.items()}

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self) -> dict[str, Any]:
        """The check as the JSON report holds it (kind review)."""
        return {
            "kind": "review",
            "prompt": str(self.prompt),
            "evaluators": list(self.options.evaluators),
            "steps": list(self.steps),
            "reviews": {
                m: {
                    "verdicts": list(v.verdicts),
                    "first_disputed": v.first_disputed,
                    "reasons": {str(k): text for k, text in v.reasons.items()},
                }
                for m, v in self.reviews.items()
            },
            "step_agreement": self.step_agreement,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
        }

    def explain(self) -> str:
        value = self.step_agreement
        shown = rate(value)
        lines = [
            f"review {self.verdict.upper()}: step agreement {shown}"
            + (
                f" vs min_step_agreement {self.options.min_step_agreement:g}"
                if self.options.min_step_agreement is not None
                else ""
            )
        ]
        width = max([len(m) for m in self.reviews] + [len("step")])
        marks = {True: "+", False: "x", None: "?"}
        lines.append(
            f"  {'step':<{width}}  " + " ".join(f"{i:>2}" for i in range(1, len(self.steps) + 1))
        )
        for model, review in self.reviews.items():
            row = " ".join(f"{marks[v]:>2}" for v in review.verdicts)
            first = review.first_disputed
            lines.append(f"  {model:<{width}}  {row}   first disputed: {first or 'none'}")
            for number, reason in sorted(review.reasons.items()):
                lines.append(f"  {'':<{width}}    step {number}: {reason[:100]}")
        lines.append("  steps:")
        lines.extend(
            f"    {i:>2} | {' '.join(s.split())[:100]}" for i, s in enumerate(self.steps, 1)
        )
        return "\n".join(lines)


def review(
    prompt: str,
    explanation: str | None,
    options: TransferOptions,
    ask: Ask,
    fan_out: FanOut | None = None,
) -> ReviewResult:
    """Ask every evaluator to review the steps of ``explanation`` (by default the
    generator's own explanation of ``prompt``). The evaluators' reviews are independent:
    they go to ``fan_out`` together."""
    if explanation is None:
        result = ask(options.generator_name, prompts.elicit(prompt, options.prompts), 0, {})
        explanation = explanation_of(result)[1]
    steps = split_steps(explanation)
    messages = prompts.review(prompt, steps)
    calls = [
        functools.partial(ask, model, messages, 0, {"temperature": 0})
        for model in options.evaluators
    ]
    answers = (fan_out or serial)(calls, options.evaluators)
    reviews = {
        model: parse_review(answer.text, len(steps))
        for model, answer in zip(options.evaluators, answers, strict=True)
    }
    verdicts: dict[str, list[Any]] = {m: list(r.verdicts) for m, r in reviews.items()}
    agreement: metrics.Consistency | metrics.PairAgreement
    if len(verdicts) == 1:
        agreement = metrics.agreement_with([True] * len(steps), next(iter(verdicts.values())))
    else:
        agreement = metrics.pairwise_consistency(verdicts)
    result_ = ReviewResult(prompt, options, steps, reviews, agreement)
    threshold = options.min_step_agreement
    value = result_.step_agreement
    if threshold is not None and (value is None or value < threshold):
        shown = rate(value)
        result_.verdict = "fail"
        result_.reasons = [f"step agreement {shown} < min_step_agreement {threshold:g}"]
    return result_


def planned_calls(options: TransferOptions, explanation: str | None) -> int:
    """The calls one review makes: the generator's explanation if none is given, then one
    review per evaluator."""
    return (explanation is None) + len(options.evaluators)


def run_check(
    ctx: CheckContext, prompt: str, explanation: str | None = None, **options: Any
) -> Ran:
    """``xgen.review()``: its step-level agreement decides a marked test only with
    ``min_step_agreement``."""
    opts = ctx.options(options, method="xgen.review()")
    ctx.begin(planned_calls(opts, explanation))
    result = review(prompt, explanation, opts, ctx.ask, ctx.fan_out)
    return Ran(result, [(result, opts.min_step_agreement is not None)])
