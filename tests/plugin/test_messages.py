"""What a run says about a check whose explanation the project made: whose answer a single
evaluator is compared with, who made the explanation in the ``-v`` table, and progress
counts that stay within the plan they show when the project's own code makes calls too."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import pinned
from tests.plugin.test_given_explanation import FOLLOWERS, MODELS, TOM

# A product function that asks a model itself (its call is not one a check can plan), then
# explains; one evaluator follows it.
PRODUCT = f"""
import pytest

MINE = "Tom starts with 3 apples. He buys 4 more: 3 + 4 = 7. Answer: 7"


@pytest.mark.transfers(evaluators=["a"], samples=2)
def test_product(xgen):
    def explain(prompt):
        xgen.model("b")("Think about: " + prompt)
        return MINE

    result = xgen.check({TOM!r}, expected=7, explanation=explain)
    xgen.interventions({TOM!r}, explanation=explain, expected=7)
    assert result.explanation.origin == "callable test_product.test_product.<locals>.explain"
"""


@pytest.fixture
def product(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(FOLLOWERS)
    pytester.makepyprojecttoml(pinned('evaluators = ["a", "b"]\n' + MODELS))
    pytester.makepyfile(test_product=PRODUCT)
    return pytester


def test_a_callable_explanation_is_named_for_what_it_is(product: pytest.Pytester) -> None:
    result = product.runpytest("-v", "-p", "no:randomly", "--xgen-report=run.json")
    result.assert_outcomes(passed=1)
    text = result.stdout.str()
    assert "None->" not in text and "generator None" not in text
    check = json.loads((product.path / "run.json").read_text())["tests"][0]["checks"][0]
    origin = "callable test_product.test_product.<locals>.explain"
    assert check["notes"] == [
        "one evaluator: consistency is the agreement of a's samples with the explanation's "
        f"answer (made by {origin})"
    ]
    assert check["generator"] == origin
    result.stdout.fnmatch_lines([f"*test_product.py::test_product *{origin}->a"])


def test_progress_counts_never_pass_their_total(product: pytest.Pytester) -> None:
    result = product.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    progress = [x for x in result.stdout.lines if x.startswith("xgen: live call ")]
    counts = [re.match(r"xgen: live call (\S+) ", x).group(1) for x in progress]  # type: ignore[union-attr]
    # The check plans 4 calls (2 conditions x 2 samples) and makes a fifth, the product's:
    # past its total, the count goes on without one.
    assert counts[:5] == ["1/4", "2/4", "3/4", "4/4", "5"]
    assert "(b)" in "".join(progress[:5])
    totals = [c.split("/") for c in counts if "/" in c]
    assert all(int(done) <= int(total.lstrip("<=")) for done, total in totals)
    # The interventions plan once their explanation is known, and end on their total.
    assert all(x.endswith(", check 2") for x in progress[5:])
    assert counts[-1] == "15/15"
