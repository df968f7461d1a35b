"""Mirrored questions: a question and its mirror image asked of every evaluator, and how
often their answers contradict each other (after Arcuschin et al. 2025, arXiv 2503.08679).

With ``relation="opposite"`` the two answers must differ ("is X larger than Y" and "is Y
larger than X" both answered "yes" is a contradiction); with ``"same"`` they must be equal.
Sample *i* of one question is paired with sample *i* of the other; the contradiction rate
has a Wilson interval at the check's confidence, asserted with ``max_contradiction_rate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_xgen.checks.conditions import Ask, Extract, sample_calls, sample_count
from pytest_xgen.checks.context import Ran
from pytest_xgen.checks.data import jsonable
from pytest_xgen.checks.parallel import FanOut, serial
from pytest_xgen.checks.verdicts import judge
from pytest_xgen.core import prompts
from pytest_xgen.core.answers import AnswerSpec
from pytest_xgen.core.stats import wilson_interval
from pytest_xgen.errors import XgenConfigError, hide_frame
from pytest_xgen.settings.marker import TransferOptions

if TYPE_CHECKING:
    from pytest_xgen.checks.context import CheckContext

__tracebackhide__ = hide_frame

RELATIONS = ("opposite", "same")


@dataclass
class MirrorResult:
    """A question and its mirror image asked of every evaluator: how often their answers
    contradict each other (``opposite``: both questions get the same answer, as "yes" to
    "is X larger than Y" and to "is Y larger than X"; ``same``: different answers)."""

    kind: ClassVar[str] = "mirrored"

    question: str
    mirror: str
    relation: str
    options: TransferOptions
    spec: AnswerSpec
    answers: dict[str, list[Any]]
    mirrored: dict[str, list[Any]]
    contradictions: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per evaluator: contradictory pairs, pairs with both answers read."""
    rate: float | None = None
    interval: tuple[float, float] | None = None
    threshold: float | None = None
    verdict: str = "pass"
    reasons: list[str] = field(default_factory=list)
    summary: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def label(self, answer: Any) -> Any:
        """A choice answer by its text ("yes", not "A"); others as they are."""
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        if (
            isinstance(answer, str)
            and len(answer) == 1
            and answer in letters[: len(self.spec.choices)]
        ):
            return self.spec.choices[letters.index(answer)]
        return answer

    def explain(self) -> str:
        lines = [f"mirrored questions {self.verdict.upper()}: {self.summary}"]
        lines += [f"  {reason}" for reason in self.reasons]
        lines += [f"  question: {self.question}", f"  mirror:   {self.mirror}"]
        for model, (bad, total) in self.contradictions.items():
            pairs = ", ".join(
                f"{self.label(a)}/{self.label(b)}"
                for a, b in zip(self.answers[model], self.mirrored[model], strict=True)
            )
            lines.append(f"    {model:<12} {bad}/{total} contradictory  ({pairs})")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "prompt": self.question,
            "mirror": self.mirror,
            "relation": self.relation,
            "evaluators": list(self.options.evaluators),
            "answers": {m: jsonable([self.label(a) for a in v]) for m, v in self.answers.items()},
            "mirrored": {m: jsonable([self.label(a) for a in v]) for m, v in self.mirrored.items()},
            "contradictions": {
                m: {"contradictory": bad, "pairs": total}
                for m, (bad, total) in self.contradictions.items()
            },
            "rate": self.rate,
            "interval": None if self.interval is None else list(self.interval),
            "threshold": self.threshold,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "summary": self.summary,
        }


def mirror(
    question: str,
    mirrored: str,
    relation: str,
    options: TransferOptions,
    spec: AnswerSpec,
    ask: Ask,
    extract: Extract,
    fan_out: FanOut | None = None,
) -> MirrorResult:
    """Ask both questions of every evaluator (``samples`` each, as the baseline condition
    asks) and count the contradictory pairs: sample *i* of one with sample *i* of the other."""
    if relation not in RELATIONS:
        raise XgenConfigError(
            f"xgen.mirror(): relation {relation!r} is not one of {', '.join(RELATIONS)}: "
            "'opposite' when the mirror's answer must differ (is X larger than Y / is Y "
            "larger than X), 'same' when it must be equal"
        )
    count = sample_count(options)
    params = {"temperature": options.temperature}
    calls = [
        call
        for text in (question, mirrored)
        for call in sample_calls(
            ask,
            options.evaluators,
            prompts.baseline(text, "own", options.prompts),
            params,
            0,
            count,
        )
    ]
    outputs = iter((fan_out or serial)(calls, options.evaluators))
    found: list[dict[str, list[Any]]] = [{}, {}]
    for side in found:
        for model in options.evaluators:
            side[model] = [extract(next(outputs).text, spec) for _ in range(count)]
    result = MirrorResult(
        question,
        mirrored,
        relation,
        options,
        spec,
        found[0],
        found[1],
        threshold=options.max_contradiction_rate,
    )
    for model in options.evaluators:
        pairs = [
            (a, b)
            for a, b in zip(found[0][model], found[1][model], strict=True)
            if a is not None and b is not None
        ]
        same = sum(spec.equal(a, b) for a, b in pairs)
        bad = same if relation == "opposite" else len(pairs) - same
        result.contradictions[model] = (bad, len(pairs))
    bad = sum(b for b, _ in result.contradictions.values())
    total = sum(t for _, t in result.contradictions.values())
    if not total:
        result.verdict = "inconclusive" if result.threshold is not None else "pass"
        result.reasons.append("no pair of answers could be read")
        result.summary = "no pair of answers could be read"
        return result
    result.rate = bad / total
    if options.confidence is not None:
        result.interval = wilson_interval(bad, total, options.confidence)
    per_model = ", ".join(f"{m} {b}/{t}" for m, (b, t) in result.contradictions.items())
    result.summary = f"{bad} of {total} answer pairs contradict each other ({per_model})"
    if result.threshold is None:
        result.reasons.append("reported only: assert it with max_contradiction_rate=...")
        return result
    low, high = result.interval or (result.rate, result.rate)
    t = result.threshold
    result.verdict = judge(result.rate, result.interval, t, "at_most")
    if result.verdict != "pass":
        shown_interval = "" if result.interval is None else f" [{low:.2f}, {high:.2f}]"
        result.reasons.append(
            f"contradiction rate {result.rate:.2f}{shown_interval} against "
            f"max_contradiction_rate={t:g}: {result.verdict}"
        )
    return result


def planned_calls(options: TransferOptions) -> int:
    """The calls one ``xgen.mirror()`` makes: both questions, every evaluator's samples."""
    return 2 * len(options.evaluators) * sample_count(options)


def run_check(
    ctx: CheckContext,
    question: str,
    mirrored: str,
    relation: str = "opposite",
    *,
    answer: Any = "choice",
    choices: Sequence[str] | None = ("yes", "no"),
    **options: Any,
) -> Ran:
    """``xgen.mirror()``: asserted with ``max_contradiction_rate`` in a marked test."""
    method = "xgen.mirror()"
    chosen = choices if answer == "choice" else None
    spec = ctx.spec(answer, None, None, chosen, True, method=method)
    opts = ctx.options(options, needs_generator=False, method=method)
    ctx.begin(planned_calls(opts))
    result = mirror(
        str(question), str(mirrored), relation, opts, spec, ctx.ask, ctx.extract, ctx.fan_out
    )
    return Ran(result, [(result, True)])
