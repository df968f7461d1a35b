"""Sentence-level ensembling, weak steps and repair: the algorithm on scripted generators
and scorers, then end to end through the recorder in inner pytest runs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from fnmatch import fnmatch

import pytest

from pytest_xgen.checks import ensemble, weak
from pytest_xgen.core import prompts
from pytest_xgen.errors import XgenConfigError
from pytest_xgen.models.base import CompletionResult
from tests.helpers import pinned

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


# -- end to end: the marker, the fixture, the recorder and the report -----------------------------

SCRIPTED = """
from pytest_xgen.core import prompts
from pytest_xgen.models.base import ChatResult, CompletionResult, Usage

STEPS = {
    "good": ["1. Sara starts with 12 candies.", "2. One third of 12 is 4.", "3. 12 - 4 = 8.", "Answer: 8"],
    "poor": ["1. Candies are nice.", "2. Some are red.", "3. Maybe 6.", "Answer: 6"],
}


class Scripted:
    def __init__(self, name, script):
        self.name = name
        self.identity = {"endpoint": "scripted", "model": script}
        self.params = {}
        self.script = dict(part.split("=", 1) for part in script.split(";") if part)

    def chat(self, messages, **params):
        system = messages[0]["content"]
        user = messages[-1]["content"]
        if system == prompts.ELICIT_SYSTEM:
            text = "\\n".join(STEPS[self.script["style"]])
        elif system == prompts.TRANSFER_SYSTEM:
            # the evaluators follow the explanation when it reaches "12 - 4 = 8"; a "moon"
            # sentence confuses one of them
            if "moon" in user and self.script.get("moon") == "confused":
                value = 5
            elif "= 8" in user or "is 4" in user:
                value = 8
            else:
                value = 6 + params["seed"] % 2 if self.script.get("wobble") else 6
            text = f"Working.\\nAnswer: {value}"
        else:
            value = self.script.get("baseline", "7")
            text = f"Answer: {value}"
        return ChatResult(text=text, finish_reason="stop", usage=Usage(10, 5, 15))

    def complete(self, prompt, **params):
        if params.get("echo") and self.script.get("logprobs") == "no":
            return CompletionResult(text=prompt, finish_reason="length")
        if params.get("echo"):
            # the scorer: "good" sentences are unsurprising
            tokens = [prompt[:-1], prompt[-1]]
            cost = 0.5 if any(prompt.endswith(s) for s in STEPS["good"]) else 3.0
            return CompletionResult(
                text=prompt, tokens=tokens + ["\\n"], token_logprobs=[None, -cost, -0.1],
                text_offset=[0, len(prompt) - 1, len(prompt)], usage=Usage(5, 1, 6),
            )
        done = prompt.count("\\n") - 2
        steps = STEPS[self.script["style"]]
        if done >= len(steps):
            return CompletionResult(text="", finish_reason="stop")
        rest = "\\n".join(steps[done:])
        finish = "stop" if done == len(steps) - 1 else "length"
        return CompletionResult(text=rest, finish_reason=finish, usage=Usage(5, 5, 10))


def pytest_xgen_make_model(name, spec, session):
    return Scripted(name, spec["model"])
"""

PROJECT = """
[tool.xgen]
generator = "good"
evaluators = ["e1", "e2"]
samples = 2
[tool.xgen.models.good]
base_url = "http://scripted.invalid/v1"
model = "style=good;baseline=7"
[tool.xgen.models.poor]
base_url = "http://scripted.invalid/v1"
model = "style=poor;baseline=7"
[tool.xgen.models.e1]
base_url = "http://scripted.invalid/v1"
model = "style=good;baseline=7;moon=confused"
[tool.xgen.models.e2]
base_url = "http://scripted.invalid/v1"
model = "style=good;baseline=9;wobble=1"
[tool.xgen.models.judge]
base_url = "http://scripted.invalid/v1"
model = "style=good"
[tool.xgen.models.chatonly]
base_url = "http://scripted.invalid/v1"
model = "style=good;logprobs=no"
"""


@pytest.fixture
def scripted(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(pinned(PROJECT))
    return pytester


ENSEMBLE_TEST = """
import pytest

@pytest.mark.transfers(explanation="ensemble", generators=["poor", "good"], scorer="judge",
                       candidates=1, min_consistency=0.9, min_lift=0.5)
def test_ensembled(xgen):
    r = xgen.check("Sara has 12 candies and gives away one third. How many are left?", expected=8)
    assert r.explanation.text == "1. Sara starts with 12 candies.\\n2. One third of 12 is 4.\\n3. 12 - 4 = 8."
    assert r.ensemble.sources == ["good", "good", "good", "good"]
    assert r.ensemble.stop_reason == "answer"
    assert set(r.singles) == {"poor", "good"}
    assert r.singles["poor"].lift < r.lift == r.singles["good"].lift
"""


def test_an_ensembled_explanation_is_checked_and_compared_with_each_generator(
    scripted: pytest.Pytester,
) -> None:
    scripted.makepyfile(test_ens=ENSEMBLE_TEST)
    result = scripted.runpytest("--xgen-report=report.json", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    report = json.loads((scripted.path / "report.json").read_text())
    check = report["tests"][0]["checks"][0]
    assert check["kind"] == "transfer"
    assert check["ensemble"]["sources"] == ["good"] * 4
    assert check["ensemble"]["scorer"] == "judge"
    steps = check["ensemble"]["steps"]
    assert [c["generator"] for c in steps[0]["candidates"]] == ["poor", "good"]
    assert steps[0]["candidates"][1]["chosen"] is True
    assert {s["generator"]: s["lift"] for s in check["singles"]}["good"] == check["lift"]

    # replay: the same verdicts and not one live call
    replay = scripted.runpytest("--xgen-record-mode=none", "-p", "no:randomly")
    replay.assert_outcomes(passed=1)
    replay.stdout.fnmatch_lines(["*0 live*"])


def test_the_failure_message_shows_the_ensemble_next_to_each_generator(
    scripted: pytest.Pytester,
) -> None:
    scripted.makepyfile(
        test_ens="""
        import pytest

        @pytest.mark.transfers(explanation="ensemble", generators=["poor"], candidates=1,
                               scorer="judge", min_lift=0.9)
        def test_poor(xgen):
            xgen.check("Sara has 12 candies and gives away one third. How many are left?")
        """
    )
    result = scripted.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*explanation: ensemble of poor, scored by judge*stopped: answer*",
            "*single generators:*",
            "*poor*lift*",
        ]
    )


def test_weak_steps_and_repair_in_a_test_and_in_the_report(scripted: pytest.Pytester) -> None:
    scripted.makepyfile(
        test_weak="""
        import pytest

        PROBLEM = "Sara has 12 candies and gives away one third. How many are left?"
        TEXT = "1. Sara starts with 12 candies. 2. The moon is bright. 3. 12 - 4 = 8. Answer: 8"

        @pytest.mark.transfers(scorer="judge", generators=["good"], candidates=1)
        def test_weak(xgen):
            w = xgen.weak_steps(TEXT, PROBLEM)
            assert [s.sentence for s in w.sentences] == [
                "1. Sara starts with 12 candies.", "2. The moon is bright.", "3. 12 - 4 = 8."]
            assert w.weak == [1] and w.weakest == 1
            r = xgen.repair(TEXT, PROBLEM)
            assert r.index == 1 and r.replacement == "2. One third of 12 is 4."
            assert r.kept and r.agreement_after > r.agreement_before
        """
    )
    result = scripted.runpytest("--xgen-report=report.json", "--xgen-html=report.html")
    result.assert_outcomes(passed=1)
    report = json.loads((scripted.path / "report.json").read_text())
    kinds = [c["kind"] for c in report["tests"][0]["checks"]]
    assert kinds == ["weak_steps", "repair"]
    sentences = report["tests"][0]["checks"][0]["sentences"]
    assert [s["weak"] for s in sentences] == [False, True, False]
    html = (scripted.path / "report.html").read_text()
    assert 'class="weak weakest"' in html and "The moon is bright." in html


def test_bad_ensemble_input_is_a_clear_error(scripted: pytest.Pytester) -> None:
    scripted.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.transfers(scorer="chatonly", generators=["good"])
        def test_scorer_cannot_score(xgen):
            xgen.ensemble("2+2?")

        def test_text_without_prompt(xgen):
            xgen.weak_steps("1. Two and two. 2. Four.")

        @pytest.mark.transfers(evaluators=["e1"])
        def test_one_evaluator(xgen):
            xgen.weak_steps("1. Two and two. 2. Four.", "2+2?")
        """
    )
    result = scripted.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*scorer 'chatonly' returned no token log-probabilities*pass scorer=None*",
            "*an explanation given as text needs the problem too: pass prompt=...*",
            "*weak steps compare the agreement of evaluators, so they need at least two*",
        ]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('scorer="gemmma"', "*scorer='gemmma' names unknown model 'gemmma'; configured models:*"),
        (
            'explanation="ensembel"',
            "*explanation='ensembel' is not valid: expected one of 'single', 'ensemble'*",
        ),
        ("generators=[]", "*generators=[] is not valid: expected at least one model name*"),
        ("candidates=0", "*candidates=0 is not valid: expected at least 1*"),
    ],
)
def test_bad_ensemble_keywords_stop_the_run_at_collection(
    scripted: pytest.Pytester, marker: str, message: str
) -> None:
    scripted.makepyfile(
        test_bad=f"""
        import pytest

        @pytest.mark.transfers({marker})
        def test_it(xgen):
            xgen.ensemble("2+2?")
        """
    )
    result = scripted.runpytest("-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert any(fnmatch(line, message) for line in result.stdout.lines + result.stderr.lines)


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
