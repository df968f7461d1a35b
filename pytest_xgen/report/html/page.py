"""The HTML report's page: the sections in order, with the style sheet and the print
script (``page.css`` and ``page.js``, data files of this package) inline."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from pytest_xgen.report.html.agreement import agreement
from pytest_xgen.report.html.comparison import comparison
from pytest_xgen.report.html.details import drilldown
from pytest_xgen.report.html.escape import e
from pytest_xgen.report.html.run import header, overview

STYLE = "page.css"
# Browsers render nothing of a closed <details> on paper whatever the CSS says, except
# where ::details-content is supported; the script opens them around printing.
SCRIPT = "page.js"


@cache
def asset(name: str) -> str:
    """The text of a data file of this package (the style sheet, the script)."""
    return files(__name__.rpartition(".")[0]).joinpath(name).read_text(encoding="utf-8")


def render_html(report: dict[str, Any]) -> str:
    """The JSON run report (format ``pytest-xgen-report``) as one self-contained HTML page:
    run metadata, a table of tests, evaluator-agreement heatmaps and a transfer matrix, and
    a collapsible drill-down of every check."""
    created = report.get("created", "")
    title = f"pytest-xgen report {created}".strip()
    # The script is kept a statement or two a line in its file and inlined as one line.
    script = asset(SCRIPT).replace("\n", "")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="pytest-xgen">'
        f"<title>{e(title)}</title><style>\n{asset(STYLE)}</style></head><body>"
        + header(report)
        + "<main>"
        + comparison(report)
        + overview(report)
        + agreement(report)
        + drilldown(report)
        + "</main>"
        f"<script>{script}</script>"
        "</body></html>\n"
    )
