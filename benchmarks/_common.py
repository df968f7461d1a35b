"""What every benchmark module shares: the result dict, the target test and the table."""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from types import ModuleType
from typing import Any

#: How many recorded calls B1, B2 and the scaling script replay (tests make it small).
CALLS_ENV = "XGEN_BENCH_CALLS"
COLUMNS = ("row", "what", "ratio", "spread", "reps", "target", "met", "detail")

_TARGET = re.compile(r"^\s*(<=|>=|<|>)\s*([0-9.]+)\s*$")


def calls(default: int = 1000) -> int:
    """The number of calls to replay: ``$XGEN_BENCH_CALLS`` or ``default``."""
    value = os.environ.get(CALLS_ENV, "").strip()
    return int(value) if value else default


def meets(ratio: float, target: str) -> bool:
    """Whether ``ratio`` meets a target written as ``"<= 2.0"`` or ``">= 20"``."""
    match = _TARGET.match(target)
    if match is None:
        raise ValueError(f"a target reads like '<= 2.0' or '>= 20', not {target!r}")
    op, bound = match.group(1), float(match.group(2))
    return {
        "<=": ratio <= bound,
        ">=": ratio >= bound,
        "<": ratio < bound,
        ">": ratio > bound,
    }[op]


def result(
    ratios: Sequence[float], target: str, detail: str, ratio: float | None = None
) -> dict[str, Any]:
    """The dict ``run()`` returns: the ratio (the median over the reps, or ``ratio``, e.g. a
    rate pooled over every rep), the reps' spread and the verdict."""
    if not ratios:
        raise ValueError("no repetition was measured")
    if ratio is None:
        ratio = statistics.median(ratios)
    return {
        "ratio": ratio,
        "reps": len(ratios),
        "spread": (min(ratios), max(ratios)),
        "target_met": meets(ratio, target),
        "detail": detail,
    }


def timed(fn: Callable[[], Any]) -> float:
    """Seconds ``fn()`` takes (``time.perf_counter``), after a garbage collection."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us"


# -- the table ---------------------------------------------------------------------------
def _num(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def table_row(module: ModuleType | None, res: dict[str, Any] | None, error: str = "") -> dict:
    """One row of the table as strings (an error row when ``error`` is given)."""
    row = getattr(module, "ROW", "?")
    what = getattr(module, "WHAT", getattr(module, "__name__", "?"))
    target = getattr(module, "TARGET", "")
    if error or res is None:
        return dict(
            row=row, what=what, ratio="error", spread="-", reps="-", target=target,
            met="error", detail=error,
        )  # fmt: skip
    low, high = res["spread"]
    return dict(
        row=row,
        what=what,
        ratio=_num(res["ratio"]),
        spread=f"{_num(low)}-{_num(high)}",
        reps=str(res["reps"]),
        target=target,
        met="yes" if res["target_met"] else "no",
        detail=str(res.get("detail", "")),
    )


def format_table(rows: Sequence[dict[str, str]]) -> str:
    """The rows as a plain-text table; the detail column comes last and is not padded."""
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in COLUMNS[:-1]}
    lines = []
    header = "  ".join(c.ljust(widths[c]) for c in COLUMNS[:-1]) + "  detail"
    lines.append(header)
    lines.append("-" * len(header))
    for r in rows:
        lines.append("  ".join(r[c].ljust(widths[c]) for c in COLUMNS[:-1]) + "  " + r["detail"])
    return "\n".join(lines)


def main(module: ModuleType, argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.bN_name [--reps N]``: run one benchmark, print its row."""
    parser = argparse.ArgumentParser(prog=f"python -m {module.__name__}", description=module.WHAT)
    parser.add_argument("--reps", type=int, default=getattr(module, "DEFAULT_REPS", 3))
    args = parser.parse_args(argv)
    res = module.run(args.reps)
    print(format_table([table_row(module, res)]))
    return 0
