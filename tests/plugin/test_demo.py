"""The demo suite replays from its committed cassettes on a fresh clone: no server, no store."""

from __future__ import annotations

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
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "examples/test_tutor_demo.py",
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
    assert "1 passed, 2 xfailed" in first.stdout and "0 live" in first.stdout
    candidate = ("--xgen-model-map", "smollm=smollm-short", f"--xgen-compare={base}")
    wide = _tutor(tmp_path, "store-2", *candidate, "--xgen-compare-fail=consistency:0.5")
    assert wide.returncode == 0, wide.stdout + wide.stderr
    assert "xgen gate passed (consistency:0.5)" in wide.stdout
    assert "0 regressed, 0 improved, 3 unchanged" in wide.stdout
    # Three tests of three samples cannot see a drop of 0.2, and the gate says so.
    narrow = _tutor(tmp_path, "store-3", *candidate, "--xgen-compare-fail=consistency:0.2")
    assert narrow.returncode == 1
    assert "xgen gate inconclusive (consistency:0.2): fails the run" in narrow.stdout
    assert "detect a mean drop of 0.49" in narrow.stdout
