"""Hypothesis with the xgen fixture: settings, shrinking to the minimal perturbation, and
derandomized replay. Inner runs are subprocesses, because Hypothesis profiles are global."""

from __future__ import annotations

import re

import pytest

from tests.helpers import pinned
from tests.scripted import conftest

FLIP = conftest(
    r"""
import re


def reply(call):
    # Answers 7, unless the prompt has a number other than 3 and 4: then it builds on it.
    numbers = set(re.findall(r"\d+", call.messages[-1]["content"]))
    return f"Let me see.\nAnswer: {7 if numbers <= {'3', '4'} else 9}"
""",
    usage=(5, 3, 8),
)

PROJECT = """
[tool.xgen]
generator = "flip"
evaluators = ["flip"]
samples = 1

[tool.xgen.models.flip]
base_url = "http://scripted.invalid/v1"
model = "flip"
"""

ROBUST = """
import pytest
from hypothesis import given
from pytest_xgen import strategies as xst

APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"

@pytest.mark.transfers
@given(prompt=xst.perturbed(APPLES, xst.distractors(), xst.renamed()))
def test_robust(xgen, prompt):
    xgen.invariant(APPLES, prompt, expected=7)
"""


@pytest.fixture
def flip(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(FLIP)
    pytester.makepyprojecttoml(pinned(PROJECT))
    return pytester


def falsifying(result: pytest.RunResult) -> list[str]:
    text = result.stdout.str()
    start = text.index("Failing test case")
    return text[start:].split("\n\n")[0].splitlines()


def test_shrinks_to_the_minimal_flipping_perturbation_and_replays_it(flip: pytest.Pytester) -> None:
    flip.makepyfile(test_robust=ROBUST)
    first = flip.runpytest_subprocess("-W", "error")
    first.assert_outcomes(failed=1)
    for line in (
        "*Failing test case: test_robust(*",
        "*invariance FAIL: flip changed its answer on 1 of 1 sample(s) (min_invariance 1)*",
        "*perturbation: distractor: insert '*' before sentence 0",
        "*  flip  * 7 * 9 * 0/1   <- flipped*",
        "*expected: 7*",
        "*@reproduce_failure(*",
    ):
        first.stdout.fnmatch_lines([line])
    assert "These lines were always and only run by failing test cases" not in first.stdout.str()
    shown = "\n".join(falsifying(first))
    # Minimal: exactly one inserted distractor, with a number in it, and no renaming.
    (inserted,) = re.findall(r"insert '([^']*)'", first.stdout.str().split("invariance FAIL")[1])
    assert re.search(r"\d", inserted), inserted
    assert "rename" not in first.stdout.str().split("invariance FAIL")[1].split("answers")[0]
    assert "Tom has 3 apples" in shown

    replay = flip.runpytest_subprocess("-W", "error", "--xgen-record-mode=none")
    replay.assert_outcomes(failed=1)
    replay.stdout.fnmatch_lines(["*xgen: * model calls: * replayed, 0 live*"])
    assert falsifying(replay) == falsifying(first)


def test_xgen_tests_get_settings_for_slow_calls_without_health_check_warnings(
    flip: pytest.Pytester,
) -> None:
    flip.makepyfile(
        test_settings="""
        import pytest
        from hypothesis import given, settings, strategies as st

        @pytest.mark.transfers(max_examples=4)
        @given(n=st.integers(1, 2))
        def test_marked(xgen, n):
            s = settings.default  # an example runs under its test's settings
            assert s.deadline is None and s.max_examples == 4 and s.print_blob
            xgen.invariant("What is 3 + 4?", "What is 3 + 4?")

        @settings(max_examples=3, deadline=1000)
        @given(n=st.integers(1, 2))
        def test_user_settings_win(xgen, n):
            s = settings.default
            assert s.max_examples == 3 and s.deadline.total_seconds() == 1

        @given(n=st.integers(1, 2))
        def test_unmarked_but_uses_xgen(xgen, n):
            assert settings.default.max_examples == 10

        class TestInAClass:
            @pytest.mark.transfers(max_examples=2)
            @given(n=st.integers(1, 2))
            def test_method(self, xgen, n):
                xgen.invariant("What is 3 + 4?", "What is 3 + 4?")
    """
    )
    result = flip.runpytest_subprocess("-W", "error")
    result.assert_outcomes(passed=4)
    # The same settings when replaying (the CI profile is loaded then), deadline included:
    # a replay that kept Hypothesis's 200 ms deadline would fail on a slow machine.
    replay = flip.runpytest_subprocess("-W", "error", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=4)
    again = flip.runpytest_subprocess("-W", "error", "--xgen-max-examples=2", "-k", "unmarked")
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(["*assert 2 == 10*"])


def test_replay_only_mode_selects_the_ci_profile(
    flip: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Hypothesis loads its own "ci" profile (derandomized too) when it sees a CI variable;
    # without them, what is measured here is xgen's choice alone.
    import hypothesis._settings

    for name in getattr(hypothesis._settings, "_CI_VARS", ("CI", "GITHUB_ACTIONS", "GITLAB_CI")):
        monkeypatch.delenv(name, raising=False)
    flip.makepyfile(
        test_profile="""
        from hypothesis import settings

        def test_profile():
            print("PROFILE", settings.default.derandomize, settings.default.database)
    """
    )
    # Without an xgen Hypothesis test in the collection the profile is left alone.
    alone = flip.runpytest_subprocess("-s", "--xgen-record-mode=none", "test_profile.py")
    alone.stdout.fnmatch_lines(["*PROFILE False *"])
    # test_uses is collected (it is what makes the run select the profile), not run.
    flip.makepyfile(test_uses=ROBUST)
    ci = flip.runpytest_subprocess("-s", "--xgen-record-mode=none", "-k", "profile")
    ci.stdout.fnmatch_lines(["*PROFILE True None*"])
    ci.assert_outcomes(passed=1, deselected=1)
    chosen = flip.runpytest_subprocess(
        "-s", "--xgen-record-mode=none", "-k", "profile", "--hypothesis-profile=default"
    )
    chosen.stdout.fnmatch_lines(["*PROFILE False *"])


def test_calls_per_test_are_bounded_and_printed(flip: pytest.Pytester) -> None:
    flip.makepyfile(
        test_cost="""
        import pytest
        from hypothesis import given
        from pytest_xgen import strategies as xst

        @pytest.mark.transfers(max_examples=5)
        @given(prompt=xst.perturbed("Tom has 3 apples and buys 4 more. How many?", xst.renamed()))
        def test_names(xgen, prompt):
            xgen.invariant("Tom has 3 apples and buys 4 more. How many?", prompt)
    """
    )
    result = flip.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    line = next(x for x in result.stdout.lines if x.endswith("test_cost.py::test_names"))
    calls = int(line.split()[1])
    assert 2 <= calls <= 2 * 5  # two calls per example (base and perturbed), 5 examples at most
