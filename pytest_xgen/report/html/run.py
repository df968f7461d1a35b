"""The head of the HTML report: the run's facts and models, and the table of its tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pytest_xgen.core.printable import money, tokens_of_which
from pytest_xgen.report.html.charts import scaled_td
from pytest_xgen.report.html.escape import DASH, e, rate, signed
from pytest_xgen.report.html.parts import VERDICT_MARK, outcome_tag, verdict_badge
from pytest_xgen.report.html.pooled import has_transfer
from pytest_xgen.report.status import TALLY_LABELS, counts, row_status


def header(report: Mapping[str, Any]) -> str:
    """The run's facts, its models and the tally of its transfer tests."""
    run: Mapping[str, Any] = report.get("run", {})
    calls: Mapping[str, Any] = run.get("calls", {})
    tests = report.get("tests", [])
    transfer_tests = [test for test in tests if has_transfer(test)]
    statuses = [row_status(test) for test in transfer_tests]
    kinds = _kind_counts(check for test in tests for check in test["checks"])
    hit = calls.get("cache_hit_rate")
    replayed, live = calls.get("replayed", 0), calls.get("live", 0)
    facts = [
        ("Created", report.get("created", DASH)),
        ("Record mode", run.get("record_mode", DASH)),
        ("Seed", run.get("seed", DASH)),
        ("Workers", run.get("workers", DASH)),
        ("Model calls", f"{replayed + live} ({replayed} replayed, {live} live)"),
        ("Cache hit rate", DASH if hit is None else f"{hit:.0%}"),
        (
            "Tokens",
            f"{calls.get('tokens', 0):,} live{_parts(calls)}, "
            f"{calls.get('replayed_tokens', 0):,} replayed{_parts(calls, 'replayed_')}",
        ),
        (
            "Cost",
            f"{money(calls.get('cost', 0))} live, {money(calls.get('replayed_cost', 0))} "
            "replayed (when recorded)"
            + (f"; no price for {', '.join(calls['unpriced'])}" if calls.get("unpriced") else ""),
        ),
    ]
    fact_rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts)
    models: Mapping[str, Mapping[str, str]] = run.get("models", {})
    model_rows = (
        "".join(
            f'<tr><th class="mono">{e(name)}</th><td>'
            + " ".join(
                f'<span class="kv"><span class="k">{e(k)}</span> <code>{e(v)}</code></span>'
                for k, v in identity.items()
            )
            + "</td></tr>"
            for name, identity in models.items()
        )
        or '<tr><td colspan="2" class="muted">no models</td></tr>'
    )
    model_map: Mapping[str, str] = run.get("model_map", {})
    mapped = (
        ", ".join(f"<code>{e(a)}</code> \u2192 <code>{e(b)}</code>" for a, b in model_map.items())
        if model_map
        else '<span class="muted">none (every model as configured)</span>'
    )
    versions: Mapping[str, str] = run.get("versions", {})
    version_text = (
        " ".join(
            f'<span class="kv"><span class="k">{e(k)}</span> <code>{e(v)}</code></span>'
            for k, v in versions.items()
        )
        or '<span class="muted">\u2014</span>'
    )
    kind_text = ", ".join(f"{n} {e(k)}" for k, n in sorted(kinds.items())) or "none"
    # The same tally as the terminal's and the Markdown summary's, each status a badge.
    badges = [
        f'<span class="verdict v-{status}">{VERDICT_MARK[status]} {count} '
        f"{e(TALLY_LABELS.get(status, status))}</span>"
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


def _kind_counts(checks: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many checks of each kind, the kinds in order of first appearance."""
    kinds: dict[str, int] = {}
    for check in checks:
        kinds[check["kind"]] = kinds.get(check["kind"], 0) + 1
    return kinds


def _checks_text(checks: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{n} {k}" for k, n in _kind_counts(checks).items()) or DASH


def overview(report: Mapping[str, Any]) -> str:
    """The table of tests, grouped by file, with their metrics and verdicts."""
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
            rows.append(f'<tr class="group"><th colspan="9" class="mono">{e(file)}</th></tr>')
        metrics = test.get("metrics")
        if metrics:
            base = metrics["baseline_consistency"]
            xfer = metrics["consistency"]
            acc = metrics["accuracy"]
            cells = (
                scaled_td(base["value"], rate(base["value"]), f"{base['agree']}/{base['total']}")
                + scaled_td(xfer["value"], rate(xfer["value"]), f"{xfer['agree']}/{xfer['total']}")
                + f'<td class="num">{signed(metrics["lift"])}</td>'
                + (
                    scaled_td(acc["value"], rate(acc["value"]), f"{acc['correct']}/{acc['total']}")
                    if acc
                    else '<td class="num muted">\u2014</td>'
                )
            )
        else:
            cells = '<td class="num muted">\u2014</td>' * 4
        live = f" ({test['live']} live)" if test.get("live") else ""
        rows.append(
            f'<tr><td class="mono name"><a href="#test-{index}" title="{e(nodeid)}">'
            f"{e(name)}</a></td>"
            f"<td>{e(_checks_text(test['checks']))}</td>{cells}"
            f"<td>{verdict_badge(row_status(test) if test['checks'] else None)}</td>"
            f"<td>{outcome_tag(test.get('outcome'))}</td>"
            f'<td class="num">{e(test.get("calls", 0))}{e(live)}</td></tr>'
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


def _parts(calls: Mapping[str, Any], prefix: str = "") -> str:
    """`` (of which 12 reasoning, ...)`` where the run's tokens have such parts."""
    parts = tokens_of_which(dict(calls), prefix)
    return f" ({parts})" if parts else ""
