"""The JSON report: run metadata and, per test, its checks and the metrics the gate compares.

Format ``pytest-xgen-report`` version 1, described by ``schemas/report.schema.json``.
Tests are sorted by node id, so a ``-n 2`` run and a ``-n 0`` run of the same recorded
suite give the same document but for ``created`` and ``run.workers``.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pytest_xgen.checks.data import digest
from pytest_xgen.checks.kinds import KINDS
from pytest_xgen.core.finite import first_nonfinite
from pytest_xgen.core.gate_metrics import COUNTS, DIFFERENCE, GATE_METRIC, GATE_METRICS, Count
from pytest_xgen.models.base import EXTRA_USAGE
from pytest_xgen.report.groups import TRANSFER, in_group
from pytest_xgen.report.status import row_status
from pytest_xgen.settings.config import load_schema

if TYPE_CHECKING:
    from pytest_xgen.checks.units import CheckUnits
    from pytest_xgen.settings.config import Settings

# Parts of the tokens some APIs report (reasoning tokens, prompt-cache reads and writes), of
# the live calls and of the replayed ones: in the report only where not zero.
TOKEN_PARTS = (*EXTRA_USAGE, *(f"replayed_{name}" for name in EXTRA_USAGE))

FORMAT = "pytest-xgen-report"
VERSION = 1
PACKAGES = ("pytest", "pytest-xgen", "openai", "hypothesis", "diskcache", "llama-cpp-python")


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def worst_verdict(checks: Sequence[Mapping[str, Any]]) -> str | None:
    """A test's verdict over its checks: the worst wins (fail, then inconclusive)."""
    if not checks:
        return None
    verdicts = {c.get("verdict") for c in checks}
    return next((v for v in ("fail", "inconclusive") if v in verdicts), "pass")


def _written(count: Count, hits: int, total: int) -> dict[str, Any] | None:
    """A count as the report writes it: successes, total and their rate (``null`` for a
    count that is, when it has no unit)."""
    if total == 0 and count.null_when_empty:
        return None
    return {count.success: hits, "total": total, "value": hits / total if total else None}


def _units(checks: Sequence[Mapping[str, Any]]) -> list[CheckUnits]:
    """The units of each of a test's checks of a gated kind, in check order (each kind's
    ``units`` function, :data:`pytest_xgen.checks.kinds.KINDS`)."""
    found = []
    for check in checks:
        kind = KINDS.get(str(check["kind"]))
        units = None if kind is None else kind.unit_counts()
        if units is not None:
            found.append(units(check))
    return found


def explanation_digests(checks: Sequence[Mapping[str, Any]]) -> list[str]:
    """The digest of each explanation a test's gated checks gave their evaluators, in check
    order (a transfer check's explanation; an added mistake's original explanation and the
    edited ones). Two runs of a test with the same digests read the same explanations."""
    return _digests(_units(checks))


def _digests(found: Sequence[CheckUnits]) -> list[str]:
    return [digest(units.read) for units in found if units.read is not None]


def test_metrics(checks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Pooled counts over a test's checks of the gated kinds (one per Hypothesis example):
    what the upgrade gate compares between runs; ``None`` without such a check.

    The counts are those of :data:`pytest_xgen.core.gate_metrics.COUNTS`, summed over the
    checks. ``units`` holds what the gate tests, one unit per independent draw: a sample
    whose evaluators all agree, an evaluator's answer that is right, and, for
    ``explanation``, a check's explanation whose own answer is right (one unit per check
    with an expected answer). The top level shows the values the checks report
    (``consistency`` and ``baseline_consistency`` pool every evaluator pair), each
    difference metric (``lift``) right after the two values it is taken from, and
    ``explanations``, the digests of the explanations the evaluators read
    (:func:`explanation_digests`): the gate pairs two runs of a test on them.
    """
    found_units = _units(checks)
    if not found_units:
        return None
    pooled: dict[str, tuple[int, int]] = {}
    for units in found_units:
        for name, (hits, total) in units.counts.items():
            before = pooled.get(name, (0, 0))
            pooled[name] = (before[0] + hits, before[1] + total)
    written = {
        count.name: _written(count, *pooled.get(count.name, (0, 0)))
        for count in COUNTS
        if count.always or count.name in pooled
    }
    shown = {c.report: written[c.name] for c in COUNTS if c.report and c.name in written}
    found: dict[str, Any] = {}
    for count in COUNTS:
        if count.report is None or not count.always:
            continue
        found[count.report] = shown[count.report]
        for metric in GATE_METRICS:
            if metric.test is DIFFERENCE and metric.counts[-1] == count.report:
                first, second = ((shown.get(name) or {}).get("value") for name in metric.counts)
                found[metric.name] = None if first is None or second is None else first - second
    found["explanations"] = _digests(found_units)
    found["units"] = {c.name: written[c.name] for c in COUNTS if c.unit and c.name in written}
    # A count of one kind only (written when a check of that kind ran) comes last.
    found.update(
        (c.report, written[c.name])
        for c in COUNTS
        if c.report and not c.always and c.name in written
    )
    return found


def build_report(
    *,
    settings: Settings,
    identities: dict[str, dict[str, str]],
    model_map: dict[str, str],
    tests: dict[str, dict[str, Any]],
    stats: dict[str, Any],
    workers: int,
) -> dict[str, Any]:
    """The whole JSON document."""
    calls = stats["replayed"] + stats["live"]
    return {
        "format": FORMAT,
        "version": VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "run": {
            "record_mode": settings.record_mode,
            "seed": settings.seed,
            "models": identities,
            "model_map": dict(model_map),
            "versions": _versions(),
            "calls": {
                "replayed": stats["replayed"],
                "live": stats["live"],
                "tokens": stats["tokens"],
                "cost": round(stats["cost"], 9),
                "replayed_tokens": stats["replayed_tokens"],
                "replayed_cost": round(stats["replayed_cost"], 9),
                **{name: stats[name] for name in TOKEN_PARTS if stats.get(name)},
                "unpriced": stats.get("unpriced", []),
                "cache_hit_rate": stats["replayed"] / calls if calls else None,
            },
            "workers": workers,
        },
        "tests": [
            {
                "nodeid": nodeid,
                **entry,
                "checks": with_apis(entry["checks"], identities, model_map),
                "metrics": test_metrics(entry["checks"]),
            }
            for nodeid, entry in sorted(tests.items())
        ],
    }


def with_apis(
    checks: Sequence[dict[str, Any]],
    identities: Mapping[str, Mapping[str, str]],
    model_map: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """``checks`` with, in each explanation its generator model made, the ``api`` that model
    speaks (``anthropic``, ``openai-responses``: the ``api`` of the identity of its table,
    the one the model map puts in its place if any), beside the part of its answer the
    explanation came from (``source``). Models of the OpenAI-compatible chat API, whose
    identity names no api, add nothing."""
    found = []
    for check in checks:
        explanation = check.get("explanation")
        generator = str(check.get("generator"))
        table = (model_map or {}).get(generator, generator)
        api = identities.get(table, {}).get("api")
        if isinstance(explanation, dict) and explanation.get("origin") == "generator" and api:
            check = {**check, "explanation": {**explanation, "api": api}}
        found.append(check)
    return found


def junit_properties(entry: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(name, value)`` pairs for JUnit XML: metrics, interval, calls, tokens, cache hits,
    and the reasoning and prompt-cache tokens where not zero."""
    props: list[tuple[str, Any]] = []
    metrics = test_metrics(entry["checks"])
    if metrics is not None:
        counts = {c.report: c for c in COUNTS if c.report}
        for name, value in metrics.items():
            count = counts.get(name)
            if count is not None and value is not None:
                props.append((f"xgen_{count.junit or name}", value["value"]))
            elif name in GATE_METRIC and count is None:  # a difference: its value, or None
                props.append((f"xgen_{name}", value))
        # The last check of the transfer group has the test's interval.
        transfers = in_group(entry["checks"], TRANSFER)
        interval = transfers[-1]["conditions"]["transfer"]["interval"] if transfers else None
        if interval is not None:
            props += [("xgen_interval_low", interval[0]), ("xgen_interval_high", interval[1])]
    if entry["checks"]:
        # As the summaries show it: `measured` where no check decided the test.
        props.append(("xgen_verdict", row_status(entry)))
    props += [
        ("xgen_calls", entry["calls"]),
        ("xgen_live_calls", entry["live"]),
        ("xgen_cache_hits", entry["calls"] - entry["live"]),
        ("xgen_tokens", entry["tokens"]),
        ("xgen_cost", entry.get("cost", 0)),
        ("xgen_replayed_tokens", entry.get("replayed_tokens", 0)),
    ]
    props += [(f"xgen_{name}", entry[name]) for name in TOKEN_PARTS if entry.get(name)]
    return props


def schema_problem(doc: object) -> str | None:
    """Why ``doc`` fails ``report.schema.json`` (key path and message), or None. A number
    that is not finite fails too: a schema's bounds let ``NaN`` and ``Infinity`` pass."""
    import jsonschema

    unfinite = first_nonfinite(doc)
    if unfinite is not None:
        return unfinite
    validator = jsonschema.Draft202012Validator(load_schema("report.schema.json"))
    error = next(iter(validator.iter_errors(doc)), None)
    if error is None:
        return None
    path = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    return f"at {path}: {error.message[:200]}"
