"""How long explanations cost: sentence splitting, and the calls and file sizes of
``xgen.interventions()``.

``python -m benchmarks.long_explanations [--sizes 50,200,400] [--whole 50,200]
[--steps 300] [--caps 10,300] [--json out.json]``. Two parts:

* **splitting**: ``split_sentences`` on a prose explanation of each size (in KB, one
  paragraph: no line break to help) in seconds, and with ``--whole`` pysbd given the
  whole text at once, as the splitter did before it split in windows (its time grows
  with the square of the length: 400 KB takes minutes);
* **interventions**: an explanation of ``--steps`` steps (about 11 KB at 300),
  one scripted evaluator that answers at once, ``samples=1``, run by pytest in a process
  and a temporary folder for each ``max_intervention_steps`` in ``--caps``: live calls, tokens,
  seconds, and the sizes of the JSON report and the cassette. A cap of at least the number
  of steps plans every cut and every mistake, as interventions did before the cap.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.scripted import conftest

KB = 1000

# Every call answers at once and is billed a token for four characters of its messages.
_CONFTEST = conftest(
    """
from pytest_xgen.models.base import ChatResult, Usage


def reply(call):
    size = sum(len(m["content"]) for m in call.messages) // 4
    return ChatResult(text="Answer: 7", finish_reason="stop", usage=Usage(size, 3, size + 3))
"""
)

_PROJECT = """
[tool.pytest.ini_options]
addopts = ""

[tool.xgen]
samples = 1
confidence = "none"
cache_dir = ".xgen/cache"

[tool.xgen.models.reader]
base_url = "http://scripted.invalid/v1"
model = "reader"
"""

_TEST = """
import pytest

EXPLANATION = {explanation!r}


@pytest.mark.transfers(evaluators=["reader"], max_intervention_steps={cap})
def test_long(xgen):
    xgen.interventions("Tom has 3 apples and buys 4 more. How many?", explanation=EXPLANATION)
"""


def prose(size: int) -> str:
    """A one-paragraph explanation of ``size`` characters, decimals and abbreviations in it."""
    out, k, total = [], 0, 0
    while total < size:
        k += 1
        sentence = f"Tom has {k} apples, i.e. {k}.5 dozen halves, so 3 + {k} = {k + 3} in all. "
        out.append(sentence)
        total += len(sentence)
    return "".join(out)[:size]


def numbered(steps: int) -> str:
    """An explanation of ``steps`` steps, one a line, each with a number (no list labels:
    pysbd splits a label of three digits, ``100.``, off as a sentence of its own)."""
    return "\n".join(f"Then Tom adds {k % 9 + 1} apples to pile {k}." for k in range(steps))


def split_seconds(size: int, whole: bool) -> tuple[float, int]:
    """Seconds to split a prose explanation of ``size`` characters, and its sentences."""
    from pytest_xgen.core import strip

    text = prose(size)
    strip._split.cache_clear()
    start = time.perf_counter()
    if whole:
        count = sum(1 for span in strip._segmenter().segment(text) if span.sent.strip())
    else:
        count = len(strip.split_sentences(text))
    return time.perf_counter() - start, count


def interventions(steps: int, cap: int) -> dict[str, Any]:
    """One inner run of ``xgen.interventions()`` on ``steps`` numbered steps."""
    explanation = numbered(steps)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "pyproject.toml").write_text(_PROJECT)
        (root / "conftest.py").write_text(_CONFTEST)
        (root / "test_long.py").write_text(_TEST.format(explanation=explanation, cap=cap))
        start = time.perf_counter()
        # A process of its own per run: pytest imports each run's conftest and test module.
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--xgen-report=run.json"],
            cwd=root,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"the inner run exited with {done.returncode}:\n{done.stdout}")
        report = root / "run.json"
        doc = json.loads(report.read_text())
        cassette = root / "fixtures" / "cassettes" / "test_long.jsonl"
        return {
            "steps": steps,
            "explanation_kb": len(explanation) / KB,
            "cap": cap,
            "live_calls": doc["run"]["calls"]["live"],
            "tokens": doc["run"]["calls"].get("tokens"),
            "seconds": seconds,
            "report_kb": report.stat().st_size / KB,
            "cassette_kb": cassette.stat().st_size / KB,
        }


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,200,400", help="split sizes in KB")
    parser.add_argument("--whole", default="", help="sizes (KB) to time pysbd on whole")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--caps", default="10,300", help="max_intervention_steps values")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    found: dict[str, Any] = {"split": [], "interventions": []}
    print(f"{'split':<10}{'KB':>6}{'sentences':>11}{'seconds':>10}")
    for whole, sizes in ((False, args.sizes), (True, args.whole)):
        for size in _numbers(sizes):
            seconds, count = split_seconds(size * KB, whole)
            how = "whole" if whole else "windowed"
            found["split"].append({"how": how, "kb": size, "sentences": count, "s": seconds})
            print(f"{how:<10}{size:>6}{count:>11}{seconds:>10.2f}", flush=True)
    print(f"\n{'cap':>5}{'steps':>7}{'calls':>7}{'tokens':>10}{'s':>8}{'report KB':>11}"
          f"{'cassette KB':>13}")  # fmt: skip
    for cap in _numbers(args.caps):
        row = interventions(args.steps, cap)
        found["interventions"].append(row)
        print(
            f"{cap:>5}{row['steps']:>7}{row['live_calls']:>7}{row['tokens'] or 0:>10}"
            f"{row['seconds']:>8.1f}{row['report_kb']:>11.0f}{row['cassette_kb']:>13.0f}",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(found, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
