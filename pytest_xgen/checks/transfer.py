"""The transfer protocol: elicit an explanation, strip its answer, and measure whether it
makes the evaluators agree more than a baseline without it.

Agreement is not correctness: with an ``expected`` answer the result also reports accuracy
and splits agreement into consistent-correct, consistent-wrong and inconsistent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pytest_xgen.checks import ensemble, looks
from pytest_xgen.checks.conditions import (
    AUTO,
    Ask,
    Explanation,
    Extract,
    Samples,
    condition_params,
    elicit,
    given,
    given_text,
    measure,
    run_condition,
    sample_calls,
    sample_count,
)
from pytest_xgen.checks.context import Ran
from pytest_xgen.checks.looks import (
    AUTO_CONFIDENCE,
    AUTO_MAX_SAMPLES,
    AUTO_STEP,
    MOST_SAMPLES_ADVISED,
    Look,
)
from pytest_xgen.checks.parallel import FanOut, serial
from pytest_xgen.checks.transfer_report import Single, TransferResult, answer_source
from pytest_xgen.checks.verdicts import judge
from pytest_xgen.core import prompts
from pytest_xgen.core.answers import AnswerSpec
from pytest_xgen.core.printable import rate, signed
from pytest_xgen.errors import hide_frame
from pytest_xgen.models.base import ChatResult, Message
from pytest_xgen.settings.marker import EXPLANATION_MODES, TransferOptions

if TYPE_CHECKING:
    from pytest_xgen.checks.context import CheckContext

__tracebackhide__ = hide_frame


def planned_calls(options: TransferOptions) -> tuple[int, bool]:
    """The model calls ``check()`` makes, and whether that is only an upper bound (auto)."""
    auto = options.samples == AUTO
    most = AUTO_MAX_SAMPLES if auto else int(options.samples)
    explains = options.explanation in EXPLANATION_MODES  # a given explanation costs no call
    return explains + bool(options.strip_with) + 2 * len(options.evaluators) * most, auto


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


def decide(result: TransferResult) -> None:
    """Step 6: the verdict and its reasons, from the consistency's boundaries at its last
    look and the lift's interval, or from point estimates."""
    options = result.options
    transfer = result.transfer
    checks: list[tuple[str, str, str]] = []  # verdict, reason, what
    look = result.looks[-1] if result.looks else None
    if look is None:
        consistency = judge(transfer.mean, None, options.min_consistency)
    else:
        consistency = look.verdict
    checks.append((consistency, _describe_consistency(result, consistency), "consistency"))
    lift = judge(result.lift, result.lift_interval, options.min_lift)
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
        where = looks.boundaries(look)
    shown = f"consistency {rate(transfer.mean)} vs min_consistency {options.min_consistency:g}"
    return f"{shown} ({agreed}; {where})"


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
    threshold = result.options.min_consistency if what == "consistency" else result.options.min_lift
    needed = looks.samples_to_decide(
        what,
        result.transfer.agreements,
        result.baseline.agreements,
        threshold,
        result.interval_level,
        result.samples_used,
    )
    if needed is None:
        hint = (
            f"at this rate no fixed samples up to {MOST_SAMPLES_ADVISED} would decide it "
            f"(too close to min_{what})"
        )
    else:
        hint = f"at this rate a fixed samples={needed} would decide it"
    return f"{reason}: {why}; {hint}"


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
    base_params = condition_params(options.baseline, options)
    transfer_params = {"temperature": options.temperature}
    if explainer is not None:
        explainers = list(explainer_models)
    else:
        explainers = [options.generator_name, *([options.strip_with] if options.strip_with else [])]
    base = Samples(evaluators)
    moved = Samples(evaluators)
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
            *sample_calls(ask, evaluators, base_messages, base_params, 0, count),
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
        if looks.gives_up(result.looks, result.interval_level, options.min_consistency):
            stopped = "unlikely"
            break
        if lift_passed is None and _lift_passed(result):
            # A passed lift is final (its error is spent look by look), so later rounds
            # sample the transfer condition only.
            lift_passed = result.lift_interval
        more = min(count + AUTO_STEP, AUTO_MAX_SAMPLES)
        step = more - count
        calls = sample_calls(ask, evaluators, transfer_messages, transfer_params, count, more)
        if lift_passed is None:
            calls = sample_calls(ask, evaluators, base_messages, base_params, count, more) + calls
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


def _evaluate(
    prompt: str,
    options: TransferOptions,
    spec: AnswerSpec,
    expected: Any,
    explanation: Explanation,
    base_name: str,
    base: Samples,
    moved: Samples,
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
    taken: list[Look] = []
    lift_ci = None
    if level is not None:
        taken, pass_alpha, fail_alpha = looks.look_at(
            transfer, count, options.min_consistency, level, look, previous
        )
        lift_ci = lift_passed or looks.lift_interval(baseline, transfer, pass_alpha, fail_alpha)
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
        looks=taken,
    )
    if len(options.evaluators) == 1:
        result.notes.append(
            f"one evaluator: consistency is the agreement of {options.evaluators[0]}'s samples "
            f"with {answer_source(explanation)}"
        )
    decide(result)
    return result


def _auto_note(result: TransferResult) -> str:
    return looks.auto_note(result.stopped, result.samples_used, result.interval_level)


def run_check(
    ctx: CheckContext,
    prompt: str,
    expected: Any = None,
    *,
    answer: Any = "number",
    tolerance: float | None = None,
    rel_tolerance: float | None = None,
    choices: Sequence[str] | None = None,
    fallback: bool = True,
    **options: Any,
) -> Ran:
    """``xgen.check()``: the transfer protocol on ``prompt``, with the generator's
    explanation, an ensembled one, or the one given; its verdict decides a marked test."""
    spec = ctx.spec(answer, tolerance, rel_tolerance, choices, fallback)
    opts = ctx.options(options)
    wanted = ctx.expected(expected, spec)
    planned, at_most = planned_calls(opts)
    explainer: Callable[[], Explanation] | None = None
    built: list[ensemble.EnsembleExplanation] = []
    explainer_models: tuple[str, ...] = ()
    if opts.explanation == "ensemble":
        generators = opts.ensemble_generators
        explainer_models = (*generators, *([opts.scorer] if opts.scorer else []))
        per_single = 1 + (planned - 1) // 2
        planned += ensemble.planned_calls(opts) + len(generators) * per_single
        at_most = True

        def explainer() -> Explanation:
            built.append(ensemble.explain(ctx, str(prompt), opts))
            return given("ensemble", built[0].text, opts, spec, ctx.ask, ctx.extract, "ensemble")

    elif opts.explanation not in EXPLANATION_MODES:
        source = opts.explanation
        explainer_models = (opts.strip_with,) if opts.strip_with else ()

        def explainer() -> Explanation:
            text, origin, name = given_text(source, prompt)
            return given(name, text, opts, spec, ctx.ask, ctx.extract, "given", origin)

    ctx.begin(planned, at_most=at_most)
    result = check(
        prompt,
        opts,
        spec,
        wanted,
        ctx.ask,
        ctx.extract,
        fan_out=ctx.fan_out,
        explainer=explainer,
        explainer_models=explainer_models,
    )
    if built:
        result.ensemble = built[0]
        compare_singles(result, built[0].generators, ctx.ask, ctx.extract, ctx.fan_out)
    return Ran(result, [(result, True)])
