"""The transfer protocol: elicit an explanation, strip its answer, and measure whether it
makes the evaluators agree more than a baseline without it.

Agreement is not correctness: with an ``expected`` answer the result also reports accuracy
and splits agreement into consistent-correct, consistent-wrong and inconsistent.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from pytest_xgen.checks.parallel import FanOut, serial
from pytest_xgen.core import metrics, prompts, sequential, stats
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

# samples="auto": sample in rounds, look after each, and stop at the first verdict on
# group-sequential boundaries (pytest_xgen.core.sequential) that hold `confidence` over
# every look, or when a verdict by the last round has become unlikely.
AUTO = "auto"
AUTO_FIRST = 5  # samples per evaluator and condition in the first round
AUTO_STEP = 5  # samples each later round adds
AUTO_MAX_SAMPLES = 30  # the most samples="auto" takes
AUTO_LOOKS = tuple(range(AUTO_FIRST, AUTO_MAX_SAMPLES + 1, AUTO_STEP))  # samples at each look
AUTO_CONFIDENCE = 0.95  # the level of the boundaries when `confidence` is not set
AUTO_GIVE_UP = 0.2  # stop, inconclusive, when a verdict by the last look is less likely
MOST_SAMPLES_ADVISED = 1000  # the largest fixed samples an inconclusive message proposes


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

    @property
    def agreements(self) -> tuple[float, int]:
        """The agreements counted per sample and the samples scored: the pooled pair
        agreement times the samples with two parsed answers (exact with two evaluators or
        one and the generator; a pooled count, not always whole, with more)."""
        scored = sum(flag is not None for flag in self.sample_agreement)
        c = self.consistency
        if not scored or not c.total:
            return 0.0, scored
        return round(c.agree / c.total * scored, 9), scored


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


@dataclass(frozen=True)
class Look:
    """One look at the transfer agreement: after ``samples`` samples, ``agreements`` of
    the ``scored`` ones agreed; at least ``pass_at`` passes there, at most ``fail_at``
    fails (``scored + 1`` and ``-1``: not at this look)."""

    samples: int
    scored: int
    agreements: float
    pass_at: int
    fail_at: int

    @property
    def verdict(self) -> str:
        bound = sequential.Boundary(self.scored, self.pass_at, self.fail_at)
        return bound.judge(self.agreements)

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "scored": self.scored,
            "agreements": self.agreements,
            "pass_at": self.pass_at,
            "fail_at": self.fail_at,
        }


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
    # The looks at the transfer agreement (one with a fixed samples and a confidence, none
    # on point estimates), and why sampling stopped: "verdict", "unlikely" (a verdict by
    # the last look had become unlikely), "maximum", or "" (a fixed samples).
    looks: list[Look] = field(default_factory=list)
    stopped: str = ""
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
    """An exact (Clopper-Pearson) interval for the consistency that counts samples, not
    evaluator pairs, each side at ``(1 - confidence) / 2``.

    The pairs of one sample share its answers, so they are not independent trials: with
    three evaluators, three pairs per sample would make the interval look about
    sqrt(3) times narrower than the data allow. The interval is for the pooled pair
    agreement with the number of scored samples as its size (exact with two evaluators,
    or one and the generator; a pooled count, conservative, with more).
    """
    scored = sum(flag is not None for flag in per_sample)
    if consistency.total == 0 or scored == 0:
        return (0.0, 1.0)
    agreements = consistency.agree / consistency.total * scored
    return sequential.exact_interval(agreements, scored, confidence)


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


def _lift_interval(
    baseline: Condition, transfer: Condition, pass_alpha: float, fail_alpha: float
) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval for transfer minus baseline agreement per sample
    (two independent samples: different prompts), its lower bound at one-sided
    ``pass_alpha`` and its upper bound at ``fail_alpha`` (0: that side is not judged)."""
    x, n = transfer.agreements
    y, m = baseline.agreements
    if n == 0 or m == 0:
        return None
    low = -1.0
    if pass_alpha > 0:
        low = stats.difference_interval(x, n, y, m, 1 - 2 * pass_alpha)[0]
    high = 1.0
    if fail_alpha > 0:
        high = stats.difference_interval(x, n, y, m, 1 - 2 * fail_alpha)[1]
    return (low, high)


def decide(result: TransferResult) -> None:
    """Step 6: the verdict and its reasons, from the consistency's boundaries at its last
    look and the lift's interval, or from point estimates."""
    options = result.options
    transfer = result.transfer
    checks: list[tuple[str, str, str]] = []  # verdict, reason, what
    look = result.looks[-1] if result.looks else None
    if look is None:
        consistency = _judge(transfer.mean, None, options.min_consistency)
    else:
        consistency = look.verdict
    checks.append((consistency, _describe_consistency(result, consistency), "consistency"))
    lift = _judge(result.lift, result.lift_interval, options.min_lift)
    checks.append(
        (
            lift,
            _describe("lift", result.lift, result.lift_interval, options.min_lift, "min_lift"),
            "lift",
        )
    )
    if options.require_correct and transfer.breakdown is not None:
        wrong = transfer.breakdown.consistent_wrong
        checks.append(
            (
                "fail" if wrong > 0 else "pass",
                f"consistent-wrong {wrong:.2f} > 0 with require_correct=True",
                "require_correct",
            )
        )
    if transfer.mean is None:
        checks.append(("fail", "no evaluator pair had two parseable answers", "parsing"))
    failed = [reason for verdict, reason, _ in checks if verdict == "fail"]
    if failed:
        result.verdict, result.reasons = "fail", failed
    elif any(verdict == "inconclusive" for verdict, _, _ in checks):
        result.verdict = "inconclusive"
        result.reasons = [
            _undecided(result, what, reason)
            for verdict, reason, what in checks
            if verdict == "inconclusive"
        ]
    else:
        result.verdict, result.reasons = "pass", []


def _describe_consistency(result: TransferResult, verdict: str) -> str:
    """The consistency against its threshold: with its interval (a fixed samples), or with
    the count and the boundaries of the look (samples="auto")."""
    transfer, options = result.transfer, result.options
    if not (result.auto and result.looks):
        interval = transfer.interval if result.looks else None
        return _describe(
            "consistency", transfer.mean, interval, options.min_consistency, "min_consistency"
        )
    look = result.looks[-1]
    agreed = f"{look.agreements:g} of {look.scored} samples agree"
    if verdict == "fail":
        where = f"{look.fail_at} or fewer fail at {look.scored}"
    else:
        where = _boundaries(look)
    shown = f"consistency {rate(transfer.mean)} vs min_consistency {options.min_consistency:g}"
    return f"{shown} ({agreed}; {where})"


def _boundaries(look: Look) -> str:
    passes = f"{look.pass_at} or more pass" if look.pass_at <= look.scored else "none can pass"
    fails = f"{look.fail_at} or fewer fail" if look.fail_at >= 0 else "none can fail"
    return f"at {look.scored} samples {passes}, {fails}"


def _undecided(result: TransferResult, what: str, reason: str) -> str:
    """An inconclusive reason: why there is no verdict, and what would give one."""
    used = result.samples_used
    if not result.auto:
        why = f"the interval straddles the threshold; raise samples (now {used})"
    elif result.stopped == "unlikely":
        why = (
            f"no verdict at {result.interval_level:.0%}; samples='auto' stopped after {used} "
            f"samples, a verdict by {AUTO_MAX_SAMPLES} having become unlikely"
        )
    elif result.stopped == "maximum":
        why = (
            f"no verdict at {result.interval_level:.0%} after the maximum of {used} samples "
            "of samples='auto'"
        )
    else:
        return f"{reason}: no verdict at {result.interval_level:.0%} yet"
    needed = _samples_to_decide(result, what)
    if needed is None:
        hint = (
            f"at this rate no fixed samples up to {MOST_SAMPLES_ADVISED} would decide it "
            f"(too close to min_{what})"
        )
    else:
        hint = f"at this rate a fixed samples={needed} would decide it"
    return f"{reason}: {why}; {hint}"


def _samples_to_decide(result: TransferResult, what: str) -> int | None:
    """The fewest samples at which a fixed sample at the observed rates would decide
    ``what`` at the check's level, or ``None`` (none up to MOST_SAMPLES_ADVISED)."""
    level = result.interval_level if result.interval_level is not None else AUTO_CONFIDENCE
    alpha = (1 - level) / 2
    start = result.samples_used + 1
    if what == "consistency":
        agreements, scored = result.transfer.agreements
        if not scored:
            return None
        return sequential.samples_to_decide(
            agreements / scored, result.options.min_consistency, alpha, start, MOST_SAMPLES_ADVISED
        )
    (x, n), (y, m) = result.transfer.agreements, result.baseline.agreements
    if not n or not m:
        return None
    after, before, threshold = x / n, y / m, result.options.min_lift
    for samples in range(start, MOST_SAMPLES_ADVISED + 1):
        low, high = stats.difference_interval(
            after * samples,
            samples,
            before * samples,
            samples,
            1 - 2 * alpha,
        )
        if low >= threshold or high < threshold:
            return samples
    return None


def _describe(
    what: str,
    value: float | None,
    interval: tuple[float, float] | None,
    threshold: float,
    keyword: str,
) -> str:
    shown = signed(value) if what == "lift" else rate(value)
    if interval is not None:
        if what == "lift":
            shown += f" [{interval[0]:+.2f}, {interval[1]:+.2f}]"
        else:
            shown += f" [{interval[0]:.2f}, {interval[1]:.2f}]"
    return f"{what} {shown} vs {keyword} {threshold:g}"


def check(
    prompt: str,
    options: TransferOptions,
    spec: AnswerSpec,
    expected: Any,
    ask: Ask,
    extract: Extract,
    fan_out: FanOut | None = None,
    explainer: Callable[[], Explanation] | None = None,
    explainer_models: Sequence[str] = (),
) -> TransferResult:
    """Run the whole protocol for one problem and decide.

    Every call of the first round goes to ``fan_out`` at once (the fixture passes the
    session's, which makes them on threads): the explanation, every baseline sample, and
    every transfer sample, which waits for the explanation and no longer (the chain is two
    calls deep, three with ``strip_with``). With ``samples="auto"`` further rounds follow,
    each adding :data:`AUTO_STEP` samples to both conditions, until a look reaches a
    verdict on its group-sequential boundaries, a verdict by :data:`AUTO_MAX_SAMPLES` has
    become unlikely (below :data:`AUTO_GIVE_UP` at either end of a 50% interval of the
    consistency), or the maximum is reached. Sample indices run 0, 1, 2, ... either way, so
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

    lift_passed: tuple[float, float] | None = None  # the lift's interval when it passed

    def evaluate(level: float | None, look: int | None, previous: Sequence[Look]) -> TransferResult:
        return _evaluate(
            prompt,
            options,
            spec,
            expected,
            explanation,
            base_name,
            base,
            moved,
            level,
            look,
            previous,
            lift_passed,
        )

    if not auto:
        return evaluate(options.confidence, None, ())
    level = options.confidence if options.confidence is not None else AUTO_CONFIDENCE
    look = 0
    result = evaluate(level, look, ())
    while True:
        if _settled(result):
            stopped = "verdict"
            break
        if count >= AUTO_MAX_SAMPLES:
            stopped = "maximum"
            break
        if _unlikely(result):
            stopped = "unlikely"
            break
        if lift_passed is None and _lift_passed(result):
            # A passed lift is final (its error is spent look by look), so later rounds
            # sample the transfer condition only.
            lift_passed = result.lift_interval
        more = min(count + AUTO_STEP, AUTO_MAX_SAMPLES)
        step = more - count
        calls = _sample_calls(ask, evaluators, transfer_messages, transfer_params, count, more)
        if lift_passed is None:
            calls = _sample_calls(ask, evaluators, base_messages, base_params, count, more) + calls
        results = run(calls, evaluators)
        half = len(results) - len(evaluators) * step
        if half:
            base.add(results[:half], step, spec, extract)
        moved.add(results[half:], step, spec, extract)
        count = more
        look += 1
        result = evaluate(level, look, result.looks)
    result.stopped = stopped
    decide(result)  # again: an inconclusive reason says why sampling stopped
    if stopped != "verdict" and options.confidence is None:
        # No confidence was asked for: the check decides on point estimates, as a fixed
        # samples of this count does.
        undecided = _auto_note(result)
        result = evaluate(None, None, ())
        result.stopped = stopped
        result.notes.append(f"{undecided}; decided on point estimates, as samples={count} does")
    else:
        result.notes.append(_auto_note(result))
    base_count = len(next(iter(base.answers.values())))
    if base_count < count:
        result.notes.append(
            f"samples='auto': the lift passed after {base_count} samples; later rounds sampled "
            "the transfer condition only"
        )
    return result


def _lift_passed(result: TransferResult) -> bool:
    """Whether the lift passed on its interval at this look."""
    interval = result.lift_interval
    return interval is not None and interval[0] >= result.options.min_lift


def _settled(result: TransferResult) -> bool:
    """Whether more samples are not needed: every check passed, or one failed. A
    condition without a parseable pair yet is not settled."""
    if result.transfer.mean is None or result.lift is None:
        return False
    return result.verdict != "inconclusive"


def _unlikely(result: TransferResult) -> bool:
    """Whether the consistency is undecided at the last look and a verdict on it has
    become unlikely (:func:`unlikely`)."""
    look = result.looks[-1] if result.looks else None
    if look is None or look.verdict != "inconclusive" or result.interval_level is None:
        return False
    alpha = (1 - result.interval_level) / 2
    counts = [taken.scored for taken in result.looks]
    bounds = sequential.plan(result.options.min_consistency, alpha, counts, AUTO_LOOKS)
    return unlikely(bounds, len(result.looks) - 1, look.agreements)


def unlikely(bounds: Sequence[sequential.Boundary], look: int, agreements: float) -> bool:
    """Whether ``samples="auto"`` gives up at ``look`` with ``agreements``: a verdict by
    the last look has a chance below :data:`AUTO_GIVE_UP` even at either end of a 50%
    interval of the rate so far. Giving up only turns verdicts into "inconclusive", so
    the error rates of the boundaries still hold."""
    if look >= len(bounds) - 1:
        return False
    return sequential.chance_to_decide(bounds, look, agreements) < AUTO_GIVE_UP


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
    look: int | None,
    previous: Sequence[Look],
    lift_passed: tuple[float, float] | None = None,
) -> TransferResult:
    """Measure both conditions' samples so far and decide: on point estimates (``level``
    None), on one look with exact bounds (``look`` None: a fixed samples), or at look
    ``look`` of :data:`AUTO_LOOKS` after the ``previous`` ones. ``lift_passed``: the
    interval on which the lift passed at an earlier look (it stands)."""
    measured = options if level == options.confidence else replace(options, confidence=level)
    baseline = measure(base_name, base.outputs, base.answers, measured, spec, expected, explanation)
    transfer = measure(
        "transfer", moved.outputs, moved.answers, measured, spec, expected, explanation
    )
    count = len(next(iter(moved.answers.values())))
    lift = None
    if transfer.mean is not None and baseline.mean is not None:
        lift = transfer.mean - baseline.mean
    looks: list[Look] = []
    lift_ci = None
    if level is not None:
        alpha = (1 - level) / 2
        planned = AUTO_LOOKS if look is not None else (count,)
        index = look or 0
        agreements, scored = transfer.agreements
        counts = [taken.scored for taken in previous] + [scored]
        here = sequential.plan(options.min_consistency, alpha, counts, planned)[index]
        looks = [*previous, Look(count, scored, agreements, here.pass_at, here.fail_at)]
        passes, fails = sequential.spending(planned, alpha)
        pass_alpha = passes[index] - (passes[index - 1] if index else 0.0)
        fail_alpha = fails[index] - (fails[index - 1] if index else 0.0)
        lift_ci = lift_passed or _lift_interval(baseline, transfer, pass_alpha, fail_alpha)
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
        looks=looks,
    )
    if len(options.evaluators) == 1:
        from pytest_xgen.checks import transfer_report

        result.notes.append(
            f"one evaluator: consistency is the agreement of {options.evaluators[0]}'s samples "
            f"with {transfer_report.answer_source(explanation)}"
        )
    decide(result)
    return result


def _auto_note(result: TransferResult) -> str:
    """How far ``samples="auto"`` went, and why it stopped there."""
    used, level = result.samples_used, result.interval_level or AUTO_CONFIDENCE
    if result.stopped == "verdict":
        return (
            f"samples='auto': stopped after {used} of at most {AUTO_MAX_SAMPLES} samples, "
            f"the verdict reached on {level:.0%} sequential boundaries"
        )
    if result.stopped == "unlikely":
        return (
            f"samples='auto': stopped after {used} of at most {AUTO_MAX_SAMPLES} samples "
            f"without a verdict at {level:.0%}: one by {AUTO_MAX_SAMPLES} had become unlikely"
        )
    return f"samples='auto': no verdict at {level:.0%} after the maximum of {used} samples"
