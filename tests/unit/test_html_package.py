"""The HTML report as a package: its style sheet and script are package data the page reads
through importlib.resources, each check is rendered by the function its kind's registry row
names, and a report with every kind of check renders as the golden page."""

from __future__ import annotations

import dataclasses
import json
import sys
from fnmatch import fnmatch
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

import pytest_xgen
from pytest_xgen.checks.kinds import KINDS, CheckKind
from pytest_xgen.report.html import render_html
from tests.helpers import golden

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
EVERY_KIND = ROOT / "fixtures" / "reports" / "every-kind.json"
PACKAGE = Path(pytest_xgen.__file__).parent
HTML = PACKAGE / "report" / "html"
OURS = "pytest_xgen.report.html."


def every_kind() -> dict[str, Any]:
    return json.loads(EVERY_KIND.read_text(encoding="utf-8"))


def test_a_report_with_every_kind_of_check_renders_as_the_golden_page() -> None:
    doc = every_kind()
    # Every renderer of this package has its check in the page.
    ours = {k for k, row in KINDS.items() if (row.html or "").startswith(OURS)}
    assert len(ours) >= 10
    assert ours <= {c["kind"] for t in doc["tests"] for c in t["checks"]}
    assert doc.get("comparison")
    golden("every-kind.html", render_html(doc))


def test_the_page_names_the_reasoning_and_cache_tokens_of_a_run_that_has_them() -> None:
    doc = every_kind()
    assert "of which" not in render_html(doc)  # a run without them: no words about them
    doc["run"]["calls"].update(
        tokens=290, reasoning_tokens=12, cache_read_tokens=100, replayed_cache_write_tokens=7
    )
    page = render_html(doc)
    assert "290 live (of which 12 reasoning, 100 cache read)" in page
    assert "replayed (of which 7 cache write)" in page


@pytest.mark.parametrize("name", ["page.css", "page.js"])
def test_the_style_sheet_and_the_script_are_package_data_the_page_inlines(name: str) -> None:
    resource = files("pytest_xgen.report.html").joinpath(name)
    assert resource.is_file()
    text = resource.read_text(encoding="utf-8")
    assert text.strip()
    page = render_html(every_kind())
    if name == "page.css":
        assert f"<style>\n{text}</style>" in page
        assert "print-color-adjust: exact" in text
    else:
        assert f"<script>{text.replace(chr(10), '')}</script>" in page
        assert "beforeprint" in text


def test_the_built_package_ships_every_data_file_of_the_html_report() -> None:
    """Every file of ``report/html`` that is not Python matches a package-data pattern of
    pyproject.toml, so a wheel (``pip install .``) carries it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["pytest_xgen"]
    data = [
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(HTML.iterdir())
        if path.is_file() and path.suffix not in (".py", ".pyc")
    ]
    assert data == ["report/html/page.css", "report/html/page.js"]
    for name in data:
        assert any(fnmatch(name, pattern) for pattern in patterns), name


def render_odd(check: dict[str, Any]) -> str:
    return f"<p>odd {check['detail']}</p>"


def test_checks_are_rendered_by_the_function_their_kind_row_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    odd = {"kind": "odd", "prompt": "p", "verdict": "pass", "reasons": [], "detail": "d"}
    doc = every_kind()
    doc["tests"] = doc["tests"][:1]
    doc["tests"][0]["checks"] = [odd, *doc["tests"][0]["checks"]]
    monkeypatch.setitem(
        KINDS,
        "odd",
        CheckKind("odd", "x:Odd", "odd", html=f"{__name__}:render_odd"),
    )
    # A built-in kind whose row names no renderer is shown as a table of its data.
    monkeypatch.setitem(KINDS, "review", dataclasses.replace(KINDS["review"], html=None))
    page = render_html(doc)
    sections = page.split('<section class="check check-')[1:]
    assert [s.split('"')[0] for s in sections] == ["odd", "transfer", "invariant", "review"]
    assert "<p>odd d</p>" in sections[0]
    assert '<table class="kvt small">' in sections[3] and "First disputed step" not in page
    assert "<h5>Answers</h5>" in sections[1]
