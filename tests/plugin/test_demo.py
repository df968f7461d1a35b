"""The demo suite replays from its committed cassettes on a fresh clone: no server, no store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_replays_from_committed_cassettes(tmp_path: Path) -> None:
    cassette = ROOT / "fixtures" / "cassettes" / "examples" / "test_demo.jsonl"
    assert cassette.is_file(), "the demo's cassette must be committed"
    before = cassette.read_bytes()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "examples",
            "-p",
            "no:cacheprovider",
            "--xgen-record-mode=none",
            f"--xgen-cache-dir={tmp_path / 'fresh-store'}",
            f"--xgen-models-dir={tmp_path / 'no-models'}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "local server: not started (replay only)" in out
    assert "0 live" in out and "llama.cpp server served" not in out
    summary = out.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed, \d+ xfailed in", summary), summary
    assert "failed," not in summary.replace("xfailed", "") and "error" not in summary
    assert cassette.read_bytes() == before  # replay never rewrites the cassette
    assert not (tmp_path / "no-models").exists()


def _tutor(tmp_path: Path, store: str, *args: str) -> subprocess.CompletedProcess[str]:
    return _replay(tmp_path, store, "examples/test_tutor_demo.py", *args)


def _replay(tmp_path: Path, store: str, path: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``path`` of the demo replayed with its own fresh store, in file order."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            path,
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--xgen-record-mode=none",
            f"--xgen-cache-dir={tmp_path / store}",
            f"--xgen-models-dir={tmp_path / 'no-models'}",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=300,
    )


def test_the_tutor_demo_gates_an_upgrade_from_its_cassettes_alone(tmp_path: Path) -> None:
    """The product demo's upgrade gate replays from a fresh clone: the baseline run, then
    the candidate (SmolLM with a quarter of the tokens) compared with it."""
    base = tmp_path / "tutor-base.json"
    first = _tutor(tmp_path, "store-1", f"--xgen-report={base}")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "1 passed, 3 xfailed" in first.stdout and "0 live" in first.stdout
    candidate = ("--xgen-model-map", "smollm=smollm-short", f"--xgen-compare={base}")
    wide = _tutor(tmp_path, "store-2", *candidate, "--xgen-compare-fail=consistency:0.5")
    assert wide.returncode == 0, wide.stdout + wide.stderr
    assert "xgen gate passed" in wide.stdout and "(consistency:0.5)" in wide.stdout
    assert "0 regressed, 0 improved, 4 unchanged" in wide.stdout
    assert "3 tests read the same explanation in both runs" in wide.stdout
    # Three tests of three samples show no drop but cannot rule out one of 0.2: the gate
    # passes and says what it cannot see; the strict gate fails on the same data.
    narrow = _tutor(tmp_path, "store-3", *candidate, "--xgen-compare-fail=consistency:0.2")
    assert narrow.returncode == 0, narrow.stdout + narrow.stderr
    assert "xgen gate passed with 1 warning(s) (consistency:0.2)" in narrow.stdout
    assert "3 tests find a mean drop of 0.98 with 80% power (DELTA 0.2)" in narrow.stdout
    strict = _tutor(
        tmp_path,
        "store-4",
        *candidate,
        "--xgen-compare-fail=consistency:0.2",
        "--xgen-compare-underpowered=fail",
    )
    assert strict.returncode == 1
    assert "xgen gate inconclusive (consistency:0.2): fails the run" in strict.stdout


def test_the_demo_split_in_three_shards_merges_into_the_unsharded_report(tmp_path: Path) -> None:
    """The embedded models' recorded answers, replayed in 3 pytest-split groups of 2 workers
    each, merge into the report of one run: same tests, checks, metrics and calls."""

    def replay(name: str, *args: str) -> dict:
        report = tmp_path / f"{name}.json"
        result = _replay(tmp_path, name, "examples", f"--xgen-report={report}", *args)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        return json.loads(report.read_text())

    whole = replay("whole")
    shards = [replay(f"shard{g}", "--splits", "3", "--group", str(g), "-n", "2") for g in (1, 2, 3)]
    assert all(s["tests"] for s in shards)
    from pytest_xgen.cli import main as xgen

    merged_path = tmp_path / "merged.json"
    paths = [str(tmp_path / f"shard{g}.json") for g in (1, 2, 3)]
    assert xgen(["merge", *paths, "-o", str(merged_path)]) == 0
    merged = json.loads(merged_path.read_text())
    for doc in (merged, whole):
        del doc["created"], doc["run"]["workers"], doc["run"]["versions"]
    assert merged == whole
    assert merged["run"]["calls"]["live"] == 0 and merged["run"]["calls"]["replayed"] > 500
