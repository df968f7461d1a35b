"""The transfer protocol: elicit an explanation, strip its answer, and measure whether it
makes the evaluators agree more than a baseline without it.

Agreement is not correctness: with an ``expected`` answer the result also reports accuracy
and splits agreement into consistent-correct, consistent-wrong and inconsistent.
"""

from __future__ import annotations

import functools
import itertools
import statistics
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from pytest_xgen.checks.parallel import FanOut, serial
from pytest_xgen.core import metrics, prompts, stats
from pytest_xgen.core.answers import AnswerSpec
from pytest_xgen.core.printable import printable, rate, signed
from pytest_xgen.core.strip import Stripped, strip_answer, strip_with_model
from pytest_xgen.errors import XgenConfigError, hide_frame
from pytest_xgen.models.base import ChatResult, Message
from pytest_xgen.settings.marker import EXPLANATION_MODES, TransferOptions, source_name

__tracebackhide__ = hide_frame

# ask(model, messages, sample, params) -> ChatResult; recorded by the caller.
Ask = Callable[[str, list[Message], int, dict[str, Any]], ChatResult]
Extract = Callable[[str, AnswerSpec], Any]

SAMPLED_TEMPERATURE = 1.0
GENERATOR_SUFFIX = " (generator)"

# samples="auto": sample in rounds and stop as soon as the verdict is clear.
AUTO = "auto"
AUTO_FIRST = 5  # samples per evaluator and condition in the first round
AUTO_STEP = 5  # samples each later round adds
AUTO_MAX_SAMPLES = 20  # the most samples="auto" takes; there it decides as samples=20 does
AUTO_CONFIDENCE = 0.95  # the level of the stopping intervals when `confidence` is not set


def sample_count(options: TransferOptions) -> int:
    """Samples per evaluator and condition a check starts with: ``samples``, or the first
    round of ``samples="auto"`` (also what checks without a stopping rule, such as
    ``xgen.invariant()``, take for ``auto``)."""
    return AUTO_FIRST if options.samples == AUTO else int(options.samples)


def planned_calls(options: TransferOptions) -> tuple[int, bool]:
    """The model calls ``check()`` makes, and whether that is only an upper bound (auto)."""
    auto = options.samples == AUTO
    most = AUTO_MAX_SAMPLES if auto else int(options.samples)
    explains = options.explanation in EXPLANATION_MODES  # a given explanation costs no call
    return explains + bool(options.strip_with) + 2 * len(options.evaluators) * most, auto


@dataclass(frozen=True)
class Explanation:
    """The generator's explanation and what was removed from it."""

    generator: str
    output: str
    source: str  # "reasoning" (a separate reasoning field or think block) or "text"
    answer: Any
    stripped: Stripped
    origin: str = "generator"
    """Where it came from: ``generator``, ``ensemble``, ``given`` (a text passed to the
    check) or ``callable NAME`` (made by the project's own code)."""

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
    sample_agreement: tuple[bool | None, ...] = ()
    """Per sample: did every evaluator agree (``None``: fewer than two answers parsed)."""

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

    def statistic(self, spec: AnswerSpec) -> Callable[[Sequence[int]], float | None]:
        """:meth:`mean_over` as a fast function of the sample indices, for the bootstrap's
        thousands of resamples: every pair's comparison of each sample is made once, and a
        resample only adds them up (the same numbers, in the same order)."""
        names = list(self.compared)
        tables = []
        for a, b in itertools.combinations(names, 2):
            agree, total = [], []
            for i in range(len(self.compared[a])):
                correct = self.compared_correct
                pair = metrics.agreement_with(
                    [self.compared[a][i]],
                    [self.compared[b][i]],
                    None if correct is None else [correct[a][i]],
                    None if correct is None else [correct[b][i]],
                    equal=spec.equal,
                )
                agree.append(pair.agree)
                total.append(pair.total)
            tables.append((agree, total))

        def mean(indices: Sequence[int]) -> float | None:
            rates = []
            for agree, total in tables:
                counted = sum(total[i] for i in indices)
                if counted:
                    rates.append(sum(agree[i] for i in indices) / counted)
            return statistics.fmean(rates) if rates else None

        return mean


@dataclass(frozen=True)
class Single:
    """One generator's own explanation under the transfer condition, next to an ensemble."""

    generator: str
    explanation: Explanation
    transfer: Condition
    lift: float | None

    @property
    def consistency(self) -> float | None:
        return self.transfer.mean

    @property
    def answer(self) -> Any:
        return self.explanation.answer


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
    # Samples per evaluator and condition the check took (with samples="auto", where it
    # stopped), and the level of the intervals it decided on (None: point estimates).
    samples_used: int = 0
    interval_level: float | None = None
    # With explanation="ensemble": the EnsembleExplanation, and each generator's own
    # explanation measured the same way, for comparison.
    ensemble: Any = None
    singles: dict[str, Single] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.samples_used:
            self.samples_used = len(next(iter(self.transfer.compared.values()), []))
        if self.interval_level is None and self.transfer.interval is not None:
            self.interval_level = self.options.confidence

    @property
    def auto(self) -> bool:
        """Whether the check sampled sequentially (``samples="auto"``)."""
        return self.options.samples == AUTO

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
        from pytest_xgen.checks.transfer_report import explain

        return explain(self)

    def to_dict(self) -> dict[str, Any]:
        """The check as the JSON report holds it (kind transfer)."""
        from pytest_xgen.checks.transfer_report import to_dict

        return to_dict(self)


def _answer_of(result: ChatResult, spec: AnswerSpec, extract: Extract) -> Any:
    value = extract(result.text, spec)
    if value is None and result.reasoning:
        value = extract(result.reasoning, spec)
    return value


def given(
    generator: str,
    output: str,
    options: TransferOptions,
    spec: AnswerSpec,
    ask: Ask,
    extract: Extract,
    source: str = "text",
    origin: str = "ensemble",
) -> Explanation:
    """Step 2 for an explanation that did not come from ``elicit`` (an ensembled one, or
    one the project gave): its answer is read out of it, and the answer sentences are
    removed as usual."""
    answer = extract(output, spec)
    stripped = _strip(output, answer, options, spec, ask)
    return Explanation(generator, output, source, answer, stripped, origin)


def given_text(source: str | Callable[[str], str], prompt: str) -> tuple[str, str, str]:
    """The explanation text a check was given, its origin and the name it goes by: the
    text itself, or what the callable returns for ``prompt`` (a perturbed prompt gets its
    own explanation)."""
    if not callable(source):
        return source, "given", "explanation"
    name = source_name(source)
    text = source(prompt)
    if not isinstance(text, str) or not text.strip():
        shown = printable(repr(text)[:80])
        raise XgenConfigError(
            f"explanation={name} returned {shown} for the prompt; it must return the "
            "explanation as a non-empty text"
        )
    return text, f"callable {name}", name


def _strip(
    output: str, answer: Any, options: TransferOptions, spec: AnswerSpec, ask: Ask
) -> Stripped:
    if options.strip_with:
        strip_model = options.strip_with

        def ask_text(messages: list[Message]) -> str:
            return ask(strip_model, messages, 0, {"temperature": 0}).text

        return strip_with_model(output, answer, spec, ask_text, strip_model)
    return strip_answer(output, answer, spec)


def compare_singles(
    result: TransferResult,
    generators: Sequence[str],
    ask: Ask,
    extract: Extract,
    fan_out: FanOut | None = None,
) -> None:
    """Measure each generator's own explanation with the transfer condition of ``result``
    (same samples, same baseline) and keep it in ``result.singles``."""
    options = replace(result.options, samples=result.samples_used)
    for generator in generators:
        own = replace(options, generator=generator)
        explanation = elicit(str(result.prompt), own, result.spec, ask, extract)
        condition = run_condition(
            "transfer",
            prompts.transfer(str(result.prompt), explanation.text, own.delivery, own.prompts),
            {"temperature": own.temperature},
            own,
            result.spec,
            result.expected,
            explanation,
            ask,
            extract,
            fan_out,
        )
        lift = None
        if condition.mean is not None and result.baseline.mean is not None:
            lift = condition.mean - result.baseline.mean
        result.singles[generator] = Single(generator, explanation, condition, lift)


def elicit(
    prompt: str,
    options: TransferOptions,
    spec: AnswerSpec,
    ask: Ask,
    extract: Extract,
) -> Explanation:
    """Steps 1 and 2: the generator explains, and the answer sentences are removed."""
    result = ask(options.generator_name, prompts.elicit(prompt, options.prompts), 0, {})
    source, output = ("reasoning", result.reasoning) if result.reasoning else ("text", result.text)
    answer = _answer_of(result, spec, extract)
    stripped = _strip(output, answer, options, spec, ask)
    return Explanation(options.generator_name, output, source, answer, stripped)


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
    fan_out: FanOut | None = None,
) -> Condition:
    """Steps 4 and 5 for one condition: every evaluator answers ``samples`` times, each a
    separate recorded call (made at once through ``fan_out``), and the answers are
    measured. For ``samples="auto"`` this takes the first round only."""
    samples = _Samples(options.evaluators)
    count = sample_count(options)
    run = fan_out or serial
    samples.add(
        run(_sample_calls(ask, options.evaluators, messages, params, 0, count), options.evaluators),
        count,
        spec,
        extract,
    )
    return measure(name, samples.outputs, samples.answers, options, spec, expected, explanation)


class _ExplanationFailed(Exception):
    """A transfer sample's explanation could not be made (that call's error is raised)."""


class _Pending:
    """The transfer messages, once the explanation they carry exists."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.messages: list[Message] | None = None

    def wait(self) -> list[Message]:
        # The explanation is the first call handed out, so it is running or done by now.
        self.ready.wait()
        if self.messages is None:
            raise _ExplanationFailed("no explanation")
        return self.messages


class _Samples:
    """One condition's outputs and answers per evaluator, growing round by round."""

    def __init__(self, evaluators: Sequence[str]) -> None:
        self.evaluators = list(evaluators)
        self.outputs: dict[str, list[str]] = {m: [] for m in evaluators}
        self.answers: dict[str, list[Any]] = {m: [] for m in evaluators}

    def add(
        self, results: Sequence[ChatResult], count: int, spec: AnswerSpec, extract: Extract
    ) -> None:
        """Take ``count`` new samples per evaluator, evaluator by evaluator (the order of
        :func:`_sample_calls`)."""
        for k, model in enumerate(self.evaluators):
            for result in results[k * count : (k + 1) * count]:
                self.outputs[model].append(result.text)
                self.answers[model].append(_answer_of(result, spec, extract))


def _sample_calls(
    ask: Ask,
    evaluators: Sequence[str],
    messages: list[Message],
    params: dict[str, Any],
    start: int,
    stop: int,
) -> list[Callable[[], ChatResult]]:
    """The calls of samples ``start`` to ``stop - 1`` of every evaluator, evaluator by
    evaluator; each is independent of the others."""
    return [
        functools.partial(ask, model, messages, i, params)
        for model in evaluators
        for i in range(start, stop)
    ]


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
    per_sample = metrics.sample_agreement(compared, correct, equal=spec.equal)
    interval = None
    if options.confidence is not None:
        interval = consistency_interval(consistency, per_sample, options.confidence)
    return Condition(
        name=name,
        outputs=outputs,
        compared=compared,
        compared_correct=correct,
        consistency=consistency,
        breakdown=metrics.breakdown(compared, correct, equal=spec.equal) if correct else None,
        interval=interval,
        sample_agreement=tuple(per_sample),
    )


def consistency_interval(
    consistency: metrics.Consistency, per_sample: Sequence[bool | None], confidence: float
) -> tuple[float, float] | None:
    """A Wilson interval for the consistency that counts samples, not evaluator pairs.

    The pairs of one sample share its answers, so they are not independent trials: with
    three evaluators, three pairs per sample would make the interval look about
    sqrt(3) times narrower than the data allow. The interval is centred on the pooled
    pair agreement with the number of scored samples as its size (exact with two
    evaluators, conservative with more).
    """
    samples = sum(flag is not None for flag in per_sample)
    if consistency.total == 0 or samples == 0:
        return stats.wilson_interval(0, 0, confidence)
    rate = consistency.agree / consistency.total
    return stats.wilson_rate_interval(rate, samples, confidence)


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
        if result.auto:
            advice = (
                f"samples='auto' stopped at its maximum of {result.samples_used}; "
                "set a larger fixed samples"
            )
        else:
            advice = f"raise samples (now {result.samples_used})"
        result.reasons = [f"{r}: the interval straddles the threshold; {advice}" for r in unsure]
    else:
        result.verdict, result.reasons = "pass", []


def _describe(
    what: str,
    value: float | None,
    interval: tuple[float, float] | None,
    threshold: float,
    keyword: str,
) -> str:
    shown = signed(value) if what == "lift" else rate(value)
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
    fan_out: FanOut | None = None,
    explainer: Callable[[], Explanation] | None = None,
    explainer_models: Sequence[str] = (),
) -> TransferResult:
    """Run the whole protocol for one problem and decide.

    Every call of the first round goes to ``fan_out`` at once (the fixture passes the
    session's, which makes them on threads): the explanation, every baseline sample, and
    every transfer sample, which waits for the explanation and no longer (the chain is two
    calls deep, three with ``strip_with``). With ``samples="auto"`` further rounds follow,
    each adding :data:`AUTO_STEP` samples to both conditions, until the verdict is clear or
    :data:`AUTO_MAX_SAMPLES` is reached. Sample indices run 0, 1, 2, ... either way, so
    fixed and automatic sampling share their recordings.

    ``explainer`` replaces the generator's explanation (steps 1 and 2), e.g. with an
    ensembled one; ``explainer_models`` are the models it calls.
    """
    run = fan_out or serial
    evaluators = options.evaluators
    auto = options.samples == AUTO
    count = sample_count(options)
    base_name = f"baseline ({options.baseline})"
    base_messages = prompts.baseline(prompt, options.baseline, options.prompts)
    base_params = _condition_params(options.baseline, options)
    transfer_params = {"temperature": options.temperature}
    if explainer is not None:
        explainers = list(explainer_models)
    else:
        explainers = [options.generator_name, *([options.strip_with] if options.strip_with else [])]
    base = _Samples(evaluators)
    moved = _Samples(evaluators)
    pending = _Pending()

    def explain() -> Explanation:
        try:
            if explainer is not None:
                explanation = explainer()
            else:
                explanation = elicit(prompt, options, spec, ask, extract)
            pending.messages = prompts.transfer(
                prompt, explanation.text, options.delivery, options.prompts
            )
            return explanation
        finally:
            pending.ready.set()

    def transferred(model: str, sample: int) -> Callable[[], ChatResult]:
        def call() -> ChatResult:
            return ask(model, pending.wait(), sample, transfer_params)

        return call

    # In call order: a serial run explains, then runs the baseline, then the transfer. On
    # threads the baseline's requests go out while the explanation is being made.
    first = run(
        [
            explain,
            *_sample_calls(ask, evaluators, base_messages, base_params, 0, count),
            *[transferred(model, i) for model in evaluators for i in range(count)],
        ],
        [*explainers, *evaluators],
    )
    explanation: Explanation = first[0]
    transfer_messages = pending.wait()
    half = 1 + len(evaluators) * count
    base.add(first[1:half], count, spec, extract)
    moved.add(first[half:], count, spec, extract)

    def evaluate(level: float | None) -> TransferResult:
        return _evaluate(
            prompt, options, spec, expected, explanation, base_name, base, moved, level, seed
        )

    if not auto:
        return evaluate(options.confidence)
    level = options.confidence if options.confidence is not None else AUTO_CONFIDENCE
    result = evaluate(level)
    while not _settled(result) and count < AUTO_MAX_SAMPLES:
        more = min(count + AUTO_STEP, AUTO_MAX_SAMPLES)
        step = more - count
        results = run(
            _sample_calls(ask, evaluators, base_messages, base_params, count, more)
            + _sample_calls(ask, evaluators, transfer_messages, transfer_params, count, more),
            evaluators,
        )
        half = len(evaluators) * step
        base.add(results[:half], step, spec, extract)
        moved.add(results[half:], step, spec, extract)
        count = more
        result = evaluate(level)
    if not _settled(result) and options.confidence is None:
        # At the maximum the check decides as samples=AUTO_MAX_SAMPLES would: on point
        # estimates, since no confidence was asked for.
        result = evaluate(None)
    return result


def _settled(result: TransferResult) -> bool:
    """Whether more samples are not needed: every check passed, or one failed, on its
    interval. A condition without a parseable pair yet is not settled."""
    if result.transfer.mean is None or result.lift is None:
        return False
    return result.verdict != "inconclusive"


def _evaluate(
    prompt: str,
    options: TransferOptions,
    spec: AnswerSpec,
    expected: Any,
    explanation: Explanation,
    base_name: str,
    base: _Samples,
    moved: _Samples,
    level: float | None,
    seed: int,
) -> TransferResult:
    """Measure both conditions' samples so far, with intervals at ``level`` (None: point
    estimates), and decide."""
    measured = options if level == options.confidence else replace(options, confidence=level)
    baseline = measure(base_name, base.outputs, base.answers, measured, spec, expected, explanation)
    transfer = measure(
        "transfer", moved.outputs, moved.answers, measured, spec, expected, explanation
    )
    count = len(next(iter(moved.answers.values())))
    lift = None
    if transfer.mean is not None and baseline.mean is not None:
        lift = transfer.mean - baseline.mean
    lift_ci = None
    if level is not None:
        # Seeded: the same answers give the same interval on every run.
        lift_ci = stats.lift_interval(
            baseline.statistic(spec), transfer.statistic(spec), count, confidence=level, seed=seed
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
        samples_used=count,
        interval_level=level,
    )
    if len(options.evaluators) == 1:
        result.notes.append(
            f"one evaluator: consistency is the agreement of {options.evaluators[0]}'s samples "
            f"with the generator {options.generator}'s answer"
        )
    decide(result)
    if result.auto:
        result.notes.append(_auto_note(result))
    return result


def _auto_note(result: TransferResult) -> str:
    """How far ``samples="auto"`` went, and why it stopped there."""
    used, level = result.samples_used, result.interval_level
    if level is None:
        return (
            f"samples='auto': no clear verdict at {AUTO_CONFIDENCE:.0%} intervals after the "
            f"maximum of {used} samples; decided on point estimates, as samples={used} does"
        )
    if _settled(result):
        return (
            f"samples='auto': stopped after {used} of at most {AUTO_MAX_SAMPLES} samples, "
            f"the verdict clear at {level:.0%} intervals"
        )
    return f"samples='auto': no clear verdict at {level:.0%} intervals after {used} samples"
