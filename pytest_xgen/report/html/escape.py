"""Escaping and number formatting for the HTML report.

Every string that comes from the run (prompts, model outputs, model names, node ids) goes
through :func:`e` before it is put in the page; the helpers here that return HTML escape
what they are given.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from typing import Any

from pytest_xgen.core import printable

DASH = "\u2014"  # what a missing number reads as
_DIFF = re.compile(r"\[-(.*?)-\]|\{\+(.*?)\+\}", re.DOTALL)


def e(value: Any) -> str:
    """``value`` as text, escaped for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def rate(value: float | None) -> str:
    """A rate with two decimals, or a dash where there is none."""
    return printable.rate(value, missing=DASH)


def signed(value: float | None) -> str:
    """A change with its sign and two decimals, or a dash where there is none."""
    return printable.signed(value, missing=DASH)


def interval(bounds: Sequence[float] | None) -> str:
    """``[low, high]`` with two decimals, or a dash where there is none."""
    return DASH if bounds is None else f"[{bounds[0]:.2f}, {bounds[1]:.2f}]"


def pval(value: float | None) -> str:
    """A p-value with three significant digits, or a dash where there is none."""
    return DASH if value is None else f"{value:.3g}"


def score(value: Any) -> str:
    """A score (a surprisal, an agreement) with two decimals, or a dash where there is none."""
    return DASH if value is None else f"{float(value):.2f}"


def answer(value: Any) -> str:
    """A JSON answer as people write it: 7.0 as 7, true as true, a string unquoted."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value)
    return json.dumps(value, sort_keys=True)


def pre(text: str, cls: str = "text") -> str:
    """``text`` escaped in a ``<pre>`` of class ``cls``."""
    return f'<pre class="{cls}">{e(text)}</pre>'


def bullets(items: Sequence[Any], cls: str) -> str:
    """``items`` escaped as a ``<ul>`` of class ``cls``; nothing for no items."""
    if not items:
        return ""
    return f'<ul class="{cls}">' + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>"


def render_diff(diff: str) -> str:
    """An inline-marked diff (``[-old-]{+new+}``) as escaped HTML with ``<del>``/``<ins>``."""
    out: list[str] = []
    position = 0
    for match in _DIFF.finditer(diff):
        out.append(e(diff[position : match.start()]))
        if match.group(1) is not None:
            out.append(f"<del>{e(match.group(1))}</del>")
        else:
            out.append(f"<ins>{e(match.group(2))}</ins>")
        position = match.end()
    out.append(e(diff[position:]))
    return "".join(out)


def strike_removed(output: str, removed: Sequence[str]) -> tuple[str, list[str]]:
    """``output`` as escaped HTML with every occurrence of each ``removed`` string inside
    ``<s>``, and the removed strings that do not occur in it (to be shown separately)."""
    spans: list[tuple[int, int]] = []
    missing: list[str] = []
    for text in removed:
        if not text:
            continue
        start = output.find(text)
        if start < 0:
            missing.append(text)
        while start >= 0:
            spans.append((start, start + len(text)))
            start = output.find(text, start + len(text))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    out: list[str] = []
    position = 0
    for start, end in merged:
        out.append(e(output[position:start]))
        out.append(f'<s title="removed before the evaluators saw it">{e(output[start:end])}</s>')
        position = end
    out.append(e(output[position:]))
    return "".join(out), missing
