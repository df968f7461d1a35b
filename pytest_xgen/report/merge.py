"""Merging the JSON reports of a sharded run into the report one unsharded run would write.

A suite split over CI machines (``pytest-split`` groups, or a matrix of ``-k`` / path
subsets) writes one report per shard. :func:`merge_reports` combines them:

============================  ==============================================================
field                         rule
============================  ==============================================================
``tests``                     the union, sorted by node id; a test in two shards is an error
``run.models``                the union; a model named with two identities is an error
``run.record_mode``, ``seed``, must be equal in every shard (else the shards ran different
``run.model_map``             suites, or called different models)
``run.calls``                 counts, tokens and cost added up; ``cache_hit_rate``
                              recomputed from the sums; ``unpriced`` the union
``run.workers``               added up (every worker of every shard)
``run.versions``              per package, the versions found, sorted and joined with ", "
``created``                   the latest shard's
``comparison``                dropped: compare the merged report (``xgen compare``)
============================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_xgen.core.finite import first_nonfinite
from pytest_xgen.errors import XgenError
from pytest_xgen.report.gate_runs import load_run


class MergeError(XgenError):
    """Shard reports that cannot be one run; the message names the files."""


def merge_reports(shards: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One report from ``(file name, report)`` pairs, by the rules of the module docstring."""
    if not shards:
        raise MergeError("no shard reports to merge; pass the JSON reports of every shard")
    first_name, first = shards[0]
    run: dict[str, Any] = {
        "record_mode": first["run"]["record_mode"],
        "seed": first["run"]["seed"],
        "models": {},
        "model_map": first["run"]["model_map"],
        "versions": {},
        "calls": {},
        "workers": 0,
    }
    owners: dict[str, str] = {}
    versions: dict[str, set[str]] = {}
    tests: dict[str, dict[str, Any]] = {}
    test_owner: dict[str, str] = {}
    for name, doc in shards:
        shard = doc["run"]
        for field in ("record_mode", "seed", "model_map"):
            if shard[field] != run[field]:
                raise MergeError(
                    f"{name} ran with {field} {_short(shard[field])} and {first_name} with "
                    f"{_short(run[field])}: shards of one run share their settings; run "
                    f"every shard with the same {field}"
                )
        for key, value in shard["models"].items():
            if key in run["models"] and run["models"][key] != value:
                raise MergeError(
                    f"model {key!r} differs between {owners[key]} "
                    f"({_short(run['models'][key])}) and {name} ({_short(value)}): the "
                    "shards called different models; rerun them with one model table"
                )
            run["models"].setdefault(key, value)
            owners.setdefault(key, name)
        for package, version in shard["versions"].items():
            versions.setdefault(package, set()).add(version)
        for key, value in shard["calls"].items():
            if key == "unpriced":
                run["calls"][key] = sorted(set(run["calls"].get(key, [])) | set(value))
            elif key != "cache_hit_rate":
                run["calls"][key] = run["calls"].get(key, 0) + value
        run["workers"] += shard["workers"]
        for test in doc["tests"]:
            nodeid = test["nodeid"]
            if nodeid in tests:
                raise MergeError(
                    f"test {nodeid} is in both {test_owner[nodeid]} and {name}: each test "
                    "belongs to one shard; check the split (pytest-split's --splits/--group, "
                    "or the -k / path subsets), or merge the reports of one run only"
                )
            tests[nodeid] = test
            test_owner[nodeid] = name
    calls = run["calls"]
    made = calls["replayed"] + calls["live"]  # both required of every shard
    calls["cache_hit_rate"] = calls["replayed"] / made if made else None
    for key in ("cost", "replayed_cost"):
        if key in calls:
            calls[key] = round(calls[key], 9)
    problem = first_nonfinite({"run": {"calls": calls}})
    if problem is not None:  # finite figures whose sum is not (each near 1e308)
        raise MergeError(
            f"the shard reports' figures add up to more than a number holds ({problem}); "
            "check the shard reports"
        )
    run["versions"] = {p: ", ".join(sorted(v)) for p, v in sorted(versions.items())}
    return {
        "format": first["format"],
        "version": first["version"],
        "created": max(doc["created"] for _, doc in shards),
        "run": run,
        "tests": [tests[nodeid] for nodeid in sorted(tests)],
    }


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in sorted(value.items())) + "}"
    return repr(value)


def merge_report_files(paths: Sequence[Path]) -> dict[str, Any]:
    """Read (and validate) each shard report, then merge them."""
    shards = []
    seen: set[Path] = set()
    for path in paths:
        if path.resolve() in seen:
            raise MergeError(f"{path} is given twice; pass each shard's report once")
        seen.add(path.resolve())
        try:
            shards.append((str(path), load_run(path, path.parent)))
        except (OSError, ValueError) as exc:
            raise MergeError(str(exc)) from None
    return merge_reports(shards)
