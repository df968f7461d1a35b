"""The transfer protocol: elicit an explanation, strip its answer, and measure whether it
makes the evaluators agree more than a baseline without it.

Agreement is not correctness: with an ``expected`` answer the result also reports accuracy
and splits agreement into consistent-correct, consistent-wrong and inconsistent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pytest_xgen import metrics, prompts, stats
from pytest_xgen.answers import AnswerSpec
from pytest_xgen.errors import hide_frame
from pytest_xgen.marker import TransferOptions
from pytest_xgen.models.base import ChatResult, Message
from pytest_xgen.strip import Stripped, strip_answer, strip_with_model

__tracebackhide__ = hide_frame

# ask(model, messages, sample, params) -> ChatResult; recorded by the caller.
Ask = Callable[[str, list[Message], int, dict[str, Any]], ChatResult]
Extract = Callable[[str, AnswerSpec], Any]

SAMPLED_TEMPERATURE = 1.0
GENERATOR_SUFFIX = " (generator)"


@dataclass(frozen=True)
class Explanation:
    """The generator's explanation and what was removed from it."""

    generator: str
    output: str
    source: str  # "reasoning" (a separate reasoning field or think block) or "text"
    answer: Any
    stripped: Stripped

    @property
    def text(self) -> str:
        """What the evaluators are given."""
        return self.stripped.text


@dataclass(frozen=True)
class Condition:
    """Every evaluator's answers under one condition, and their agreement.

    ``compared`` holds the answer lists that were compared pairwise: the evaluators', plus
    the generator's answer repeated once per sample when there is a single evaluator.
    """

    name: str
    outputs: dict[str, list[str]]
    compared: dict[str, list[Any]]
    compared_correct: dict[str, list[bool]] | None
    consistency: metrics.Consistency
    breakdown: metrics.Breakdown | None
    interval: tuple[float, float] | None

    @property
    def mean(self) -> float | None:
        return self.consistency.mean

    @property
    def answers(self) -> dict[str, list[Any]]:
        """Normalized answers per evaluator and sample (``None``: unparseable)."""
        return {m: v for m, v in self.compared.items() if m in self.outputs}

    @property
    def correct(self) -> dict[str, list[bool]] | None:
        if self.compared_correct is None:
            return None
        return {m: v for m, v in self.compared_correct.items() if m in self.outputs}

    @property
    def accuracy(self) -> dict[str, float | None]:
        """Accuracy per evaluator (empty without an expected answer)."""
        correct = self.correct
        return metrics.accuracy(correct) if correct is not None else {}

    @property
    def unparseable(self) -> dict[str, int]:
        return {m: sum(a is None for a in answers) for m, answers in self.answers.items()}

    def mean_over(self, indices: Sequence[int], spec: AnswerSpec) -> float | None:
        """Consistency over the given sample indices (for the bootstrap)."""
        compared = {m: [v[i] for i in indices] for m, v in self.compared.items()}
        correct = None
        if self.compared_correct is not None:
            correct = {m: [v[i] for i in indices] for m, v in self.compared_correct.items()}
        return metrics.pairwise_consistency(compared, correct, equal=spec.equal).mean


@dataclass
class TransferResult:
    """The outcome of one ``xgen.check()``."""

    kind: ClassVar[str] = "transfer"

    prompt: str
    options: TransferOptions
    spec: AnswerSpec
    expected: Any
    explanation: Explanation
    baseline: Condition
    transfer: Condition
    lift: float | None
    lift_interval: tuple[float, float] | None
    verdict: str = "pass"  # pass | fail | inconclusive
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def consistency(self) -> float | None:
        """Transfer consistency (mean over evaluator pairs)."""
        return self.transfer.mean

    @property
    def baseline_consistency(self) -> float | None:
        return self.baseline.mean

    @property
    def accuracy(self) -> dict[str, float | None]:
        """Accuracy per evaluator in the transfer condition (empty without ``expected``)."""
        return self.transfer.accuracy

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def diverged(self) -> str | None:
        """The evaluator that strayed furthest from the explanation under transfer: the
        lowest share of answers equal to the generator's, then the lowest mean agreement
        with the other evaluators."""
        reference = self.explanation.answer

        def follows(model: str) -> float:
            answers = [a for a in self.transfer.answers[model] if a is not None]
            if reference is None or not answers:
                return 1.0
            return sum(self.spec.equal(a, reference) for a in answers) / len(answers)

        def agrees(model: str) -> float:
            rates = [
                p.rate
                for pair, p in self.transfer.consistency.pairs.items()
                if model in pair and p.rate is not None
            ]
            return sum(rates) / len(rates) if rates else 1.0

        scores = {m: (follows(m), agrees(m)) for m in self.options.evaluators}
        worst = min(scores, key=lambda m: scores[m])
        return worst if scores[worst] < (1.0, 1.0) else None

    def explain(self) -> str:
        """A self-contained account of the check, used as the failure message."""
        from pytest_xgen.transfer_report import explain

        return explain(self)


def _answer_of(result: ChatResult, spec: AnswerSpec, extract: Extract) -> Any:
    value = extract(result.text, spec)
    if value is None and result.reasoning:
        value = extract(result.reasoning, spec)
    return value


def elicit(
    prompt: str,
    options: TransferOptions,
    spec: AnswerSpec,
    ask: Ask,
    extract: Extract,
) -> Explanation:
    """Steps 1 and 2: the generator explains, and the answer sentences are removed."""
    result = ask(options.generator, prompts.elicit(prompt), 0, {})
    source, output = ("reasoning", result.reasoning) if result.reasoning else ("text", result.text)
    answer = _answer_of(result, spec, extract)
    if options.strip_with:
        strip_model = options.strip_with

        def ask_text(messages: list[Message]) -> str:
            return ask(strip_model, messages, 0, {"temperature": 0}).text

        stripped = strip_with_model(output, answer, spec, ask_text, strip_model)
    else:
        stripped = strip_answer(output, answer, spec)
    return Explanation(options.generator, output, source, answer, stripped)


def _condition_params(kind: str, options: TransferOptions) -> dict[str, Any]:
    if kind == "own":
        return {"temperature": 0}
    if kind == "sampled":
        return {"temperature": SAMPLED_TEMPERATURE}
    return {"temperature": options.temperature}


def run_condition(
    name: str,
    messages: list[Message],
    params: dict[str, Any],
    options: TransferOptions,
    spec: AnswerSpec,
    expected: Any,
    explanation: Explanation,
    ask: Ask,
    extract: Extract,
) -> Condition:
    """Steps 4 and 5 for one condition: every evaluator answers ``samples`` times, each a
    separate recorded call, and the answers are measured."""
    outputs: dict[str, list[str]] = {}
    answers: dict[str, list[Any]] = {}
    for model in options.evaluators:
        results = [ask(model, messages, i, params) for i in range(options.samples)]
        outputs[model] = [r.text for r in results]
        answers[model] = [_answer_of(r, spec, extract) for r in results]
    return measure(name, outputs, answers, options, spec, expected, explanation)


def measure(
    name: str,
    outputs: dict[str, list[str]],
    answers: dict[str, list[Any]],
    options: TransferOptions,
    spec: AnswerSpec,
    expected: Any,
    explanation: Explanation,
) -> Condition:
    """Consistency, breakdown and interval of one condition's answers."""
    compared = dict(answers)
    if len(answers) == 1:
        # One evaluator has no partner: it is compared with the generator's own answer.
        reference = [explanation.answer] * len(next(iter(answers.values())))
        compared = {explanation.generator + GENERATOR_SUFFIX: reference, **answers}
    correct = None
    if expected is not None:
        correct = {m: [spec.correct(a, expected) for a in v] for m, v in compared.items()}
    consistency = metrics.pairwise_consistency(compared, correct, equal=spec.equal)
    interval = None
    if options.confidence is not None:
        interval = stats.wilson_interval(consistency.agree, consistency.total, options.confidence)
    return Condition(
        name=name,
        outputs=outputs,
        compared=compared,
        compared_correct=correct,
        consistency=consistency,
        breakdown=metrics.breakdown(compared, correct, equal=spec.equal) if correct else None,
        interval=interval,
    )


def _judge(value: float | None, interval: tuple[float, float] | None, threshold: float) -> str:
    if value is None:
        return "fail"
    if interval is None:
        return "pass" if value >= threshold else "fail"
    low, high = interval
    if low >= threshold:
        return "pass"
    if high < threshold:
        return "fail"
    return "inconclusive"


def decide(result: TransferResult) -> None:
    """Step 6: the verdict and its reasons, from point estimates or interval bounds."""
    options = result.options
    transfer = result.transfer
    checks: list[tuple[str, str]] = []
    consistency = _judge(transfer.mean, transfer.interval, options.min_consistency)
    checks.append(
        (
            consistency,
            _describe(
                "consistency",
                transfer.mean,
                transfer.interval,
                options.min_consistency,
                "min_consistency",
            ),
        )
    )
    lift = _judge(result.lift, result.lift_interval, options.min_lift)
    checks.append(
        (lift, _describe("lift", result.lift, result.lift_interval, options.min_lift, "min_lift"))
    )
    if options.require_correct and transfer.breakdown is not None:
        wrong = transfer.breakdown.consistent_wrong
        checks.append(
            (
                "fail" if wrong > 0 else "pass",
                f"consistent-wrong {wrong:.2f} > 0 with require_correct=True",
            )
        )
    if transfer.mean is None:
        checks.append(("fail", "no evaluator pair had two parseable answers"))
    failed = [reason for verdict, reason in checks if verdict == "fail"]
    unsure = [reason for verdict, reason in checks if verdict == "inconclusive"]
    if failed:
        result.verdict, result.reasons = "fail", failed
    elif unsure:
        result.verdict = "inconclusive"
        result.reasons = [
            f"{r}: the interval straddles the threshold; raise samples (now {options.samples})"
            for r in unsure
        ]
    else:
        result.verdict, result.reasons = "pass", []


def _describe(
    what: str,
    value: float | None,
    interval: tuple[float, float] | None,
    threshold: float,
    keyword: str,
) -> str:
    shown = "n/a" if value is None else f"{value:+.2f}" if what == "lift" else f"{value:.2f}"
    if interval is not None:
        shown += f" [{interval[0]:.2f}, {interval[1]:.2f}]"
    return f"{what} {shown} vs {keyword} {threshold:g}"


def check(
    prompt: str,
    options: TransferOptions,
    spec: AnswerSpec,
    expected: Any,
    ask: Ask,
    extract: Extract,
    seed: int = 0,
) -> TransferResult:
    """Run the whole protocol for one problem and decide."""
    explanation = elicit(prompt, options, spec, ask, extract)
    baseline = run_condition(
        f"baseline ({options.baseline})",
        prompts.baseline(prompt, options.baseline),
        _condition_params(options.baseline, options),
        options,
        spec,
        expected,
        explanation,
        ask,
        extract,
    )
    transfer = run_condition(
        "transfer",
        prompts.transfer(prompt, explanation.text, options.delivery),
        {"temperature": options.temperature},
        options,
        spec,
        expected,
        explanation,
        ask,
        extract,
    )
    lift = None
    if transfer.mean is not None and baseline.mean is not None:
        lift = transfer.mean - baseline.mean
    lift_ci = None
    if options.confidence is not None:
        lift_ci = stats.lift_interval(
            lambda idx: baseline.mean_over(idx, spec),
            lambda idx: transfer.mean_over(idx, spec),
            options.samples,
            confidence=options.confidence,
            seed=seed,
        )
    result = TransferResult(
        prompt=prompt,
        options=options,
        spec=spec,
        expected=expected,
        explanation=explanation,
        baseline=baseline,
        transfer=transfer,
        lift=lift,
        lift_interval=lift_ci,
    )
    if len(options.evaluators) == 1:
        result.notes.append(
            f"one evaluator: consistency is the agreement of {options.evaluators[0]}'s samples "
            f"with the generator {options.generator}'s answer"
        )
    decide(result)
    return result
