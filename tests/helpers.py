"""What the tests share: snippets of inner test files and projects, and small readers of
what an inner run wrote. Fixtures are in ``tests/conftest.py``."""

from __future__ import annotations

import json
import os
import textwrap
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.checks.parallel import THREAD_PREFIX
from tests.server import OpenAIServer

# One call to the fake endpoint's ``echo`` model, which answers "echo[seed=..,t=..]: PROMPT".
ONE_CALL = """
def test_one(xgen):
    r = xgen.model("echo")("What is 2+2?")
    assert r.text.startswith("echo[")
    assert r.text.endswith("What is 2+2?")
"""


def cassette(root: Path | pytest.Pytester, name: str = "test_calls") -> Path:
    """The cassette an inner run under ``root`` (a directory or a pytester) writes for its
    module ``name``."""
    base = root.path if isinstance(root, pytest.Pytester) else root
    return base / "fixtures" / "cassettes" / f"{name}.jsonl"


def lines(path: Path) -> list[dict[str, Any]]:
    """The entries of a cassette file."""
    return [json.loads(line) for line in path.read_text().splitlines()]


# The sampling defaults that the scripted projects of these tests were written for: five
# samples, verdicts on point estimates. The calibrated defaults (samples="auto",
# confidence 0.95) have tests of their own (tests/plugin/test_calibration.py).
PINNED = {"samples": "5", "confidence": '"none"'}


def pinned(toml: str) -> str:
    """``toml`` with ``PINNED`` added to its ``[tool.xgen]`` table (made if missing), except
    for keys the table sets itself."""
    text = textwrap.dedent(toml)
    lines = text.splitlines()
    if "[tool.xgen]" not in (line.strip() for line in lines):
        lines = ["[tool.xgen]", *lines]
    start = next(i for i, line in enumerate(lines) if line.strip() == "[tool.xgen]")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("[")), len(lines)
    )
    table = lines[start + 1 : end]
    keys = {line.split("=")[0].strip() for line in table if "=" in line}
    added = [f"{k} = {v}" for k, v in PINNED.items() if k not in keys]
    return "\n".join(lines[: start + 1] + added + lines[start + 1 :]) + "\n"


def with_usage(line: str, value: str) -> str:
    """The cassette ``line`` with its usage's ``total_tokens`` written as ``value``, any
    text, JSON or not."""
    data = json.loads(line)
    data["response"]["usage"]["total_tokens"] = "@@"
    return json.dumps(data).replace('"@@"', value)


def pool_threads() -> list[threading.Thread]:
    """The threads of the plugin's call pools alive now."""
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


def fake_model(fake: OpenAIServer, **extra: object) -> str:
    """A ``[tool.xgen.models.echo]`` table pointing at the fake server."""
    spec = {"base_url": fake.base_url, "model": "echo", **extra}
    return "\n".join(f"{k} = {json.dumps(v)}" for k, v in spec.items())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """With ``XGEN_REQUIRE_REAL=1`` (CI) a ``real`` test that skips fails instead: a missing
    package of the local extra must not pass unnoticed as a skip."""
    report = yield
    if (
        report.skipped
        and item.get_closest_marker("real") is not None
        and os.environ.get("XGEN_REQUIRE_REAL") == "1"
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"XGEN_REQUIRE_REAL=1 but this real-path test skipped: {reason}"
    return report


GOLDEN = Path(__file__).resolve().parent / "golden"


def golden(name: str, text: str) -> None:
    """``text`` must equal the golden file ``tests/golden/NAME``; ``XGEN_UPDATE_GOLDEN=1``
    rewrites it (review the diff before committing)."""
    path = GOLDEN / name
    if os.environ.get("XGEN_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
