"""Reading the runs the gate compares: a saved run's name or a report's path, checked for
what the comparison reads before it reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_xgen.core.gate_metrics import COUNTS
from pytest_xgen.report.build import FORMAT, VERSION, schema_problem

DEFAULT_RUNS_DIR = Path(".xgen/runs")


def load_run(ref: str | Path, runs_dir: Path) -> dict[str, Any]:
    """The report that ``ref`` names: a saved run's NAME (``runs_dir / "NAME.json"``), the
    path of a ``.json`` report, or a :class:`~pathlib.Path` (a report of any name).

    Raises :class:`FileNotFoundError` when there is no such file, saying how to create one,
    and :class:`ValueError` naming the file when it is not a pytest-xgen report of this
    version or lacks the counts the comparison needs.
    """
    if isinstance(ref, Path):
        is_path, path = True, ref
    else:
        is_path = ref.endswith(".json") or "/" in ref or "\\" in ref
        path = Path(ref) if is_path else runs_dir / f"{ref}.json"
    if not path.is_file():
        what = f"no run report at {path}" if is_path else f"no saved run {ref!r} at {path}"
        name = "NAME" if is_path else ref
        raise FileNotFoundError(f"{what}; save a run with --xgen-save={name}")
    try:
        # "UTF-8" is the same codec, and None reads UTF-8 in the tests' locale.
        document = json.loads(path.read_text(encoding="utf-8"))  # pragma: no mutate
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a pytest-xgen report: not JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise ValueError(
            f"{path} is not a pytest-xgen report: format {found!r}, expected {FORMAT!r}"
        )
    if document.get("version") != VERSION:
        raise ValueError(
            f"{path} is a pytest-xgen report of version {document.get('version')!r}; "
            f"this pytest-xgen reads version {VERSION}"
        )
    problem = structure_problem(document) or schema_problem(document)
    if problem is not None:
        raise ValueError(
            f"{path} is not a valid pytest-xgen report: {problem}; regenerate it with "
            "pytest --xgen-report=PATH (or --xgen-save=NAME)"
        )
    return document


def structure_problem(document: dict[str, Any]) -> str | None:
    """What keeps the comparison from reading ``document``, or ``None``: a test without a
    string ``nodeid``, ``metrics`` that is neither an object nor null, or a unit count of
    :data:`~pytest_xgen.core.gate_metrics.COUNTS` that is not successes of a total (a
    required one missing too)."""
    # Only what compare() reads is checked: enough to turn a hand-edited or truncated file
    # into a message instead of a KeyError deep inside the comparison.
    tests = document.get("tests")
    if not isinstance(tests, list):
        return "'tests' is not a list"
    for index, test in enumerate(tests):
        if not isinstance(test, dict) or not isinstance(test.get("nodeid"), str):
            return f"tests[{index}] has no string 'nodeid'"
        metrics = test.get("metrics", ...)
        where = f"tests[{index}] ({test['nodeid']})"
        if metrics is None:
            continue
        if not isinstance(metrics, dict):
            return f"{where} has no 'metrics' object or null"
        units = metrics.get("units")
        if not isinstance(units, dict):
            return (
                f"{where}: metrics has no per-sample 'units' counts (a report of an older "
                "pytest-xgen)"
            )
        for count in COUNTS:
            found = units.get(count.name)
            if not count.unit or (found is None and not count.required):
                continue
            if not valid_count(found, count.success):
                return (
                    f"{where}: metrics.units.{count.name} needs integers {count.success} and "
                    f"total with 0 <= {count.success} <= total"
                )
    return None


def valid_count(count: Any, success: str) -> bool:
    """Whether ``count`` is ``{success: hits, "total": total}`` with whole numbers (not
    booleans) and ``0 <= hits <= total``."""
    if not isinstance(count, dict):
        return False
    hits, total = count.get(success), count.get("total")
    return (
        isinstance(hits, int)
        and isinstance(total, int)
        and not isinstance(hits, bool)
        and not isinstance(total, bool)
        and 0 <= hits <= total
    )
