"""Reports and the upgrade gate through real inner pytest runs: the JSON report against its
schema, JUnit properties, the terminal table, -n 2 equal to -n 0, and the gate's exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from pytest_xgen.settings.config import load_schema
from tests.helpers import pinned
from tests.plugin.test_transfer import SCRIPT, SCRIPTED, TOM, models
from tests.scripted import conftest

SUITE = f"""
import pytest

@pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_consistency=0.0, min_lift=-1)
def test_tom(xgen):
    xgen.check({TOM!r}, expected=7)

@pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_consistency=0.0, min_lift=-1)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_many(xgen, n):
    xgen.check({TOM!r} + " " * n, expected=7)

def test_plain(xgen):
    assert xgen.model("a")("hello").text
"""

GOOD = "baseline=6,7,6,7,6;transfer=7,7,7,7,7"
WORSE = "baseline=6,7,6,7,6;transfer=6,6,6,6,6"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(
        pinned(
            models(gen="transfer=7", a="baseline=7;transfer=7", b=GOOD, worse=WORSE, better=GOOD)
        )
    )
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def load(path: Path) -> dict:
    doc = json.loads(path.read_text())
    jsonschema.Draft202012Validator(load_schema("report.schema.json")).validate(doc)
    return doc


def test_json_report_validates_and_holds_every_check(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--xgen-report=out/run.json", "--junitxml=junit.xml")
    result.assert_outcomes(passed=5)
    doc = load(suite.path / "out/run.json")
    assert [t["nodeid"] for t in doc["tests"]] == [
        "test_suite.py::test_many[1]",
        "test_suite.py::test_many[2]",
        "test_suite.py::test_many[3]",
        "test_suite.py::test_plain",
        "test_suite.py::test_tom",
    ]
    tom = doc["tests"][-1]
    assert tom["outcome"] == "passed" and tom["calls"] == 21 and tom["live"] == 21
    (check,) = tom["checks"]
    assert check["kind"] == "transfer" and check["verdict"] == "pass"
    assert check["conditions"]["transfer"]["models"]["a"]["answers"] == [7.0] * 5
    assert check["explanation"]["removed"] == ["Therefore, Tom has 7 apples.", "Answer: 7"]
    assert tom["metrics"]["consistency"] == {"agree": 5, "total": 5, "value": 1.0}
    assert doc["tests"][3]["metrics"] is None and doc["tests"][3]["calls"] == 1
    # Each model as its recordings name it (the model object's identity).
    assert doc["run"]["models"]["a"] == {
        "endpoint": "scripted",
        "model": "baseline=7;transfer=7",
    }
    assert doc["run"]["calls"]["live"] == 4 * 21 + 1
    # JUnit XML carries the numbers as properties.
    case = ET.parse(suite.path / "junit.xml").find(".//testcase[@name='test_tom']")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["xgen_consistency"] == "1.0" and props["xgen_verdict"] == "pass"
    assert props["xgen_calls"] == "21" and props["xgen_live_calls"] == "21"
    assert props["xgen_cache_hits"] == "0" and props["xgen_tokens"] == str(21 * 15)
    # The terminal table.
    result.stdout.fnmatch_lines(
        [
            "*transfer check * base  xfer   lift   acc  verdict  pytest",
            "*test_suite.py::test_tom * 0.40  1.00  +0.60  1.00  pass     passed",
            "*xgen transfer checks: 4 test(s): 4 pass, 0 fail, 0 inconclusive",
        ]
    )


def test_xdist_gives_the_same_report_summary_and_properties(suite: pytest.Pytester) -> None:
    suite.runpytest().assert_outcomes(passed=5)  # record
    one = suite.runpytest(
        "--xgen-record-mode=none", "-n", "0", "--xgen-report=one.json", "--junitxml=one.xml"
    )
    two = suite.runpytest(
        "--xgen-record-mode=none", "-n", "2", "--xgen-report=two.json", "--junitxml=two.xml"
    )
    one.assert_outcomes(passed=5)
    two.assert_outcomes(passed=5)
    a, b = load(suite.path / "one.json"), load(suite.path / "two.json")
    assert (a["run"]["workers"], b["run"]["workers"]) == (0, 2)
    for doc in (a, b):
        del doc["created"], doc["run"]["workers"]
    assert a == b

    def table(result: pytest.RunResult) -> list[str]:
        return [
            line
            for line in result.stdout.lines
            if line.startswith(("  transfer check", "  test_suite.py", "xgen transfer checks"))
        ]

    assert table(one) == table(two) and len(table(one)) == 6

    def properties(path: Path) -> dict:
        return {
            case.get("name"): sorted((p.get("name"), p.get("value")) for p in case.iter("property"))
            for case in ET.parse(path).iter("testcase")
        }

    assert properties(suite.path / "one.xml") == properties(suite.path / "two.xml")


def test_gate_fails_on_a_significant_regression_and_names_the_test(suite: pytest.Pytester) -> None:
    suite.runpytest("--xgen-save=main").assert_outcomes(passed=5)
    assert load(suite.path / ".xgen/runs/main.json")["tests"]
    # A candidate makes new calls: record them as new episodes.
    regressed = suite.runpytest(
        "--xgen-model-map=b=worse",
        "--xgen-record-mode=new_episodes",
        "--xgen-compare=main",
        "--xgen-compare-fail=consistency:0.05",
        "--xgen-report=after.json",
        "--xgen-html=after.html",
        "--junitxml=after.xml",
    )
    # The checks themselves pass (their thresholds are 0): only the gate fails the run.
    regressed.assert_outcomes(passed=5)
    assert regressed.ret == pytest.ExitCode.TESTS_FAILED
    regressed.stdout.fnmatch_lines(
        [
            "*model map b->worse*",
            "*xgen compare: suite consistency: REGRESSED: mean change -1.000 beyond the margin "
            "0.05 (se 0.111, 4 tests, t-test; holm p=0.003)*",
            "*xgen compare: 4 tests read the same explanation in both runs (the baseline's "
            "generator calls replayed): per-test tests*",
            "*xgen compare: models of the new run: b\u2192worse*",
            "*xgen compare: 4 regressed, 0 improved, 1 unchanged, 0 new, 0 missing "
            "(alpha 0.05, adjusted: holm)*",
            "*xgen gate failed (consistency:0.05): 5 drop(s) beyond DELTA shown*",
            "*test_suite.py::test_tom: consistency 1.00 -> 0.00 (-1.00, a drop beyond 0.05 "
            "shown: Farrington-Manning p=0.002, holm p=0.013)*",
            "*suite: consistency: REGRESSED*",
        ]
    )
    # Only the gated metric is judged: lift and accuracy are shown with raw p-values.
    assert "0.60 -> -0.40 (-1.00, raw p=0.005)" in regressed.stdout.str()
    # The comparison and the gate are in the JSON report (valid against its schema) and
    # in the JUnit XML's test-suite properties.
    from pytest_xgen.report.gate_runs import load_run

    doc = load_run(str(suite.path / "after.json"), suite.path)
    assert doc["comparison"]["baseline"] == "main"
    assert doc["comparison"]["gate"]["result"] == "fail"
    assert doc["comparison"]["suite"]["consistency"]["verdict"] == "regressed"
    assert doc["comparison"]["counts"]["regressed"] == 4
    assert doc["comparison"]["pairing"] == {"paired": 4, "compared": 4}
    assert doc["comparison"]["gate"]["warnings"] == []
    root = ET.parse(suite.path / "after.xml").getroot()
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["xgen_gate"] == "fail"
    assert props["xgen_suite_consistency_verdict"] == "regressed"
    assert props["xgen_compare_paired"] == "4/4"
    assert "xgen_gate_warning" not in props
    page = (suite.path / "after.html").read_text()
    assert 'id="comparison"' in page
    assert "Gate (consistency:0.05): <strong>fail: a drop beyond DELTA shown</strong>" in page


def test_gate_passes_when_better_or_not_significant(suite: pytest.Pytester) -> None:
    suite.runpytest("--xgen-save=main").assert_outcomes(passed=5)
    args = (
        "--xgen-model-map=b=better",
        "--xgen-compare=main",
        "--xgen-compare-fail=consistency:0.05",
        "--junitxml=better.xml",
        "--xgen-report=better.json",
    )
    same = suite.runpytest(*args, "--xgen-record-mode=new_episodes")
    # Four tests of five samples show no drop, and cannot rule out a drop of 0.05: the gate
    # passes with a warning that says what it can see and what to add.
    assert same.ret == pytest.ExitCode.OK
    same.stdout.fnmatch_lines(
        [
            "*xgen compare: 0 regressed, 0 improved, 5 unchanged*",
            "*xgen gate passed with 1 warning(s) (consistency:0.05): no drop beyond DELTA "
            "shown, but the suite could not rule one out*",
            "*warning: consistency: no drop beyond 0.05 shown, none ruled out: 4 tests find a "
            "mean drop of * with 80% power (DELTA 0.05)*--xgen-compare-underpowered=fail*",
        ]
    )
    doc = load(suite.path / "better.json")["comparison"]["gate"]
    assert doc["result"] == "pass" and len(doc["warnings"]) == 1
    assert doc["warnings"] == doc["underpowered"] and doc["on_underpowered"] == "warn"
    root = ET.parse(suite.path / "better.xml").getroot()
    props = [(p.get("name"), p.get("value")) for p in root.iter("property")]
    assert ("xgen_gate", "pass") in props
    assert ("xgen_gate_warning", doc["warnings"][0]) in props
    # The strict gate (release gates) wants non-inferiority shown: the same data fail.
    strict = suite.runpytest(*args, "--xgen-compare-underpowered=fail")
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    strict.stdout.fnmatch_lines(["*xgen gate inconclusive (consistency:0.05): fails the run*"])
    # Without --xgen-compare-fail a regression is reported, and the exit code stays 0.
    report_only = suite.runpytest(
        "--xgen-model-map=b=worse", "--xgen-record-mode=new_episodes", "--xgen-compare=main"
    )
    assert report_only.ret == pytest.ExitCode.OK
    report_only.stdout.fnmatch_lines(["*4 regressed*"])


def test_a_run_compared_with_its_own_baseline_exits_0_with_the_warning(
    suite: pytest.Pytester,
) -> None:
    suite.runpytest("--xgen-save=b").assert_outcomes(passed=5)
    gated = ("--xgen-record-mode=none", "--xgen-compare=b", "--xgen-compare-fail=consistency:0.05")
    same = suite.runpytest(*gated, "--xgen-markdown=same.md")
    assert same.ret == pytest.ExitCode.OK
    same.stdout.fnmatch_lines(
        [
            "*xgen compare: suite consistency: no drop beyond 0.05 shown (mean change +0.000, "
            "se *, 4 tests, t-test; holm p=*); 80% power for a mean drop of *",
            "*xgen gate passed with 1 warning(s) (consistency:0.05)*",
            "*warning: consistency: no drop beyond 0.05 shown, none ruled out*",
        ]
    )
    assert "p(drop" not in same.stdout.str()
    summary = (suite.path / "same.md").read_text()
    assert "**Gate (consistency:0.05): passed with 1 warning(s)" in summary
    assert "- warning: `consistency: no drop beyond 0.05 shown, none ruled out" in summary
    strict = suite.runpytest(*gated, "--xgen-compare-underpowered=fail")
    assert strict.ret == pytest.ExitCode.TESTS_FAILED


def test_gate_input_errors_are_usage_errors(suite: pytest.Pytester) -> None:
    missing = suite.runpytest("--xgen-compare=nothing-saved")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*--xgen-compare:*nothing-saved.json*--xgen-save=*"])
    bad = suite.runpytest("--xgen-compare-fail=consistancy:0.1")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    unknown = suite.runpytest("--xgen-model-map=b=nope")
    assert unknown.ret == pytest.ExitCode.USAGE_ERROR
    unknown.stderr.fnmatch_lines(
        [
            "*model map b=nope names unknown model 'nope'; configured models: a, b, better, gen, worse*"
        ]
    )


def test_live_calls_show_progress(suite: pytest.Pytester) -> None:
    # A subprocess, so pytest's real output capture is in place while the test runs.
    result = suite.runpytest_subprocess("-k", "tom", "--xgen-concurrency=1")
    result.stdout.fnmatch_lines(
        [
            "*xgen: live call 1/21 of test_suite.py::test_tom (gen)*",
            "*xgen: live call 21/21 of test_suite.py::test_tom (b)*",
        ]
    )
    assert "live call" not in suite.runpytest_subprocess("-k", "tom").stdout.str()  # replays
    # With the calls made at once, lines come in the order calls finish: still 1 to 21.
    result = suite.runpytest_subprocess(
        "-k", "many and 1", "--xgen-concurrency=8", "--xgen-record-mode=new_episodes"
    )
    numbers = [
        line.split("live call ")[1].split(" of ")[0]
        for line in result.stdout.lines
        if "xgen: live call" in line
    ]
    assert numbers == [f"{n}/21" for n in range(1, 22)]


def test_html_report_and_the_report_and_compare_commands(suite: pytest.Pytester) -> None:
    from pytest_xgen.cli import main

    suite.runpytest("--xgen-html=out/report.html", "--xgen-save=main").assert_outcomes(passed=5)
    page = (suite.path / "out/report.html").read_text()
    assert 'id="heatmap-transfer"' in page and "test_suite.py::test_tom" in page
    assert "http://" not in page and "https://" not in page
    saved = suite.path / ".xgen/runs/main.json"
    assert main(["report", str(saved), "-o", str(suite.path / "again.html")]) == 0
    assert 'id="heatmap-baseline"' in (suite.path / "again.html").read_text()
    assert main(["report", str(suite.path / "nothing.json")]) == 2
    suite.runpytest(
        "--xgen-model-map=b=worse", "--xgen-record-mode=new_episodes", "--xgen-report=worse.json"
    ).assert_outcomes(passed=5)
    worse = str(suite.path / "worse.json")
    assert main(["compare", str(saved), worse]) == 0
    assert main(["compare", str(saved), worse, "--fail", "consistency:0.05"]) == 1
    assert main(["compare", str(saved), worse, "--fail", "consistency:0.05,lift:2"]) == 1
    # A run compared with itself passes (with a warning); a strict gate wants more tests.
    same = ["compare", str(saved), str(saved), "--fail", "consistency:0.05"]
    assert main(same) == 0
    assert main([*same, "--on-underpowered", "fail"]) == 1


# A format of a team's own, written from the pytest_xgen_report hook.
CSV_FORMAT = """

def pytest_xgen_report(report, session):
    import os
    rows = ["nodeid,verdict,consistency"]
    for test in report["tests"]:
        metrics = test["metrics"] or {"consistency": {"value": ""}}
        verdicts = [c["verdict"] for c in test["checks"]] or [""]
        rows.append(f"{test['nodeid']},{verdicts[0]},{metrics['consistency']['value']}")
    gate = (report.get("comparison") or {}).get("gate") or {}
    rows.append(f"gate,{gate.get('result', '')},")
    with open("verdicts-%s.csv" % os.getpid(), "w") as f:
        f.write("\\n".join(rows) + "\\n")
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_plugin_writes_its_own_format_from_the_report_hook(
    suite: pytest.Pytester, workers: list[str]
) -> None:
    suite.makeconftest(SCRIPTED + CSV_FORMAT)
    suite.runpytest("--xgen-save=base").assert_outcomes(passed=5)
    for old in suite.path.glob("verdicts-*.csv"):
        old.unlink()
    result = suite.runpytest(
        "--xgen-compare=base",
        "--xgen-compare-fail=consistency:0.1",
        "--xgen-report=r.json",
        *workers,
    )
    result.assert_outcomes(passed=5)
    (written,) = suite.path.glob("verdicts-*.csv")  # once, by the controller alone
    rows = written.read_text().splitlines()
    assert rows[0] == "nodeid,verdict,consistency"
    assert "test_suite.py::test_tom,pass,1.0" in rows
    assert "test_suite.py::test_plain,,0.0" not in rows and "test_suite.py::test_plain,," in rows
    # The hook sees the document the JSON report holds, its comparison included.
    assert rows[-1] == f"gate,{load(suite.path / 'r.json')['comparison']['gate']['result']},"


# Followers copy the explanation's arithmetic: under transfer they answer the last "= N".
FOLLOWERS = conftest(
    SCRIPT
    + """
import re


def reply(call):
    if call.script.startswith("follow") and call.system == prompts.TRANSFER_SYSTEM:
        found = re.findall(r"= (\\d+)", call.user)
        return f"Following it.\\nAnswer: {found[-1] if found else 0}"
    return transfer_script(call)
"""
)

CASES = f"""
import pytest

@pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_consistency=0.0, min_lift=-1)
@pytest.mark.parametrize("n", range(8))
def test_case(xgen, n):
    xgen.check({TOM!r} + f" (case {{n}})", expected=7)
"""

WRONG = "explain=1. Tom starts with 3 apples.|2. He buys 4 more, so 3 + 4 = 8.|Answer: 8"


def test_a_generator_with_wrong_explanations_fails_the_recipes_gate(
    pytester: pytest.Pytester,
) -> None:
    """The generator is swapped for one whose explanations are wrong, and the followers copy
    them: consistency does not drop (they agree on the wrong answer), the explanations' own
    correctness and the followers' accuracy do, and the documented gate fails on them."""
    pytester.makeconftest(FOLLOWERS)
    follower = "follow=1;baseline=6,7,6,7,6;transfer=7"
    pytester.makepyprojecttoml(
        pinned(models(gen="transfer=7", wrong=WRONG, a=follower, b=follower + ";id=b"))
    )
    pytester.makepyfile(test_cases=CASES)
    pytester.runpytest("--xgen-save=main").assert_outcomes(passed=8)
    recipe = "--xgen-compare-fail=consistency:0.05,accuracy:0.05,explanation:0.05"
    swapped = pytester.runpytest(
        "--xgen-model-map=gen=wrong",
        "--xgen-record-mode=new_episodes",
        "--xgen-compare=main",
        recipe,
        "--xgen-report=swapped.json",
    )
    assert swapped.ret == pytest.ExitCode.TESTS_FAILED
    swapped.stdout.fnmatch_lines(
        [
            "*xgen compare: 0 of 8 tests read the same explanation in both runs*",
            "*0 regressed, 0 improved, 0 unchanged, 8 unpaired, 0 new, 0 missing*",
            "*xgen gate failed (consistency:0.05, accuracy:0.05, explanation:0.05): 2 drop(s)*",
            "*suite: accuracy: REGRESSED: mean change -1.000 beyond the margin 0.05*",
            "*suite: explanation: REGRESSED: mean change -1.000 beyond the margin 0.05*",
        ]
    )
    comparison = load(pytester.path / "swapped.json")["comparison"]
    assert comparison["suite"]["consistency"]["verdict"] != "regressed"
    assert all(t["paired"] is False for t in comparison["tests"])
    # Consistency alone, the old recipe, cannot see it.
    alone = pytester.runpytest(
        "--xgen-model-map=gen=wrong", "--xgen-compare=main", "--xgen-compare-fail=consistency:0.05"
    )
    assert alone.ret == pytest.ExitCode.OK
