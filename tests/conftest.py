from __future__ import annotations

from collections.abc import Iterator

# In-process inner runs (pytester.runpytest) drop the modules they imported when they end.
# numpy's C extension cannot be loaded twice in one process, and a second copy of
# Hypothesis would not recognise the first one's settings objects, so scipy (which the
# plugin imports lazily for its statistics) and Hypothesis are loaded here, before any run.
import hypothesis  # noqa: F401
import openai
import pytest
import scipy.stats  # noqa: F401

from tests.helpers import fake_model
from tests.helpers import pytest_runtest_makereport as pytest_runtest_makereport
from tests.server import OpenAIServer

# The openai client's HTTP library imports its transport core on the first client, and maps
# the core's exceptions to its own on the first request: were the core first imported in an
# inner run, the next run would import it again, its connection errors would no longer
# match that map, and an unreachable endpoint would surface as a raw transport error.
openai.DefaultHttpxClient().close()


@pytest.fixture(autouse=True)
def _quiet_inner_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process inner runs import pytest_xgen, which this process imported already.
    monkeypatch.setenv("PYTEST_ADDOPTS", "-W ignore::pytest.PytestAssertRewriteWarning")


@pytest.fixture
def fake() -> Iterator[OpenAIServer]:
    server = OpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture
def project(pytester: pytest.Pytester, fake: OpenAIServer) -> pytest.Pytester:
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
