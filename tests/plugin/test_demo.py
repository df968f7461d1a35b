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
