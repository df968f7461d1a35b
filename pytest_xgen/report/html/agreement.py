"""The agreement section of the HTML report: heatmaps pooled over the run's transfer checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_xgen.report.html.charts import grid_svg, legend
from pytest_xgen.report.html.escape import e
from pytest_xgen.report.html.pooled import (
    has_transfer,
    pooled_agreement,
    transfer_checks,
    transfer_matrix,
)


def agreement(report: Mapping[str, Any]) -> str:
    """The evaluator-agreement heatmaps of both conditions, the transfer matrix and the
    colour scale's legend; a note where the run has no transfer check."""
    head = '<section id="agreement"><h2>Agreement</h2>'
    checks = transfer_checks(report)
    if not checks:
        return (
            head + '<p class="empty">No transfer checks in this run, so there is no evaluator'
            " agreement to show.</p></section>"
        )
    figures = []
    for condition, caption in (
        ("baseline", "Baseline: answers without an explanation"),
        ("transfer", "Transfer: answers given the explanation"),
    ):
        evaluators, pairs = pooled_agreement(report, condition)
        svg = grid_svg(
            f"heatmap-{condition}",
            f"Evaluator agreement, {condition}",
            evaluators,
            evaluators,
            pairs,
            diagonal=True,
            relation="\u00d7",
        )
        figures.append(
            f'<figure class="heat" data-condition="{condition}">{svg}'
            f"<figcaption>{e(caption)}</figcaption></figure>"
        )
    generators, evaluators, counts = transfer_matrix(report)
    svg = grid_svg(
        "transfer-matrix",
        "Transfer matrix: evaluator answers equal to the generator's answer",
        generators,
        evaluators,
        counts,
        diagonal=False,
        relation="\u2192",
    )
    figures.append(
        f'<figure class="heat matrix">{svg}<figcaption>Transfer matrix: rows are generators,'
        " columns evaluators; the share of the evaluator's answers (given the explanation)"
        " exactly equal to the generator's own answer</figcaption></figure>"
    )
    n_tests = sum(1 for test in report.get("tests", []) if has_transfer(test))
    return (
        head + f'<p class="small">Pooled over {len(checks)} transfer check(s) in {n_tests}'
        " test(s). Each cell prints the agreement rate and agreeing/total answer pairs; the"
        " colour repeats the rate.</p>"
        f'<div class="figures">{"".join(figures)}</div>'
        f'<div class="legend-box"><span class="small">Scale</span>{legend()}</div></section>'
    )
