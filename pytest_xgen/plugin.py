"""pytest glue for pytest-xgen: options, ini values, the ``xgen`` fixture, report hooks.

Kept light on purpose: importing this module (which pytest does for every run, xgen or
not) loads neither ``openai``, ``diskcache``, Hypothesis nor llama.cpp.
"""

from __future__ import annotations

import functools
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_xgen import hookspecs
from pytest_xgen.checks import kinds
from pytest_xgen.errors import XgenConfigError, XgenError, XgenInfraError, hide_frame
from pytest_xgen.models.redaction import scrub_report
from pytest_xgen.session import XgenSession
from pytest_xgen.settings.config import find_file, resolve
from pytest_xgen.settings.marker import MARKER, marker_help, marker_kwargs, validate
from pytest_xgen.settings.options import SETTINGS, parse_model
from pytest_xgen.stash import CHECKS, RESULTS, is_given

if TYPE_CHECKING:
    from _pytest._code.code import TracebackEntry

    from pytest_xgen.fixture import Xgen
    from pytest_xgen.settings.config import Settings

__tracebackhide__ = hide_frame

SESSION_NAME = "xgen-session"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xgen", "reasoning regression tests (pytest-xgen)")
    for setting in SETTINGS:
        group.addoption(
            setting.flag,
            dest=f"xgen_{setting.key}",
            type=functools.partial(setting.parse_as, where=setting.flag),
            default=None,
            metavar=setting.metavar,
            help=f"{setting.help_text}. Ini: {setting.ini}; file: [tool.xgen] {setting.key}",
        )
        parser.addini(setting.ini, help=f"xgen: {setting.help_text}", default="")
    group.addoption(
        "--xgen-model",
        dest="xgen_models",
        action="append",
        type=parse_model,
        default=[],
        metavar="NAME=SPEC",
        help="add or replace a model: NAME=local:EMBEDDED or NAME={json table}; repeatable. "
        "Ini: xgen_models (one per line); file: [tool.xgen.models.NAME]",
    )
    parser.addini(
        "xgen_models",
        type="linelist",
        default=[],
        help="xgen: models as NAME=local:EMBEDDED or NAME={json}, one per line",
    )
    group.addoption(
        "--xgen-config",
        dest="xgen_config",
        default=None,
        metavar="PATH",
        help="read xgen settings from this TOML file instead of xgen.toml / [tool.xgen]. "
        "Ini: xgen_config",
    )
    parser.addini("xgen_config", default="", help="xgen: path of an xgen TOML settings file")
    group.addoption(
        "--xgen-dry-run",
        dest="xgen_dry_run",
        action="store_true",
        default=None,
        help="make no live call: list the calls this run would make live (cache misses) "
        "with a token estimate; tests that need one are skipped. Ini: xgen_dry_run",
    )
    parser.addini("xgen_dry_run", type="bool", default=False, help="xgen: dry run")


def _settings(config: pytest.Config) -> Settings:
    try:
        explicit = config.getoption("xgen_config") or config.getini("xgen_config") or None
        file_data, source = find_file(config.rootpath, explicit)
        return resolve(
            rootpath=config.rootpath,
            cli={s.key: config.getoption(f"xgen_{s.key}") for s in SETTINGS},
            ini={s.key: str(config.getini(s.ini)) for s in SETTINGS},
            file_data=file_data,
            source=source,
            cli_models=config.getoption("xgen_models"),
            ini_models=[parse_model(line) for line in config.getini("xgen_models")],
        )
    except XgenConfigError as exc:
        raise pytest.UsageError(f"xgen: {exc}") from None


def pytest_configure(config: pytest.Config) -> None:
    _register_kinds(config)
    config.addinivalue_line("markers", marker_help())
    settings = _settings(config)
    if settings.record_mode != "none":
        _check_writable(settings.path("cache_dir"), "cache", "--xgen-cache-dir")
        if settings.cassettes:
            _check_writable(settings.path("cassette_dir"), "cassette", "--xgen-cassette-dir")
    session = XgenSession(config, settings)
    if not session.is_worker:
        session.outputs.load_baseline()
    config.pluginmanager.register(session, SESSION_NAME)
    session.check_models()  # after registering: the session builds the built-in backends
    config.pluginmanager.register(session.reporter, "xgen-reporter")


def _register_kinds(config: pytest.Config) -> None:
    """The check kinds plugins add (``pytest_xgen_check_kinds``), for this run only."""
    rows: list[object] = []
    for found in config.hook.pytest_xgen_check_kinds():
        rows.extend(found if isinstance(found, (list, tuple)) else [found])
    try:
        added = kinds.register(rows, "pytest_xgen_check_kinds")
    except XgenConfigError as exc:
        raise pytest.UsageError(f"xgen: {exc}") from None
    config.add_cleanup(functools.partial(kinds.unregister, added))


def _check_writable(directory: Any, what: str, option: str) -> None:
    """A usage error now, rather than every recorded call lost later."""
    import os

    existing = directory
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    problem = None
    if not existing.is_dir():
        problem = f"{existing} is a file, not a directory"
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem = f"{existing} is not writable"
    if problem:
        raise pytest.UsageError(
            f"xgen: cannot write the {what} directory {directory} ({problem}); choose another "
            f"with {option}=DIR, or replay only with --xgen-record-mode=none"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Bad marker arguments stop the run before any model is called, with one message that
    # lists what is allowed.
    models = get_session(config).settings.models
    for item in items:
        try:
            for kwargs in marker_kwargs(item, item.nodeid):
                validate(kwargs, models, f"{item.nodeid}: @pytest.mark.{MARKER}")
        except XgenConfigError as exc:
            raise pytest.UsageError(f"xgen: {exc}") from None
    hypothesis_tests = [item for item in items if _uses_xgen(item) and is_given(item)]
    if hypothesis_tests:
        from pytest_xgen import hypothesis_glue

        session = get_session(config)
        settings = session.settings
        if settings.record_mode == "none":
            hypothesis_glue.select_ci_profile(config)
        for item in hypothesis_tests:
            session.hypothesis_tests.add(item.nodeid)
            hypothesis_glue.configure(item, settings, _max_examples(item, settings))
            if session.dry_run:
                hypothesis_glue.dry_run(
                    item,
                    functools.partial(session.planned_calls, item.nodeid),
                    session.dry_examples,
                    session.dry_stopped,
                )


def _uses_xgen(item: pytest.Item) -> bool:
    return (
        "xgen" in getattr(item, "fixturenames", ()) or item.get_closest_marker(MARKER) is not None
    )


def _max_examples(item: pytest.Item, settings: Settings) -> int | None:
    """``max_examples`` from the command line, else the closest marker, else None."""
    if settings.origin.get("max_examples") == "command line":
        return int(settings.max_examples)
    for mark in item.iter_markers(MARKER):
        if "max_examples" in mark.kwargs:
            return int(mark.kwargs["max_examples"])
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    session = get_session(item.config)
    try:
        result = yield
    except BaseException:
        session.skip_if_dry(item, stopped=True)
        raise
    session.skip_if_dry(item)
    if item.get_closest_marker(MARKER) is not None and not item.stash.get(CHECKS, 0):
        raise XgenConfigError(
            f"{item.nodeid} is marked @pytest.mark.{MARKER} but never called xgen.check(), "
            "xgen.invariant(), xgen.review(), xgen.ensemble(), xgen.weak_steps() or "
            "xgen.repair(); call one, or remove the marker"
        )
    return result


def get_session(config: pytest.Config) -> XgenSession:
    """The :class:`~pytest_xgen.session.XgenSession` of this run."""
    session = config.pluginmanager.get_plugin(SESSION_NAME)
    if session is None:
        raise XgenConfigError("pytest-xgen is not configured in this run (-p no:xgen?)")
    return session  # type: ignore[no-any-return]


# The items whose test protocol is running, innermost last (a test may run pytest inside
# itself, as pytester does). The fixture reads its test here rather than from ``request``:
# pytest builds a fixture definition for ``request`` each time a fixture asks for it, which
# cost a replayed suite 2.5 % of its time.
_RUNNING: list[pytest.Item] = []


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    _RUNNING.append(item)
    try:
        return (yield)
    finally:
        _RUNNING.pop()


@pytest.fixture
def xgen() -> Generator[Xgen, None, None]:
    """Configured models for this test, every call recorded once and then replayed."""
    from pytest_xgen.fixture import Xgen

    if not _RUNNING:
        raise XgenConfigError("the xgen fixture is for tests; no test is running")
    node = _RUNNING[-1]
    session = get_session(node.config)
    fixture = Xgen(session, node.nodeid, session.module_of(node.path), node)
    yield fixture
    fixture.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    ours = call.excinfo is not None and call.excinfo.errisinstance(
        (XgenInfraError, XgenConfigError)
    )
    data = None
    session = item.config.pluginmanager.get_plugin(SESSION_NAME) if call.when == "call" else None
    if session is not None:
        data = session.test_data(item, item.stash.get(RESULTS, []))
        if data is not None:
            # JUnit XML <properties>: CI test views show the numbers.
            from pytest_xgen.report.build import junit_properties

            item.user_properties.extend(junit_properties(data))
    report = yield
    if data is not None:
        report.xgen = data  # type: ignore[attr-defined]
    if session is not None:
        # On a pytest-xdist worker, the recordings made so far travel with the report, so
        # a worker that dies later has handed them over already.
        pending = session.hand_off()
        if pending:
            report.xgen_pending = pending  # type: ignore[attr-defined]
    # Infrastructure trouble (an unreachable endpoint, a rate limit, a missing recording)
    # says nothing about the model's reasoning: report it as an error, not a failure.
    if ours:
        report.xgen_error = True  # type: ignore[attr-defined]
        if call.excinfo is not None and call.excinfo.errisinstance(XgenConfigError):
            report.longrepr = usage_repr(item, call.excinfo)

    scrub_report(report)  # no value sent that may be secret reaches a reader
    return report


def usage_repr(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """A configuration error as a usage error reads: the message (first, so the short
    summary shows it), then the line of the test's own code that led to it, when there is
    one; none of the plugin's frames, locals or source, whatever ``--tb`` or ``-l`` say."""
    import os

    lines = [f"{type(excinfo.value).__name__}: {excinfo.value}"]
    entry = _user_entry(excinfo)
    if entry is not None:
        where = os.path.relpath(entry.path, item.config.invocation_params.dir)
        lines.append(f"  from {where}:{entry.lineno + 1}, in {entry.name}:")
        statement = [line for line in str(entry.statement).splitlines() if line.strip()]
        lines.extend("    " + line for line in _dedent(statement))
    return "\n".join(lines)


def _user_entry(excinfo: pytest.ExceptionInfo[BaseException]) -> TracebackEntry | None:
    """The innermost traceback entry outside pytest-xgen, pytest and pluggy, or None."""
    from pathlib import Path

    import _pytest
    import pluggy

    internal = [Path(m.__file__).resolve().parent for m in (_pytest, pluggy, pytest) if m.__file__]
    internal.append(Path(__file__).resolve().parent)
    found = None
    for entry in excinfo.traceback:
        path = Path(str(entry.path)).resolve()
        if not any(path.is_relative_to(folder) for folder in internal):
            found = entry
    return found


def _dedent(lines: list[str]) -> list[str]:
    margin = min((len(line) - len(line.lstrip()) for line in lines), default=0)
    return [line[margin:] for line in lines]


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, str] | None:
    if getattr(report, "xgen_error", False) and report.failed:
        return "error", "E", "ERROR"
    return None


__all__ = ["XgenError", "get_session", "xgen"]
