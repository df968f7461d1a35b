"""A suite split over three machines (pytest-split groups, each with two pytest-xdist workers)
gives, once its reports and cassettes are merged, what one unsharded run gives: the same
tests, verdicts, metrics and gate result, and cassettes that replay with no live call."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.cli import main as xgen
from tests.helpers import pinned
from tests.plugin.test_reports import GOOD, SUITE, WORSE, load
from tests.plugin.test_transfer import SCRIPTED, TOM, models

OTHER = f"""
import pytest

@pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_consistency=0.0, min_lift=-1)
@pytest.mark.parametrize("name", ["Ann", "Bo", "Cy", "Di"])
def test_names(xgen, name):
    xgen.check({TOM!r}.replace("Tom", name), expected=7)
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(
        pinned(
            models(gen="transfer=7", a="baseline=7;transfer=7", b=GOOD, worse=WORSE, better=GOOD)
        )
    )
    pytester.makepyfile(test_suite=SUITE, test_other=OTHER)
    return pytester


def run(suite: pytest.Pytester, name: str, *args: str) -> pytest.RunResult:
    """One machine: its own store and cassette directory, tests in file order."""
    return suite.runpytest(
        "-p",
        "no:randomly",
        f"--xgen-cache-dir=.xgen-{name}/cache",
        f"--xgen-cassette-dir=cassettes-{name}",
        f"--xgen-report={name}.json",
        *args,
    )


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A report without what differs between any two runs (time, workers, machine)."""
    doc = json.loads(json.dumps(doc))
    del doc["created"], doc["run"]["workers"], doc["run"]["versions"]
    return doc


def recordings(directory: Path) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for path in sorted(directory.rglob("*.jsonl")):
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        for line in lines:
            del line["recorded_at"]
        found[str(path.relative_to(directory))] = lines
    return found


def test_three_shards_merge_into_the_unsharded_run(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = run(suite, "whole")
    whole.assert_outcomes(passed=9)
    shard_tests = []
    for group in (1, 2, 3):
        shard = run(suite, f"shard{group}", "--splits", "3", "--group", str(group), "-n", "2")
        assert shard.ret == 0
        shard_tests.append(len(load(suite.path / f"shard{group}.json")["tests"]))
    assert shard_tests == [3, 3, 3]  # every shard ran a part, none ran all
    shards = [str(suite.path / f"shard{g}.json") for g in (1, 2, 3)]
    merged_path = suite.path / "merged.json"
    assert xgen(["merge", *shards, "-o", str(merged_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    merged, one = load(merged_path), load(suite.path / "whole.json")
    assert merged["run"]["workers"] == 6
    assert comparable(merged) == comparable(one)
    # test_suite.py's tests ran on different machines: its cassettes unite into one.
    out = suite.path / "cassettes-merged"
    dirs = [str(suite.path / f"cassettes-shard{g}") for g in (1, 2, 3)]
    assert xgen(["merge", "--cassettes", *dirs, "-o", str(out)]) == 0
    assert recordings(out) == recordings(suite.path / "cassettes-whole")
    assert len(recordings(out)["test_suite.jsonl"]) == 4 * 21 + 1

    # The gate on the merged baseline gives the result it gives on the unsharded one.
    gate = ("--xgen-model-map=b=worse", "--xgen-compare-fail=consistency:0.05")
    direct = run(suite, "cand", *gate, "--xgen-compare=whole.json", "--xgen-markdown=cand.md")
    via_merged = run(suite, "cand2", *gate, "--xgen-compare=merged.json")
    assert direct.ret == via_merged.ret == pytest.ExitCode.TESTS_FAILED
    a, b = load(suite.path / "cand.json"), load(suite.path / "cand2.json")
    a["comparison"]["baseline"] = b["comparison"]["baseline"] = "-"
    assert comparable(a) == comparable(b)
    assert a["comparison"]["gate"]["result"] == "fail"
    summary = suite.path / "via-cli.md"
    cand = str(suite.path / "cand.json")
    assert xgen(["compare", str(merged_path), cand, *_cli(gate), "--markdown", str(summary)]) == 1
    # The merge job's summary (gate included) is the one the unsharded run wrote.
    in_run = (suite.path / "cand.md").read_text()
    assert "**Gate (consistency:0.05): failed: a drop beyond DELTA shown**" in in_run
    assert summary.read_text() == in_run.replace(
        "Compared with `whole.json`", f"Compared with `{merged_path}`"
    )
    assert (
        xgen(
            ["compare", str(suite.path / "whole.json"), str(suite.path / "cand.json"), *_cli(gate)]
        )
        == 1
    )

    # A fresh clone: the merged cassettes only, no store; nothing is called live.
    clone = suite.path / "clone"
    shutil.copytree(out, clone / "cassettes")
    replay = suite.runpytest(
        "-p",
        "no:randomly",
        "--xgen-record-mode=none",
        "--xgen-cache-dir=clone/cache",
        "--xgen-cassette-dir=clone/cassettes",
        "--xgen-report=replayed.json",
        "-n",
        "2",
    )
    replay.assert_outcomes(passed=9)
    replayed = load(suite.path / "replayed.json")
    assert replayed["run"]["calls"]["live"] == 0
    assert [t["checks"] for t in replayed["tests"]] == [t["checks"] for t in one["tests"]]
    assert [t["metrics"] for t in replayed["tests"]] == [t["metrics"] for t in one["tests"]]


def _cli(gate: tuple[str, ...]) -> list[str]:
    return ["--fail", gate[1].split("=", 1)[1]]


def test_merge_refuses_shards_that_are_not_one_run(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    run(suite, "a", "-k", "test_tom").assert_outcomes(passed=1)
    run(suite, "b", "-k", "test_tom or test_plain").assert_outcomes(passed=2)
    run(suite, "c", "-k", "test_plain", "--xgen-model-map=a=worse").assert_outcomes(passed=1)
    a, b, c = (str(suite.path / f"{n}.json") for n in "abc")
    x = str(suite.path / "x.json")
    assert xgen(["merge", a, b, "-o", x]) == 2
    err = capsys.readouterr().err
    assert "test test_suite.py::test_tom is in both" in err and a in err and b in err
    assert xgen(["merge", a, c, "-o", x]) == 2
    err = capsys.readouterr().err
    assert "ran with model_map {a=worse} and" in err and a in err and c in err
    # Sample i asks with seed+i: a shard run with another seed drew other samples.
    run(suite, "d", "-k", "test_plain", "--xgen-seed=1").assert_outcomes(passed=1)
    d = str(suite.path / "d.json")
    assert xgen(["merge", a, d, "-o", x]) == 2
    err = capsys.readouterr().err
    assert f"{d} ran with seed 1 and {a} with 0: " in err and "the same seed" in err
    doc = json.loads(Path(c).read_text())
    doc["run"]["model_map"] = {}
    doc["run"]["models"]["a"]["model"] = "another"
    Path(c).write_text(json.dumps(doc))
    assert xgen(["merge", a, c, "-o", x]) == 2
    err = capsys.readouterr().err
    assert "model 'a' differs between" in err and a in err and c in err
    assert xgen(["merge", a, a, "-o", x]) == 2
    assert "is given twice" in capsys.readouterr().err
    (suite.path / "bad.json").write_text('{"format": "something else"}')
    assert xgen(["merge", a, str(suite.path / "bad.json"), "-o", x]) == 2
    assert "is not a pytest-xgen report" in capsys.readouterr().err
    assert not (suite.path / "x.json").exists()
    # The same call recorded with two answers in two shards' cassettes.
    one, two = suite.path / "cassettes-a", suite.path / "cassettes-b"
    text = (two / "test_suite.jsonl").read_text().splitlines()
    entry = json.loads(text[-1])  # a call of test_tom, recorded in both
    from pytest_xgen.recording.store import make_entry

    changed = make_entry(
        entry["request"], {**entry["response"], "text": "other"}, test=entry["test"]
    )
    (two / "test_suite.jsonl").write_text("\n".join([*text[:-1], json.dumps(changed)]) + "\n")
    out = suite.path / "cassettes-out"
    assert xgen(["merge", "--cassettes", str(one), str(two), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "recorded with different answers in" in err
    assert str(one / "test_suite.jsonl") in err and str(two / "test_suite.jsonl") in err
    assert not out.exists()
