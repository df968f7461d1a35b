"""Sentence-level ensembling, weak steps and repair: the algorithm on scripted generators
and scorers (end to end in inner runs: tests/plugin/test_ensemble.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import pytest

from pytest_xgen.checks import ensemble, weak
from pytest_xgen.core import prompts
from pytest_xgen.errors import XgenConfigError
from pytest_xgen.models.base import CompletionResult

# -- cutting a continuation to its first complete sentence ----------------------------------


@pytest.mark.parametrize(
    ("continuation", "finish", "expected"),
    [
        # decimals and currency survive
        (
            "The ball costs $0.05 and the bat $1.05. So",
            "length",
            ("The ball costs $0.05 and the bat $1.05.", False, None),
        ),
        # abbreviations do not end a sentence
        (
            "That is, i.e. one third of 12 is 4. Then",
            "length",
            ("That is, i.e. one third of 12 is 4.", False, None),
        ),
        # a numbered step is one sentence, the next step starts the next one
        (
            "\n2. She gives away 4.5 kg.\n3. The rest",
            "length",
            ("2. She gives away 4.5 kg.", False, None),
        ),
        # a list item with an abbreviation
        (
            "- First, e.g. 2.5 m is 250 cm. Next",
            "length",
            ("- First, e.g. 2.5 m is 250 cm.", False, None),
        ),
        # a lone sentence is complete only if the generator stopped by itself, and then ends
        ("So 12 - 4 = 8.", "stop", ("So 12 - 4 = 8.", True, None)),
        (
            "So 12 - 4 = 8 and then she",
            "length",
            ("So 12 - 4 = 8 and then she", False, "incomplete"),
        ),
        ("   \n", "stop", ("", True, "empty")),
        # one step per line: a line break ends a sentence; inner whitespace is normalised
        ("12 divided  by 3\n   is 4. Next", "length", ("12 divided by 3", False, None)),
    ],
)
def test_cut_keeps_the_first_complete_sentence(
    continuation: str, finish: str, expected: tuple[str, bool, str | None]
) -> None:
    assert ensemble.cut(continuation, finish) == expected


def test_answer_sentences_are_recognised() -> None:
    assert ensemble.declares_answer("Answer: 8")
    assert ensemble.declares_answer("4. The answer is 8.")
    assert ensemble.declares_answer("4. Answer: 8 candies left.")
    assert not ensemble.declares_answer("3. Answering this needs one subtraction.")
    assert not ensemble.declares_answer("2. One third of 12 is 4.")


# -- scripted generators and scorer -----------------------------------------------------------

Script = dict[tuple[str, int], list[str]]


def generator(script: Script, finish: str = "length") -> tuple[ensemble.Propose, list[str]]:
    """Generator ``g``'s sample ``i`` continues step ``k`` with ``script[(g, i)][k]``; a
    continuation ending in ``$`` finishes (``stop``) there."""
    seen: list[str] = []

    def ask(name: str, text: str, sample: int) -> CompletionResult:
        seen.append(text)
        step = text.count("\n") - 2  # the header is two lines
        options = script.get((name, sample), [])
        chunk = options[step] if step < len(options) else "$"
        if chunk.endswith("$"):
            return CompletionResult(text=chunk[:-1], finish_reason="stop")
        return CompletionResult(text=chunk + " More text follows", finish_reason=finish)

    return ask, seen


def scorer(nll: dict[str, float], context_nll: float = 9.0) -> tuple[ensemble.Score, list[str]]:
    """Every token of the echoed context costs ``context_nll``; each word of a candidate
    costs ``nll[candidate]`` (its mean NLL), so the winner is known in advance."""
    seen: list[str] = []

    def score(text: str) -> CompletionResult:
        seen.append(text)
        candidate = next(c for c in nll if text.endswith(c))
        context = text[: len(text) - len(candidate)]
        tokens, offsets, logprobs = [context], [0], [-context_nll]
        for word in candidate.split(" "):
            tokens.append(word + " ")
            offsets.append(offsets[-1] + len(tokens[-2]))
            logprobs.append(-nll[candidate])
        tokens[-1] = tokens[-1].rstrip()
        tokens.append("\n")  # the one generated token lies beyond the prompt
        offsets.append(len(text))
        logprobs.append(-0.01)
        return CompletionResult(
            text=text, tokens=tokens, token_logprobs=[None, *logprobs[1:]], text_offset=offsets
        )

    return score, seen


PROBLEM = "Sara has 12 candies and gives away one third of them. How many are left?"


def test_the_lowest_nll_candidate_wins_each_step() -> None:
    ask, _ = generator(
        {
            ("a", 0): ["1. Sara has 12 candies.", "2. She keeps 8."],
            ("a", 1): ["1. Twelve candies.", "2. One third of 12 is 4."],
            ("b", 0): ["1. Candies are sweet.", "2. Candies.", "Answer: 8$"],
        }
    )
    score, scored = scorer(
        {
            "1. Sara has 12 candies.": 2.0,
            "1. Twelve candies.": 1.5,  # the lowest: b's sample 0 and a's sample 0 lose
            "1. Candies are sweet.": 4.0,
            "2. She keeps 8.": 3.0,
            "2. Candies.": 5.0,
            "2. One third of 12 is 4.": 0.5,
            "Answer: 8": 1.0,
        }
    )
    e = ensemble.build(PROBLEM, ["a", "b"], ask, scorer="s", score=score, candidates=2)
    assert e.sentences == ["1. Twelve candies.", "2. One third of 12 is 4.", "Answer: 8"]
    assert e.sources == ["a", "a", "b"]
    assert e.scores == [1.5, 0.5, 1.0]
    assert e.stop_reason == "answer"
    assert e.selection == "nll"
    # the context's tokens (cost 9.0) never count towards a candidate's score
    first = e.steps[0].candidates
    assert [c.score for c in first] == [2.0, 1.5, 4.0, None]
    assert first[3].dropped == "empty"  # b's sample 1 has no script: it ends at once
    # each scoring call reads the problem, the text so far and the candidate
    assert scored[-1] == prompts.continuation(PROBLEM, e.sentences[:2]) + "Answer: 8"
    assert e.text == "1. Twelve candies.\n2. One third of 12 is 4.\nAnswer: 8"
    assert e.calls == 3 * 4 + 3 + 3 + 1  # 4 proposals per step, distinct candidates scored


def test_identical_candidates_are_scored_once_and_repeats_are_dropped() -> None:
    ask, _ = generator(
        {
            ("a", 0): ["1. Start with 12.", "1. Start with 12."],
            ("a", 1): ["1. Start with 12.", "2. Take away 4."],
        }
    )
    score, scored = scorer({"1. Start with 12.": 1.0, "2. Take away 4.": 2.0})
    e = ensemble.build(PROBLEM, ["a"], ask, scorer="s", score=score, candidates=2, max_sentences=2)
    assert e.sentences == ["1. Start with 12.", "2. Take away 4."]
    assert e.steps[1].candidates[0].dropped == "repeat"
    assert len(scored) == 2  # one call per distinct eligible sentence and step
    assert e.stop_reason == "max_sentences"


@pytest.mark.parametrize(
    ("script", "finish", "reason", "sentences"),
    [
        # the chosen generator stopped right after its sentence: the reasoning ended
        ({("a", 0): ["1. Twelve minus four.", "2. That leaves 8.$"]}, "length", "end", 2),
        # every generator is done before proposing anything
        ({("a", 0): ["1. Twelve minus four.", "$"]}, "length", "end", 1),
        # nothing but cut-off fragments: no complete candidate
        ({("a", 0): ["1. Twelve minus four.", "2. That leaves"]}, "length", "no_candidates", 1),
        ({("a", 0): ["1. One.", "2. Two.", "3. Three.", "4. Four."]}, "length", "max_sentences", 3),
    ],
)
def test_stop_conditions(script: Script, finish: str, reason: str, sentences: int) -> None:
    # (a continuation without "$" is followed by more text, so "2. That leaves ..." is
    # one sentence cut off by the token limit)
    ask, _ = generator(script)
    score, _ = scorer({s.rstrip("$"): 1.0 for v in script.values() for s in v})
    e = ensemble.build(PROBLEM, ["a"], ask, scorer="s", score=score, candidates=1, max_sentences=3)
    assert (e.stop_reason, len(e.sentences)) == (reason, sentences)


def test_without_a_scorer_the_most_agreed_candidate_is_kept() -> None:
    ask, _ = generator(
        {
            ("a", 0): ["1. One third of 12 is 4.$"],
            ("a", 1): ["1. A third of 12 candies is 4 candies.$"],
            ("b", 0): ["1. The moon is bright tonight.$"],
        }
    )
    e = ensemble.build(PROBLEM, ["a", "b"], ask, candidates=2, max_sentences=1)
    assert e.selection == "agreement"
    assert e.sentences == ["1. One third of 12 is 4."]
    candidates = e.steps[0].candidates
    assert all(c.score is None for c in candidates)
    moon = candidates[2]
    assert moon.agreement is not None
    assert all(moon.agreement < c.agreement for c in candidates[:2] if c.agreement is not None)


def test_a_scorer_that_cannot_score_is_an_error_not_a_silent_fallback() -> None:
    ask, _ = generator({("a", 0): ["1. One third of 12 is 4.$"]})

    def no_logprobs(text: str) -> CompletionResult:
        return CompletionResult(text=text)

    with pytest.raises(XgenConfigError) as info:
        ensemble.build(PROBLEM, ["a"], ask, scorer="chat-only", score=no_logprobs, candidates=1)
    message = str(info.value)
    assert "'chat-only' returned no token log-probabilities" in message
    assert "scorer=None" in message and "docs/ensemble.md" in message


def test_bad_ensemble_arguments_are_errors() -> None:
    ask, _ = generator({})
    with pytest.raises(XgenConfigError, match="at least one generator"):
        ensemble.build(PROBLEM, [], ask)
    with pytest.raises(XgenConfigError, match="candidates=0"):
        ensemble.build(PROBLEM, ["a"], ask, candidates=0)


def test_mean_nll_without_offsets_counts_characters() -> None:
    result = CompletionResult(
        text="", tokens=["ab", "cd", "ef", "!"], token_logprobs=[None, -4.0, -1.0, -3.0]
    )
    assert ensemble.mean_nll(result, 2, 6) == (2.5, 2)


# -- weak steps and repair ----------------------------------------------------------------------


def agreement_table(table: dict[tuple[str, ...], float]) -> Callable[[list[str]], float | None]:
    return lambda sentences: table[tuple(sentences)]


S = ["1. Start with 12.", "2. The moon is bright.", "3. Take away 4."]


def test_the_sentence_whose_removal_raises_agreement_is_the_weakest() -> None:
    agreement = agreement_table(
        {
            tuple(S): 0.5,
            (S[1], S[2]): 0.25,  # without 1: worse
            (S[0], S[2]): 1.0,  # without 2: better, so 2 is weak
            (S[0], S[1]): 0.5,  # without 3: no change
        }
    )
    result = weak.weak_steps(PROBLEM, S, agreement, evaluators=("a", "b"), samples=2)
    assert [s.delta for s in result.sentences] == [-0.25, 0.5, 0.0]
    assert result.weak == [1] and result.weakest == 1
    assert "<- weakest" in result.explain().splitlines()[3]


def test_surprisal_breaks_ties_between_equal_agreement_changes() -> None:
    agreement = agreement_table(
        {tuple(S): 1.0, (S[1], S[2]): 1.0, (S[0], S[2]): 1.0, (S[0], S[1]): 1.0}
    )
    score, _ = scorer({S[0]: 1.0, S[1]: 5.0, S[2]: 2.0})
    result = weak.weak_steps(PROBLEM, S, agreement, scorer="s", score=score)
    assert [s.surprisal for s in result.sentences] == [1.0, 5.0, 2.0]
    assert result.weak == [] and result.weakest == 1


@pytest.mark.parametrize(("after", "kept"), [(0.75, True), (0.5, True), (0.25, False)])
def test_repair_keeps_a_replacement_only_if_agreement_does_not_drop(
    after: float, kept: bool
) -> None:
    fixed = "2. One third of 12 is 4."
    agreement = agreement_table(
        {
            tuple(S): 0.5,
            (S[1], S[2]): 0.25,
            (S[0], S[2]): 1.0,
            (S[0], S[1]): 0.5,
            (S[0], fixed, S[2]): after,
        }
    )
    diagnosis = weak.weak_steps(PROBLEM, S, agreement)
    # replacement proposals use the samples after the ensemble's own (here 2 and 3)
    ask, seen = generator({("a", 2): ["", S[1]], ("a", 3): ["", fixed]})
    score, _ = scorer({S[1]: 0.1, fixed: 1.0})
    result = weak.repair(diagnosis, S, ["a"], ask, agreement, scorer="s", score=score, candidates=2)
    assert seen == [prompts.continuation(PROBLEM, S[:1])] * 2
    assert result.index == 1 and result.original == S[1]
    # the old sentence proposed again is not a replacement, even with the lowest score
    assert result.replacement == fixed
    assert (result.agreement_before, result.agreement_after, result.kept) == (0.5, after, kept)
    assert list(result.sentences) == ([S[0], fixed, S[2]] if kept else S)


def test_each_step_hands_its_proposals_and_its_scores_to_fan_out_as_one_batch() -> None:
    ask, _ = generator(
        {
            ("a", 0): ["1. Start with 12.", "Answer: 8$"],
            ("a", 1): ["1. Start with 12.", "2. Take away 4."],
            ("b", 0): ["1. Twelve.", "Answer: 8$"],
            ("b", 1): ["1. Twelve.", "Answer: 8$"],
        }
    )
    score, _ = scorer(
        {"1. Start with 12.": 1.0, "1. Twelve.": 2.0, "2. Take away 4.": 3.0, "Answer: 8": 0.5}
    )
    batches: list[tuple[int, list[str]]] = []

    def fan_out(calls: Sequence[Callable[[], object]], models: Iterable[str]) -> list[object]:
        batches.append((len(calls), list(models)))
        return [call() for call in reversed(calls)][::-1]  # any order, results in call order

    e = ensemble.build(
        PROBLEM, ["a", "b"], ask, scorer="s", score=score, candidates=2, fan_out=fan_out
    )
    assert e.sentences == ["1. Start with 12.", "Answer: 8"]
    # per step: 4 proposals at once, then the distinct eligible sentences scored at once
    assert batches == [(4, ["a", "b"]), (2, ["s"]), (4, ["a", "b"]), (2, ["s"])]
