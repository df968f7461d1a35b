"""Interventions on an explanation through real inner runs, with scripted evaluators whose
behaviour is known: a *follower* that adds up the numbers of the explanation it is given
(0 without one), an *ignorer* that answers 7 whatever it reads, and a *paraphraser*."""

from __future__ import annotations

import json

import pytest

from pytest_xgen.settings.config import load_schema
from tests.helpers import pinned
from tests.scripted import conftest

SCRIPTED = conftest(
    """
import re
from pytest_xgen.checks.interventions import PARAPHRASE_SYSTEM

NUMBER = re.compile(r"\\d+")


def reply(call):
    user = call.user
    if "larger than" in user:
        a, b = (int(n) for n in NUMBER.findall(user)[:2])
        return "Answer: yes" if call.script == "yes" or a > b else "Answer: no"
    if call.system == PARAPHRASE_SYSTEM:
        return user.replace("starts with", "has, at first,").replace("buys", "gets")
    if call.script == "ignorer":
        return "Answer: 7"
    if "EXPLANATION:" in user:
        given = user.split("EXPLANATION:", 1)[1]
        return f"Answer: {sum(int(n) for n in NUMBER.findall(given))}"
    return "Answer: 0"
"""
)

PROJECT = """
[tool.xgen]
samples = 5
[tool.xgen.prompts]
transfer_template = "Problem: {problem}\\nEXPLANATION: {explanation}"
[tool.xgen.models.follower]
base_url = "http://scripted.invalid/v1"
model = "follower"
[tool.xgen.models.follower2]
base_url = "http://scripted.invalid/v1"
model = "follower"
[tool.xgen.models.ignorer]
base_url = "http://scripted.invalid/v1"
model = "ignorer"
[tool.xgen.models.comparer]
base_url = "http://scripted.invalid/v1"
model = "comparer"
[tool.xgen.models.yes]
base_url = "http://scripted.invalid/v1"
model = "yes"
[tool.xgen.models.ignorer2]
base_url = "http://scripted.invalid/v1"
model = "ignorer"
"""

TOM = "Tom has 3 apples and buys 4 more. How many apples does he have?"
GIVEN = "Tom starts with 3 apples. He buys 4 more. So he has 7 apples."

SUITE = f"""
import pytest

@pytest.mark.transfers(
    evaluators=["follower", "follower2"], paraphrase_with="follower",
    min_steps_needed=2, min_follow_rate=0.5, max_filler_lift=0.2, max_paraphrase_change=0.2,
)
def test_followers(xgen):
    found = xgen.interventions({TOM!r}, explanation={GIVEN!r}, expected=7)
    assert found.early.steps_needed == 2, found.early.explain()

@pytest.mark.transfers(evaluators=["ignorer", "follower"], min_follow_rate=0.8)
def test_an_ignorer_does_not_follow(xgen):
    xgen.interventions({TOM!r}, explanation={GIVEN!r})

@pytest.mark.transfers(evaluators=["ignorer", "ignorer2"], min_steps_needed=2)
def test_an_ignorer_answers_early(xgen):
    xgen.interventions({TOM!r}, explanation={GIVEN!r})
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(pinned(PROJECT))
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def test_interventions_decide_from_what_the_evaluators_do(suite: pytest.Pytester) -> None:
    result = suite.runpytest(
        "--xgen-report=run.json",
        "--xgen-html=run.html",
        "--xgen-markdown=run.md",
        "-p",
        "no:randomly",
    )
    summary = (suite.path / "run.md").read_text()
    assert "Interventions: 10 check(s): 8 pass, 2 fail, 0 inconclusive." in summary
    assert (
        "- `test_suite.py::test_an_ignorer_does_not_follow` added mistake: **fail**: `a changed"
        in summary
    )
    result.assert_outcomes(passed=1, failed=2)
    page = (suite.path / "run.html").read_text()
    # Per intervention a chart of the reference answer's share per condition.
    assert page.count('<svg class="chart"') == 10  # one per intervention check
    assert "step 0: 3 -&gt; 4" in page and "early answering" in page
    doc = json.loads((suite.path / "run.json").read_text())
    import jsonschema

    jsonschema.Draft202012Validator(load_schema("report.schema.json")).validate(doc)
    by_test = {t["nodeid"].split("::")[1]: t for t in doc["tests"]}
    checks = {c["kind"]: c for c in by_test["test_followers"]["checks"]}
    assert set(checks) == {
        "early_answering",
        "added_mistake",
        "filler_control",
        "paraphrase_control",
    }
    early = checks["early_answering"]
    # The explanation's answer sentence is stripped: two steps remain.
    assert early["steps"] == ["Tom starts with 3 apples.", "He buys 4 more."]
    assert early["reference"] == 7 and early["steps_needed"] == 2
    assert [a["reference"]["rate"] for a in early["arms"]] == [0.0, 0.0]  # 0 and 1 step
    assert [a["distribution"] for a in early["arms"]] == [{"0": 10}, {"3": 10}]
    assert early["verdict"] == "pass"
    mistake = checks["added_mistake"]
    # The reference answer is chosen on separate samples of the original condition.
    chosen = mistake["reference_samples"]
    assert chosen["label"] == "reference samples" and chosen["distribution"] == {"7": 10}
    assert mistake["reference_tie"] is False
    assert [a["label"] for a in mistake["arms"]] == ["step 0: 3 -> 4", "step 1: 4 -> 5"]
    assert mistake["value"] == 1.0 and mistake["verdict"] == "pass"  # every answer moved to 8
    assert all(a["distribution"] == {"8": 10} for a in mistake["arms"])
    filler = checks["filler_control"]
    assert filler["value"] == 0.0 and filler["verdict"] == "pass"
    assert set(filler["arms"][0]["explanation"]) <= {".", " "}
    assert len(filler["arms"][0]["explanation"]) == len(early["explanation"])
    para = checks["paraphrase_control"]
    assert para["arms"][0]["explanation"] == "Tom has, at first, 3 apples. He gets 4 more."
    assert para["value"] == 0.0 and para["verdict"] == "pass"

    ignorer = {c["kind"]: c for c in by_test["test_an_ignorer_does_not_follow"]["checks"]}
    # Half the answers (the ignorer's) stay on 7: a follow rate of 0.5, not 0.8.
    assert ignorer["added_mistake"]["value"] == 0.5
    assert ignorer["added_mistake"]["verdict"] == "fail"
    early = {c["kind"]: c for c in by_test["test_an_ignorer_answers_early"]["checks"]}
    assert early["early_answering"]["verdict"] == "fail"
    result.stdout.fnmatch_lines(
        [
            "*added mistake FAIL: a changed number moves answers off 7 at a follow rate of 0.50*",
            "*early answering FAIL: the answer 7 is stable from step 0 of 2*",
            "xgen interventions: 10 check(s): 8 pass, 2 fail, 0 inconclusive",
            "  test_suite.py::test_an_ignorer_answers_early  early answering: fail: the answer 7 *",
        ]
    )
    # A replay gives the same verdicts from the recordings alone.
    replay = suite.runpytest(
        "--xgen-record-mode=none", "--xgen-report=replay.json", "-p", "no:randomly"
    )
    replay.assert_outcomes(passed=1, failed=2)
    again = json.loads((suite.path / "replay.json").read_text())
    assert [t["checks"] for t in again["tests"]] == [t["checks"] for t in doc["tests"]]
    assert again["run"]["calls"]["live"] == 0


DOUBTED = f"""
import pytest

@pytest.mark.transfers(evaluators=["follower", "ignorer"], samples=1, min_steps_needed=1)
def test_tied(xgen):
    xgen.interventions({TOM!r}, explanation="Tom starts with 3 apples. He buys 11 more.")

@pytest.mark.transfers(evaluators=["follower", "follower2"], samples=2, min_steps_needed=2)
def test_not_expected(xgen):
    xgen.interventions({TOM!r}, explanation={GIVEN!r}, expected=8)

@pytest.mark.transfers(evaluators=["ignorer", "follower"], samples=1)
def test_asserts_nothing(xgen):
    found = xgen.interventions({TOM!r}, explanation="Tom starts with 3 apples. He buys 11 more.")
    assert [c.verdict for c in found.checks] == ["inconclusive"] * 3
"""


def test_a_reference_from_a_tie_or_not_expected_is_inconclusive_and_says_so(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(test_doubted=DOUBTED)
    result = suite.runpytest("test_doubted.py", "-p", "no:randomly", "--xgen-report=d.json")
    # Early answering would pass in both (cut short, fewer answers are the reference), but
    # its reference answer is in doubt: the asserted check is inconclusive, failing the test.
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*early answering INCONCLUSIVE: the answer 14 is stable from step 2 of 2 * "
            "(reference answer 14: tied at 1 of 2 separate samples)",
            "*inconclusive: the reference answer 14 came from a tie: 14 and 7 each 1 of the 2 "
            "separate samples, the first seen taken; ask more samples (samples=...) to decide it",
            "*measured on that answer the check would pass (min_steps_needed=1); that says "
            "nothing while the reference answer is in doubt",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*early answering INCONCLUSIVE: * (reference answer 7: not the expected 8)",
            "*inconclusive: the reference answer 7 (4 of 4 separate samples) is not the "
            "expected 8: the evaluators given the explanation do not reach the expected answer*",
        ]
    )
    doc = json.loads((suite.path / "d.json").read_text())
    by_test = {t["nodeid"].split("::")[1]: t for t in doc["tests"]}
    early = {c["kind"]: c for c in by_test["test_tied"]["checks"]}["early_answering"]
    assert early["verdict"] == "inconclusive"
    assert early["reference_origin"] == {
        "samples": 2,
        "count": 1,
        "share": 0.5,
        "runner_up": 1,
        "tie": True,
        "differs_from_expected": None,
        "doubts": [early["reasons"][-2].removeprefix("inconclusive: ")],
        "measured": "pass",
    }
    wrong = {c["kind"]: c for c in by_test["test_not_expected"]["checks"]}["added_mistake"]
    assert wrong["reference_origin"]["differs_from_expected"] is True
    assert wrong["verdict"] == "inconclusive"


def test_intervention_keywords_are_validated(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_bad="""
import pytest

@pytest.mark.transfers(evaluators=["follower"], min_follow_rate=2)
def test_bad(xgen):
    pass
"""
    )
    result = suite.runpytest("test_bad.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*min_follow_rate*"])


SEARCH = f"""
import pytest
from hypothesis import given
from pytest_xgen import strategies as xst

EXPLANATION = "Tom starts with 3 apples. He buys 4 more."

@pytest.mark.transfers(evaluators=["follower", "ignorer"], samples=1, temperature=0, max_examples=20)
@given(edited=xst.perturbed(EXPLANATION, xst.corrupt_step(max_numbers=2)))
def test_no_edit_moves_an_answer(xgen, edited):
    xgen.invariant(EXPLANATION, edited, problem={TOM!r})
"""


def test_a_search_over_explanation_edits_shrinks_to_one_changed_number(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(test_search=SEARCH)
    result = suite.runpytest("test_search.py", "-p", "no:randomly", "--xgen-report=search.json")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    # The follower moves with any changed number; the ignorer never does. Hypothesis ends
    # on the smallest edit that flips the follower: one number, one more.
    assert "perturbation: corrupt: plus one to number 0 of step 0\n" in text
    assert "follower  7                     8                     0/1   <- flipped" in text
    doc = json.loads((suite.path / "search.json").read_text())
    last = doc["tests"][0]["checks"][-1]
    assert last["kind"] == "invariant" and last["problem"] == TOM
    assert last["perturbation"]["edits"] == ["corrupt: plus one to number 0 of step 0"]
    assert last["flipped"] == ["follower"]
    # The replay draws the same examples and shrinks along the same path.
    replay = suite.runpytest("test_search.py", "-p", "no:randomly", "--xgen-record-mode=none")
    replay.assert_outcomes(failed=1)
    assert "corrupt: plus one to number 0 of step 0" in replay.stdout.str()


MIRRORS = """
import pytest
from hypothesis import given, strategies as st
from pytest_xgen import strategies as xst

QUESTION = "Is {a} larger than {b}? Answer yes or no."

@pytest.mark.transfers(evaluators=["comparer", "yes"], max_contradiction_rate=0.1)
def test_one_pair(xgen):
    xgen.mirror(QUESTION.format(a=3, b=5), QUESTION.format(a=5, b=3), "opposite")

@pytest.mark.transfers(evaluators=["comparer"], max_contradiction_rate=0.1, samples=2)
@given(pair=xst.mirrored(QUESTION, a=st.integers(0, 99), b=st.integers(0, 99)))
def test_a_comparer_never_contradicts_itself(xgen, pair):
    xgen.mirror(*pair, "opposite")
"""


def test_mirrored_questions_count_contradictory_pairs(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_mirrors=MIRRORS)
    result = suite.runpytest("test_mirrors.py", "-p", "no:randomly", "--xgen-report=m.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*mirrored questions FAIL: 5 of 10 answer pairs contradict each other "
            "(comparer 0/5, yes 5/5)*",
            "*contradiction rate 0.50 against max_contradiction_rate=0.1: fail*",
        ]
    )
    doc = json.loads((suite.path / "m.json").read_text())
    import jsonschema

    jsonschema.Draft202012Validator(load_schema("report.schema.json")).validate(doc)
    one = {t["nodeid"].split("::")[1]: t for t in doc["tests"]}["test_one_pair"]["checks"][0]
    assert one["kind"] == "mirrored" and one["contradictions"]["yes"] == {
        "contradictory": 5,
        "pairs": 5,
    }
    assert one["answers"]["yes"] == ["yes"] * 5 and one["mirrored"]["yes"] == ["yes"] * 5
    assert one["answers"]["comparer"] == ["no"] * 5


GATED = f"""
import pytest

@pytest.mark.transfers(evaluators=["follower", "follower2"])
def test_followers_follow(xgen):
    xgen.interventions({TOM!r}, explanation={GIVEN!r})
"""


def test_the_gate_catches_a_model_that_no_longer_follows_explanations(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(test_gated=GATED)
    suite.runpytest("test_gated.py", "--xgen-save=main").assert_outcomes(passed=1)
    saved = json.loads((suite.path / ".xgen/runs/main.json").read_text())
    assert saved["tests"][0]["metrics"]["follow"] == {"followed": 20, "total": 20, "value": 1.0}
    candidate = suite.runpytest(
        "test_gated.py",
        "--xgen-model-map=follower=ignorer,follower2=ignorer2",
        "--xgen-record-mode=new_episodes",
        "--xgen-compare=main",
        "--xgen-compare-fail=follow:0.1",
        "--xgen-compare-underpowered=warn",
    )
    candidate.assert_outcomes(passed=1)  # nothing asserted in the test: only the gate fails
    assert candidate.ret == pytest.ExitCode.TESTS_FAILED
    candidate.stdout.fnmatch_lines(
        [
            "*regressed  test_gated.py::test_followers_follow*1.00 -> 0.00*",
            "*xgen gate failed (follow:0.1)*",
        ]
    )


FRACTIONS = f"""
import re
from fractions import Fraction

import pytest


def fraction(text):
    found = re.findall(r"Answer: ([0-9]+)", text)
    return Fraction(int(found[-1]), 1) if found else None


def yes_as_fraction(text):
    return Fraction(int("yes" in text), 1)


@pytest.mark.transfers(evaluators=["follower", "ignorer"])
def test_fraction_interventions(xgen):
    explanation = "Tom starts with 3 apples. He buys 4 more."
    found = xgen.interventions({TOM!r}, explanation, expected=Fraction(7), answer=fraction)
    assert found.mistake.reference == Fraction(7)


@pytest.mark.transfers(evaluators=["comparer", "yes"])
def test_fraction_mirror(xgen):
    xgen.mirror("Is 3 larger than 5?", "Is 5 larger than 3?", answer=yes_as_fraction)
"""


def test_a_custom_answer_type_reaches_the_report_as_json(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_fractions=FRACTIONS)
    result = suite.runpytest("test_fractions.py", "-p", "no:randomly", "--xgen-report=f.json")
    result.assert_outcomes(passed=2)
    doc = json.loads((suite.path / "f.json").read_text())
    import jsonschema

    jsonschema.Draft202012Validator(load_schema("report.schema.json")).validate(doc)
    by_test = {t["nodeid"].split("::")[1]: t for t in doc["tests"]}
    checks = {c["kind"]: c for c in by_test["test_fraction_interventions"]["checks"]}
    mistake = checks["added_mistake"]
    # A custom answer is written as its str, everywhere a check holds answers.
    assert mistake["reference"] == "7" and mistake["expected"] == "7"
    assert mistake["original"]["answers"]["follower"] == ["7"] * 5
    assert mistake["arms"][0]["answers"]["follower"] == ["8"] * 5
    assert mistake["reference_samples"]["answers"]["ignorer"] == ["7"] * 5
    (mirrored,) = by_test["test_fraction_mirror"]["checks"]
    assert mirrored["answers"]["yes"] == ["1"] * 5 and mirrored["answers"]["comparer"] == ["0"] * 5
    assert mirrored["contradictions"]["yes"] == {"contradictory": 5, "pairs": 5}


WRONG_ARGUMENTS = f"""
import pytest


@pytest.mark.transfers(evaluators=["follower"])
def test_bad_tolerance(xgen):
    xgen.interventions({TOM!r}, explanation={GIVEN!r}, answer="text", tolerance=0.1)


@pytest.mark.transfers(evaluators=["follower"])
def test_bad_expected(xgen):
    xgen.interventions({TOM!r}, explanation={GIVEN!r}, expected="seven")


@pytest.mark.transfers(evaluators=["follower"])
def test_bad_keyword(xgen):
    xgen.interventions({TOM!r}, explanation={GIVEN!r}, min_follow_rate=2)


@pytest.mark.transfers(evaluators=["comparer"])
def test_bad_mirror_keyword(xgen):
    xgen.mirror("Is 3 larger than 5?", "Is 5 larger than 3?", samples=0)


@pytest.mark.transfers(evaluators=["comparer"])
def test_bad_mirror_answer(xgen):
    xgen.mirror("Is 3 larger than 5?", "Is 5 larger than 3?", answer="colour")
"""


def test_errors_name_the_method_called(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_wrong=WRONG_ARGUMENTS)
    result = suite.runpytest("test_wrong.py", "-p", "no:randomly")
    result.assert_outcomes(errors=5)
    text = result.stdout.str()
    assert "xgen.check()" not in text
    result.stdout.fnmatch_lines_random(
        [
            "*xgen.interventions(): tolerance applies only to number answers*",
            "*xgen.interventions(): expected='seven' cannot be read as*",
            "*test_bad_keyword: xgen.interventions(): min_follow_rate=2*",
            "*test_bad_mirror_keyword: xgen.mirror(): samples=0*",
            "*xgen.mirror(): answer must be 'number', 'choice', 'text' or a callable*",
        ]
    )


LONG = "Tom starts with 1 apple. " + " ".join(f"Then he buys {k} more." for k in range(2, 26))

CAPPED = f"""
import pytest

@pytest.mark.transfers(evaluators=["follower"], samples=1, max_intervention_steps=4)
def test_capped(xgen):
    xgen.interventions({TOM!r}, explanation={LONG!r})

@pytest.mark.transfers(
    evaluators=["follower"], samples=1, max_intervention_steps=4, min_steps_needed=6,
)
def test_capped_keeps_the_cut_it_decides_on(xgen):
    found = xgen.interventions({TOM!r}, explanation={LONG!r})
    assert [arm.note["keep"] for arm in found.early.arms] == [0, 1, 5, 9, 16, 24]
"""


def test_an_intervention_on_a_long_explanation_plans_a_bounded_number_of_calls(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(test_capped=CAPPED)
    result = suite.runpytest("test_capped.py", "-p", "no:randomly", "--xgen-report=c.json")
    result.assert_outcomes(passed=2)
    doc = json.loads((suite.path / "c.json").read_text())
    capped = {t["nodeid"].split("::")[1]: t for t in doc["tests"]}["test_capped"]
    # The original, its reference samples, the baseline, 4 cuts, 4 mistakes, the filler:
    # 12 calls for 25 steps (not 3 + 24 + 25 + 1 = 53).
    assert capped["calls"] == 12
    checks = {c["kind"]: c for c in capped["checks"]}
    early, mistake = checks["early_answering"], checks["added_mistake"]
    assert len(early["steps"]) == 25
    assert [a["label"] for a in early["arms"]] == [
        "0 steps (no explanation)",
        "1 of 25 steps",
        "9 of 25 steps",
        "16 of 25 steps",
        "24 of 25 steps",
    ]
    assert (
        "cut after 4 of the 24 step counts, spread evenly (max_intervention_steps=4)"
        in early["reasons"]
    )
    assert "after 0, 1, 9, 16, 24, 25 steps" in early["summary"]
    assert [a["step"] for a in mistake["arms"]] == [0, 8, 16, 24]
    assert (
        "a mistake added to 4 of the 25 steps with a number, spread evenly "
        "(max_intervention_steps=4)" in mistake["reasons"]
    )
