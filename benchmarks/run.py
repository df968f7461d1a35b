"""Run every benchmark and print one table.

``python -m benchmarks.run [--reps N] [--only B1,B2] [--json out.json]`` imports each
``benchmarks/b*_*.py`` module (in row order), runs ``run(reps)`` and prints a row per
module: row, what, the median ratio, its spread (min-max), reps, target, whether it is
met, and detail. A module that fails to import or raises is an error row, not a crash;
the exit status is 1 if any row is an error. Run it from the repository root (pysbd, a
dependency, installs an unrelated top-level ``benchmarks`` package).
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import _common

HERE = Path(__file__).resolve().parent
_MODULE = re.compile(r"^b(\d+)_\w+\.py$")


def discover(directory: Path = HERE) -> list[str]:
    """The benchmark module names in ``directory``, in row order (b1, b2, ..., b10)."""
    names = [p.name for p in directory.iterdir() if _MODULE.match(p.name)]
    names.sort(key=lambda n: (int(_MODULE.match(n).group(1)), n))  # type: ignore[union-attr]
    return [n[: -len(".py")] for n in names]


class _Broken(ModuleType):
    """Stands in for a module that failed to import, so it still gets a (error) row."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        match = re.match(r"b(\d+)_", name)
        self.ROW = f"B{match.group(1)}" if match else name
        self.WHAT = name
        self.TARGET = ""


def load(names: Sequence[str], package: str = "benchmarks") -> list[tuple[ModuleType, str]]:
    """Each module with its import error ("" when it imported)."""
    loaded = []
    for name in names:
        try:
            loaded.append((importlib.import_module(f"{package}.{name}"), ""))
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            loaded.append((_Broken(name), f"import failed: {type(exc).__name__}: {exc}"))
    return loaded


def run_one(module: ModuleType, reps: int | None) -> tuple[dict[str, Any] | None, str]:
    """The module's result, or ``None`` and the error it raised."""
    try:
        res = module.run(reps if reps is not None else getattr(module, "DEFAULT_REPS", 3))
        for key in ("ratio", "reps", "spread", "target_met", "detail"):
            if key not in res:
                raise KeyError(f"run() returned no {key!r}")
        return res, ""
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        return None, f"{type(exc).__name__}: {exc}"


def run_all(
    modules: Sequence[tuple[ModuleType, str]], reps: int | None, *, progress: bool = True
) -> list[dict[str, Any]]:
    """Run the modules; one record per module (its table row, result and error)."""
    records = []
    for module, error in modules:
        row = getattr(module, "ROW", module.__name__)
        res: dict[str, Any] | None = None
        start = time.perf_counter()
        if progress:
            print(f"running {row}: {getattr(module, 'WHAT', '')} ...", file=sys.stderr, flush=True)
        if not error:
            res, error = run_one(module, reps)
        records.append(
            {
                "module": module.__name__,
                "table": _common.table_row(module, res, error),
                "result": res,
                "error": error or None,
                "seconds": time.perf_counter() - start,
            }
        )
    return records


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "--reps", type=int, default=None, help="repetitions (default: each benchmark's own)"
    )
    parser.add_argument("--only", default="", help="comma-separated rows, e.g. B1,B2")
    parser.add_argument("--json", dest="json_path", default=None, help="also write results here")
    args = parser.parse_args(argv)
    wanted = {r.strip().upper() for r in args.only.split(",") if r.strip()}
    modules = [(m, e) for m, e in load(discover()) if not wanted or str(m.ROW).upper() in wanted]
    missing = wanted - {str(m.ROW).upper() for m, _ in modules}
    if missing:
        parser.error(f"no benchmark for {', '.join(sorted(missing))}")
    records = run_all(modules, args.reps)
    print(_common.format_table([r["table"] for r in records]))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(records, indent=2) + "\n")
    return 1 if any(r["error"] for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
