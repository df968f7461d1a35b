"""The comparison section of the HTML report: the run against a saved one (the gate, the
suite-level tests and the tests that changed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_xgen.report.html.escape import bullets, e, pval, rate, signed


def comparison(report: Mapping[str, Any]) -> str:
    """The comparison with a saved run (``--xgen-compare``): the gate, the suite-level tests
    and every test whose verdict is not ``unchanged``."""
    compared = report.get("comparison")
    if not isinstance(compared, Mapping):
        return ""
    parts = ['<section id="comparison" class="card wide"><h2>Comparison</h2>']
    gate = compared.get("gate")
    parts.append(
        f"<p>Compared with <code>{e(compared.get('baseline'))}</code> at alpha "
        f"{e(compared.get('alpha'))}, p-values adjusted: {e(compared.get('adjust'))}.</p>"
    )
    pairing = compared.get("pairing")
    if isinstance(pairing, Mapping) and pairing.get("compared"):
        parts.append(
            f"<p>{e(pairing.get('paired'))} of {e(pairing.get('compared'))} compared tests read "
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
            f"<p>Gate ({e(limits)}): <strong>{e(shown)}</strong></p>" + bullets(lines, "gate")
        )
    rows = []
    for metric, suite in compared.get("suite", {}).items():
        if not suite.get("tests"):
            continue
        rows.append(
            f"<tr><td>{e(metric)}</td><td>{e(suite.get('verdict'))}</td>"
            f"<td>{signed(suite.get('mean_change'))}</td>"
            f"<td>{rate(suite.get('standard_error'))}</td><td>{e(suite.get('tests'))}</td>"
            f"<td>{e(suite.get('margin'))}</td><td>{pval(suite.get('p_regressed'))}</td>"
            f"<td>{pval(suite.get('p_noninferior'))}</td>"
            f"<td>{rate(suite.get('detectable_drop'))}</td></tr>"
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
    changed = [t for t in compared.get("tests", []) if t.get("verdict") not in quiet]
    if changed:
        items = []
        for test in changed:
            cells = []
            for metric, change in test.get("changes", {}).items():
                if change.get("delta") is None:
                    continue
                tested = (
                    f" (adjusted p {pval(change.get('p_adjusted'))})"
                    if change.get("p_adjusted") is not None
                    else ""
                )
                cells.append(
                    f"{metric} {rate(change.get('before'))} \u2192 {rate(change.get('after'))}"
                    + tested
                )
            items.append(f"{test.get('verdict')}: {test.get('nodeid')}  " + "; ".join(cells))
        parts.append(bullets(items, "mono"))
    return "".join(parts) + "</section>"
