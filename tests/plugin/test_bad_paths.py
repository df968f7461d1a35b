"""Bad paths and values given to the plugin, and a full store: clear errors, nothing lost,
nothing written where it should not be."""

from __future__ import annotations

import os
import stat

import pytest

from tests.helpers import ONE_CALL
from tests.server import OpenAIServer


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("--xgen-timeout=inf", "timeout must be a number more than 0; got 'inf'"),
        ("--xgen-timeout=nan", "timeout must be a number more than 0; got 'nan'"),
        (
            "--xgen-save=../../escape",
            "save must be a name of letters, digits, '.', '_' and '-' (it becomes .xgen/runs/NAME.json)",
        ),
        (
            "--xgen-save=runs/main",
            "save must be a name of letters, digits, '.', '_' and '-' (it becomes .xgen/runs/NAME.json)",
        ),
    ],
)
def test_bad_values_are_usage_errors(project: pytest.Pytester, option: str, words: str) -> None:
    project.makepyfile(test_calls=ONE_CALL)
    result = project.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{words}*"])
    assert not (project.path.parent / "escape.json").exists()


def test_a_report_path_that_is_a_directory_loses_no_summary(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makepyfile(test_calls=ONE_CALL)
    (project.path / "out").mkdir()
    result = project.runpytest("--xgen-report=out")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(
        [
            "*xgen: 1 model calls: 0 replayed, 1 live*",
            "*xgen: could not write a report: *out is a directory; choose another path*",
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()
    assert list((project.path).glob("*.tmp")) == []


def test_cassettes_get_the_mode_of_any_new_file(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makepyfile(test_calls=ONE_CALL)
    project.runpytest_subprocess().assert_outcomes(passed=1)  # a fresh process reads the umask
    path = project.path / "fixtures" / "cassettes" / "test_calls.jsonl"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


FULL_DISK = """
import sqlite3

import diskcache


ORIGINAL = diskcache.Cache.set


def full(self, *args, **kwargs):
    raise sqlite3.OperationalError("database or disk is full")


def pytest_configure(config):
    diskcache.Cache.set = full


def pytest_unconfigure(config):  # this inner run shares the outer process
    diskcache.Cache.set = ORIGINAL
"""


def test_a_full_store_is_an_error_not_a_failure(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makeconftest(FULL_DISK)
    project.makepyfile(test_calls=ONE_CALL)
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*StoreError: cannot write the store *: database or disk is full; free space there*"]
    )
    assert "sqlite3.OperationalError" not in result.stdout.str()


def test_cassettes_are_not_written_through_a_link(
    project: pytest.Pytester, fake: OpenAIServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    cassettes = project.path / "fixtures" / "cassettes"
    cassettes.mkdir(parents=True)
    (cassettes / "sub").symlink_to(outside, target_is_directory=True)
    project.mkdir("sub")
    (project.path / "sub" / "test_calls.py").write_text(ONE_CALL)
    result = project.runpytest("sub")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*could not write cassettes (*sub/test_calls.jsonl is reached through a symbolic link*"]
    )
    assert list(outside.iterdir()) == []
