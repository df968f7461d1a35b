"""The HTML of an invariance check (``checks/invariance.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_xgen.report.html.escape import e, pre
from pytest_xgen.report.html.parts import answers, meta, perturbation, verdict_block


def render_invariant(check: Mapping[str, Any]) -> str:
    """An invariance check: the base and perturbed prompts as a diff, each evaluator's answers
    to both and whether they flipped, and the verdict."""
    flipped = {str(m) for m in check.get("flipped", [])}
    parts = [meta(check, with_generator=False)]
    change = check.get("perturbation")
    if change:
        parts.append(perturbation(change, "Base \u2192 perturbed prompt"))
    else:
        parts.append(f"<h5>Base prompt</h5>{pre(str(check['prompt']))}")
        parts.append(f"<h5>Perturbed prompt</h5>{pre(str(check.get('perturbed', '')))}")
    rows = []
    for model, entry in check.get("models", {}).items():
        mark = (
            '<span class="tag bad">\u2717 flipped</span>'
            if model in flipped
            else '<span class="tag ok">\u2713 same</span>'
        )
        rows.append(
            f'<tr><th class="mono">{e(model)}</th><td>{answers(entry.get("base", []))}</td>'
            f"<td>{answers(entry.get('perturbed', []))}</td>"
            f'<td class="num">{entry.get("agree", 0)}/{entry.get("total", 0)}</td>'
            f"<td>{mark}</td></tr>"
        )
    parts.append(
        '<h5>Answers</h5><table class="data"><thead><tr><th>Model</th><th>Base</th>'
        '<th>Perturbed</th><th class="num">Unchanged</th><th>Flipped</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    parts.append(verdict_block(check))
    return "".join(parts)
