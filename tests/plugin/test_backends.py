"""Model backends: ``backend = "..."`` plus a table the backend itself validates, and the
identity, description and one-call-at-a-time flag taken from the model object."""

from __future__ import annotations

import json

import pytest

from tests.helpers import pinned

# A plugin backend as a team would write one: it reads its own keys and rejects bad ones.
CANNED = """
from pytest_xgen import XgenConfigError
from pytest_xgen.models.base import ChatResult, Usage


class Canned:
    def __init__(self, name, reply, serial):
        self.name = name
        self.reply = reply
        self.identity = {"endpoint": "canned", "model": reply}
        self.description = f"canned reply {reply!r}"
        self.one_at_a_time = serial
        self.params = {}

    def chat(self, messages, **params):
        return ChatResult(text=self.reply, usage=Usage(1, 1, 2))

    def complete(self, prompt, **params):
        raise NotImplementedError


def pytest_xgen_make_model(name, spec, session):
    if spec.get("backend") != "canned":
        return None
    if not isinstance(spec.get("reply"), str):
        raise XgenConfigError(f"model {name!r}: a canned model needs reply = \\"<text>\\"")
    return Canned(name, spec["reply"], bool(spec.get("serial", False)))
"""

PROJECT = """
[tool.xgen.models.c]
backend = "canned"
reply = "Answer: 42"
serial = true
params = { temperature = 0 }
"""


@pytest.fixture
def canned(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CANNED)
    pytester.makepyfile(
        test_it="""
        def test_it(xgen):
            assert xgen.model("c")("q").text == "Answer: 42"
        """
    )
    return pytester


def test_a_plugin_backend_builds_describes_and_identifies_its_model(
    canned: pytest.Pytester,
) -> None:
    canned.makepyprojecttoml(pinned(PROJECT))
    result = canned.runpytest("--xgen-report=r.json", "--xgen-record-mode=all")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["xgen: *models: c (canned reply 'Answer: 42'); local server: not needed"]
    )
    doc = json.loads((canned.path / "r.json").read_text())
    assert doc["run"]["models"] == {"c": {"endpoint": "canned", "model": "Answer: 42"}}
    # The flag comes from the object: a serial canned model gets one worker.
    session = canned.parseconfigure("--xgen-record-mode=none").pluginmanager.get_plugin(
        "xgen-session"
    )
    assert session.workers_for(["c"]) == 1


def stops_at_start_up(pytester: pytest.Pytester, toml: str, *expected: str) -> None:
    """A run with ``toml`` as its pyproject.toml ends with exit code 4 before any test,
    with ``expected`` on stderr."""
    pytester.makepyprojecttoml(pinned(toml))
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(list(expected))
    assert "passed" not in result.stdout.str()


def test_a_backend_rejects_its_own_bad_keys_at_start_up(canned: pytest.Pytester) -> None:
    stops_at_start_up(
        canned,
        PROJECT.replace('reply = "Answer: 42"', "reply = 42"),
        "*xgen: model 'c': a canned model needs reply = \"<text>\"*",
    )


def test_keys_the_plugin_reads_are_checked_in_any_backend_table(canned: pytest.Pytester) -> None:
    stops_at_start_up(
        canned,
        PROJECT.replace("temperature = 0", "temperature = 9"),
        "*models.c.params.temperature: 9 is greater than the maximum of 2*",
    )


def test_a_backend_no_plugin_provides_is_named_at_start_up(pytester: pytest.Pytester) -> None:
    stops_at_start_up(
        pytester,
        """
        [tool.xgen.models.v]
        backend = "vertex"
        project = "p"
        """,
        "*xgen: model 'v': no plugin builds backend 'vertex' (the table has keys backend, "
        "project); implement pytest_xgen_make_model in a plugin or the rootdir conftest.py*",
    )


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('backend = "local"\nbase_url = "http://x/v1"\nmodel = "m"', "a model needs either local"),
        ('backend = "openai"\nlocal = "smollm2-135m"', "a model needs either local"),
        ('backend = "local"\nlocal = "smollm2-135m"\nreply = "x"', "unknown key(s) 'reply'"),
        ('backend = "no spaces"', "does not match"),
    ],
    ids=["local-with-url", "openai-with-local", "unknown-key", "bad-name"],
)
def test_built_in_backends_keep_their_strict_tables(
    pytester: pytest.Pytester, table: str, problem: str
) -> None:
    stops_at_start_up(pytester, f"[tool.xgen.models.m]\n{table}\n", f"*models.m*{problem}*")


def test_an_explicit_built_in_backend_runs_as_before(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        pinned("""
        [tool.xgen.models.q]
        backend = "local"
        local = "smollm2-135m"
        """)
    )
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--xgen-record-mode=none")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["xgen: *models: q (local smollm2-135m); local server: not started*"]
    )
