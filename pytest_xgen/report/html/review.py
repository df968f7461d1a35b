"""The HTML of a step review (``checks/review.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_xgen.report.html.escape import e, pre, rate
from pytest_xgen.report.html.parts import verdict_block
from pytest_xgen.report.html.pooled import ordered


def render_review(check: Mapping[str, Any]) -> str:
    """A step review: each step with every evaluator's verdict and reason, the first step each
    disputes, and the verdict."""
    reviews: Mapping[str, Mapping[str, Any]] = check.get("reviews", {})
    evaluators = ordered([*(str(m) for m in check.get("evaluators", [])), *reviews])
    steps = [str(s) for s in check.get("steps", [])]
    marks = {
        True: ("ok", "\u2713 agree"),
        False: ("bad", "\u2717 disagree"),
        None: ("unk", "? not stated"),
    }
    rows = []
    for i, step in enumerate(steps):
        number = i + 1
        cells = []
        disputed_here = False
        for model in evaluators:
            review = reviews.get(model, {})
            verdicts = review.get("verdicts", [])
            verdict = verdicts[i] if i < len(verdicts) else None
            cls, text = marks.get(verdict, marks[None])
            first = review.get("first_disputed") == number
            disputed_here = disputed_here or first
            reason = review.get("reasons", {}).get(str(number))
            cells.append(
                f'<td><span class="tag {cls}">{text}</span>'
                + (' <span class="tag warn">first disputed</span>' if first else "")
                + (f'<div class="small">{e(reason)}</div>' if reason else "")
                + "</td>"
            )
        row_cls = ' class="disputed"' if disputed_here else ""
        rows.append(
            f'<tr{row_cls}><td class="num">{number}</td><td>{e(step)}</td>{"".join(cells)}</tr>'
        )
    firsts = [reviews.get(m, {}).get("first_disputed") for m in evaluators]
    first_row = "".join(f"<td>{'none' if f is None else f'step {e(f)}'}</td>" for f in firsts)
    head = "".join(f'<th class="mono">{e(m)}</th>' for m in evaluators)
    return (
        f"<h5>Prompt</h5>{pre(str(check['prompt']))}"
        f'<h5>Steps <span class="small muted">step agreement'
        f" {rate(check.get('step_agreement'))}</span></h5>"
        f'<table class="data review"><thead><tr><th class="num">#</th><th>Step</th>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody>"
        f'<tfoot><tr><th colspan="2">First disputed step</th>{first_row}</tr></tfoot></table>'
        + verdict_block(check)
    )
