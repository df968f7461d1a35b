"""Calibrated verdicts on the real path: the noisy HTTP server, the openai client, the
recorder, inner pytest runs and ``xgen compare``. Noise alone must not fail a check or a
gate; a real change must."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.noisyserver import NoisyOpenAI

APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"


@pytest.fixture
def noisy() -> Iterator[NoisyOpenAI]:
    with NoisyOpenAI() as server:
        yield server


def project(pytester: pytest.Pytester, server: NoisyOpenAI, extra: str = "", **models: str) -> None:
    tables = "\n".join(
        f'[tool.xgen.models.{name}]\nbase_url = "{server.base_url}"\nmodel = "{script}"\n'
        for name, script in models.items()
    )
    pytester.makepyprojecttoml(f"[tool.xgen]\n{extra}\n{tables}")


def test_noise_alone_passes_a_search_and_a_real_sensitivity_fails(
    pytester: pytest.Pytester, noisy: NoisyOpenAI
) -> None:
    # Both evaluators answer right 60% of the time, whatever the padding or the noise; "c"
    # adds a distractor's number 90% of the time. No generator is configured: invariance
    # asks none.
    project(
        pytester,
        noisy,
        'evaluators = ["a", "b"]',
        a="id=a;baseline=0.6",
        b="id=b;baseline=0.6",
        c="baseline=0.95;distract=0.9",
        c2="id=c2;baseline=0.95;distract=0.9",
    )
    pytester.makepyfile(
        test_search=f"""
        import time

        import pytest
        from hypothesis import given
        from pytest_xgen import strategies as xst

        @pytest.mark.transfers(max_examples=10)
        @given(prompt=xst.perturbed({APPLES!r}, xst.padding(300), xst.noise()))
        def test_padding_and_noise(xgen, prompt):
            r = xgen.invariant({APPLES!r}, prompt, expected=7)
            assert r.verdict == "pass" and r.search_size == 10
            time.sleep(0.25)  # slower than Hypothesis's default deadline of 200 ms

        @pytest.mark.transfers(evaluators=["c"], max_examples=10)
        @given(prompt=xst.perturbed({APPLES!r}, xst.distractors()))
        def test_distractors(xgen, prompt):
            xgen.invariant({APPLES!r}, prompt, expected=7)

        @pytest.mark.transfers(samples=3)
        def test_three_samples(xgen):
            xgen.invariant({APPLES!r}, {APPLES!r} + " The bus leaves every 20 minutes.", expected=7)
        """
    )
    result = pytester.runpytest("--xgen-report=first.json")
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    # The distractor's flip is found, confirmed on fresh samples and shrunk.
    assert "invariance FAIL: c: accuracy fell from" in out
    assert "and again on fresh samples from" in out
    assert "Failing test case" in out
    # Three samples cannot show any change at level 0.05: inconclusive, with what to do.
    assert "invariance INCONCLUSIVE: 3 sample(s) per prompt cannot show any change" in out
    assert "use samples=4 or more" in out
    doc = json.loads((pytester.path / "first.json").read_text())
    padding = next(t for t in doc["tests"] if t["nodeid"].endswith("test_padding_and_noise"))
    check = padding["checks"][0]
    # 0.05 over 10 examples and two looks (samples="auto": 5, then 10 if suggestive).
    assert check["level"] == pytest.approx(0.0025)
    assert set(check["tests"]) == {"a", "b"}
    assert check["tests"]["a"]["noise_floor"] is not None
    # Replay mode: every call replays, and the slow example keeps no 200 ms deadline.
    calls = noisy.calls
    replay = pytester.runpytest("--xgen-record-mode=none")
    replay.assert_outcomes(passed=1, failed=2)
    assert "DeadlineExceeded" not in replay.stdout.str()
    assert noisy.calls == calls
    # With a model map the failure says what ran under the old name.
    mapped = pytester.runpytest(
        "--xgen-model-map=c=c2", "--xgen-record-mode=new_episodes", "-k", "distractors"
    )
    mapped.assert_outcomes(failed=1)
    assert "model map: c\u2192c2 (answers under the old names)" in mapped.stdout.str()


SUITE = """
import pytest

PROBLEMS = [
    f"Person {i} has {3 + i % 5} apples and buys {2 + i % 4} more. How many apples?"
    for i in range(N)
]

@pytest.mark.transfers(min_consistency=0, min_lift=-1, samples=SAMPLES)
@pytest.mark.parametrize("problem", PROBLEMS)
def test_problem(xgen, problem):
    a, b = [int(w) for w in problem.split() if w.isdigit()][1:3]
    xgen.check(problem, expected=a + b)
"""


def test_an_aa_comparison_does_not_fail_the_gate_and_a_regression_does(
    pytester: pytest.Pytester, noisy: NoisyOpenAI
) -> None:
    project(
        pytester,
        noisy,
        'generator = "gen"\nevaluators = ["a", "b"]',
        gen="transfer=1",
        a="id=a;baseline=0.5;transfer=0.88",
        b="id=b;baseline=0.5;transfer=0.88",
        worse="baseline=0.5;transfer=0.45",
    )
    pytester.makepyfile(test_suite=SUITE.replace("N)", "30)").replace("SAMPLES", "10"))
    gate = ["--xgen-compare=main", "--xgen-compare-fail=accuracy:0.1"]
    first = pytester.runpytest("-n", "2", "--xgen-save=main")
    first.assert_outcomes(passed=30)
    # Same models, fresh samples (another seed): nothing regressed.
    again = pytester.runpytest(
        "-n",
        "2",
        "--xgen-seed=100",
        "--xgen-record-mode=new_episodes",
        "--xgen-report=aa.json",
        *gate,
    )
    again.assert_outcomes(passed=30)
    aa = json.loads((pytester.path / "aa.json").read_text())["comparison"]
    assert aa["counts"]["regressed"] == 0
    assert aa["gate"]["result"] in ("pass", "inconclusive")
    assert aa["gate"]["failures"] == []
    # One evaluator's transfer accuracy falls from 0.88 to 0.45: the gate fails.
    worse = pytester.runpytest(
        "--xgen-model-map=b=worse", "--xgen-record-mode=new_episodes", "--xgen-report=w.json", *gate
    )
    assert worse.ret == pytest.ExitCode.TESTS_FAILED
    worse.stdout.fnmatch_lines(
        ["*xgen gate failed (accuracy:0.1)*", "*suite: accuracy: regressed*"]
    )
    # A model map that makes the two evaluators one model is refused, naming the collision.
    same = pytester.runpytest("--xgen-model-map=b=a", "-k", "test_problem and 0")
    same.stdout.fnmatch_lines(
        ["*the model map (b=a) makes evaluators 'a' and 'b' the same model 'a'*"]
    )
    assert same.ret == pytest.ExitCode.TESTS_FAILED
    # ... and so is one that makes the generator the only evaluator's partner.
    alone = pytester.runpytest(
        "--xgen-model-map=gen=a", "--xgen-evaluators=a", "-k", "test_problem and 0"
    )
    alone.stdout.fnmatch_lines(
        ["*makes the generator 'gen' and the only evaluator 'a' the same model 'a'*"]
    )
