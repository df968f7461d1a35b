from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Generator, Iterator

# In-process inner runs (pytester.runpytest) drop the modules they imported when they end.
# numpy's C extension cannot be loaded twice in one process, and a second copy of
# Hypothesis would not recognise the first one's settings objects, so scipy (which the
# plugin imports lazily for its statistics) and Hypothesis are loaded here, before any run.
import hypothesis  # noqa: F401
import pytest
import scipy.stats  # noqa: F401

from tests.fakeserver import FakeOpenAI


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


@pytest.fixture(autouse=True)
def _quiet_inner_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process inner runs import pytest_xgen, which this process imported already.
    monkeypatch.setenv("PYTEST_ADDOPTS", "-W ignore::pytest.PytestAssertRewriteWarning")


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


# The sampling defaults that the scripted projects of these tests were written for: five
# samples, verdicts on point estimates. The calibrated defaults (samples="auto",
# confidence 0.95) have tests of their own (tests/test_calibration.py).
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


def fake_model(fake: FakeOpenAI, **extra: object) -> str:
    """A ``[tool.xgen.models.echo]`` table pointing at the fake server."""
    spec = {"base_url": fake.base_url, "model": "echo", **extra}
    return "\n".join(f"{k} = {json.dumps(v)}" for k, v in spec.items())


@pytest.fixture
def project(pytester: pytest.Pytester, fake: FakeOpenAI) -> pytest.Pytester:
    """An inner project with one model, ``echo``, served by the fake endpoint."""
    pytester.makepyprojecttoml(
        f"""
        [tool.xgen]
        record_mode = "once"

        [tool.xgen.models.echo]
        {fake_model(fake)}
        params = {{ temperature = 0, max_tokens = 16 }}
        """
    )
    return pytester
