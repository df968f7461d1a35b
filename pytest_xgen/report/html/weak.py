"""The HTML of the weak-step diagnosis and its repair (``checks/weak.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_xgen.report.html.escape import e, pre, rate, score, signed


def render_weak_steps(check: Mapping[str, Any]) -> str:
    """Weak steps: each sentence with its surprisal and the agreement without it, the weak
    ones and the weakest marked."""
    weakest = check.get("weakest")
    rows = []
    for i, s in enumerate(check.get("sentences", [])):
        classes = [c for c in ("weak" if s.get("weak") else "", "weakest" * (i == weakest)) if c]
        cls = f' class="{" ".join(classes)}"' if classes else ""
        tag = ""
        if i == weakest:
            tag = ' <span class="tag bad">weakest</span>'
        elif s.get("weak"):
            tag = ' <span class="tag warn">weak</span>'
        rows.append(
            f'<tr{cls}><td class="num">{i + 1}</td><td>{e(s.get("sentence"))}{tag}</td>'
            f'<td class="num">{score(s.get("surprisal"))}</td>'
            f'<td class="num">{rate(s.get("agreement_without"))}</td>'
            f'<td class="num">{signed(s.get("delta"))}</td></tr>'
        )
    return (
        f"<h5>Prompt</h5>{pre(str(check['prompt']))}"
        f'<h5>Sentences <span class="small muted">agreement with every sentence '
        f"{rate(check.get('agreement'))}; evaluators {e(', '.join(check.get('evaluators', [])))}"
        f"; surprisal under {e(check.get('scorer') or 'no scorer')}</span></h5>"
        '<table class="data weak-steps"><thead><tr><th class="num">#</th><th>Sentence</th>'
        '<th class="num">Surprisal (NLL)</th><th class="num">Agreement without</th>'
        f'<th class="num">Change</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def render_repair(check: Mapping[str, Any]) -> str:
    """A repair: the weak steps, and the sentence replaced with whether it was kept."""
    if check.get("index") is None:
        return render_weak_steps(check)
    outcome = "kept" if check.get("kept") else "not kept: agreement would drop"
    return render_weak_steps(check) + (
        f'<h5>Repair of sentence {int(check["index"]) + 1} <span class="small muted">'
        f"{e(outcome)}; agreement {rate(check.get('agreement_before'))} \u2192 "
        f"{rate(check.get('agreement_after'))}</span></h5>"
        f'<table class="kvt"><tr><th>Was</th><td><s>{e(check.get("original"))}</s></td></tr>'
        f"<tr><th>Now</th><td>{e(check.get('replacement') or '(no complete candidate)')}"
        "</td></tr></table>"
    )
