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

if TYPE_CHECKING:
    from pytest_xgen.settings.config import Settings

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


def _count(agree: int, total: int) -> dict[str, Any]:
    return {"agree": agree, "total": total, "value": agree / total if total else None}


def _rate_count(hits: int, total: int) -> dict[str, Any] | None:
    return {"correct": hits, "total": total, "value": hits / total} if total else None


def explanation_digests(checks: Sequence[Mapping[str, Any]]) -> list[str]:
    """The digest of each explanation a test's gated checks gave their evaluators, in check
    order: transfer checks (the text they gave) and added mistakes (their original
    explanation and the edited ones). Two runs of a test with the same digests read the
    same explanations."""
    from pytest_xgen.checks.transfer_report import digest

    found = []
    for check in checks:
        if check["kind"] == "transfer":
            text = (check.get("explanation") or {}).get("text")
            if isinstance(text, str):
                found.append(digest(text))
        elif check["kind"] == "added_mistake" and isinstance(check.get("explanation"), str):
            # The follow rate is measured on the edited explanations: they are part of what
            # the evaluators read.
            edited = [str(arm.get("explanation") or "") for arm in check.get("arms", ())]
            found.append(digest("\n\x1e\n".join([check["explanation"], *edited])))
    return found


def test_metrics(checks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Pooled counts over a test's transfer checks (one per Hypothesis example): what the
    upgrade gate compares between runs.

    ``consistency`` and ``baseline_consistency`` pool every evaluator pair (the values the
    checks report); ``units`` counts what the gate tests, one unit per independent draw:
    a sample whose evaluators all agree, an evaluator's answer that is right, and, for
    ``explanation``, a check's explanation whose own answer is right (one unit per check
    with an expected answer). ``explanations`` lists the digests of the explanations the
    evaluators read (:func:`explanation_digests`): the gate pairs two runs of a test on them.
    """
    from pytest_xgen.checks.kinds import gated

    transfers = [c for c in checks if gated(c["kind"]) and c["kind"] == "transfer"]
    mistakes = [c for c in checks if c["kind"] == "added_mistake"]
    if not transfers and not mistakes:
        return None
    sums = {"transfer": [0, 0], "baseline": [0, 0]}
    units = {"transfer": [0, 0], "baseline": [0, 0]}
    correct = answered = 0
    right = explained = 0
    for check in transfers:
        for name in sums:
            condition = check["conditions"][name]
            consistency = condition["consistency"]
            sums[name][0] += consistency["agree"]
            sums[name][1] += consistency["total"]
            flags = [f for f in condition.get("sample_agreement", ()) if f is not None]
            units[name][0] += sum(flags)
            units[name][1] += len(flags)
        if check["expected"] is not None:
            for model in check["conditions"]["transfer"]["models"].values():
                correct += sum(model["correct"])
                answered += len(model["correct"])
            own = (check.get("explanation") or {}).get("correct")
            if own is not None:
                right, explained = right + bool(own), explained + 1
    transfer = _count(*sums["transfer"])
    baseline = _count(*sums["baseline"])
    lift = None
    if transfer["value"] is not None and baseline["value"] is not None:
        lift = transfer["value"] - baseline["value"]
    accuracy = _rate_count(correct, answered)
    explanation = _rate_count(right, explained)
    found: dict[str, Any] = {
        "consistency": transfer,
        "baseline_consistency": baseline,
        "lift": lift,
        "accuracy": accuracy,
        "explanation": explanation,
        "explanations": explanation_digests(checks),
        "units": {
            "consistency": _count(*units["transfer"]),
            "baseline_consistency": _count(*units["baseline"]),
            "accuracy": accuracy,
            "explanation": explanation,
        },
    }
    if mistakes:
        # Added mistakes: each answer given an edited explanation is a unit; it followed
        # the mistake when it left the reference answer (docs/interventions.md).
        followed = total = 0
        for check in mistakes:
            for arm in check["arms"]:
                hits, count = arm["reference"]["hits"], arm["reference"]["total"]
                followed, total = followed + count - hits, total + count
        follow = {
            "followed": followed,
            "total": total,
            "value": followed / total if total else None,
        }
        found["follow"] = follow
        found["units"]["follow"] = follow
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
                "unpriced": stats.get("unpriced", []),
                "cache_hit_rate": stats["replayed"] / calls if calls else None,
            },
            "workers": workers,
        },
        "tests": [
            {"nodeid": nodeid, **entry, "metrics": test_metrics(entry["checks"])}
            for nodeid, entry in sorted(tests.items())
        ],
    }


def junit_properties(entry: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(name, value)`` pairs for JUnit XML: metrics, interval, calls, tokens, cache hits."""
    props: list[tuple[str, Any]] = []
    metrics = test_metrics(entry["checks"])
    if metrics is not None:
        props.append(("xgen_consistency", metrics["consistency"]["value"]))
        props.append(("xgen_baseline_consistency", metrics["baseline_consistency"]["value"]))
        props.append(("xgen_lift", metrics["lift"]))
        if metrics["accuracy"] is not None:
            props.append(("xgen_accuracy", metrics["accuracy"]["value"]))
        if metrics["explanation"] is not None:
            props.append(("xgen_explanation", metrics["explanation"]["value"]))
        if "follow" in metrics:
            props.append(("xgen_follow_rate", metrics["follow"]["value"]))
        transfers = [c for c in entry["checks"] if c["kind"] == "transfer"]  # has intervals
        interval = transfers[-1]["conditions"]["transfer"]["interval"] if transfers else None
        if interval is not None:
            props += [("xgen_interval_low", interval[0]), ("xgen_interval_high", interval[1])]
    if entry["checks"]:
        from pytest_xgen.report.status import row_status

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
    return props


def schema_problem(doc: object) -> str | None:
    """Why ``doc`` fails ``report.schema.json`` (key path and message), or None. A number
    that is not finite fails too: a schema's bounds let ``NaN`` and ``Infinity`` pass."""
    import jsonschema

    from pytest_xgen.core.finite import first_nonfinite
    from pytest_xgen.settings.config import load_schema

    unfinite = first_nonfinite(doc)
    if unfinite is not None:
        return unfinite
    validator = jsonschema.Draft202012Validator(load_schema("report.schema.json"))
    error = next(iter(validator.iter_errors(doc)), None)
    if error is None:
        return None
    path = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    return f"at {path}: {error.message[:200]}"
