"""The plugin as pytest sees it: help, entry point, light import, the fixture's surface."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pytest_xgen.settings.options import SETTINGS


def test_help_lists_every_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*reasoning regression tests (pytest-xgen)*"])
    text = result.stdout.str()
    for setting in SETTINGS:
        assert setting.flag in text
        assert setting.ini in text
    assert "--xgen-model=NAME=SPEC" in text and "--xgen-config=PATH" in text


def test_the_xgen_command_help_is_plain_text() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pytest_xgen.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "pytest-xgen outside a pytest run" in out.stdout
    assert "``" not in out.stdout


def test_importing_the_plugin_stays_light() -> None:
    code = (
        "import sys, pytest_xgen.plugin, pytest_xgen.session, pytest_xgen.fixture;"
        "print(sorted(m for m in ('openai', 'diskcache', 'hypothesis', 'llama_cpp', 'jsonschema')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plugin_is_registered_through_the_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "def test_x(pytestconfig):\n"
        "    assert pytestconfig.pluginmanager.has_plugin('xgen-session')\n"
        "    assert pytestconfig.pluginmanager.has_plugin('xgen-reporter')\n"
    )
    pytester.runpytest().assert_outcomes(passed=1)
    result = pytester.runpytest("-p", "no:xgen")
    result.assert_outcomes(failed=1)
    assert "xgen: record mode" not in result.stdout.str()


def test_a_conftest_hook_can_supply_the_model(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.xgen.models.scripted]\nbase_url = "http://unused.invalid/v1"\nmodel = "s"'
    )
    pytester.makeconftest("""
        from pytest_xgen.models.base import ChatResult, Usage

        class Scripted:
            name = "scripted"
            identity = {"endpoint": "scripted", "model": "s"}
            params = {}
            def chat(self, messages, **params):
                return ChatResult(text="42", usage=Usage(1, 1, 2))
            def complete(self, prompt, **params):
                raise NotImplementedError

        def pytest_xgen_make_model(name, spec, session):
            return Scripted()

        calls = []
        def pytest_xgen_call_done(session, model, test, entry, replayed):
            calls.append((model, replayed))

        def pytest_sessionfinish(session):
            print("CALLS", calls)
    """)
    pytester.makepyfile("def test_x(xgen):\n    assert xgen.model('scripted')('q').text == '42'")
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*CALLS ?('scripted', False)?*"])


@pytest.mark.parametrize(("required", "outcome"), [("1", "failed"), ("", "skipped")])
def test_require_real_turns_a_skipped_real_test_into_a_failure(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, required: str, outcome: str
) -> None:
    monkeypatch.setenv("XGEN_REQUIRE_REAL", required)
    pytester.makeconftest("from tests.helpers import pytest_runtest_makereport  # noqa: F401")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.real
        def test_needs_numpy():
            pytest.importorskip("no_such_package_xgen")

        def test_not_real():
            pytest.skip("not a real-path test")
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    if outcome == "failed":
        result.assert_outcomes(failed=1, skipped=1)
        result.stdout.fnmatch_lines(["*XGEN_REQUIRE_REAL=1 but this real-path test skipped*"])
    else:
        result.assert_outcomes(skipped=2)


def test_the_fixture_belongs_to_the_test_that_asks_for_it_however_it_asks(
    pytester: pytest.Pytester,
) -> None:
    # Requested as an argument, through another fixture, or by name from the test's body;
    # and in a test that runs pytest inside itself, before and after the inner run.
    pytester.makepyfile(
        test_inner="""
        def test_inner(xgen):
            assert xgen.test.endswith("test_inner.py::test_inner")
        """,
        test_outer="""
        import pytest

        pytest_plugins = ["pytester"]


        @pytest.fixture
        def wrapped(xgen):
            return xgen


        def test_argument(xgen):
            assert xgen.test.endswith("::test_argument")


        def test_through_a_fixture(wrapped):
            assert wrapped.test.endswith("::test_through_a_fixture")


        def test_by_name(request, pytester):
            pytester.copy_example("test_inner.py")
            pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
            xgen = request.getfixturevalue("xgen")
            assert xgen.test.endswith("test_outer.py::test_by_name")
        """,
    )
    result = pytester.runpytest("-p", "no:randomly", "test_outer.py")
    result.assert_outcomes(passed=3)
