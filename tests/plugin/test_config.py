"""Configuration: [tool.xgen], xgen.toml, ini twins and the command line, and schema errors."""

from __future__ import annotations

import pytest


def header(result: pytest.RunResult) -> str:
    return next(line for line in result.stdout.lines if line.startswith("xgen: record mode"))


def test_defaults_in_the_header(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert header(result) == (
        "xgen: record mode once, cache .xgen/cache, cassettes fixtures/cassettes, seed 0, "
        "models: none; local server: not needed"
    )


def test_precedence_command_line_over_ini_over_file(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("""
        [tool.pytest.ini_options]
        xgen_seed = "7"

        [tool.xgen]
        record_mode = "new_episodes"
        seed = 3
        cache_dir = "from-file"

        [tool.xgen.models.q]
        local = "qwen2.5-coder-0.5b"
    """)
    pytester.makepyfile("def test_x(): pass")
    line = header(pytester.runpytest())
    assert "record mode new_episodes" in line  # file over default
    assert "seed 7" in line  # ini over file
    assert "cache from-file" in line
    assert (
        "models: q (local qwen2.5-coder-0.5b); local server: starts on the first unrecorded call"
        in line
    )
    line = header(
        pytester.runpytest(
            "--xgen-seed=11", "--xgen-record-mode=none", "--xgen-model", "q=local:smollm2-135m"
        )
    )
    assert "record mode none" in line and "seed 11" in line  # command line over both
    assert "models: q (local smollm2-135m); local server: not started (replay only)" in line


def test_xgen_toml_and_explicit_config(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".toml",
        xgen='record_mode = "all"\n[models.g]\nbase_url = "https://api.example.com/v1"\nmodel = "m"\n',
    )
    pytester.makefile(".toml", other='record_mode = "none"\n')
    pytester.makepyfile("def test_x(): pass")
    line = header(pytester.runpytest())
    assert "record mode all" in line
    assert "g (api.example.com/v1 m)" in line
    assert "record mode none" in header(pytester.runpytest("--xgen-config=other.toml"))


def test_a_model_table_its_backend_rejects_stops_the_run_at_start_up(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(
        ".toml",
        xgen="""
        [models.g]
        base_url = "https://u:canarypw@api.example.com/v1"
        model = "m"
        [models.h]
        base_url = "https://api.example.com/v1?key=canarypw"
        model = "m"
        """,
    )
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*xgen: model 'g': base_url https://api.example.com/v1 carries credentials*",
            "*xgen: model 'h': base_url https://api.example.com/v1 has a query string*",
        ]
    )
    assert "canarypw" not in result.stdout.str() + result.stderr.str()


def test_ini_models_twin(pytester: pytest.Pytester) -> None:
    pytester.makeini("""
        [pytest]
        xgen_models =
            a=local:smollm2-135m
            b={"base_url": "http://127.0.0.1:1/v1", "model": "x"}
        xgen_record_mode = none
    """)
    pytester.makepyfile("def test_x(): pass")
    line = header(pytester.runpytest())
    assert "models: a (local smollm2-135m), b (127.0.0.1:1/v1 x)" in line
    assert "record mode none" in line


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            '[tool.xgen]\nrecord_mode = "sometimes"',
            "*record_mode: 'sometimes' is not allowed; use one of 'none', 'once', 'new_episodes', 'all'*",
        ),
        (
            '[tool.xgen]\nrecrod_mode = "none"',
            "*(top level): unknown key(s) 'recrod_mode'; allowed keys: baseline, cache_dir, cassette_dir,*",
        ),
        (
            '[tool.xgen.models.q]\nlocal = "qwen"',
            "*models.q.local: 'qwen' is not allowed; use one of 'qwen2.5-coder-0.5b', 'smollm2-135m', 'gemma3-270m'*",
        ),
        (
            '[tool.xgen.models.g]\nmodel = "m"',
            '*models.g: a model needs either local = "<embedded name>"*or base_url and model*',
        ),
        (
            '[tool.xgen.models.g]\nbase_url = "https://h/v1"\nmodel = "m"\nparams = { temprature = 1 }',
            "*models.g.params: unknown key(s) 'temprature'; allowed keys: extra_body, frequency_penalty,*",
        ),
        ("[tool.xgen]\ntimeout = -1", "*timeout: -1 is less than or equal to the minimum of 0*"),
        ("[tool.xgen]\nconcurrency = 0", "*concurrency: 0 is less than the minimum of 1*"),
        (
            '[tool.xgen]\nsamples = "many"',
            "*samples: 'many' is not allowed; use a whole number of at least 1, or auto*",
        ),
    ],
)
def test_schema_errors_name_file_key_and_allowed_values(
    pytester: pytest.Pytester, table: str, expected: str
) -> None:
    pytester.makepyprojecttoml(table)
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*xgen: pyproject.toml ?tool.xgen?: invalid xgen configuration*", expected]
    )
    assert "Traceback" not in result.stderr.str()


def test_bad_command_line_values_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--xgen-record-mode=sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*record mode must be one of 'none', 'once', 'new_episodes', 'all'; got 'sometimes'*"]
    )
    result = pytester.runpytest("--xgen-model", "q=local:qwen")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*--xgen-model / xgen_models: invalid xgen configuration*",
            "*models.q.local: 'qwen' is not allowed*",
        ]
    )


def test_bad_toml_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", xgen="record_mode = ")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*xgen.toml: not valid TOML*"])


SHOW_SETTINGS = """
def test_show(pytestconfig):
    s = pytestconfig.pluginmanager.get_plugin("xgen-session").settings
    print(f"SETTINGS concurrency={s.concurrency} samples={s.samples!r}")
"""


def test_concurrency_and_auto_samples_from_every_layer(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SHOW_SETTINGS)
    shown = pytester.runpytest("-s")
    shown.stdout.fnmatch_lines(["*SETTINGS concurrency=32 samples='auto'*"])  # the defaults
    pytester.makepyprojecttoml("""
        [tool.xgen]
        concurrency = 4
        samples = 7
    """)
    pytester.runpytest("-s").stdout.fnmatch_lines(["*SETTINGS concurrency=4 samples=7*"])
    pytester.makeini("[pytest]\nxgen_concurrency = 2\nxgen_samples = 9\n")
    pytester.runpytest("-s").stdout.fnmatch_lines(["*SETTINGS concurrency=2 samples=9*"])
    shown = pytester.runpytest("-s", "--xgen-concurrency=1", "--xgen-samples=auto")
    shown.stdout.fnmatch_lines(["*SETTINGS concurrency=1 samples='auto'*"])
    bad = pytester.runpytest("--xgen-concurrency=0")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(
        ["*--xgen-concurrency: concurrency must be a whole number of at least 1; got '0'*"]
    )
    bad = pytester.runpytest("--xgen-samples=many")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(
        ["*--xgen-samples: samples must be a whole number of at least 1, or auto; got 'many'*"]
    )
