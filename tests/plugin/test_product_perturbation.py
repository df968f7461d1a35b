"""A product under perturbation: ``xgen.invariant(BASE, prompt, explanation=tutor.explain)``
inside ``@given`` asks whether the product's answer (and its explanation's hand-over to
the evaluators) survives each drawn prompt, with the product's own code and prompts.

The scripted project: a tutor (its own ``openai.OpenAI()`` client and system prompt, routed
by ``xgen.patch_openai``) that adds the apples but also every extra number it is shown, and
two evaluators with the product's checker prompts: ``a`` follows the number the tutor
carries, ``b`` always answers 5, so the tutor's explanation never transfers, not even on
the base prompt. Inner runs are subprocesses, because Hypothesis profiles are global."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from pytest_xgen.settings.config import load_schema
from tests.helpers import pinned
from tests.scripted import conftest

CONFTEST = conftest(
    r"""
import re

import tutor


def reply(call):
    if call.model == "tutor":
        assert call.system == tutor.TUTOR_SYSTEM, "the tutor's model got another prompt"
        extra = [int(n) for n in re.findall(r"\d+", call.user) if n not in ("3", "4")]
        total = 7 + sum(extra)
        return f"Step 1: we carry {total} forward.\nAnswer: {total}"
    if call.system == tutor.CHECKER_PROMPTS["transfer_system"]:
        carried = re.findall(r"carry (\d+)", call.user)
        return f"Answer: {carried[-1] if call.model == 'a' and carried else 5}"
    # the plugin's own prompts: a and b never agree
    return f"Answer: {1 if call.model == 'a' else 2}"
""",
    usage=(5, 3, 8),
)

TUTOR = """
import openai

TUTOR_SYSTEM = "You are a maths tutor. Number your steps. End with `Answer: <number>`."
CHECKER_PROMPTS = {
    "transfer_system": "Check the homework by following the tutor's steps.",
    "transfer_template": "Homework:\\n{problem}\\n\\nThe tutor's steps:\\n{explanation}",
}


def explain(problem):
    with open("seen.txt", "a") as seen:
        seen.write(problem.replace("\\n", " ") + "\\n")
    client = openai.OpenAI(api_key="unused")
    reply = client.chat.completions.create(
        model="tutor-v1",
        messages=[{"role": "system", "content": TUTOR_SYSTEM}, {"role": "user", "content": problem}],
        temperature=0,
    )
    return reply.choices[0].message.content
"""

MODELS = "\n".join(
    f'[tool.xgen.models.{name}]\nbase_url = "http://scripted.invalid/v1"\nmodel = "{name}"\n'
    for name in ("tutor", "a", "b")
)

HEAD = """
import pytest
from hypothesis import given
from pytest_xgen import strategies as xst

import tutor

APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"
pytestmark = pytest.mark.transfers(
    prompts=tutor.CHECKER_PROMPTS, samples=1, temperature=0, min_consistency=0.6, max_examples=6
)


@pytest.fixture
def explain(xgen):
    xgen.patch_openai("tutor")
    return tutor.explain
"""


@pytest.fixture
def product(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(tutor=TUTOR)
    pytester.makepyprojecttoml(pinned('evaluators = ["a", "b"]\n' + MODELS))
    return pytester


def seen(pytester: pytest.Pytester) -> list[str]:
    path = pytester.path / "seen.txt"
    return path.read_text().splitlines() if path.exists() else []


def failure(result: pytest.RunResult) -> str:
    text = result.stdout.str()
    return text[text.index("invariance FAIL") :].split("Failing test case")[0]


APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"


def test_a_marked_check_stops_at_the_base_prompt_when_its_transfer_fails(
    product: pytest.Pytester,
) -> None:
    """What Hypothesis does with any property: the simplest example comes first, and a
    base prompt that fails is the smallest failing example, so nothing else is drawn."""
    product.makepyfile(
        test_check=HEAD
        + """
@given(prompt=xst.perturbed(APPLES, xst.renamed()))
def test_check(xgen, explain, prompt):
    xgen.check(prompt, expected=7, explanation=explain)
"""
    )
    result = product.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*perturbation: no edits (the base prompt)*"])
    assert set(seen(product)) == {APPLES}


def test_the_products_answer_is_measured_on_every_perturbed_prompt(
    product: pytest.Pytester,
) -> None:
    """Renaming keeps the tutor's answer: every drawn prompt is explained by the product and
    passes, though the explanation's transfer fails on the base prompt itself."""
    product.makepyfile(
        test_renamed=HEAD
        + """
@given(prompt=xst.perturbed(APPLES, xst.renamed()))
def test_renamed(xgen, explain, prompt):
    r = xgen.invariant(APPLES, prompt, expected=7, explanation=explain)
    assert r.explanation.answer == 7 and r.base_explanation.answer == 7
    assert r.explanation.origin == "callable tutor.explain"
    assert r.perturbed_answers == {"a": [7], "b": [5]}  # handed the tutor's explanation
"""
    )
    result = product.runpytest_subprocess("-W", "error", "-v")
    result.assert_outcomes(passed=1)
    # The progress line counts the product's own calls without passing a total.
    counts = re.findall(r"live call (\d+)/(\d+) of", result.stdout.str())
    assert counts and all(int(done) <= int(total) for done, total in counts), counts
    prompts = set(seen(product))
    assert APPLES in prompts and len(prompts) >= 3, prompts  # renamed prompts were explained


def test_the_search_shrinks_to_the_smallest_perturbation_that_changes_the_products_answer(
    product: pytest.Pytester,
) -> None:
    product.makepyfile(
        test_distracted=HEAD
        + """
@given(prompt=xst.perturbed(APPLES, xst.distractors(), xst.renamed()))
def test_distracted(xgen, explain, prompt):
    xgen.invariant(APPLES, prompt, expected=7, explanation=explain)
"""
    )
    first = product.runpytest_subprocess("-W", "error", "--xgen-report=run.json")
    first.assert_outcomes(failed=1)
    shown = failure(first)
    (inserted,) = re.findall(r"insert '([^']*)'", shown)
    extra = sum(int(n) for n in re.findall(r"\d+", inserted) if n not in ("3", "4"))
    assert extra, inserted  # the smallest change: one distractor, with a number
    assert "rename" not in shown.split("answers")[0]
    assert (
        f"the explanation's answer changed from 7 on the base prompt to {7 + extra} on the "
        "perturbed one (callable tutor.explain)" in shown
    )
    assert re.search(rf"explanation +7 +{7 + extra} +changed +<- flipped", shown), shown
    assert re.search(rf"\ba +7 +{7 + extra} +0/1 +<- flipped", shown), shown
    assert re.search(r"\bb +5 +5 +1/1\n", shown), shown
    assert (
        "explanation: the answer of callable tutor.explain on each prompt; the evaluators" in shown
    )
    doc = json.loads((product.path / "run.json").read_text())
    jsonschema.Draft202012Validator(load_schema("report.schema.json")).validate(doc)
    last = doc["tests"][0]["checks"][-1]  # the failing example, replayed last
    assert last["explanation"]["origin"] == "callable tutor.explain"
    assert last["explanation"]["changed"] and last["explanation"]["base"]["answer"] == 7
    assert last["explanation"]["perturbed"]["answer"] == 7 + extra

    replay = product.runpytest_subprocess("-W", "error", "--xgen-record-mode=none")
    replay.assert_outcomes(failed=1)
    replay.stdout.fnmatch_lines(["*xgen: * model calls: * replayed, 0 live*"])
    assert failure(replay) == shown


def test_right_answers_are_asserted_when_asked(product: pytest.Pytester) -> None:
    product.makepyfile(
        test_asked=HEAD
        + """
@given(prompt=xst.perturbed(APPLES, xst.renamed()))
def test_asked(xgen, explain, prompt):
    xgen.invariant(APPLES, prompt, expected=8, explanation=explain, require_correct=True)
"""
    )
    result = product.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the explanation's answer on the base prompt is 7 (expected 8: wrong; "
            "require_correct)*",
            "*perturbation: no edits (the base prompt)*",
        ]
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            "xgen.invariant(APPLES, APPLES, explanation='Add them. Answer: 7')",
            "xgen.invariant(explanation='Add them. Answer: 7'): explanation= takes a callable "
            "that explains a prompt (your product's, e.g. explanation=tutor.explain)",
        ),
        (
            "xgen.invariant('Add: 7.', 'Add: 8.', problem=APPLES, explanation=tutor.explain)",
            "xgen.invariant(): give problem= (base and perturbed are two explanations of it) "
            "or explanation= (your callable explains the base and the perturbed prompt), "
            "not both",
        ),
    ],
)
def test_an_explanation_invariant_cannot_use_is_a_clear_error(
    product: pytest.Pytester, call: str, message: str
) -> None:
    product.makepyfile(test_bad=HEAD + f"\n\ndef test_bad(xgen):\n    {call}\n")
    result = product.runpytest()
    result.assert_outcomes(errors=1)
    assert message in result.stdout.str()
    result.stdout.no_fnmatch_line("*Traceback*pytest_xgen*")


def test_a_callable_explanation_of_the_marker_is_the_product(product: pytest.Pytester) -> None:
    product.makepyfile(
        test_marker=HEAD
        + """
@pytest.mark.transfers(explanation=tutor.explain)
def test_marker(xgen, explain):
    xgen.invariant(APPLES, "The bus leaves at 9. " + APPLES, expected=7)
"""
    )
    result = product.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*the explanation's answer changed from 7 on the base prompt to 16 on the perturbed*"]
    )
