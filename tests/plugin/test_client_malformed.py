"""An application client's call (``xgen.client()``) answered with something that is not
JSON (a proxy's HTML page): a malformed answer, retried, then the usual clear error; never
recorded."""

from __future__ import annotations

import pytest

from tests.helpers import cassette
from tests.server import OpenAIServer

CLIENT_CALL = """
def test_one(xgen):
    client = xgen.client("echo")
    r = client.chat.completions.create(messages=[{"role": "user", "content": "hi"}])
    assert r.choices[0].message.content == "echo[seed=None,t=None]: hi"
"""


@pytest.fixture
def project(pytester: pytest.Pytester, fake: OpenAIServer) -> pytest.Pytester:
    pytester.makepyprojecttoml(
        f"""
        [tool.xgen]
        record_mode = "once"

        [tool.xgen.models.echo]
        base_url = "{fake.base_url}"
        model = "echo"
        """
    )
    pytester.makepyfile(test_calls=CLIENT_CALL)
    return pytester


def test_an_html_page_once_is_retried_and_the_answer_recorded(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    fake.fault_next("html")
    project.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    assert (fake.faults["html"], len(fake.received), fake.calls) == (1, 2, 1)
    assert cassette(project.path, "test_calls").exists()


def test_an_html_page_every_time_is_a_clear_error_and_nothing_is_recorded(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    fake.fault_next("html", 2)
    result = project.runpytest("-p", "no:randomly", "--xgen-max-retries=1")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*ModelCallError: model 'echo' at http://{fake.endpoint} sent a malformed response "
            "(not a JSON response (wrong content type?)) after 1 retries; nothing was recorded. "
            "Check the endpoint and its logs"
        ]
    )
    result.stdout.no_fnmatch_line("*AttributeError*")
    assert fake.calls == 0 and not cassette(project.path, "test_calls").exists()
