"""C6: calibrated invariance on the embedded models, replayed from the committed cassette.

``examples/test_calibration_demo.py`` at the defaults: an A/A check on 8 problems whose
perturbation is whitespace only (SmolLM, 5-10 samples at temperature 0.7), and the bus
timetable distractor on Qwen's apples. The ratio counts what went wrong: whitespace checks
that failed, plus one if the bus distractor was not found. Target: 0. Replays only (record
mode ``none``); re-record with ``make demo ARGS="--xgen-record-mode=all -k calibration"``.

What it can show: on one real recording of real models (samples at temperature 0.7, real
explanations), the defaults pass whitespace-only perturbations and find the distractor;
the replay is deterministic, so a change in the row is a change in the decision code. What
it cannot show: a rate. It is one draw of the models' samples and of each explanation, so
it says nothing about how often the verdicts would differ on a re-recording (that is C5,
on simulated runs) or how often an unchanged suite fails (C1, C3); its reps repeat the
same replay.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import _common

ROW = "C6"
WHAT = "embedded models: whitespace A/A failures on 8 problems + bus distractor missed"
TARGET = "<= 0"
DEFAULT_REPS = 1
ROOT = Path(__file__).resolve().parent.parent


def _once() -> tuple[int, bool, int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "c6.json"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "examples/test_calibration_demo.py",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:randomly",
                "--xgen-record-mode=none",
                f"--xgen-cache-dir={Path(tmp) / 'store'}",
                f"--xgen-report={report}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if not report.is_file():
            raise RuntimeError(f"the demo wrote no report:\n{done.stdout[-2000:]}{done.stderr}")
        tests = json.loads(report.read_text())["tests"]
    whitespace = [t for t in tests if "whitespace" in t["nodeid"]]
    failed = sum(t["outcome"] != "passed" for t in whitespace)
    [bus] = [t for t in tests if "bus" in t["nodeid"]]
    found = bus["outcome"] == "xfailed"
    verdicts = [c["verdict"] for t in whitespace for c in t["checks"]]
    return failed, found, len(whitespace), ", ".join(verdicts)


def run(reps: int) -> dict[str, Any]:
    ratios, detail = [], ""
    for _ in range(reps):
        failed, found, count, verdicts = _once()
        ratios.append(failed + (0 if found else 1))
        detail = (
            f"{failed} of {count} whitespace checks failed (verdicts: {verdicts}); bus "
            f"distractor {'found (strict xfail)' if found else 'NOT found'}"
        )
    return _common.result(ratios, TARGET, detail)


if __name__ == "__main__":
    _common.main(__import__(__name__))
