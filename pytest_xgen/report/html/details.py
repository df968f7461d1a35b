"""The drill-down of the HTML report: every test with each of its checks, each check
rendered by the ``html`` function its kind's row in the check-kind registry
(:data:`pytest_xgen.checks.kinds.KINDS`) names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_xgen.checks.kinds import KINDS
from pytest_xgen.core.printable import money
from pytest_xgen.report.html.escape import e, rate, signed
from pytest_xgen.report.html.parts import check_badge, kv_table, outcome_tag, verdict_badge
from pytest_xgen.report.status import row_status


def render_check(check: Mapping[str, Any]) -> str:
    """A check's data as HTML, by its kind's renderer; the data as a table of keys and values
    for a kind that is not registered or has no renderer."""
    found = KINDS.get(str(check.get("kind")))
    render = None if found is None else found.html_renderer()
    return kv_table(check) if render is None else render(check)


def _test_details(index: int, test: Mapping[str, Any]) -> str:
    checks = test.get("checks", [])
    metrics = test.get("metrics")
    brief = ""
    if metrics:
        brief = (
            f'<span class="small muted">baseline {rate(metrics["baseline_consistency"]["value"])}'
            f" \u2192 transfer {rate(metrics['consistency']['value'])}"
            f" (lift {signed(metrics['lift'])})</span>"
        )
    summary = (
        f'<summary><span class="mono nodeid">{e(test["nodeid"])}</span> '
        f"{verdict_badge(row_status(test) if checks else None)} "
        f"{outcome_tag(test.get('outcome'))} {brief}</summary>"
    )
    info = (
        f'<p class="small muted">{e(test.get("calls", 0))} call(s), {e(test.get("live", 0))}'
        f" live, {e(test.get('tokens', 0) + test.get('replayed_tokens', 0))} token(s), cost "
        f"{e(money(test.get('cost', 0) + test.get('replayed_cost', 0)))}</p>"
    )
    if not checks:
        body = '<p class="small muted">No xgen checks recorded for this test.</p>'
    else:
        sections = []
        for number, check in enumerate(checks, 1):
            kind = str(check.get("kind"))
            content = render_check(check)
            sections.append(
                f'<section class="check check-{e(kind)}"><h4>Check {number}: {e(kind)} '
                f"{check_badge(check)}</h4>{content}</section>"
            )
        body = "".join(sections)
    return (
        f'<details class="test" id="test-{index}">{summary}'
        f'<div class="body">{info}{body}</div></details>'
    )


def drilldown(report: Mapping[str, Any]) -> str:
    """Every test as a collapsible section with each of its checks rendered."""
    tests = report.get("tests", [])
    if not tests:
        return ""
    return (
        '<section id="details"><h2>Details</h2>'
        + "".join(_test_details(i, t) for i, t in enumerate(tests))
        + "</section>"
    )
