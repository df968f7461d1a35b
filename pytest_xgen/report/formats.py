"""The report formats a run writes, each named by the setting that gives its path.

A format renders the JSON report document (:func:`pytest_xgen.report.build.build_report`,
with its comparison) as text. Adding one is a row here, a module in this folder with its
renderer, and a setting (``settings/options.py``); ``docs/contributing.md`` lists the
files. A plugin can write a format of its own from the ``pytest_xgen_report`` hook.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReportFormat:
    """One output format."""

    name: str
    setting: str  # the setting (--xgen-SETTING=PATH) naming the file to write
    render: str  # "module:function" taking the report document, imported when used
    # Settings the renderer takes, as (setting key, keyword of the renderer).
    options: tuple[tuple[str, str], ...] = ()

    def text(self, doc: dict[str, Any], settings: object = None) -> str:
        """``doc`` rendered, with this format's options read from ``settings`` (the run's
        settings or the command line's arguments) where it has them."""
        import importlib

        module, _, name = self.render.partition(":")
        keywords = {
            keyword: getattr(settings, key)
            for key, keyword in self.options
            if getattr(settings, key, None) is not None
        }
        return str(getattr(importlib.import_module(module), name)(doc, **keywords))


def json_text(doc: dict[str, Any]) -> str:
    """The report as JSON (``report.schema.json``), as ``--xgen-report`` writes it: never a
    ``NaN`` or ``Infinity``, which JSON has not (every number in it was checked when it was
    read, so one here is a bug, and a :class:`ValueError` rather than a report no reader
    accepts)."""
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


FORMATS: tuple[ReportFormat, ...] = (
    ReportFormat("json", "report", "pytest_xgen.report.formats:json_text"),
    ReportFormat("html", "html", "pytest_xgen.report.html:render_html"),
    ReportFormat(
        "markdown",
        "markdown",
        "pytest_xgen.report.markdown:render_markdown",
        (("markdown_limit", "limit"),),
    ),
)
