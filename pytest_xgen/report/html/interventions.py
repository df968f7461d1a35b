"""The HTML of the interventions (``checks/interventions.py``) and of mirrored questions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_xgen.report.html.charts import share_chart
from pytest_xgen.report.html.escape import e, signed
from pytest_xgen.report.html.parts import check_badge


def render_intervention(check: Mapping[str, Any]) -> str:
    """An intervention on the explanation (an added mistake, a paraphrase, filler): its
    measure with interval and threshold, its reasons, and per condition, the original one
    first, the share of the reference answer."""
    return _intervention(check, [check.get("original", {}), *check.get("arms", [])])


def render_early_answering(check: Mapping[str, Any]) -> str:
    """Early answering, as :func:`render_intervention` shows an intervention, its conditions
    read left to right: no step, each cut, every step."""
    return _intervention(check, [*check.get("arms", []), check.get("original", {})])


def _intervention(check: Mapping[str, Any], conditions: Sequence[Mapping[str, Any]]) -> str:
    kind = check.get("kind")
    reasons = "".join(f"<li>{e(r)}</li>" for r in check.get("reasons", []))
    interval = check.get("interval")
    shown = "" if not interval else f" [{signed(interval[0])}, {signed(interval[1])}]"
    value = check.get("value")
    measure = (
        f"<p>{e(check.get('measure'))}: <strong>{e(signed(value) if value is not None else '-')}"
        f"</strong>{e(shown)}"
        + (
            f" (threshold {e(check.get('threshold'))})"
            if check.get("threshold") is not None
            else ""
        )
        + "</p>"
    )
    return (
        f"<h5>{e(str(kind).replace('_', ' '))} {check_badge(check)}</h5>"
        f"<p>{e(check.get('summary'))}</p>{measure}"
        + (f"<ul>{reasons}</ul>" if reasons else "")
        + share_chart(conditions, check.get("reference"))
    )


def render_mirrored(check: Mapping[str, Any]) -> str:
    """Mirrored questions: both questions, and per evaluator its contradictory answer pairs."""
    rows = "".join(
        f'<tr><th class="mono">{e(model)}</th><td class="num">{e(c.get("contradictory"))}'
        f'/{e(c.get("pairs"))}</td><td class="mono">'
        + e(
            ", ".join(
                f"{a}/{b}"
                for a, b in zip(
                    check.get("answers", {}).get(model, []),
                    check.get("mirrored", {}).get(model, []),
                    strict=False,
                )
            )
        )
        + "</td></tr>"
        for model, c in check.get("contradictions", {}).items()
    )
    return (
        f"<h5>mirrored questions {check_badge(check)}</h5>"
        f"<p>{e(check.get('summary'))}</p>"
        f'<table class="kvt"><tr><th>Question</th><td>{e(check.get("prompt"))}</td></tr>'
        f"<tr><th>Mirror ({e(check.get('relation'))})</th><td>{e(check.get('mirror'))}"
        "</td></tr></table>"
        "<table><tr><th>evaluator</th><th>contradictory</th><th>answers (question/mirror)</th>"
        f"</tr>{rows}</table>"
    )
