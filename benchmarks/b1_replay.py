"""B1: replaying recorded chat calls through pytest-xgen vs raw diskcache ``get``.

The xgen side is what a test does, ``xgen.model(name).chat(...)`` in record mode ``none``
against a pre-filled store (cassettes off, so every call goes to the store): the request
is built and hashed, the entry read, checked (schema, key, digest) and turned into a
``ChatResult``, and the ``pytest_xgen_call_done`` hook runs. The raw side is
``diskcache.Cache.get(key)`` on the same store for the same keys. Both run in the same
process; each rep times every call once on each side, alternating in chunks of 100 calls.
``detail`` says where the time goes: each step timed alone over the same entries, and the
functions with the most own time in one more pass under cProfile.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import _common, _xgen

ROW = "B1"
WHAT = "replay 1,000 recorded chat calls: pytest-xgen full path / raw diskcache get"
TARGET = "<= 2.0"
DEFAULT_REPS = 5
CHUNK = 100  # calls timed back to back before switching sides


def run(reps: int, n: int | None = None) -> dict[str, Any]:
    n = n or _common.calls()
    with tempfile.TemporaryDirectory(prefix="xgen-b1-") as tmp:
        timings = _xgen.in_xgen(Path(tmp), lambda ctx: _job(ctx, reps), n=n)
    pairs, profile = timings
    ratios = [x / raw for x, raw in pairs]
    xgen_call = _common.median(x for x, _ in pairs) / n
    raw_call = _common.median(raw for _, raw in pairs) / n
    detail = (
        f"{n} calls; xgen {_common.us(xgen_call)}/call, raw get {_common.us(raw_call)}/call; "
        f"{profile}"
    )
    return _common.result(ratios, TARGET, detail)


def _job(ctx: _xgen.Context, reps: int) -> tuple[list[tuple[float, float]], str]:
    cache = ctx.store.cache
    keys = ctx.keys

    def raw(start: int, stop: int) -> float:
        get = cache.get
        batch = keys[start:stop]
        began = time.perf_counter()
        for key in batch:
            if get(key) is None:
                raise AssertionError(f"raw get found no entry under {key}")
        return time.perf_counter() - began

    ctx.replay()  # warm-up: imports, SQLite pages, the model object
    raw(0, ctx.n)
    # Each rep interleaves the two sides in chunks, so load from elsewhere on the machine
    # falls on both alike; the order within a chunk alternates between reps.
    chunks = [(i, min(i + CHUNK, ctx.n)) for i in range(0, ctx.n, CHUNK)]
    pairs = []
    for rep in range(reps):
        gc.collect()
        xgen_s = raw_s = 0.0
        for start, stop in chunks:
            if rep % 2:
                raw_s += raw(start, stop)
                xgen_s += ctx.replay(start, stop)
            else:
                xgen_s += ctx.replay(start, stop)
                raw_s += raw(start, stop)
        pairs.append((xgen_s, raw_s))
    best_call = min(x for x, _ in pairs) / ctx.n
    return pairs, _breakdown(ctx, best_call) + "; " + _profile(ctx)


def _breakdown(ctx: _xgen.Context, best_call: float) -> str:
    """Per-call cost of each step of a replay, each timed alone over the same entries
    (best of 3); "rest" is the full path's best rep minus these steps."""
    import json

    from pytest_xgen.recording import store as xcache

    get = ctx.store.cache.get
    raws = [get(key) for key in ctx.keys]
    entries = [json.loads(raw) for raw in raws]
    requests = [ctx.request(i) for i in range(ctx.n)]
    fast = xcache._fast_check()
    validator = xcache._validator()

    def schema() -> None:
        for entry in entries:
            if fast is None or not fast(entry):
                next(iter(validator.iter_errors(entry)), None)

    def checks() -> None:
        for key, entry in zip(ctx.keys, entries, strict=True):
            xcache.check_entry(entry, where="bench", key=key)

    def best(fn: Callable[[], object]) -> float:
        return min(_common.timed(fn) for _ in range(3))

    steps = {
        "diskcache get": best(lambda: [get(key) for key in ctx.keys]),
        "json.loads": best(lambda: [json.loads(raw) for raw in raws]),
        "schema check": best(schema),
        "key+digest re-hash": best(checks) - best(schema),
        "request key": best(lambda: [xcache.request_key(r) for r in requests]),
    }
    per_call = {name: max(seconds, 0.0) / ctx.n for name, seconds in steps.items()}
    rest = best_call - sum(per_call.values())
    parts = [f"{name} {_common.us(s)}" for name, s in per_call.items()]
    parts.append(f"rest (request build, recorder, hook, ChatResult) {_common.us(rest)}")
    schema_kind = "compiled fast check" if fast is not None else "jsonschema"
    return f"best rep {_common.us(best_call)}/call ({schema_kind}): " + ", ".join(parts)


def _profile(ctx: _xgen.Context, top: int = 5) -> str:
    """The functions with the most own time in one profiled replay pass (cProfile)."""
    profiler = cProfile.Profile()
    profiler.enable()
    ctx.replay()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in stats.values())
    ranked = sorted(stats.items(), key=lambda kv: -kv[1][2])[:top]
    parts = [
        f"{_where(file, func)} {100 * tt / total:.0f}%"
        for (file, _, func), (_, _, tt, _, _) in ranked
    ]
    return "cProfile own time: " + ", ".join(parts)


def _where(file: str, func: str) -> str:
    """``module.py:function`` of a pstats entry (built-ins keep their own name)."""
    if file == "~":
        return func
    return f"{'/'.join(file.replace(chr(92), '/').split('/')[-2:])}:{func}"


if __name__ == "__main__":
    sys.exit(_common.main(sys.modules[__name__]))
