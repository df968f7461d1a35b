"""The HTML report's charts: a single-hue colour scale, the SVG heatmaps drawn with it and
their legend, and the small bar chart of an intervention's conditions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_xgen.report.html.escape import e, rate

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


def fill(value: float) -> str:
    """The colour of ``value`` (0 to 1, clamped) on the scale, as ``#rrggbb``."""
    r, g, b = _rgb(value)
    return f"#{r:02x}{g:02x}{b:02x}"


def ink(value: float) -> str:
    """White or near-black, whichever contrasts more with the cell colour (WCAG luminance)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = _rgb(value)
    lum = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    dark = 0.0137  # luminance of _DARK_INK
    return "#ffffff" if 1.05 / (lum + 0.05) > (lum + 0.05) / (dark + 0.05) else _DARK_INK


def scaled_td(value: float | None, text: str, title: str = "") -> str:
    """A number cell coloured by ``value`` on the scale (plain where there is none)."""
    tip = f' title="{e(title)}"' if title else ""
    if value is None:
        return f'<td class="num"{tip}>{e(text)}</td>'
    return (
        f'<td class="num scaled" style="background:{fill(value)};color:{ink(value)}"{tip}>'
        f"{e(text)}</td>"
    )


def _label(name: str) -> str:
    return name if len(name) <= _MAX_LABEL else name[: _MAX_LABEL - 1] + "\u2026"


def _label_text(name: str, attrs: str) -> str:
    shown = _label(name)
    tip = f"<title>{e(name)}</title>" if shown != name else ""
    return f"<text {attrs}>{tip}{e(shown)}</text>"


def grid_svg(
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
        f'<svg id="{e(svg_id)}" class="grid" role="img" aria-labelledby="{e(svg_id)}-title"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<title id="{e(svg_id)}-title">{e(title)}</title>',
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
    data = f'data-row="{e(row)}" data-col="{e(col)}"'
    if diagonal and row == col:
        return (
            f'<g class="cell diag" {data}><title>{e(row)}: same model</title>'
            f'{rect} fill="{_DIAGONAL_FILL}"/>'
            f'<text class="v" x="{cx:.1f}" y="{cy + 5:.1f}" text-anchor="middle"'
            f' fill="#4b5563">\u2014</text></g>'
        )
    if count is None or count[1] == 0:
        return (
            f'<g class="cell empty" {data}><title>{e(row)} {relation} {e(col)}: no data</title>'
            f'{rect} fill="#ffffff" stroke="#9ca3af" stroke-dasharray="4 3"/>'
            f'<text class="n" x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle"'
            f' fill="#4b5563">n/a</text></g>'
        )
    agree, total = count
    share = agree / total
    text_ink = ink(share)
    return (
        f'<g class="cell" {data} data-agree="{agree}" data-total="{total}"'
        f' data-rate="{share:.4f}"><title>{e(row)} {relation} {e(col)}: {agree} of {total}'
        f" agree ({share:.2f})</title>"
        f'{rect} fill="{fill(share)}" stroke="#ffffff"/>'
        f'<text class="v" x="{cx:.1f}" y="{cy + 1:.1f}" text-anchor="middle" fill="{text_ink}">'
        f"{share:.2f}</text>"
        f'<text class="n" x="{cx:.1f}" y="{cy + 16:.1f}" text-anchor="middle" fill="{text_ink}">'
        f"{agree}/{total}</text></g>"
    )


def legend() -> str:
    """The colour scale's key: six steps from 0 to 1, the diagonal and an empty cell."""
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
            f'<rect x="{x}" y="0" width="{w}" height="{h}" rx="3" fill="{fill(value)}"'
            f' stroke="#d1d5db"/><text x="{x + w / 2}" y="{h / 2 + 5}" text-anchor="middle"'
            f' class="v" fill="{ink(value)}">{value:.1f}</text>'
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


def share_chart(arms: Sequence[Mapping[str, Any]], reference: Any) -> str:
    """A small bar chart: per condition, the share of answers that are the reference answer."""
    width, height, bar = 46, 70, 30
    parts = []
    for i, arm in enumerate(arms):
        value = (arm.get("reference") or {}).get("rate")
        x = i * width + 8
        h = 0 if value is None else round(float(value) * height)
        parts.append(
            f'<rect x="{x}" y="{10 + height - h}" width="{bar}" height="{h}" class="bar">'
            f"<title>{e(arm.get('label'))}: {e(rate(value))}</title></rect>"
            f'<text x="{x + bar // 2}" y="{height + 24}" text-anchor="middle" class="tick">'
            f"{e(rate(value))}</text>"
        )
    labels = "".join(
        f'<li><span class="mono">{i + 1}</span> {e(arm.get("label"))}</li>'
        for i, arm in enumerate(arms)
    )
    svg_width = max(1, len(arms)) * width + 16
    return (
        f'<p class="small muted">Share of answers that are {e(reference)!s}, per condition:</p>'
        f'<svg class="chart" width="{svg_width}" height="{height + 32}" role="img" '
        f'aria-label="share of the reference answer per condition">'
        f'<line x1="0" y1="{10 + height}" x2="{svg_width}" y2="{10 + height}" class="axis"/>'
        + "".join(parts)
        + f'</svg><ol class="small">{labels}</ol>'
    )
