"""Every invalid value of a setting, from the command line, an ini file or ``[tool.xgen]``,
stops the run at start-up as a usage error (exit code 4). The table checks that need no
run are in tests/unit/test_settings_table.py."""

from __future__ import annotations

import pytest

from pytest_xgen.settings.options import BY_KEY
from tests.bad_settings import BAD_TEXT, BAD_TOML


def _runs_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x():\n    raise AssertionError('ran')\n")


@pytest.mark.parametrize("key", [key for key, text in BAD_TEXT.items() if text is not None])
def test_a_bad_command_line_value_is_a_usage_error(pytester: pytest.Pytester, key: str) -> None:
    _runs_nothing(pytester)
    setting = BY_KEY[key]
    result = pytester.runpytest(f"{setting.flag}={BAD_TEXT[key]}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{setting.flag}*"])


@pytest.mark.parametrize(
    "key", [key for key, text in BAD_TEXT.items() if text is not None and text.strip()]
)  # an empty ini value means "not set"
def test_a_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester, key: str) -> None:
    _runs_nothing(pytester)
    setting = BY_KEY[key]
    pytester.makeini(f"[pytest]\n{setting.ini} = {BAD_TEXT[key]}\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*ini {setting.ini}: *"])


@pytest.mark.parametrize("key", list(BAD_TOML))
def test_a_bad_file_value_is_a_usage_error(pytester: pytest.Pytester, key: str) -> None:
    _runs_nothing(pytester)
    pytester.makepyprojecttoml(f"[tool.xgen]\n{key} = {BAD_TOML[key]}\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pyproject.toml [[]tool.xgen]*", f"*{key}*"])


def test_a_confidence_below_one_half_stops_the_run_before_any_test(
    pytester: pytest.Pytester,
) -> None:
    _runs_nothing(pytester)
    result = pytester.runpytest("--xgen-confidence", "0.3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: xgen: --xgen-confidence: confidence must be a number from 0.5 to 0.999, "
            "or none; got '0.3'"
        ]
    )
    assert "ran" not in result.stdout.str()
