"""Extension points of pytest-xgen, added with ``pytest_addhooks``.

Implement them in a ``conftest.py`` or a plugin; the plugin's own implementations are
``trylast`` so yours win.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_xgen.checks.kinds import CheckKind
    from pytest_xgen.core.answers import AnswerSpec
    from pytest_xgen.models.base import ChatModel
    from pytest_xgen.session import XgenSession


@pytest.hookspec(firstresult=True)
def pytest_xgen_make_model(
    name: str, spec: dict[str, Any], session: XgenSession
) -> ChatModel | None:
    """Build the model configured as ``name`` (``spec`` is its table); return None to pass."""


@pytest.hookspec
def pytest_xgen_call_done(
    session: XgenSession, model: str, test: str, entry: dict[str, Any], replayed: bool
) -> None:
    """Called after every model call, replayed or live, with its recording entry.

    A check's independent calls run on threads (``--xgen-concurrency``), so this may be
    called from a worker thread; calls to it never overlap."""


@pytest.hookspec(firstresult=True)
def pytest_xgen_extract_answer(text: str, spec: AnswerSpec) -> Any | None:
    """Read the normalized answer out of a model's output; return None to defer to the default."""


@pytest.hookspec
def pytest_xgen_report(report: dict[str, Any], session: XgenSession) -> None:
    """Called once at the end of a run (on the pytest-xdist controller) with the JSON
    report document (``report.schema.json``, with its ``comparison`` when
    ``--xgen-compare`` is given), after the report files are written: write a report
    format of your own from it. Do not change it."""


@pytest.hookspec
def pytest_xgen_check_kinds() -> list[CheckKind] | None:
    """Check kinds a plugin adds: :class:`~pytest_xgen.checks.kinds.CheckKind` rows, read
    once when pytest starts. A test runs one with ``xgen.run_check(KIND, ...)``; the
    reports and the JSON schema take it as they take the built-in kinds."""
