"""Calibrated verdicts on the real path: the noisy HTTP server, the openai client, the
recorder, inner pytest runs and ``xgen compare``. Noise alone must not fail a check or a
gate; a real change must."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server import OpenAIServer

APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"


@pytest.fixture
def noisy() -> Iterator[OpenAIServer]:
    with OpenAIServer("noisy") as server:
        yield server


def project(
    pytester: pytest.Pytester, server: OpenAIServer, extra: str = "", **models: str
) -> None:
    tables = "\n".join(
        f'[tool.xgen.models.{name}]\nbase_url = "{server.base_url}"\nmodel = "{script}"\n'
        for name, script in models.items()
    )
    pytester.makepyprojecttoml(f"[tool.xgen]\n{extra}\n{tables}")


def test_noise_alone_passes_a_search_and_a_real_sensitivity_fails(
    pytester: pytest.Pytester, noisy: OpenAIServer
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
            assert r.verdict == "pass" and r.search_size == 10 and r.confirmations == 3
            time.sleep(0.25)  # slower than Hypothesis's default deadline of 200 ms

        @pytest.mark.transfers(evaluators=["c"], max_examples=10)
        @given(prompt=xst.perturbed({APPLES!r}, xst.distractors()))
        def test_distractors(xgen, prompt):
            xgen.invariant({APPLES!r}, prompt, expected=7)

        @pytest.mark.transfers(samples=1, max_drop=0.5)
        def test_one_sample(xgen):
            xgen.invariant({APPLES!r}, {APPLES!r} + " The bus leaves every 20 minutes.", expected=7)
        """
    )
    result = pytester.runpytest("--xgen-report=first.json")
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    # The distractor's flip is found, confirmed on fresh samples and shrunk.
    assert "invariance FAIL: c: accuracy fell from" in out
    assert "and again on 40 fresh samples per prompt from" in out
    assert "Failing test case" in out
    # A confirmation of 4 samples (1 sample per prompt on the screen) cannot show a drop
    # beyond 0.5 at level 0.05: inconclusive, with what to do.
    assert (
        "invariance INCONCLUSIVE: a confirmation of 4 sample(s) per prompt cannot show any "
        "drop beyond 0.5 at level 0.05"
    ) in out
    assert "use samples=2 or more" in out
    doc = json.loads((pytester.path / "first.json").read_text())
    padding = next(t for t in doc["tests"] if t["nodeid"].endswith("test_padding_and_noise"))
    checks = padding["checks"]
    # 0.05 over at most 3 confirmations in the search, on 4 x 10 fresh samples per prompt.
    assert all(c["level"] == pytest.approx(0.05 / 3) for c in checks)
    assert checks[0]["confirmations"] == 3 and checks[0]["confirmation_samples"] == 40
    assert max(c["spent"] for c in checks) <= 3
    assert set(checks[0]["tests"]) == {"a", "b"}
    assert checks[0]["tests"]["a"]["noise_floor"] is not None
    assert 0 < checks[0]["tests"]["a"]["power"] <= 1
    distractors = next(t for t in doc["tests"] if t["nodeid"].endswith("test_distractors"))
    found = distractors["checks"]
    # Shrinking spends from the same budget: never more than 3 confirmations in the search.
    assert all(c["spent"] <= 3 for c in found) and found[-1]["verdict"] == "fail"
    assert found[-1]["tests"]["c"]["confirmation"] is not None
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


RECIPE = "--xgen-compare-fail=consistency:0.05,accuracy:0.05,explanation:0.05"


def test_the_gate_passes_unchanged_runs_and_fails_real_regressions(
    pytester: pytest.Pytester, noisy: OpenAIServer
) -> None:
    # Runs with every source of variance a real one has: the generator explains anew on
    # each recording (right 80% of the time, a wrong sum otherwise), the evaluators follow
    # the explanation it gives (a wrong one included) half the time, and sample the rest.
    evaluator = "baseline=0.5;transfer=0.85;follow=0.5"
    project(
        pytester,
        noisy,
        'generator = "gen"\nevaluators = ["a", "b"]',
        gen="right=0.8",
        badgen="id=badgen;right=0",
        a=f"id=a;{evaluator}",
        b=f"id=b;{evaluator}",
        b2=f"id=b2;{evaluator}",
        worse="baseline=0.5;transfer=0.3;follow=0.1",
    )
    pytester.makepyfile(test_suite=SUITE.replace("N)", "30)").replace("SAMPLES", "10"))
    gate = ["--xgen-compare=main", RECIPE]
    first = pytester.runpytest("-n", "2", "--xgen-save=main")
    first.assert_outcomes(passed=30)
    main = json.loads((pytester.path / ".xgen/runs/main.json").read_text())
    right = [t["metrics"]["explanation"]["value"] for t in main["tests"]]
    assert 0 < sum(right) < 30  # the generator sampled right and wrong explanations

    # 1. The run compared with its own baseline (identical data): exit 0.
    same = pytester.runpytest("--xgen-record-mode=none", *gate)
    assert same.ret == pytest.ExitCode.OK
    same.stdout.fnmatch_lines(["*30 tests read the same explanation in both runs*"])

    # 2. A/A: same models, fresh samples and a fresh explanation (another seed): exit 0.
    calls = noisy.calls
    again = pytester.runpytest(
        "-n",
        "2",
        "--xgen-seed=100",
        "--xgen-record-mode=new_episodes",
        "--xgen-report=aa.json",
        *gate,
    )
    assert again.ret == pytest.ExitCode.OK
    assert noisy.calls > calls  # recorded anew
    aa = json.loads((pytester.path / "aa.json").read_text())
    assert aa["comparison"]["counts"]["regressed"] == 0
    assert not aa["comparison"]["gate"]["failures"]
    paired = aa["comparison"]["pairing"]["paired"]
    assert paired < 30  # some explanations were drawn differently: those are not paired
    assert [t["metrics"]["explanations"] for t in aa["tests"]] != [
        t["metrics"]["explanations"] for t in main["tests"]
    ]

    def mapped(model_map: str, report: str) -> tuple[pytest.RunResult, dict[str, Any]]:
        """The suite with ``model_map``, its new calls recorded, compared with main."""
        run = pytester.runpytest(
            f"--xgen-model-map={model_map}",
            "--xgen-record-mode=new_episodes",
            f"--xgen-report={report}",
            *gate,
        )
        return run, json.loads((pytester.path / report).read_text())

    # 3. The upgrade recipe, an evaluator swapped for an equal one: the generator's calls
    # replay the baseline's explanations, so every test is paired on its explanation.
    upgrade, up = mapped("b=b2", "up.json")
    assert upgrade.ret == pytest.ExitCode.OK
    upgrade.stdout.fnmatch_lines(
        ["*30 tests read the same explanation in both runs (the baseline's generator calls*"]
    )
    assert up["comparison"]["pairing"] == {"paired": 30, "compared": 30}
    assert [t["metrics"]["explanations"] for t in up["tests"]] == [
        t["metrics"]["explanations"] for t in main["tests"]
    ]

    # 4. An injected regression of an evaluator: it stops following and answers worse.
    worse, _ = mapped("b=worse", "w.json")
    assert worse.ret == pytest.ExitCode.TESTS_FAILED
    worse.stdout.fnmatch_lines(["*xgen gate failed (consistency:0.05*", "*REGRESSED*"])

    # 5. The generator swapped for one whose explanations are all wrong, while the
    # followers copy them: the explanation's answer and what the followers answer fall.
    wrong, swapped = mapped("gen=badgen", "g.json")
    assert wrong.ret == pytest.ExitCode.TESTS_FAILED
    suite = swapped["comparison"]["suite"]
    assert suite["explanation"]["verdict"] == "regressed"
    assert suite["accuracy"]["verdict"] == "regressed"

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
