"""The sampling engine every check shares: ask the models, sample each condition, read
the answers and measure the agreement.

A check receives an ``ask`` callable (the fixture's records or replays each call) and an
``extract`` reading an answer out of a text. Here it has the generator explain
(:func:`elicit`) or takes an explanation it was given (:func:`given`), removes the answer
sentences, asks every evaluator ``samples`` times under one condition
(:func:`run_condition`: separate recorded calls, made at once through a ``fan_out``), and
measures the condition's pairwise consistency, its breakdown against an expected answer,
and an exact interval counted in samples (:func:`measure`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_xgen.checks.parallel import FanOut, serial
from pytest_xgen.core import metrics, prompts, sequential
from pytest_xgen.core.answers import AnswerSpec
from pytest_xgen.core.printable import printable
from pytest_xgen.core.strip import Stripped, strip_answer, strip_with_model
from pytest_xgen.errors import XgenConfigError, hide_frame
from pytest_xgen.models.base import ChatResult, Message
from pytest_xgen.settings.marker import TransferOptions, source_name

__tracebackhide__ = hide_frame

# ask(model, messages, sample, params) -> ChatResult; recorded by the caller.
Ask = Callable[[str, list[Message], int, dict[str, Any]], ChatResult]
Extract = Callable[[str, AnswerSpec], Any]

SAMPLED_TEMPERATURE = 1.0
GENERATOR_SUFFIX = " (generator)"

AUTO = "auto"
"""``samples="auto"``: sample in rounds until a verdict (the transfer check's stopping rule)."""
AUTO_FIRST = 5
"""Samples per evaluator and condition in the first round of ``samples="auto"``."""


def sample_count(options: TransferOptions) -> int:
    """Samples per evaluator and condition a check starts with: ``samples``, or the first
    round of ``samples="auto"`` (also what checks without a stopping rule, such as
    ``xgen.invariant()``, take for ``auto``)."""
    return AUTO_FIRST if options.samples == AUTO else int(options.samples)


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


def answer_of(result: ChatResult, spec: AnswerSpec, extract: Extract) -> Any:
    """The answer read out of ``result``'s text, else out of its reasoning."""
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


def explanation_of(result: ChatResult) -> tuple[str, str]:
    """Which part of the generator's answer is the explanation, and its text: the model's
    separate reasoning when it gave one (named by its source: ``reasoning_content``,
    ``think``, ``reasoning summary``, ``thinking``; ``reasoning`` in records that predate
    the name), else the answer text. Reasoning the API redacted is an error: an empty
    explanation would measure nothing."""
    if result.reasoning:
        return result.reasoning_source or "reasoning", result.reasoning
    if result.reasoning_redacted:
        raise XgenConfigError(
            f"the generator's reasoning came back redacted (model {result.model!r} returned "
            "only redacted_thinking blocks), so there is no explanation to transfer; use a "
            "model or params whose reasoning is readable, or turn thinking off so that the "
            "answer text is the explanation"
        )
    return "text", result.text


def elicit(
    prompt: str,
    options: TransferOptions,
    spec: AnswerSpec,
    ask: Ask,
    extract: Extract,
) -> Explanation:
    """Steps 1 and 2: the generator explains, and the answer sentences are removed."""
    result = ask(options.generator_name, prompts.elicit(prompt, options.prompts), 0, {})
    source, output = explanation_of(result)
    answer = answer_of(result, spec, extract)
    stripped = _strip(output, answer, options, spec, ask)
    return Explanation(options.generator_name, output, source, answer, stripped)


def condition_params(kind: str, options: TransferOptions) -> dict[str, Any]:
    """The sampling parameters of a baseline condition: ``own`` (the evaluator's own greedy
    answer) at temperature 0, ``sampled`` at :data:`SAMPLED_TEMPERATURE`, any other
    (``empty``) at the check's ``temperature``."""
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
    samples = Samples(options.evaluators)
    count = sample_count(options)
    run = fan_out or serial
    samples.add(
        run(sample_calls(ask, options.evaluators, messages, params, 0, count), options.evaluators),
        count,
        spec,
        extract,
    )
    return measure(name, samples.outputs, samples.answers, options, spec, expected, explanation)


class Samples:
    """One condition's outputs and answers per evaluator, growing round by round."""

    def __init__(self, evaluators: Sequence[str]) -> None:
        self.evaluators = list(evaluators)
        self.outputs: dict[str, list[str]] = {m: [] for m in evaluators}
        self.answers: dict[str, list[Any]] = {m: [] for m in evaluators}

    def add(
        self, results: Sequence[ChatResult], count: int, spec: AnswerSpec, extract: Extract
    ) -> None:
        """Take ``count`` new samples per evaluator, evaluator by evaluator (the order of
        :func:`sample_calls`)."""
        for k, model in enumerate(self.evaluators):
            for result in results[k * count : (k + 1) * count]:
                self.outputs[model].append(result.text)
                self.answers[model].append(answer_of(result, spec, extract))


def sample_calls(
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
