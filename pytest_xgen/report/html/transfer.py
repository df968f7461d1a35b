"""The HTML of a transfer check (``checks/transfer.py``), an ensembled one included."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_xgen.report.html.charts import scaled_td
from pytest_xgen.report.html.escape import (
    DASH,
    answer,
    e,
    interval,
    pre,
    rate,
    score,
    signed,
    strike_removed,
)
from pytest_xgen.report.html.parts import answers, kv_table, meta, perturbation, verdict_block
from pytest_xgen.report.html.pooled import ordered


def render_transfer(check: Mapping[str, Any]) -> str:
    """A transfer check: its prompt, the explanation with what was stripped struck, every
    evaluator's answers in both conditions, pairwise agreement, lift and verdict."""
    explanation: Mapping[str, Any] = check["explanation"]
    conditions: Mapping[str, Any] = check["conditions"]
    base, xfer = conditions["baseline"], conditions["transfer"]
    evaluators = [str(e) for e in check.get("evaluators", [])]
    parts = [meta(check, with_generator=True), f"<h5>Prompt</h5>{pre(str(check['prompt']))}"]
    parts.append(perturbation(check.get("perturbation")))
    struck, missing = strike_removed(str(explanation["output"]), explanation.get("removed", []))
    # Which part of the answer it came from, and the API of the generator that made it.
    came = ", ".join(str(explanation[k]) for k in ("source", "api") if explanation.get(k))
    parts.append(
        f'<h5>Explanation <span class="small muted">from {e(check["generator"])}'
        f" ({e(came)}); answer stripped by"
        f" {e(explanation.get('method', ''))}; the generator's answer:"
        f" <code>{e(answer(explanation.get('answer')))}</code></span></h5>"
        f'<pre class="text explanation">{struck}</pre>'
    )
    if missing:
        parts.append(
            '<p class="small">Also removed: ' + " ".join(f"<s>{e(m)}</s>" for m in missing) + "</p>"
        )
    expected_known = check.get("expected") is not None
    rows = []
    models = ordered([*evaluators, *base["models"], *xfer["models"]])
    diverged = check.get("diverged")
    for model in models:
        b = base["models"].get(model, {})
        t = xfer["models"].get(model, {})
        tag = ' <span class="tag warn">diverged</span>' if model == diverged else ""
        unparseable = f"{b.get('unparseable', 0)} / {t.get('unparseable', 0)}"
        rows.append(
            f'<tr><th class="mono">{e(model)}{tag}</th>'
            f"<td>{answers(b.get('answers', []), b.get('correct'))}</td>"
            f"<td>{answers(t.get('answers', []), t.get('correct'))}</td>"
            f'<td class="num">{rate(b.get("accuracy"))} \u2192 {rate(t.get("accuracy"))}</td>'
            f'<td class="num">{e(unparseable)}</td></tr>'
        )
    parts.append(
        '<h5>Answers</h5><table class="data"><thead><tr><th>Model</th><th>Baseline answers</th>'
        '<th>Transfer answers</th><th class="num">Accuracy (baseline \u2192 transfer)</th>'
        '<th class="num">Unparseable</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
    )
    if not expected_known:
        parts.append('<p class="small muted">No expected answer: accuracy not measured.</p>')
    if check.get("ensemble"):
        parts.append(_ensemble(check))
    parts.append(_outputs(models, base, xfer))
    parts.append(_pairs_table(base, xfer))
    parts.append(_stats(check, base, xfer))
    parts.append(verdict_block(check))
    if check.get("options"):
        options = kv_table(check["options"])
        parts.append(f'<details class="sub"><summary>Options</summary>{options}</details>')
    return "".join(parts)


def _outputs(models: Sequence[str], base: Mapping[str, Any], xfer: Mapping[str, Any]) -> str:
    blocks = []
    total = 0
    for condition in (base, xfer):
        for model in models:
            outputs = condition["models"].get(model, {}).get("outputs", [])
            if not outputs:
                continue
            total += len(outputs)
            items = "".join(f"<li>{pre(str(o), 'text raw')}</li>" for o in outputs)
            blocks.append(
                f"<h6>{e(condition.get('name', ''))} \u00b7 <code>{e(model)}</code></h6>"
                f'<ol class="outputs">{items}</ol>'
            )
    if not blocks:
        return ""
    return (
        f'<details class="sub"><summary>Raw outputs ({total})</summary>{"".join(blocks)}</details>'
    )


def _pair_cell(pair: Mapping[str, Any] | None) -> str:
    if pair is None:
        return '<td class="num muted">\u2014</td>'
    excluded = f" (+{pair['excluded']} excluded)" if pair.get("excluded") else ""
    text = f"{rate(pair.get('rate'))} \u00b7 {pair['agree']}/{pair['total']}{excluded}"
    return scaled_td(pair.get("rate"), text)


def _pairs_table(base: Mapping[str, Any], xfer: Mapping[str, Any]) -> str:
    def keyed(condition: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
        return {(p["a"], p["b"]): p for p in condition["consistency"]["pairs"]}

    b, t = keyed(base), keyed(xfer)
    keys = ordered([*b, *t])
    if not keys:
        return '<p class="small muted">Fewer than two evaluators: no pairs to compare.</p>'
    rows = "".join(
        f'<tr><th class="mono">{e(a)} \u00d7 {e(c)}</th>{_pair_cell(b.get((a, c)))}'
        f"{_pair_cell(t.get((a, c)))}</tr>"
        for a, c in keys
    )
    return (
        '<h5>Pairwise agreement</h5><table class="data"><thead><tr><th>Pair</th>'
        '<th class="num">Baseline</th><th class="num">Transfer</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _stats(check: Mapping[str, Any], base: Mapping[str, Any], xfer: Mapping[str, Any]) -> str:
    def consistency(condition: Mapping[str, Any]) -> str:
        c = condition["consistency"]
        std = "" if c.get("std") is None else f" \u00b1 {c['std']:.2f}"
        return (
            f"{rate(c.get('mean'))}{std} ({c['agree']}/{c['total']}),"
            f" interval {interval(condition.get('interval'))}"
        )

    def breakdown(condition: Mapping[str, Any]) -> str:
        b = condition.get("breakdown")
        if not b:
            return DASH
        return (
            f"consistent-correct {rate(b['consistent_correct'])}, consistent-wrong"
            f" {rate(b['consistent_wrong'])}, inconsistent {rate(b['inconsistent'])}"
        )

    rows = [
        ("Baseline consistency", consistency(base)),
        ("Transfer consistency", consistency(xfer)),
        ("Lift", f"{signed(check.get('lift'))}, interval {interval(check.get('lift_interval'))}"),
        ("Baseline breakdown", breakdown(base)),
        ("Transfer breakdown", breakdown(xfer)),
    ]
    if check.get("samples_used") is not None:
        auto = (check.get("options") or {}).get("samples") == "auto"
        rows.append(("Samples used", f"{check['samples_used']}{' (samples=auto)' if auto else ''}"))
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    return f'<h5>Lift and intervals</h5><table class="kvt">{body}</table>'


def _ensemble(check: Mapping[str, Any]) -> str:
    """The ensembled explanation step by step, and its lift next to each generator's own."""
    ens: Mapping[str, Any] = check["ensemble"]
    how = f"scored by {ens.get('scorer')} (mean token NLL)" if ens.get("scorer") else "by agreement"
    rows = []
    for number, step in enumerate(ens.get("steps", []), 1):
        for c in step.get("candidates", []):
            won = bool(c.get("chosen"))
            status = "kept" if won else (c.get("dropped") or "")
            row_cls = ' class="chosen"' if won else ""
            rows.append(
                f'<tr{row_cls}><td class="num">{number}</td>'
                f'<td class="mono">{e(c.get("generator"))} #{e(c.get("sample"))}</td>'
                f"<td>{e(c.get('sentence') or '')}</td>"
                f'<td class="num">{score(c.get("score", c.get("agreement")))}</td>'
                f"<td>{e(status)}</td></tr>"
            )
    singles = "".join(
        f'<tr><th class="mono">{e(s["generator"])}</th><td class="num">'
        f'{rate(s.get("consistency"))}</td><td class="num">{signed(s.get("lift"))}</td></tr>'
        for s in check.get("singles", [])
    )
    return (
        f'<h5>Ensemble <span class="small muted">of {e(", ".join(ens.get("generators", [])))},'
        f" {e(how)}; stopped: {e(ens.get('stop_reason'))}; {e(ens.get('calls'))} call(s)"
        "</span></h5>"
        '<table class="data"><thead><tr><th>Model</th><th class="num">Transfer consistency'
        '</th><th class="num">Lift</th></tr></thead><tbody>'
        f'<tr class="chosen"><th>ensemble</th><td class="num">'
        f"{rate(check['conditions']['transfer']['consistency']['mean'])}</td>"
        f'<td class="num">{signed(check.get("lift"))}</td></tr>{singles}</tbody></table>'
        '<details class="sub"><summary>Candidates, step by step</summary>'
        '<table class="data ensemble"><thead><tr><th class="num">Step</th><th>From</th>'
        '<th>Candidate</th><th class="num">Score</th><th></th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></details>"
    )
