"""Which sentence of an explanation is the weak one, and repairing it.

``weak_steps`` measures, for every sentence, its surprisal under the scorer (mean token
negative log-likelihood given the problem and the sentences before it) and the change in
evaluator agreement when it is left out (one transfer condition per left-out sentence, all
recorded). A sentence whose removal *raises* agreement is weak: the evaluators follow the
explanation better without it. ``repair`` resamples the weakest sentence from the
generators and keeps the replacement only if agreement does not drop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_xgen.checks import data, ensemble
from pytest_xgen.checks.conditions import Explanation, run_condition, sample_count
from pytest_xgen.checks.context import Ran
from pytest_xgen.checks.ensemble import Candidate, Propose, Score
from pytest_xgen.checks.parallel import FanOut
from pytest_xgen.checks.transfer_report import TransferResult
from pytest_xgen.core import prompts
from pytest_xgen.core.printable import rate, signed
from pytest_xgen.core.strip import Stripped, split_sentences, strip_answer
from pytest_xgen.errors import XgenConfigError, hide_frame

if TYPE_CHECKING:
    from pytest_xgen.checks.context import CheckContext
    from pytest_xgen.settings.marker import TransferOptions

__tracebackhide__ = hide_frame

# agreement(sentences) -> the evaluators' consistency given those sentences as explanation
Agreement = Callable[[list[str]], "float | None"]


@dataclass(frozen=True)
class SentenceScore:
    """One sentence: its surprisal and what leaving it out does to agreement.

    ``delta`` is agreement without the sentence minus agreement with all of them: above
    zero the sentence hurts (``weak``), below zero it helps.
    """

    index: int
    sentence: str
    surprisal: float | None
    agreement_without: float | None
    delta: float | None

    @property
    def weak(self) -> bool:
        return self.delta is not None and self.delta > 0


@dataclass
class WeakSteps:
    """The outcome of ``xgen.weak_steps()``: a diagnosis, so its verdict is always pass."""

    kind: ClassVar[str] = "weak_steps"

    prompt: str
    scorer: str | None
    evaluators: tuple[str, ...]
    samples: int
    agreement: float | None
    sentences: tuple[SentenceScore, ...]
    verdict: str = "pass"
    reasons: list[str] = field(default_factory=list)

    @property
    def weakest(self) -> int | None:
        """Index of the weakest sentence: the largest gain in agreement when it is left
        out, then the highest surprisal, then the earliest."""
        if not self.sentences:
            return None

        def key(s: SentenceScore) -> tuple[float, float, int]:
            delta = s.delta if s.delta is not None else float("-inf")
            surprisal = s.surprisal if s.surprisal is not None else float("-inf")
            return (delta, surprisal, -s.index)

        return max(self.sentences, key=key).index

    @property
    def weak(self) -> list[int]:
        """Indices of the sentences whose removal raises agreement."""
        return [s.index for s in self.sentences if s.weak]

    def to_dict(self) -> dict[str, Any]:
        """The check as the JSON report holds it (kind weak_steps)."""
        return {
            "kind": "weak_steps",
            "prompt": str(self.prompt),
            "evaluators": list(self.evaluators),
            "scorer": self.scorer,
            "samples": self.samples,
            "agreement": self.agreement,
            "weakest": self.weakest,
            "sentences": [
                {
                    "sentence": s.sentence,
                    "surprisal": data.jsonable(s.surprisal),
                    "agreement_without": s.agreement_without,
                    "delta": s.delta,
                    "weak": s.weak,
                }
                for s in self.sentences
            ],
            "verdict": self.verdict,
            "reasons": list(self.reasons),
        }

    def explain(self) -> str:
        head = (
            f"weak steps of the explanation (agreement with every sentence: "
            f"{rate(self.agreement)}; {len(self.evaluators)} evaluator(s), "
            f"{self.samples} sample(s))"
        )
        lines = [head, "  #  surprisal  without  change  sentence"]
        weakest = self.weakest
        for s in self.sentences:
            mark = "<- weakest" if s.index == weakest else ("<- weak" if s.weak else "")
            lines.append(
                f"{s.index + 1:>3}  {rate(s.surprisal):>9}  {rate(s.agreement_without):>7}"
                f"  {signed(s.delta):>6}  {s.sentence}  {mark}".rstrip()
            )
        return "\n".join(lines)


@dataclass
class Repair:
    """The outcome of ``xgen.repair()``: the weakest sentence, its best replacement, and
    whether the replacement was kept (agreement did not drop)."""

    kind: ClassVar[str] = "repair"

    diagnosis: WeakSteps
    index: int | None
    original: str | None
    replacement: str | None
    candidates: tuple[Candidate, ...]
    agreement_before: float | None
    agreement_after: float | None
    kept: bool
    sentences: tuple[str, ...]
    verdict: str = "pass"
    reasons: list[str] = field(default_factory=list)

    @property
    def prompt(self) -> str:
        return self.diagnosis.prompt

    @property
    def text(self) -> str:
        """The explanation after the repair (unchanged when the replacement was not kept)."""
        return "\n".join(self.sentences)

    def to_dict(self) -> dict[str, Any]:
        """The check as the JSON report holds it (kind repair)."""
        return {
            **self.diagnosis.to_dict(),
            "kind": "repair",
            "index": self.index,
            "original": self.original,
            "replacement": self.replacement,
            "agreement_before": self.agreement_before,
            "agreement_after": self.agreement_after,
            "kept": self.kept,
            "repaired": list(self.sentences),
            "verdict": self.verdict,
            "reasons": list(self.reasons),
        }

    def explain(self) -> str:
        if self.index is None:
            return "repair: the explanation has no sentences to repair"
        outcome = "kept" if self.kept else "not kept (agreement would drop)"
        return (
            f"repair of sentence {self.index + 1}: {outcome}\n"
            f"  was:  {self.original}\n  now:  {self.replacement or '(no complete candidate)'}\n"
            f"  agreement {rate(self.agreement_before)} -> {rate(self.agreement_after)}"
        )


def weak_steps(
    prompt: str,
    sentences: Sequence[str],
    agreement: Agreement,
    *,
    scorer: str | None = None,
    score: Score | None = None,
    evaluators: Sequence[str] = (),
    samples: int = 0,
) -> WeakSteps:
    """Surprisal and leave-one-out agreement of every sentence."""
    sentences = list(sentences)
    full = agreement(sentences)
    found = []
    for i, sentence in enumerate(sentences):
        surprisal = None
        if scorer is not None and score is not None:
            surprisal = surprisal_of(prompt, sentences[:i], sentence, scorer, score)
        without = agreement(sentences[:i] + sentences[i + 1 :])
        delta = None if without is None or full is None else without - full
        found.append(SentenceScore(i, sentence, surprisal, without, delta))
    return WeakSteps(prompt, scorer, tuple(evaluators), samples, full, tuple(found))


def surprisal_of(
    prompt: str, before: Sequence[str], sentence: str, scorer: str, score: Score
) -> float:
    """Mean token NLL of ``sentence`` under the scorer, given the problem and ``before``
    (the same request the ensemble makes, so an ensembled sentence replays its score)."""
    ranked = ensemble.rank(
        prompt, before, [Candidate(scorer, 0, sentence, sentence)], scorer, score
    )
    assert ranked[0].score is not None
    return ranked[0].score


def repair(
    diagnosis: WeakSteps,
    sentences: Sequence[str],
    generators: Sequence[str],
    ask: Propose,
    agreement: Agreement,
    *,
    scorer: str | None = None,
    score: Score | None = None,
    candidates: int = 3,
    fan_out: FanOut | None = None,
) -> Repair:
    """Resample the weakest sentence and keep the best replacement unless agreement drops.

    Replacement candidates use the sample indices after the ensemble's own (``candidates``
    onwards), so they are new proposals, not the ones the sentence already won against.
    """
    sentences = list(sentences)
    index = diagnosis.weakest
    before = diagnosis.agreement
    if index is None:
        return Repair(diagnosis, None, None, None, (), before, before, False, tuple(sentences))
    original = sentences[index]
    found = ensemble.propose(
        diagnosis.prompt,
        sentences[:index],
        generators,
        candidates,
        ask,
        first_sample=candidates,
        fan_out=fan_out,
        exclude=[original],  # the old sentence proposed again is no replacement
    )
    ranked = ensemble.rank(diagnosis.prompt, sentences[:index], found, scorer, score, fan_out)
    chosen = ensemble.best(ranked)
    if chosen is None:
        return Repair(
            diagnosis, index, original, None, tuple(ranked), before, None, False, tuple(sentences)
        )
    repaired = sentences[:index] + [chosen.sentence] + sentences[index + 1 :]
    after = agreement(repaired)
    kept = after is not None and (before is None or after >= before)
    return Repair(
        diagnosis,
        index,
        original,
        chosen.sentence,
        tuple(ranked),
        before,
        after,
        kept,
        tuple(repaired if kept else sentences),
    )


def planned_calls(options: TransferOptions, sentences: int, repairing: bool) -> int:
    """The calls a diagnosis of ``sentences`` sentences makes: the leave-one-out runs,
    one scoring call per sentence, and for a repair the replacement's proposals, their
    scores and its agreement run (the most: a repair may stop early)."""
    samples = sample_count(options)
    planned = (sentences + 1) * len(options.evaluators) * samples
    planned += sentences if options.scorer else 0
    if repairing:
        planned += len(options.evaluators) * samples
        planned += len(options.ensemble_generators) * options.candidates * 2
    return planned


def run_weak_steps(
    ctx: CheckContext,
    explanation: Any,
    prompt: str | None = None,
    *,
    answer: Any = "number",
    expected: Any = None,
    **options: Any,
) -> Ran:
    """``xgen.weak_steps()``: a diagnosis, never asserted."""
    diagnosis, _, _ = diagnose(ctx, explanation, prompt, answer, expected, options)
    return Ran(diagnosis, [(diagnosis, False)])


def run_repair(
    ctx: CheckContext,
    explanation: Any,
    prompt: str | None = None,
    *,
    answer: Any = "number",
    expected: Any = None,
    **options: Any,
) -> Ran:
    """``xgen.repair()``: kept or not, nothing is asserted."""
    diagnosis, opts, agreement = diagnose(
        ctx, explanation, prompt, answer, expected, options, repairing=True
    )
    result = repair(
        diagnosis,
        [s.sentence for s in diagnosis.sentences],
        opts.ensemble_generators,
        ensemble.proposer(ctx),
        agreement,
        scorer=opts.scorer,
        score=ensemble.scorer_of(ctx, opts.scorer),
        candidates=opts.candidates,
        fan_out=ctx.fan_out,
    )
    return Ran(result, [(result, False)])


def diagnose(
    ctx: CheckContext,
    explanation: Any,
    prompt: str | None,
    answer: Any,
    expected: Any,
    options: dict[str, Any],
    repairing: bool = False,
) -> tuple[WeakSteps, TransferOptions, Agreement]:
    """:func:`weak_steps` on the explanation's sentences, with the check's options and
    its agreement measure."""
    prompt, sentences = _sentences(ctx, explanation, prompt, answer)
    opts = ctx.options(options)
    ctx.begin(planned_calls(opts, len(sentences), repairing), at_most=repairing)
    agreement = _agreement(ctx, prompt, opts, answer, expected)
    diagnosis = weak_steps(
        prompt,
        sentences,
        agreement,
        scorer=opts.scorer,
        score=ensemble.scorer_of(ctx, opts.scorer),
        evaluators=opts.evaluators,
        samples=sample_count(opts),
    )
    return diagnosis, opts, agreement


def _sentences(
    ctx: CheckContext, explanation: Any, prompt: str | None, answer: Any
) -> tuple[str, list[str]]:
    """The problem and the explanation's sentences, without those that declare its
    answer (removed as ``xgen.check()`` removes them: they would only leak it)."""
    if isinstance(explanation, ensemble.EnsembleExplanation):
        text = explanation.text
        prompt = prompt or explanation.prompt
    elif isinstance(explanation, TransferResult):
        text = explanation.explanation.text
        prompt = prompt or str(explanation.prompt)
    elif isinstance(explanation, str):
        text = explanation
    else:
        raise XgenConfigError(
            "xgen.weak_steps()/repair(): explanation must be an xgen.ensemble() result, a "
            f"TransferResult or a text; got {type(explanation).__name__}"
        )
    if prompt is None:
        raise XgenConfigError(
            "xgen.weak_steps()/repair(): an explanation given as text needs the problem "
            "too: pass prompt=..."
        )
    spec = ctx.spec(answer, None, None, None, True)
    stripped = strip_answer(text, ctx.extract(text, spec), spec)
    return str(prompt), [s.text.strip() for s in split_sentences(stripped.text)]


def _agreement(
    ctx: CheckContext, prompt: str, opts: TransferOptions, answer: Any, expected: Any
) -> Agreement:
    """The evaluators' transfer consistency given a list of sentences as explanation."""
    if len(opts.evaluators) < 2:
        raise XgenConfigError(
            f"{ctx.test}: weak steps compare the agreement of evaluators, so they need at "
            f"least two; got evaluators={list(opts.evaluators)!r}"
        )
    spec = ctx.spec(answer, None, None, None, True)
    wanted = ctx.expected(expected, spec)

    def agreement(sentences: list[str]) -> float | None:
        text = "\n".join(sentences)
        given = Explanation("explanation", text, "text", None, Stripped(text, (), "none"))
        condition = run_condition(
            "transfer",
            prompts.transfer(prompt, text, opts.delivery, opts.prompts),
            {"temperature": opts.temperature},
            opts,
            spec,
            wanted,
            given,
            ctx.ask,
            ctx.extract,
            ctx.fan_out,
        )
        return condition.mean

    return agreement
