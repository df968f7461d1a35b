"""Pieces of the HTML report that the page and several check renderers share: verdict
badges, answer chips, a check's verdict block, its facts line and a perturbation's diff."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_xgen.report.html.escape import DASH, answer, bullets, e, render_diff
from pytest_xgen.report.status import asserted, label

VERDICT_MARK = {
    "pass": "\u2713",
    "fail": "\u2717",
    "inconclusive": "?",
    "measured": "\u2013",
    "error": "!",
}
MISSING = f'<span class="muted">{DASH}</span>'


def verdict_badge(verdict: str | None) -> str:
    """A verdict (or status) as a coloured badge with its mark; a dash for none."""
    if verdict is None:
        return MISSING
    mark = VERDICT_MARK.get(verdict, "")
    cls = verdict if verdict in VERDICT_MARK else "other"
    return f'<span class="verdict v-{cls}">{mark} {e(label(verdict))}</span>'


def check_badge(check: Mapping[str, Any]) -> str:
    """A check's verdict, or ``measured, not asserted`` where nothing asserted it."""
    return verdict_badge(check.get("verdict") if asserted(check) else "measured")


def outcome_tag(outcome: object) -> str:
    """pytest's outcome of a test, a failed or errored one marked."""
    cls = " bad" if outcome in ("failed", "error") else ""
    return f'<span class="tag{cls}">{e(outcome or "")}</span>'


def answers(values: Sequence[Any], correct: Sequence[bool] | None = None) -> str:
    """Answers as chips, each marked right or wrong where ``correct`` says."""
    if not values:
        return MISSING
    chips = []
    for i, value in enumerate(values):
        if value is None:
            chips.append('<span class="ans none" title="no answer parsed">none</span>')
            continue
        mark, cls, tip = "", "", ""
        if correct is not None and i < len(correct):
            ok = bool(correct[i])
            mark = " \u2713" if ok else " \u2717"
            cls = " ok" if ok else " bad"
            tip = ' title="correct"' if ok else ' title="wrong"'
        chips.append(f'<span class="ans{cls}"{tip}>{e(answer(value))}{mark}</span>')
    return " ".join(chips)


def kv_table(values: Mapping[str, Any]) -> str:
    """Data as a table of keys and their JSON values: how a check without a renderer of its
    own is shown."""
    rows = "".join(
        f'<tr><th class="mono">{e(k)}</th><td><code>{e(json.dumps(v))}</code></td></tr>'
        for k, v in values.items()
    )
    return f'<table class="kvt small">{rows}</table>'


def verdict_block(check: Mapping[str, Any]) -> str:
    """A check's verdict with its reasons, and its notes."""
    reasons = bullets(check.get("reasons", []), "reasons")
    notes = check.get("notes", [])
    note_html = (
        f'<p class="small"><strong>Notes</strong></p>{bullets(notes, "notes")}' if notes else ""
    )
    return f'<div class="verdict-block">Verdict {check_badge(check)}{reasons}</div>' + note_html


def meta(check: Mapping[str, Any], *, with_generator: bool) -> str:
    """A check's facts line: its generator, evaluators, answer spec and expected answer."""

    def item(key: str, value: str) -> str:
        return f'<span class="kv"><span class="k">{key}</span> {value}</span>'

    evaluators = ", ".join(f"<code>{e(m)}</code>" for m in check.get("evaluators", []))
    items = [
        item("generator", f"<code>{e(check.get('generator'))}</code>") if with_generator else "",
        item("evaluators", evaluators),
        item("answer", e(check.get("answer_spec", ""))),
        item("expected", f"<code>{e(answer(check.get('expected')))}</code>"),
    ]
    return '<p class="meta">' + " ".join(i for i in items if i) + "</p>"


def perturbation(change: Mapping[str, Any] | None, heading: str = "Perturbation") -> str:
    """A perturbed prompt as a diff with its list of edits; nothing without one."""
    if not change:
        return ""
    edits = change.get("edits", [])
    return (
        f'<h5>{e(heading)} <span class="small muted">(deleted text struck, inserted text'
        " underlined)</span></h5>"
        f'<pre class="text diff">{render_diff(str(change.get("diff", "")))}</pre>'
        + (
            bullets(edits, "edits")
            if edits
            else '<p class="small muted">No edits: the prompt is unchanged.</p>'
        )
    )
