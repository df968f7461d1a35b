"""The HTML report: the JSON run report as one self-contained page.

Everything is inline (CSS, SVG, a few lines of script that only help printing), so the file
can be attached to a CI run or opened offline and still look the same; the page never
refers to anything outside itself. Every string that comes from the run (prompts, model
outputs, model names, node ids) goes through ``html.escape``.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pytest_xgen.core.printable import money, rate, signed
from pytest_xgen.report.status import TALLY_LABELS, asserted, counts, label, row_status

__all__ = ["pooled_agreement", "render_html", "strike_removed", "transfer_matrix"]

# ColorBrewer "Blues": one hue whose lightness falls monotonically, so the order of values
# survives greyscale printing and colour-vision deficiencies.
_BLUES = (
    (247, 251, 255),
    (222, 235, 247),
    (198, 219, 239),
    (158, 202, 225),
    (107, 174, 214),
    (66, 146, 198),
    (33, 113, 181),
    (8, 81, 156),
    (8, 48, 107),
)
_DARK_INK = "#111827"
_DIAGONAL_FILL = "#e5e7eb"

_CELL_W = 92
_CELL_H = 54
# Average advance of a 13px sans-serif glyph: SVG cannot measure text, so label room is
# estimated from the character count and generous enough for wide fonts.
_CHAR_W = 7.6
_MAX_LABEL = 26
_LABEL_ANGLE = math.radians(35)

_T = TypeVar("_T")
_DIFF = re.compile(r"\[-(.*?)-\]|\{\+(.*?)\+\}", re.DOTALL)
_VERDICT_MARK = {
    "pass": "\u2713",
    "fail": "\u2717",
    "inconclusive": "?",
    "measured": "\u2013",
    "error": "!",
}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _rate(value: float | None) -> str:
    return rate(value, missing="\u2014")


def _signed(value: float | None) -> str:
    return signed(value, missing="\u2014")


def _interval(interval: Sequence[float] | None) -> str:
    return "\u2014" if interval is None else f"[{interval[0]:.2f}, {interval[1]:.2f}]"


def _pval(value: float | None) -> str:
    return "\u2014" if value is None else f"{value:.3g}"


def _value(value: Any) -> str:
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


def _same(a: Any, b: Any) -> bool:
    # JSON equality, not Python's: true is not 1, while 7 and 7.0 are the same number.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


# --- colour scale -------------------------------------------------------------------------


def _rgb(value: float) -> tuple[int, int, int]:
    value = min(1.0, max(0.0, value))
    position = value * (len(_BLUES) - 1)
    low = min(int(position), len(_BLUES) - 2)
    t = position - low
    a, b = _BLUES[low], _BLUES[low + 1]
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _fill(value: float) -> str:
    r, g, b = _rgb(value)
    return f"#{r:02x}{g:02x}{b:02x}"


def _ink(value: float) -> str:
    """White or near-black, whichever contrasts more with the cell colour (WCAG luminance)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = _rgb(value)
    lum = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    dark = 0.0137  # luminance of _DARK_INK
    return "#ffffff" if 1.05 / (lum + 0.05) > (lum + 0.05) / (dark + 0.05) else _DARK_INK


def _scaled_td(value: float | None, text: str, title: str = "") -> str:
    tip = f' title="{_e(title)}"' if title else ""
    if value is None:
        return f'<td class="num"{tip}>{_e(text)}</td>'
    return (
        f'<td class="num scaled" style="background:{_fill(value)};color:{_ink(value)}"{tip}>'
        f"{_e(text)}</td>"
    )


# --- pooled numbers -----------------------------------------------------------------------


def _transfer_checks(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        check
        for test in report.get("tests", [])
        for check in test.get("checks", [])
        if check.get("kind") == "transfer"
    ]


def _ordered(names: Iterable[_T]) -> list[_T]:
    return list(dict.fromkeys(names))


def pooled_agreement(
    report: Mapping[str, Any], condition: str
) -> tuple[list[str], dict[tuple[str, str], tuple[int, int]]]:
    """Evaluator-pair agreement pooled over every transfer check of the run.

    ``condition`` is ``"baseline"`` or ``"transfer"``. Returns the evaluators in order of
    first appearance and, for each ordered pair ``(a, b)`` and its mirror ``(b, a)``, the
    summed ``(agree, total)`` of ``conditions[condition].consistency.pairs``."""
    checks = _transfer_checks(report)
    evaluators = _ordered(e for c in checks for e in c.get("evaluators", []))
    sums: dict[tuple[str, str], tuple[int, int]] = {}
    for check in checks:
        for pair in check["conditions"][condition]["consistency"]["pairs"]:
            a, b = str(pair["a"]), str(pair["b"])
            evaluators = _ordered([*evaluators, a, b])
            agree, total = sums.get((a, b), (0, 0))
            sums[(a, b)] = (agree + int(pair["agree"]), total + int(pair["total"]))
            sums[(b, a)] = sums[(a, b)]
    return evaluators, sums


def transfer_matrix(
    report: Mapping[str, Any],
) -> tuple[list[str], list[str], dict[tuple[str, str], tuple[int, int]]]:
    """How often each evaluator, given a generator's explanation, gave that generator's answer.

    Pooled over every transfer check of the run: for ``(generator, evaluator)`` the number
    of the evaluator's non-null transfer answers equal (as JSON values) to
    ``explanation.answer``, and the number compared. Checks whose explanation has no answer
    are skipped. Returns generators, evaluators and the counts."""
    checks = _transfer_checks(report)
    generators = _ordered(str(c.get("generator")) for c in checks)
    evaluators: list[str] = []
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    for check in checks:
        models = check["conditions"]["transfer"]["models"]
        evaluators = _ordered([*evaluators, *check.get("evaluators", []), *models])
        reference = check["explanation"]["answer"]
        if reference is None:
            continue
        generator = str(check.get("generator"))
        for model, entry in models.items():
            given = [a for a in entry["answers"] if a is not None]
            agree, total = counts.get((generator, model), (0, 0))
            counts[(generator, model)] = (
                agree + sum(_same(a, reference) for a in given),
                total + len(given),
            )
    return generators, evaluators, counts


# --- text helpers -------------------------------------------------------------------------


def render_diff(diff: str) -> str:
    """An inline-marked diff (``[-old-]{+new+}``) as escaped HTML with ``<del>``/``<ins>``."""
    out: list[str] = []
    position = 0
    for match in _DIFF.finditer(diff):
        out.append(_e(diff[position : match.start()]))
        if match.group(1) is not None:
            out.append(f"<del>{_e(match.group(1))}</del>")
        else:
            out.append(f"<ins>{_e(match.group(2))}</ins>")
        position = match.end()
    out.append(_e(diff[position:]))
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
        out.append(_e(output[position:start]))
        out.append(f'<s title="removed before the evaluators saw it">{_e(output[start:end])}</s>')
        position = end
    out.append(_e(output[position:]))
    return "".join(out), missing


def _verdict_badge(verdict: str | None) -> str:
    if verdict is None:
        return '<span class="muted">\u2014</span>'
    mark = _VERDICT_MARK.get(verdict, "")
    cls = verdict if verdict in _VERDICT_MARK else "other"
    return f'<span class="verdict v-{cls}">{mark} {_e(label(verdict))}</span>'


def _check_badge(check: Mapping[str, Any]) -> str:
    """A check's verdict, or ``measured, not asserted`` where nothing asserted it."""
    return _verdict_badge(check.get("verdict") if asserted(check) else "measured")


def _outcome_tag(outcome: object) -> str:
    """pytest's outcome of a test, a failed or errored one marked."""
    cls = " bad" if outcome in ("failed", "error") else ""
    return f'<span class="tag{cls}">{_e(outcome or "")}</span>'


def _answers(values: Sequence[Any], correct: Sequence[bool] | None = None) -> str:
    if not values:
        return '<span class="muted">\u2014</span>'
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
        chips.append(f'<span class="ans{cls}"{tip}>{_e(_value(value))}{mark}</span>')
    return " ".join(chips)


def _pre(text: str, cls: str = "text") -> str:
    return f'<pre class="{cls}">{_e(text)}</pre>'


def _list(items: Sequence[Any], cls: str) -> str:
    if not items:
        return ""
    return f'<ul class="{cls}">' + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


# --- SVG grids ----------------------------------------------------------------------------


def _label(name: str) -> str:
    return name if len(name) <= _MAX_LABEL else name[: _MAX_LABEL - 1] + "\u2026"


def _label_text(name: str, attrs: str) -> str:
    shown = _label(name)
    tip = f"<title>{_e(name)}</title>" if shown != name else ""
    return f"<text {attrs}>{tip}{_e(shown)}</text>"


def _grid_svg(
    svg_id: str,
    title: str,
    rows: Sequence[str],
    cols: Sequence[str],
    cells: Mapping[tuple[str, str], tuple[int, int]],
    *,
    diagonal: bool,
    relation: str,
) -> str:
    """A heatmap: one cell per (row, column) with its rate and ``agree/total`` printed."""
    row_room = max((len(_label(r)) for r in rows), default=1) * _CHAR_W
    col_room = max((len(_label(c)) for c in cols), default=1) * _CHAR_W
    left = math.ceil(row_room) + 14
    # Names wider than a cell are slanted so neighbouring column labels never overlap.
    slanted = col_room > _CELL_W - 10
    if slanted:
        top = math.ceil(col_room * math.sin(_LABEL_ANGLE)) + 16
        right = max(8, math.ceil(col_room * math.cos(_LABEL_ANGLE) - _CELL_W / 2) + 8)
    else:
        top, right = 26, 6
    width = left + len(cols) * _CELL_W + right
    height = top + len(rows) * _CELL_H + 4
    out = [
        f'<svg id="{_e(svg_id)}" class="grid" role="img" aria-labelledby="{_e(svg_id)}-title"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<title id="{_e(svg_id)}-title">{_e(title)}</title>',
    ]
    for j, col in enumerate(cols):
        cx = left + j * _CELL_W + _CELL_W / 2
        if slanted:
            attrs = f'class="lab" transform="translate({cx - 4:.1f},{top - 8}) rotate(-35)"'
        else:
            attrs = f'class="lab" x="{cx:.1f}" y="{top - 9}" text-anchor="middle"'
        out.append(_label_text(col, attrs))
    for i, row in enumerate(rows):
        y = top + i * _CELL_H
        out.append(
            _label_text(
                row, f'class="lab" x="{left - 8}" y="{y + _CELL_H / 2 + 4:.1f}" text-anchor="end"'
            )
        )
        for j, col in enumerate(cols):
            x = left + j * _CELL_W
            out.append(_grid_cell(x, y, row, col, cells.get((row, col)), diagonal, relation))
    out.append("</svg>")
    return "".join(out)


def _grid_cell(
    x: int,
    y: int,
    row: str,
    col: str,
    count: tuple[int, int] | None,
    diagonal: bool,
    relation: str,
) -> str:
    cx, cy = x + _CELL_W / 2, y + _CELL_H / 2
    rect = f'<rect x="{x + 1}" y="{y + 1}" width="{_CELL_W - 2}" height="{_CELL_H - 2}" rx="3"'
    data = f'data-row="{_e(row)}" data-col="{_e(col)}"'
    if diagonal and row == col:
        return (
            f'<g class="cell diag" {data}><title>{_e(row)}: same model</title>'
            f'{rect} fill="{_DIAGONAL_FILL}"/>'
            f'<text class="v" x="{cx:.1f}" y="{cy + 5:.1f}" text-anchor="middle"'
            f' fill="#4b5563">\u2014</text></g>'
        )
    if count is None or count[1] == 0:
        return (
            f'<g class="cell empty" {data}><title>{_e(row)} {relation} {_e(col)}: no data</title>'
            f'{rect} fill="#ffffff" stroke="#9ca3af" stroke-dasharray="4 3"/>'
            f'<text class="n" x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle"'
            f' fill="#4b5563">n/a</text></g>'
        )
    agree, total = count
    rate = agree / total
    ink = _ink(rate)
    return (
        f'<g class="cell" {data} data-agree="{agree}" data-total="{total}"'
        f' data-rate="{rate:.4f}"><title>{_e(row)} {relation} {_e(col)}: {agree} of {total}'
        f" agree ({rate:.2f})</title>"
        f'{rect} fill="{_fill(rate)}" stroke="#ffffff"/>'
        f'<text class="v" x="{cx:.1f}" y="{cy + 1:.1f}" text-anchor="middle" fill="{ink}">'
        f"{rate:.2f}</text>"
        f'<text class="n" x="{cx:.1f}" y="{cy + 16:.1f}" text-anchor="middle" fill="{ink}">'
        f"{agree}/{total}</text></g>"
    )


def _legend() -> str:
    steps = [i / 5 for i in range(6)]
    w, h, gap = 54, 28, 2
    extra_x = len(steps) * (w + gap) + 18
    width = extra_x + 2 * (w + 96)
    out = [
        f'<svg id="legend" class="legend" role="img" aria-labelledby="legend-title"'
        f' width="{width}" height="{h + 22}" viewBox="0 0 {width} {h + 22}">',
        '<title id="legend-title">Colour scale: agreement from 0 (light) to 1 (dark)</title>',
    ]
    for i, value in enumerate(steps):
        x = i * (w + gap)
        out.append(
            f'<rect x="{x}" y="0" width="{w}" height="{h}" rx="3" fill="{_fill(value)}"'
            f' stroke="#d1d5db"/><text x="{x + w / 2}" y="{h / 2 + 5}" text-anchor="middle"'
            f' class="v" fill="{_ink(value)}">{value:.1f}</text>'
        )
    out.append(f'<text class="n" x="0" y="{h + 16}" fill="#4b5563">lower agreement</text>')
    out.append(
        f'<text class="n" x="{len(steps) * (w + gap) - gap}" y="{h + 16}" text-anchor="end"'
        ' fill="#4b5563">higher agreement</text>'
    )
    x = extra_x
    out.append(
        f'<rect x="{x}" y="0" width="{w}" height="{h}" rx="3" fill="{_DIAGONAL_FILL}"/>'
        f'<text class="v" x="{x + w / 2}" y="{h / 2 + 5}" text-anchor="middle"'
        f' fill="#4b5563">\u2014</text>'
        f'<text class="n" x="{x + w + 6}" y="{h / 2 + 4}" fill="#374151">same model</text>'
    )
    x += w + 96
    out.append(
        f'<rect x="{x + 1}" y="1" width="{w - 2}" height="{h - 2}" rx="3" fill="#ffffff"'
        f' stroke="#9ca3af" stroke-dasharray="4 3"/>'
        f'<text class="n" x="{x + w / 2}" y="{h / 2 + 4}" text-anchor="middle"'
        f' fill="#4b5563">n/a</text>'
        f'<text class="n" x="{x + w + 6}" y="{h / 2 + 4}" fill="#374151">no answers</text>'
    )
    out.append("</svg>")
    return "".join(out)


# --- page sections ------------------------------------------------------------------------


def _header(report: Mapping[str, Any]) -> str:
    run: Mapping[str, Any] = report.get("run", {})
    calls: Mapping[str, Any] = run.get("calls", {})
    tests = report.get("tests", [])
    transfer_tests = [t for t in tests if any(c["kind"] == "transfer" for c in t["checks"])]
    statuses = [row_status(test) for test in transfer_tests]
    kinds: dict[str, int] = {}
    for test in tests:
        for check in test["checks"]:
            kinds[check["kind"]] = kinds.get(check["kind"], 0) + 1
    hit = calls.get("cache_hit_rate")
    replayed, live = calls.get("replayed", 0), calls.get("live", 0)
    facts = [
        ("Created", report.get("created", "\u2014")),
        ("Record mode", run.get("record_mode", "\u2014")),
        ("Seed", run.get("seed", "\u2014")),
        ("Workers", run.get("workers", "\u2014")),
        ("Model calls", f"{replayed + live} ({replayed} replayed, {live} live)"),
        ("Cache hit rate", "\u2014" if hit is None else f"{hit:.0%}"),
        (
            "Tokens",
            f"{calls.get('tokens', 0):,} live, {calls.get('replayed_tokens', 0):,} replayed",
        ),
        (
            "Cost",
            f"{money(calls.get('cost', 0))} live, {money(calls.get('replayed_cost', 0))} "
            "replayed (when recorded)"
            + (f"; no price for {', '.join(calls['unpriced'])}" if calls.get("unpriced") else ""),
        ),
    ]
    fact_rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    models: Mapping[str, Mapping[str, str]] = run.get("models", {})
    model_rows = (
        "".join(
            f'<tr><th class="mono">{_e(name)}</th><td>'
            + " ".join(
                f'<span class="kv"><span class="k">{_e(k)}</span> <code>{_e(v)}</code></span>'
                for k, v in identity.items()
            )
            + "</td></tr>"
            for name, identity in models.items()
        )
        or '<tr><td colspan="2" class="muted">no models</td></tr>'
    )
    model_map: Mapping[str, str] = run.get("model_map", {})
    mapped = (
        ", ".join(f"<code>{_e(a)}</code> \u2192 <code>{_e(b)}</code>" for a, b in model_map.items())
        if model_map
        else '<span class="muted">none (every model as configured)</span>'
    )
    versions: Mapping[str, str] = run.get("versions", {})
    version_text = (
        " ".join(
            f'<span class="kv"><span class="k">{_e(k)}</span> <code>{_e(v)}</code></span>'
            for k, v in versions.items()
        )
        or '<span class="muted">\u2014</span>'
    )
    kind_text = ", ".join(f"{n} {_e(k)}" for k, n in sorted(kinds.items())) or "none"
    # The same tally as the terminal's and the Markdown summary's, each status a badge.
    badges = [
        f'<span class="verdict v-{status}">{_VERDICT_MARK[status]} {count} '
        f"{_e(TALLY_LABELS.get(status, status))}</span>"
        for status, count in counts(statuses)
    ]
    summary = (
        f"{len(tests)} test(s); checks: {kind_text}. "
        f"{len(transfer_tests)} test(s) with transfer checks: {' '.join(badges)}"
    )
    return (
        '<header id="run"><h1>pytest-xgen run report</h1>'
        f'<p class="summary">{summary}</p>'
        '<div class="cards">'
        f'<section class="card"><h2>Run</h2><table class="kvt facts">{fact_rows}</table></section>'
        '<section class="card wide"><h2>Models</h2>'
        f'<table class="kvt">{model_rows}</table>'
        f'<p class="small"><strong>Model map:</strong> {mapped}</p>'
        f'<p class="small"><strong>Versions:</strong> {version_text}</p></section>'
        "</div></header>"
    )


def _split_nodeid(nodeid: str) -> tuple[str, str]:
    file, sep, name = nodeid.partition("::")
    return (file, name) if sep else ("", nodeid)


def _checks_text(checks: Sequence[Mapping[str, Any]]) -> str:
    kinds: dict[str, int] = {}
    for check in checks:
        kinds[check["kind"]] = kinds.get(check["kind"], 0) + 1
    return ", ".join(f"{n} {k}" for k, n in kinds.items()) or "\u2014"


def _comparison(report: Mapping[str, Any]) -> str:
    """The comparison with a saved run (``--xgen-compare``): the gate, the suite-level tests
    and every test whose verdict is not ``unchanged``."""
    comparison = report.get("comparison")
    if not isinstance(comparison, Mapping):
        return ""
    parts = ['<section id="comparison" class="card wide"><h2>Comparison</h2>']
    gate = comparison.get("gate")
    parts.append(
        f"<p>Compared with <code>{_e(comparison.get('baseline'))}</code> at alpha "
        f"{_e(comparison.get('alpha'))}, p-values adjusted: {_e(comparison.get('adjust'))}.</p>"
    )
    pairing = comparison.get("pairing")
    if isinstance(pairing, Mapping) and pairing.get("compared"):
        parts.append(
            f"<p>{_e(pairing.get('paired'))} of {_e(pairing.get('compared'))} compared tests read "
            "the same explanation in both runs: tested one by one. The others read a new one: "
            "their changes are shown and count in the suite tests only.</p>"
        )
    if isinstance(gate, Mapping):
        limits = ", ".join(f"{m}:{d:g}" for m, d in gate.get("thresholds", {}).items())
        warnings = list(gate.get("warnings", []))
        result = gate.get("result")
        shown = {
            "fail": "fail: a drop beyond DELTA shown",
            "inconclusive": "inconclusive: a drop beyond DELTA not ruled out (fails the run)",
            "pass": (
                f"pass with {len(warnings)} warning(s): no drop beyond DELTA shown, none ruled out"
                if warnings
                else "pass: a drop beyond DELTA ruled out"
            ),
        }.get(str(result), str(result))
        lines = list(gate.get("failures", [])) + [
            f"warning: {line}" if line in warnings else line
            for line in gate.get("underpowered", [])
        ]
        parts.append(
            f"<p>Gate ({_e(limits)}): <strong>{_e(shown)}</strong></p>" + _list(lines, "gate")
        )
    rows = []
    for metric, suite in comparison.get("suite", {}).items():
        if not suite.get("tests"):
            continue
        rows.append(
            f"<tr><td>{_e(metric)}</td><td>{_e(suite.get('verdict'))}</td>"
            f"<td>{_signed(suite.get('mean_change'))}</td>"
            f"<td>{_rate(suite.get('standard_error'))}</td><td>{_e(suite.get('tests'))}</td>"
            f"<td>{_e(suite.get('margin'))}</td><td>{_pval(suite.get('p_regressed'))}</td>"
            f"<td>{_pval(suite.get('p_noninferior'))}</td>"
            f"<td>{_rate(suite.get('detectable_drop'))}</td></tr>"
        )
    if rows:
        parts.append(
            "<table><tr><th>metric</th><th>suite</th><th>mean change</th><th>se</th>"
            "<th>tests</th><th>margin</th>"
            '<th title="small: the mean dropped by more than the margin; near 1: it did not">'
            "p (a drop beyond the margin)</th>"
            '<th title="small: a drop beyond the margin is ruled out">p (held within the margin)'
            "</th><th>80% power at a mean drop of</th></tr>" + "".join(rows) + "</table>"
        )
    quiet = ("unchanged", "unpaired")
    changed = [t for t in comparison.get("tests", []) if t.get("verdict") not in quiet]
    if changed:
        items = []
        for test in changed:
            cells = []
            for metric, change in test.get("changes", {}).items():
                if change.get("delta") is None:
                    continue
                tested = (
                    f" (adjusted p {_pval(change.get('p_adjusted'))})"
                    if change.get("p_adjusted") is not None
                    else ""
                )
                cells.append(
                    f"{metric} {_rate(change.get('before'))} \u2192 {_rate(change.get('after'))}"
                    + tested
                )
            items.append(f"{test.get('verdict')}: {test.get('nodeid')}  " + "; ".join(cells))
        parts.append(_list(items, "mono"))
    return "".join(parts) + "</section>"


def _overview(report: Mapping[str, Any]) -> str:
    tests = report.get("tests", [])
    head = '<section id="overview"><h2>Tests</h2>'
    if not tests:
        return head + '<p class="empty">This run has no tests.</p></section>'
    rows = []
    group = None
    for index, test in enumerate(tests):
        nodeid = str(test["nodeid"])
        file, name = _split_nodeid(nodeid)
        # Grouping by file keeps the name column narrow without hiding part of the node id.
        if file != group:
            group = file
            rows.append(f'<tr class="group"><th colspan="9" class="mono">{_e(file)}</th></tr>')
        metrics = test.get("metrics")
        if metrics:
            base = metrics["baseline_consistency"]
            xfer = metrics["consistency"]
            acc = metrics["accuracy"]
            cells = (
                _scaled_td(base["value"], _rate(base["value"]), f"{base['agree']}/{base['total']}")
                + _scaled_td(
                    xfer["value"], _rate(xfer["value"]), f"{xfer['agree']}/{xfer['total']}"
                )
                + f'<td class="num">{_signed(metrics["lift"])}</td>'
                + (
                    _scaled_td(
                        acc["value"], _rate(acc["value"]), f"{acc['correct']}/{acc['total']}"
                    )
                    if acc
                    else '<td class="num muted">\u2014</td>'
                )
            )
        else:
            cells = '<td class="num muted">\u2014</td>' * 4
        live = f" ({test['live']} live)" if test.get("live") else ""
        rows.append(
            f'<tr><td class="mono name"><a href="#test-{index}" title="{_e(nodeid)}">'
            f"{_e(name)}</a></td>"
            f"<td>{_e(_checks_text(test['checks']))}</td>{cells}"
            f"<td>{_verdict_badge(row_status(test) if test['checks'] else None)}</td>"
            f"<td>{_outcome_tag(test.get('outcome'))}</td>"
            f'<td class="num">{_e(test.get("calls", 0))}{_e(live)}</td></tr>'
        )
    return (
        head + '<table class="overview"><thead><tr><th>Test</th><th>Checks</th>'
        '<th class="num" title="pooled agreement without an explanation">Baseline</th>'
        '<th class="num" title="pooled agreement given the explanation">Transfer</th>'
        '<th class="num">Lift</th><th class="num">Accuracy</th><th>Verdict</th>'
        '<th title="the test\'s outcome in pytest">pytest</th>'
        '<th class="num">Calls</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
        '<p class="small muted">Baseline and transfer: pooled pairwise agreement of the'
        " evaluators' answers without and with the generator's explanation; lift: transfer"
        " minus baseline; accuracy: transfer answers equal to the expected answer. The"
        " verdict is the worst over the checks that decided the test (in a test marked"
        " <code>@pytest.mark.transfers</code>); where none did, the checks were measured,"
        " not asserted; a test that stopped on an error has no verdict.</p></section>"
    )


def _agreement(report: Mapping[str, Any]) -> str:
    head = '<section id="agreement"><h2>Agreement</h2>'
    checks = _transfer_checks(report)
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
        svg = _grid_svg(
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
            f"<figcaption>{_e(caption)}</figcaption></figure>"
        )
    generators, evaluators, counts = transfer_matrix(report)
    svg = _grid_svg(
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
    n_tests = sum(
        1 for t in report.get("tests", []) if any(c["kind"] == "transfer" for c in t["checks"])
    )
    return (
        head + f'<p class="small">Pooled over {len(checks)} transfer check(s) in {n_tests}'
        " test(s). Each cell prints the agreement rate and agreeing/total answer pairs; the"
        " colour repeats the rate.</p>"
        f'<div class="figures">{"".join(figures)}</div>'
        f'<div class="legend-box"><span class="small">Scale</span>{_legend()}</div></section>'
    )


def _kv_table(values: Mapping[str, Any]) -> str:
    rows = "".join(
        f'<tr><th class="mono">{_e(k)}</th><td><code>{_e(json.dumps(v))}</code></td></tr>'
        for k, v in values.items()
    )
    return f'<table class="kvt small">{rows}</table>'


def _verdict_block(check: Mapping[str, Any]) -> str:
    reasons = _list(check.get("reasons", []), "reasons")
    notes = check.get("notes", [])
    note_html = (
        f'<p class="small"><strong>Notes</strong></p>{_list(notes, "notes")}' if notes else ""
    )
    return f'<div class="verdict-block">Verdict {_check_badge(check)}{reasons}</div>' + note_html


def _meta(check: Mapping[str, Any], *, with_generator: bool) -> str:
    def item(key: str, value: str) -> str:
        return f'<span class="kv"><span class="k">{key}</span> {value}</span>'

    evaluators = ", ".join(f"<code>{_e(e)}</code>" for e in check.get("evaluators", []))
    items = [
        item("generator", f"<code>{_e(check.get('generator'))}</code>") if with_generator else "",
        item("evaluators", evaluators),
        item("answer", _e(check.get("answer_spec", ""))),
        item("expected", f"<code>{_e(_value(check.get('expected')))}</code>"),
    ]
    return '<p class="meta">' + " ".join(i for i in items if i) + "</p>"


def _transfer_check(check: Mapping[str, Any]) -> str:
    explanation: Mapping[str, Any] = check["explanation"]
    conditions: Mapping[str, Any] = check["conditions"]
    base, xfer = conditions["baseline"], conditions["transfer"]
    evaluators = [str(e) for e in check.get("evaluators", [])]
    parts = [_meta(check, with_generator=True), f"<h5>Prompt</h5>{_pre(str(check['prompt']))}"]
    parts.append(_perturbation(check.get("perturbation")))
    struck, missing = strike_removed(str(explanation["output"]), explanation.get("removed", []))
    parts.append(
        f'<h5>Explanation <span class="small muted">from {_e(check["generator"])}'
        f" ({_e(explanation.get('source', ''))}); answer stripped by"
        f" {_e(explanation.get('method', ''))}; the generator's answer:"
        f" <code>{_e(_value(explanation.get('answer')))}</code></span></h5>"
        f'<pre class="text explanation">{struck}</pre>'
    )
    if missing:
        parts.append(
            '<p class="small">Also removed: '
            + " ".join(f"<s>{_e(m)}</s>" for m in missing)
            + "</p>"
        )
    expected_known = check.get("expected") is not None
    rows = []
    models = _ordered([*evaluators, *base["models"], *xfer["models"]])
    diverged = check.get("diverged")
    for model in models:
        b = base["models"].get(model, {})
        t = xfer["models"].get(model, {})
        tag = ' <span class="tag warn">diverged</span>' if model == diverged else ""
        unparseable = f"{b.get('unparseable', 0)} / {t.get('unparseable', 0)}"
        rows.append(
            f'<tr><th class="mono">{_e(model)}{tag}</th>'
            f"<td>{_answers(b.get('answers', []), b.get('correct'))}</td>"
            f"<td>{_answers(t.get('answers', []), t.get('correct'))}</td>"
            f'<td class="num">{_rate(b.get("accuracy"))} \u2192 {_rate(t.get("accuracy"))}</td>'
            f'<td class="num">{_e(unparseable)}</td></tr>'
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
    parts.append(_verdict_block(check))
    if check.get("options"):
        options = _kv_table(check["options"])
        parts.append(f'<details class="sub"><summary>Options</summary>{options}</details>')
    return "".join(parts)


def _perturbation(perturbation: Mapping[str, Any] | None, heading: str = "Perturbation") -> str:
    if not perturbation:
        return ""
    edits = perturbation.get("edits", [])
    return (
        f'<h5>{_e(heading)} <span class="small muted">(deleted text struck, inserted text'
        " underlined)</span></h5>"
        f'<pre class="text diff">{render_diff(str(perturbation.get("diff", "")))}</pre>'
        + (
            _list(edits, "edits")
            if edits
            else '<p class="small muted">No edits: the prompt is unchanged.</p>'
        )
    )


def _outputs(models: Sequence[str], base: Mapping[str, Any], xfer: Mapping[str, Any]) -> str:
    blocks = []
    total = 0
    for condition in (base, xfer):
        for model in models:
            outputs = condition["models"].get(model, {}).get("outputs", [])
            if not outputs:
                continue
            total += len(outputs)
            items = "".join(f"<li>{_pre(str(o), 'text raw')}</li>" for o in outputs)
            blocks.append(
                f"<h6>{_e(condition.get('name', ''))} \u00b7 <code>{_e(model)}</code></h6>"
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
    text = f"{_rate(pair.get('rate'))} \u00b7 {pair['agree']}/{pair['total']}{excluded}"
    return _scaled_td(pair.get("rate"), text)


def _pairs_table(base: Mapping[str, Any], xfer: Mapping[str, Any]) -> str:
    def keyed(condition: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
        return {(p["a"], p["b"]): p for p in condition["consistency"]["pairs"]}

    b, t = keyed(base), keyed(xfer)
    keys = _ordered([*b, *t])
    if not keys:
        return '<p class="small muted">Fewer than two evaluators: no pairs to compare.</p>'
    rows = "".join(
        f'<tr><th class="mono">{_e(a)} \u00d7 {_e(c)}</th>{_pair_cell(b.get((a, c)))}'
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
            f"{_rate(c.get('mean'))}{std} ({c['agree']}/{c['total']}),"
            f" interval {_interval(condition.get('interval'))}"
        )

    def breakdown(condition: Mapping[str, Any]) -> str:
        b = condition.get("breakdown")
        if not b:
            return "\u2014"
        return (
            f"consistent-correct {_rate(b['consistent_correct'])}, consistent-wrong"
            f" {_rate(b['consistent_wrong'])}, inconsistent {_rate(b['inconsistent'])}"
        )

    rows = [
        ("Baseline consistency", consistency(base)),
        ("Transfer consistency", consistency(xfer)),
        ("Lift", f"{_signed(check.get('lift'))}, interval {_interval(check.get('lift_interval'))}"),
        ("Baseline breakdown", breakdown(base)),
        ("Transfer breakdown", breakdown(xfer)),
    ]
    if check.get("samples_used") is not None:
        auto = (check.get("options") or {}).get("samples") == "auto"
        rows.append(("Samples used", f"{check['samples_used']}{' (samples=auto)' if auto else ''}"))
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<h5>Lift and intervals</h5><table class="kvt">{body}</table>'


def _invariant_check(check: Mapping[str, Any]) -> str:
    flipped = {str(m) for m in check.get("flipped", [])}
    parts = [_meta(check, with_generator=False)]
    perturbation = check.get("perturbation")
    if perturbation:
        parts.append(_perturbation(perturbation, "Base \u2192 perturbed prompt"))
    else:
        parts.append(f"<h5>Base prompt</h5>{_pre(str(check['prompt']))}")
        parts.append(f"<h5>Perturbed prompt</h5>{_pre(str(check.get('perturbed', '')))}")
    rows = []
    for model, entry in check.get("models", {}).items():
        mark = (
            '<span class="tag bad">\u2717 flipped</span>'
            if model in flipped
            else '<span class="tag ok">\u2713 same</span>'
        )
        rows.append(
            f'<tr><th class="mono">{_e(model)}</th><td>{_answers(entry.get("base", []))}</td>'
            f"<td>{_answers(entry.get('perturbed', []))}</td>"
            f'<td class="num">{entry.get("agree", 0)}/{entry.get("total", 0)}</td>'
            f"<td>{mark}</td></tr>"
        )
    parts.append(
        '<h5>Answers</h5><table class="data"><thead><tr><th>Model</th><th>Base</th>'
        '<th>Perturbed</th><th class="num">Unchanged</th><th>Flipped</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    parts.append(_verdict_block(check))
    return "".join(parts)


def _review_check(check: Mapping[str, Any]) -> str:
    reviews: Mapping[str, Mapping[str, Any]] = check.get("reviews", {})
    evaluators = _ordered([*(str(e) for e in check.get("evaluators", [])), *reviews])
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
                + (f'<div class="small">{_e(reason)}</div>' if reason else "")
                + "</td>"
            )
        row_cls = ' class="disputed"' if disputed_here else ""
        rows.append(
            f'<tr{row_cls}><td class="num">{number}</td><td>{_e(step)}</td>{"".join(cells)}</tr>'
        )
    firsts = [reviews.get(m, {}).get("first_disputed") for m in evaluators]
    first_row = "".join(f"<td>{'none' if f is None else f'step {_e(f)}'}</td>" for f in firsts)
    head = "".join(f'<th class="mono">{_e(m)}</th>' for m in evaluators)
    return (
        f"<h5>Prompt</h5>{_pre(str(check['prompt']))}"
        f'<h5>Steps <span class="small muted">step agreement'
        f" {_rate(check.get('step_agreement'))}</span></h5>"
        f'<table class="data review"><thead><tr><th class="num">#</th><th>Step</th>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody>"
        f'<tfoot><tr><th colspan="2">First disputed step</th>{first_row}</tr></tfoot></table>'
        + _verdict_block(check)
    )


def _score(value: Any) -> str:
    return "\u2014" if value is None else f"{float(value):.2f}"


def _ensemble(check: Mapping[str, Any]) -> str:
    """The ensembled explanation step by step, and its lift next to each generator's own."""
    e: Mapping[str, Any] = check["ensemble"]
    how = f"scored by {e.get('scorer')} (mean token NLL)" if e.get("scorer") else "by agreement"
    rows = []
    for number, step in enumerate(e.get("steps", []), 1):
        for c in step.get("candidates", []):
            won = bool(c.get("chosen"))
            status = "kept" if won else (c.get("dropped") or "")
            row_cls = ' class="chosen"' if won else ""
            rows.append(
                f'<tr{row_cls}><td class="num">{number}</td>'
                f'<td class="mono">{_e(c.get("generator"))} #{_e(c.get("sample"))}</td>'
                f"<td>{_e(c.get('sentence') or '')}</td>"
                f'<td class="num">{_score(c.get("score", c.get("agreement")))}</td>'
                f"<td>{_e(status)}</td></tr>"
            )
    singles = "".join(
        f'<tr><th class="mono">{_e(s["generator"])}</th><td class="num">'
        f'{_rate(s.get("consistency"))}</td><td class="num">{_signed(s.get("lift"))}</td></tr>'
        for s in check.get("singles", [])
    )
    return (
        f'<h5>Ensemble <span class="small muted">of {_e(", ".join(e.get("generators", [])))},'
        f" {_e(how)}; stopped: {_e(e.get('stop_reason'))}; {_e(e.get('calls'))} call(s)"
        "</span></h5>"
        '<table class="data"><thead><tr><th>Model</th><th class="num">Transfer consistency'
        '</th><th class="num">Lift</th></tr></thead><tbody>'
        f'<tr class="chosen"><th>ensemble</th><td class="num">'
        f"{_rate(check['conditions']['transfer']['consistency']['mean'])}</td>"
        f'<td class="num">{_signed(check.get("lift"))}</td></tr>{singles}</tbody></table>'
        '<details class="sub"><summary>Candidates, step by step</summary>'
        '<table class="data ensemble"><thead><tr><th class="num">Step</th><th>From</th>'
        '<th>Candidate</th><th class="num">Score</th><th></th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></details>"
    )


def _weak_rows(check: Mapping[str, Any]) -> str:
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
            f'<tr{cls}><td class="num">{i + 1}</td><td>{_e(s.get("sentence"))}{tag}</td>'
            f'<td class="num">{_score(s.get("surprisal"))}</td>'
            f'<td class="num">{_rate(s.get("agreement_without"))}</td>'
            f'<td class="num">{_signed(s.get("delta"))}</td></tr>'
        )
    return (
        f"<h5>Prompt</h5>{_pre(str(check['prompt']))}"
        f'<h5>Sentences <span class="small muted">agreement with every sentence '
        f"{_rate(check.get('agreement'))}; evaluators {_e(', '.join(check.get('evaluators', [])))}"
        f"; surprisal under {_e(check.get('scorer') or 'no scorer')}</span></h5>"
        '<table class="data weak-steps"><thead><tr><th class="num">#</th><th>Sentence</th>'
        '<th class="num">Surprisal (NLL)</th><th class="num">Agreement without</th>'
        f'<th class="num">Change</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _repair_check(check: Mapping[str, Any]) -> str:
    if check.get("index") is None:
        return _weak_rows(check)
    outcome = "kept" if check.get("kept") else "not kept: agreement would drop"
    return _weak_rows(check) + (
        f'<h5>Repair of sentence {int(check["index"]) + 1} <span class="small muted">'
        f"{_e(outcome)}; agreement {_rate(check.get('agreement_before'))} \u2192 "
        f"{_rate(check.get('agreement_after'))}</span></h5>"
        f'<table class="kvt"><tr><th>Was</th><td><s>{_e(check.get("original"))}</s></td></tr>'
        f"<tr><th>Now</th><td>{_e(check.get('replacement') or '(no complete candidate)')}"
        "</td></tr></table>"
    )


def _share_chart(arms: Sequence[Mapping[str, Any]], reference: Any) -> str:
    """A small bar chart: per condition, the share of answers that are the reference answer."""
    width, height, bar = 46, 70, 30
    parts = []
    for i, arm in enumerate(arms):
        value = (arm.get("reference") or {}).get("rate")
        x = i * width + 8
        h = 0 if value is None else round(float(value) * height)
        parts.append(
            f'<rect x="{x}" y="{10 + height - h}" width="{bar}" height="{h}" class="bar">'
            f"<title>{_e(arm.get('label'))}: {_e(_rate(value))}</title></rect>"
            f'<text x="{x + bar // 2}" y="{height + 24}" text-anchor="middle" class="tick">'
            f"{_e(_rate(value))}</text>"
        )
    labels = "".join(
        f'<li><span class="mono">{i + 1}</span> {_e(arm.get("label"))}</li>'
        for i, arm in enumerate(arms)
    )
    svg_width = max(1, len(arms)) * width + 16
    return (
        f'<p class="small muted">Share of answers that are {_e(reference)!s}, per condition:</p>'
        f'<svg class="chart" width="{svg_width}" height="{height + 32}" role="img" '
        f'aria-label="share of the reference answer per condition">'
        f'<line x1="0" y1="{10 + height}" x2="{svg_width}" y2="{10 + height}" class="axis"/>'
        + "".join(parts)
        + f'</svg><ol class="small">{labels}</ol>'
    )


def _mirror_check(check: Mapping[str, Any]) -> str:
    rows = "".join(
        f'<tr><th class="mono">{_e(model)}</th><td class="num">{_e(c.get("contradictory"))}'
        f'/{_e(c.get("pairs"))}</td><td class="mono">'
        + _e(
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
        f"<h5>mirrored questions {_check_badge(check)}</h5>"
        f"<p>{_e(check.get('summary'))}</p>"
        f'<table class="kvt"><tr><th>Question</th><td>{_e(check.get("prompt"))}</td></tr>'
        f"<tr><th>Mirror ({_e(check.get('relation'))})</th><td>{_e(check.get('mirror'))}"
        "</td></tr></table>"
        "<table><tr><th>evaluator</th><th>contradictory</th><th>answers (question/mirror)</th>"
        f"</tr>{rows}</table>"
    )


def _intervention_check(check: Mapping[str, Any]) -> str:
    arms = list(check.get("arms", []))
    kind = check.get("kind")
    original = check.get("original", {})
    # Early answering reads left to right: 0 steps, each cut, every step.
    ordered = [*arms, original] if kind == "early_answering" else [original, *arms]
    reasons = "".join(f"<li>{_e(r)}</li>" for r in check.get("reasons", []))
    interval = check.get("interval")
    shown = "" if not interval else f" [{_signed(interval[0])}, {_signed(interval[1])}]"
    value = check.get("value")
    measure = (
        f"<p>{_e(check.get('measure'))}: <strong>{_e(_signed(value) if value is not None else '-')}"
        f"</strong>{_e(shown)}"
        + (
            f" (threshold {_e(check.get('threshold'))})"
            if check.get("threshold") is not None
            else ""
        )
        + "</p>"
    )
    return (
        f"<h5>{_e(str(kind).replace('_', ' '))} {_check_badge(check)}</h5>"
        f"<p>{_e(check.get('summary'))}</p>{measure}"
        + (f"<ul>{reasons}</ul>" if reasons else "")
        + _share_chart(ordered, check.get("reference"))
    )


# Per check kind (pytest_xgen.checks.kinds.KINDS), its section of a test's details; a
# kind without one is shown as a table of its data.
RENDERERS = {
    "transfer": _transfer_check,
    "invariant": _invariant_check,
    "review": _review_check,
    "weak_steps": _weak_rows,
    "repair": _repair_check,
    "early_answering": _intervention_check,
    "added_mistake": _intervention_check,
    "paraphrase_control": _intervention_check,
    "filler_control": _intervention_check,
    "mirrored": _mirror_check,
}


def _test_details(index: int, test: Mapping[str, Any]) -> str:
    checks = test.get("checks", [])
    metrics = test.get("metrics")
    brief = ""
    if metrics:
        brief = (
            f'<span class="small muted">baseline {_rate(metrics["baseline_consistency"]["value"])}'
            f" \u2192 transfer {_rate(metrics['consistency']['value'])}"
            f" (lift {_signed(metrics['lift'])})</span>"
        )
    summary = (
        f'<summary><span class="mono nodeid">{_e(test["nodeid"])}</span> '
        f"{_verdict_badge(row_status(test) if checks else None)} "
        f"{_outcome_tag(test.get('outcome'))} {brief}</summary>"
    )
    info = (
        f'<p class="small muted">{_e(test.get("calls", 0))} call(s), {_e(test.get("live", 0))}'
        f" live, {_e(test.get('tokens', 0) + test.get('replayed_tokens', 0))} token(s), cost "
        f"{_e(money(test.get('cost', 0) + test.get('replayed_cost', 0)))}</p>"
    )
    if not checks:
        body = '<p class="small muted">No xgen checks recorded for this test.</p>'
    else:
        sections = []
        for number, check in enumerate(checks, 1):
            kind = str(check.get("kind"))
            render = RENDERERS.get(kind)
            content = render(check) if render else _kv_table(check)
            sections.append(
                f'<section class="check check-{_e(kind)}"><h4>Check {number}: {_e(kind)} '
                f"{_check_badge(check)}</h4>{content}</section>"
            )
        body = "".join(sections)
    return (
        f'<details class="test" id="test-{index}">{summary}'
        f'<div class="body">{info}{body}</div></details>'
    )


def _drilldown(report: Mapping[str, Any]) -> str:
    tests = report.get("tests", [])
    if not tests:
        return ""
    return (
        '<section id="details"><h2>Details</h2>'
        + "".join(_test_details(i, t) for i, t in enumerate(tests))
        + "</section>"
    )


_CSS = """
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb;
  --pass: #166534; --pass-bg: #dcfce7; --fail: #991b1b; --fail-bg: #fee2e2;
  --inc: #854d0e; --inc-bg: #fef3c7; }
* { box-sizing: border-box; }
svg.chart .bar { fill: #4b6cb7; } svg.chart .axis { stroke: var(--line); }
svg.chart .tick { font-size: 10px; fill: var(--muted); }
body { margin: 0 auto; max-width: 1240px; padding: 20px 24px 48px; color: var(--ink);
  background: #fff; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: 12.5px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
.card h2 { margin: 0 0 8px; border: 0; font-size: 14px; text-transform: uppercase;
  letter-spacing: .04em; color: var(--muted); }
h4 { font-size: 14px; margin: 18px 0 8px; }
h5 { font-size: 13px; margin: 14px 0 6px; }
h6 { font-size: 12px; margin: 10px 0 4px; }
a { color: #1d4ed8; text-decoration: none; }
a:hover { text-decoration: underline; }
.summary { margin: 4px 0 14px; }
.cards { display: flex; gap: 14px; flex-wrap: wrap; align-items: flex-start; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; flex: 0 1 400px; }
.card.wide { flex: 1 1 560px; min-width: 0; }
.small { font-size: 12.5px; }
.muted { color: var(--muted); }
.empty { padding: 12px; border: 1px dashed #9ca3af; border-radius: 6px; color: #374151; }
table { border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.kvt th { font-weight: 600; padding-left: 0; white-space: nowrap; color: #374151; }
.kvt.facts td { white-space: nowrap; }
.kvt td code { word-break: break-all; }
.kv { display: inline-block; margin: 0 12px 2px 0; }
.kv .k { color: var(--muted); }
table.overview, table.data { width: 100%; border: 1px solid var(--line); }
table.data { width: auto; min-width: 50%; }
.overview thead th, .data thead th { background: #f3f4f6; border-bottom: 1px solid #d1d5db;
  font-size: 12.5px; }
.overview td, .data td, .data tbody th { border-bottom: 1px solid var(--line); }
.overview tr.group th { background: #f9fafb; color: #374151; font-weight: 600; padding-top: 6px; }
.overview td.name { padding-left: 18px; }
.overview td { padding: 3px 8px; }
td.scaled { font-weight: 600; }
.verdict { display: inline-block; padding: 0 7px; border-radius: 10px; font-weight: 600;
  font-size: 12.5px; border: 1px solid currentColor; white-space: nowrap; }
.v-pass { color: var(--pass); background: var(--pass-bg); }
.v-fail { color: var(--fail); background: var(--fail-bg); }
.v-inconclusive { color: var(--inc); background: var(--inc-bg); }
.v-measured { color: var(--muted); background: #f3f4f6; border-style: dashed; }
.v-error { color: var(--fail); background: #fff; border-style: dashed; }
.tag { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px;
  background: #f3f4f6; border: 1px solid #d1d5db; white-space: nowrap; }
.tag.ok { color: var(--pass); background: var(--pass-bg); border-color: #86efac; }
.tag.bad { color: var(--fail); background: var(--fail-bg); border-color: #fca5a5; }
.tag.warn { color: var(--inc); background: var(--inc-bg); border-color: #fcd34d; }
.tag.unk { color: var(--muted); }
.ans { display: inline-block; padding: 0 5px; margin: 1px 0; border-radius: 4px;
  border: 1px solid #d1d5db; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: 12px; }
.ans.ok { background: var(--pass-bg); border-color: #86efac; }
.ans.bad { background: var(--fail-bg); border-color: #fca5a5; }
.ans.none { color: var(--muted); font-style: italic; border-style: dashed; }
pre.text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; padding: 8px 10px;
  background: #f9fafb; border: 1px solid var(--line); border-radius: 4px; max-width: 100%; }
pre.raw { background: #fff; }
s { color: #991b1b; text-decoration-thickness: 2px; background: #fef2f2; }
del { color: #991b1b; background: #fee2e2; text-decoration-thickness: 2px; }
ins { color: #166534; background: #dcfce7; text-decoration: underline;
  text-decoration-thickness: 2px; }
.figures { display: flex; flex-wrap: wrap; gap: 24px 36px; align-items: flex-start; }
figure { margin: 0; }
figcaption { font-size: 12.5px; color: #374151; max-width: 300px; margin-top: 4px; }
svg.grid, svg.legend { display: block; max-width: 100%; height: auto;
  font-variant-numeric: tabular-nums; }
svg .lab { font-size: 13px; fill: #111827; }
svg .v { font-size: 15px; font-weight: 700; }
svg .n { font-size: 11.5px; }
.legend-box { display: flex; gap: 12px; align-items: center; margin-top: 14px; flex-wrap: wrap; }
details.test { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; }
details.test > summary { cursor: pointer; padding: 6px 10px; background: #f9fafb;
  border-radius: 6px; }
details.test[open] > summary { border-bottom: 1px solid var(--line); border-radius: 6px 6px 0 0; }
details.test > .body { padding: 4px 14px 12px; }
.nodeid { font-weight: 600; overflow-wrap: anywhere; }
section.check { border-top: 1px solid var(--line); margin-top: 10px; }
section.check:first-of-type { border-top: 0; }
details.sub { margin: 8px 0; }
details.sub > summary { cursor: pointer; color: #1d4ed8; font-size: 12.5px; }
ol.outputs { padding-left: 24px; margin: 4px 0; }
ol.outputs li { margin-bottom: 4px; }
ul.reasons, ul.notes, ul.edits { margin: 4px 0; padding-left: 20px; }
.verdict-block { margin-top: 10px; }
table.review tr.disputed td { background: #fffbeb; }
table.weak-steps tr.weak td { background: #fffbeb; }
table.weak-steps tr.weakest td { background: #fef2f2; }
tr.chosen td, tr.chosen th { font-weight: 600; }
table.review tfoot th, table.review tfoot td { border-top: 1px solid #d1d5db; font-size: 12.5px; }
td.scaled, .verdict, .tag, .ans, svg, del, ins, s { -webkit-print-color-adjust: exact;
  print-color-adjust: exact; }
@media print {
  @page { margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 11.5px; }
  a { color: inherit; }
  details > summary { list-style: none; }
  details > summary::-webkit-details-marker { display: none; }
  details::details-content { content-visibility: visible; display: block; }
  details:not([open]) > :not(summary) { display: block; }
  table, tr, figure, svg, pre, .card { break-inside: avoid; page-break-inside: avoid; }
  h2, h4, h5 { break-after: avoid; page-break-after: avoid; }
  details.test { break-inside: auto; }
}
"""

# Browsers render nothing of a closed <details> on paper whatever the CSS says, except
# where ::details-content is supported; opening them around printing covers the rest.
_PRINT_SCRIPT = (
    "addEventListener('beforeprint',function(){document.querySelectorAll('details:not([open])')"
    ".forEach(function(d){d.open=true;d.setAttribute('data-print-opened','')})});"
    "addEventListener('afterprint',function(){document.querySelectorAll('details[data-print-opened]')"
    ".forEach(function(d){d.open=false;d.removeAttribute('data-print-opened')})});"
)


def render_html(report: dict[str, Any]) -> str:
    """The JSON run report (format ``pytest-xgen-report``) as one self-contained HTML page:
    run metadata, a table of tests, evaluator-agreement heatmaps and a transfer matrix, and
    a collapsible drill-down of every check."""
    created = report.get("created", "")
    title = f"pytest-xgen report {created}".strip()
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="pytest-xgen">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        + _header(report)
        + "<main>"
        + _comparison(report)
        + _overview(report)
        + _agreement(report)
        + _drilldown(report)
        + "</main>"
        f"<script>{_PRINT_SCRIPT}</script>"
        "</body></html>\n"
    )
