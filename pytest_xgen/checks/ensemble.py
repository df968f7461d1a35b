"""Sentence-level ensembling: an explanation built one sentence at a time from several
generators, keeping at each step the candidate a scoring model finds least surprising.

Each step, every generator proposes ``candidates`` sampled continuations of the text so
far (raw ``/v1/completions``); each is cut to its first complete sentence with the same
sentence splitter the answer stripping uses (so "$1.05" and "i.e." survive). The scorer
reads prompt, text so far and candidate with ``echo`` and ``logprobs`` and the candidate's
score is the mean negative log-likelihood of its own tokens. Without a scorer, the
candidate that agrees most with the others (word overlap) is kept; the explanation says
which selection it used, and a scorer that cannot score is an error, never a silent fallback.

Cost per sentence: ``len(generators) * candidates`` generation calls plus one scoring call
per distinct complete candidate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from pytest_xgen.checks import data
from pytest_xgen.checks.context import Ran
from pytest_xgen.checks.parallel import FanOut, serial
from pytest_xgen.core import prompts
from pytest_xgen.core.strip import declares_answer, split_sentences
from pytest_xgen.errors import XgenConfigError, hide_frame
from pytest_xgen.models.base import CompletionResult

if TYPE_CHECKING:
    from pytest_xgen.checks.context import CheckContext
    from pytest_xgen.settings.marker import TransferOptions

__tracebackhide__ = hide_frame

# propose(generator, text, sample) -> the generator's continuation of ``text``
Propose = Callable[[str, str, int], CompletionResult]
# score(text) -> the scorer's echo of ``text`` with per-token log-probabilities
Score = Callable[[str], CompletionResult]


# A proposal is a short sampled continuation; scoring echoes the text and generates one token.
PROPOSAL_PARAMS: dict[str, Any] = {"temperature": 0.8, "max_tokens": 64}
SCORING_PARAMS: dict[str, Any] = {"echo": True, "logprobs": 1, "max_tokens": 1, "temperature": 0}
_WORD = re.compile(r"[a-z]+|\d+(?:[.,]\d+)*")


class ScoringUnsupported(XgenConfigError):
    """The scorer's endpoint returned no log-probabilities for echoed text."""


@dataclass(frozen=True)
class Candidate:
    """One proposed next sentence.

    ``dropped`` says why a candidate was not eligible: ``"incomplete"`` (cut off before its
    first sentence ended), ``"empty"`` or ``"repeat"`` (a sentence already in the text).
    ``score`` is the mean token negative log-likelihood under the scorer (lower is less
    surprising); ``agreement`` the mean word overlap with the other candidates, used when
    there is no scorer.
    """

    generator: str
    sample: int
    sentence: str
    continuation: str
    ends: bool = False
    dropped: str | None = None
    score: float | None = None
    tokens: int = 0
    agreement: float | None = None

    @property
    def eligible(self) -> bool:
        return self.dropped is None


@dataclass(frozen=True)
class Step:
    """One sentence of the explanation and the candidates it was chosen from."""

    sentence: str
    generator: str
    score: float | None
    candidates: tuple[Candidate, ...]
    chosen: int  # index of the winner in ``candidates``


@dataclass(frozen=True)
class EnsembleExplanation:
    """An explanation assembled sentence by sentence (what ``xgen.ensemble()`` returns)."""

    prompt: str
    generators: tuple[str, ...]
    scorer: str | None
    steps: tuple[Step, ...]
    stop_reason: str
    candidates: int
    calls: int

    def to_dict(self) -> dict[str, Any]:
        """The ensemble as the JSON report holds it (a transfer check's ``ensemble``)."""
        return {
            "generators": list(self.generators),
            "scorer": self.scorer,
            "selection": self.selection,
            "candidates": self.candidates,
            "stop_reason": self.stop_reason,
            "calls": self.calls,
            "sentences": self.sentences,
            "sources": self.sources,
            "steps": [
                {
                    "sentence": step.sentence,
                    "generator": step.generator,
                    "score": data.jsonable(step.score),
                    "candidates": [
                        {
                            "generator": c.generator,
                            "sample": c.sample,
                            "sentence": c.sentence,
                            "dropped": c.dropped,
                            "score": data.jsonable(c.score),
                            "agreement": data.jsonable(c.agreement),
                            "tokens": c.tokens,
                            "chosen": i == step.chosen,
                        }
                        for i, c in enumerate(step.candidates)
                    ],
                }
                for step in self.steps
            ],
        }

    @property
    def selection(self) -> str:
        """``"nll"`` (scored by ``scorer``) or ``"agreement"`` (no scorer)."""
        return "nll" if self.scorer else "agreement"

    @property
    def sentences(self) -> list[str]:
        return [s.sentence for s in self.steps]

    @property
    def sources(self) -> list[str]:
        """The generator that proposed each sentence."""
        return [s.generator for s in self.steps]

    @property
    def scores(self) -> list[float | None]:
        return [s.score for s in self.steps]

    @property
    def text(self) -> str:
        return "\n".join(self.sentences)

    def __str__(self) -> str:
        return self.text

    def share(self) -> dict[str, float]:
        """The share of sentences each generator contributed."""
        if not self.steps:
            return {g: 0.0 for g in self.generators}
        return {g: self.sources.count(g) / len(self.steps) for g in self.generators}


def cut(continuation: str, finish_reason: str | None) -> tuple[str, bool, str | None]:
    """The first complete sentence of a continuation: ``(sentence, ends, dropped)``.

    A sentence followed by more text is complete. A lone sentence is complete only when
    the generator stopped by itself (``finish_reason == "stop"``), and then it also ends
    the reasoning; cut off by the token limit it is ``"incomplete"``.
    """
    text = continuation.lstrip()
    sentences = split_sentences(text)
    if not sentences:
        return "", finish_reason == "stop", "empty"
    first = sentences[0]
    rest = text[first.end :].strip()
    sentence = " ".join(first.text.split())
    if rest:
        return sentence, False, None
    if finish_reason == "stop":
        return sentence, True, None
    return sentence, False, "incomplete"


def mean_nll(result: CompletionResult, start: int, end: int) -> tuple[float, int]:
    """Mean negative log-likelihood of the echoed tokens inside characters
    ``[start, end)`` of the prompt, and how many tokens that was."""
    offsets = list(result.text_offset)
    if len(offsets) != len(result.tokens):
        offsets, position = [], 0
        for token in result.tokens:
            offsets.append(position)
            position += len(token)
    picked = [
        -logprob
        for token, offset, logprob in zip(
            result.tokens, offsets, result.token_logprobs, strict=False
        )
        if logprob is not None and offset < end and offset + max(len(token), 1) > start
    ]
    if not picked:
        raise ScoringUnsupported("no log-probabilities for the candidate's tokens")
    return sum(picked) / len(picked), len(picked)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def overlap(a: str, b: str) -> float:
    """Word-set Jaccard similarity of two sentences."""
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / len(wa | wb) if wa | wb else 1.0


def propose(
    problem: str,
    sentences: Sequence[str],
    generators: Sequence[str],
    candidates: int,
    ask: Propose,
    first_sample: int = 0,
    fan_out: FanOut | None = None,
    exclude: Sequence[str] = (),
) -> list[Candidate]:
    """Every generator's ``candidates`` continuations of the text so far, each cut to its
    first complete sentence (the calls are independent: made at once through ``fan_out``).
    A sentence already in the text, or in ``exclude``, is dropped as a ``"repeat"``."""
    text = prompts.continuation(problem, list(sentences))
    seen = {" ".join(s.split()).lower() for s in [*sentences, *exclude]}
    wanted = [
        (generator, sample)
        for generator in generators
        for sample in range(first_sample, first_sample + candidates)
    ]
    calls = [partial(ask, g, text, i) for g, i in wanted]
    found = []
    for (generator, sample), result in zip(
        wanted, (fan_out or serial)(calls, generators), strict=True
    ):
        sentence, ends, dropped = cut(result.text, result.finish_reason)
        if dropped is None and sentence.lower() in seen:
            dropped = "repeat"
        found.append(Candidate(generator, sample, sentence, result.text, ends, dropped))
    return found


def rank(
    problem: str,
    sentences: Sequence[str],
    found: Sequence[Candidate],
    scorer: str | None,
    score: Score | None,
    fan_out: FanOut | None = None,
) -> list[Candidate]:
    """The candidates with their scores: mean NLL under the scorer, or word agreement
    without one. Identical sentences are scored once."""
    eligible = [c for c in found if c.eligible]
    if scorer is None or score is None:
        ranked = []
        for c in found:
            if not c.eligible:
                ranked.append(c)
                continue
            others = [o for o in eligible if o is not c]
            value = (
                sum(overlap(c.sentence, o.sentence) for o in others) / len(others)
                if others
                else 1.0
            )
            ranked.append(replace(c, agreement=value))
        return ranked
    context = prompts.continuation(problem, list(sentences))
    distinct = list(dict.fromkeys(c.sentence for c in eligible))
    calls = [partial(score, context + sentence) for sentence in distinct]
    results = (fan_out or serial)(calls, [scorer])
    scored: dict[str, tuple[float, int]] = {}
    for sentence, result in zip(distinct, results, strict=True):
        try:
            scored[sentence] = mean_nll(result, len(context), len(context) + len(sentence))
        except ScoringUnsupported:
            raise ScoringUnsupported(
                f"scorer {scorer!r} returned no token log-probabilities for echoed text, so "
                "it cannot score candidates: its endpoint needs /v1/completions with echo "
                "and logprobs (llama.cpp and vLLM serve them; the embedded gemma3-270m "
                "does). Pick such a scorer, or pass scorer=None to keep the candidate the "
                "generators agree on most (docs/ensemble.md)"
            ) from None
    return [
        replace(c, score=scored[c.sentence][0], tokens=scored[c.sentence][1]) if c.eligible else c
        for c in found
    ]


def best(ranked: Sequence[Candidate]) -> Candidate | None:
    """The lowest-NLL eligible candidate (or the most agreed-on one); the first on a tie."""
    eligible = [c for c in ranked if c.eligible]
    if not eligible:
        return None
    if all(c.score is not None for c in eligible):
        return min(eligible, key=lambda c: c.score)  # type: ignore[arg-type,return-value]
    return max(eligible, key=lambda c: c.agreement or 0.0)


def build(
    problem: str,
    generators: Sequence[str],
    ask: Propose,
    *,
    scorer: str | None = None,
    score: Score | None = None,
    candidates: int = 3,
    max_sentences: int = 8,
    fan_out: FanOut | None = None,
) -> EnsembleExplanation:
    """Assemble an explanation for ``problem``; stop on an answer sentence, when the chosen
    generator ends its reasoning, at ``max_sentences``, or when no generator proposes a
    complete new sentence."""
    if not generators:
        raise XgenConfigError("ensemble: name at least one generator")
    if candidates < 1 or max_sentences < 1:
        raise XgenConfigError(
            f"ensemble: candidates and max_sentences must be at least 1; got "
            f"candidates={candidates}, max_sentences={max_sentences}"
        )
    steps: list[Step] = []
    calls = 0
    reason = "max_sentences"
    while len(steps) < max_sentences:
        sentences = [s.sentence for s in steps]
        found = propose(problem, sentences, generators, candidates, ask, fan_out=fan_out)
        calls += len(found)
        ranked = rank(problem, sentences, found, scorer, score, fan_out)
        if scorer is not None:
            calls += len({c.sentence for c in ranked if c.eligible})
        chosen = best(ranked)
        if chosen is None:
            finished = any(c.ends or c.dropped == "empty" for c in found)
            reason = "end" if finished else "no_candidates"
            break
        steps.append(
            Step(
                chosen.sentence, chosen.generator, chosen.score, tuple(ranked), ranked.index(chosen)
            )
        )
        if declares_answer(chosen.sentence):
            reason = "answer"
            break
        if chosen.ends:
            reason = "end"
            break
    return EnsembleExplanation(
        prompt=problem,
        generators=tuple(generators),
        scorer=scorer,
        steps=tuple(steps),
        stop_reason=reason,
        candidates=candidates,
        calls=calls,
    )


def planned_calls(options: TransferOptions) -> int:
    """The most calls an ensemble makes: proposals, and a score for each, per step."""
    per_step = len(options.ensemble_generators) * options.candidates * (2 if options.scorer else 1)
    return int(per_step * options.max_sentences)


def proposer(ctx: CheckContext) -> Propose:
    """A generator's sampled continuation, as the ensemble proposes one."""
    return lambda generator, text, sample: ctx.complete(generator, text, sample, PROPOSAL_PARAMS)


def scorer_of(ctx: CheckContext, scorer: str | None) -> Score | None:
    """The ``scorer``'s echo of a text with its token log-probabilities (None: no scorer)."""
    if scorer is None:
        return None
    return lambda text: ctx.complete(scorer, text, 0, SCORING_PARAMS)


def explain(ctx: CheckContext, prompt: str, options: TransferOptions) -> EnsembleExplanation:
    """The ensemble's explanation of ``prompt`` with the check's ``options``."""
    return build(
        prompt,
        options.ensemble_generators,
        proposer(ctx),
        scorer=options.scorer,
        score=scorer_of(ctx, options.scorer),
        candidates=options.candidates,
        max_sentences=options.max_sentences,
        fan_out=ctx.fan_out,
    )


def run_check(ctx: CheckContext, prompt: str, **options: Any) -> Ran:
    """``xgen.ensemble()``: an explanation, no check (the marker configured it, so a test
    that only ensembles uses it)."""
    opts = ctx.options(options, method="xgen.ensemble()")
    ctx.begin(planned_calls(opts), at_most=True)
    return Ran(explain(ctx, str(prompt), opts))
