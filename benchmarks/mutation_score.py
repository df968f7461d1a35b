"""Per-module mutation scores from ``mutmut results --all true`` (``make mutate``).

(killed + timeout) / all: a mutant that makes the tests hang is caught (mutmut stops them at
its time limit); a mutant no test runs counts as not killed.
"""

from __future__ import annotations

import collections
import subprocess
import sys


def main() -> int:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        module = ".".join(name.split(".")[:3])
        counts[module][status] += 1
    total: collections.Counter[str] = collections.Counter()
    print(f"{'module':32} {'mutants':>7} {'killed':>7} {'survived':>8} {'no tests':>8}  score")
    for module in sorted(counts):
        c = counts[module]
        total.update(c)
        print(_row(module, c))
    print(_row("all", total))
    return 0


def _row(module: str, c: collections.Counter[str]) -> str:
    n = sum(c.values())
    killed = c["killed"] + c["timeout"]
    return f"{module:32} {n:>7} {killed:>7} {c['survived']:>8} {c['no tests']:>8}  {killed / n:.0%}"


if __name__ == "__main__":
    raise SystemExit(main())
