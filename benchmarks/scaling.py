"""How replay cost grows with the number of recordings: 1k, 10k and 100k entries.

``python -m benchmarks.scaling [--sizes 1000,10000,100000] [--modes store,cassette]
[--json out.json]``. For each size and mode a fresh directory is filled by one process
(``--prefill``) and replayed by another (``--measure``), so memory figures are the replay's
own. The replay is B1's full path (``xgen.model(name).chat(...)`` in record mode ``none``
inside an in-process pytest run), with every prompt built in the loop (no list of prompts
is held). Modes:

* ``store``: cassettes off, every call reads the diskcache store;
* ``cassette``: one module cassette (JSON Lines) holding every entry, the way a team's
  committed cassettes replay in CI; it is read and checked on the first call.

Measured: prefill seconds, the first (cold) pass in total and per call (it includes
opening the store or loading the cassette), a second (warm) pass per call, the resident
set size before the first call and after it, the peak RSS (``ru_maxrss``), the
tracemalloc peak during a third pass, and the size on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import _xgen

SIZES = (1_000, 10_000, 100_000)
MODES = ("store", "cassette")
MB = 1024 * 1024


def _rss() -> int:
    """Current resident set size in bytes (Linux ``/proc``; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _disk(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def prefill(directory: Path, n: int, mode: str) -> dict[str, Any]:
    start = time.perf_counter()
    _xgen.in_xgen(directory, None, n=n, prefill=mode)
    seconds = time.perf_counter() - start
    stored = directory / (".xgen/cache" if mode == "store" else "cassettes")
    return {"prefill_s": seconds, "disk_bytes": _disk(stored)}


def measure(directory: Path, n: int, mode: str) -> dict[str, Any]:
    def job(ctx: _xgen.Context) -> dict[str, Any]:
        before = _rss()
        cold = ctx.replay(prebuilt=False)
        after = _rss()
        warm = ctx.replay(prebuilt=False)
        tracemalloc.start()
        ctx.replay(prebuilt=False)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return {
            "cold_s": cold,
            "warm_s": warm,
            "rss_before": before,
            "rss_after": after,
            "traced_peak": traced_peak,
        }

    found: dict[str, Any] = _xgen.in_xgen(
        directory, job, n=n, prefill=None, cassettes=mode == "cassette"
    )
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found["peak_rss"] = kb * 1024 if sys.platform.startswith("linux") else kb
    return found


def _child(args: list[str]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="")
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.scaling", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scaling {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def run(sizes: Sequence[int] = SIZES, modes: Sequence[str] = MODES) -> list[dict[str, Any]]:
    rows = []
    for mode in modes:
        for n in sizes:
            print(f"scaling: {mode} {n} entries ...", file=sys.stderr, flush=True)
            with tempfile.TemporaryDirectory(prefix=f"xgen-scaling-{mode}-{n}-") as tmp:
                common = ["--dir", tmp, "--mode", mode, "--n", str(n)]
                row = {"mode": mode, "entries": n}
                row.update(_child(["--prefill", *common]))
                row.update(_child(["--measure", *common]))
            rows.append(row)
    return rows


COLUMNS = (
    ("mode", "mode", lambda r: r["mode"]),
    ("entries", "entries", lambda r: f"{r['entries']:,}"),
    ("prefill", "prefill s", lambda r: f"{r['prefill_s']:.1f}"),
    ("disk", "on disk MB", lambda r: f"{r['disk_bytes'] / MB:.1f}"),
    ("cold", "1st pass s", lambda r: f"{r['cold_s']:.2f}"),
    ("cold/call", "1st pass us/call", lambda r: f"{1e6 * r['cold_s'] / r['entries']:.0f}"),
    ("warm/call", "2nd pass us/call", lambda r: f"{1e6 * r['warm_s'] / r['entries']:.0f}"),
    ("rss0", "RSS before MB", lambda r: f"{r['rss_before'] / MB:.0f}"),
    ("rss1", "RSS after 1st MB", lambda r: f"{r['rss_after'] / MB:.0f}"),
    ("peak", "peak RSS MB", lambda r: f"{r['peak_rss'] / MB:.0f}"),
    ("traced", "tracemalloc peak MB", lambda r: f"{r['traced_peak'] / MB:.2f}"),
)


def format_rows(rows: Sequence[dict[str, Any]]) -> str:
    cells = [[fmt(r) for _, _, fmt in COLUMNS] for r in rows]
    heads = [head for _, head, _ in COLUMNS]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True))]
    lines.append("-" * len(lines[0]))
    for c in cells:
        lines.append("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--json", dest="json_path", default=None)
    # One step in a child process (used by run()).
    parser.add_argument("--prefill", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="store", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prefill or args.measure:
        step = prefill if args.prefill else measure
        print(json.dumps(step(Path(args.dir), args.n, args.mode)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown mode(s) {', '.join(sorted(unknown))}; use {', '.join(MODES)}")
    rows = run(sizes, modes)
    print(format_rows(rows))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
