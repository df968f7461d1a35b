"""B2: the same recorded chat calls replayed with vcrpy through the ``openai`` client
(what pytest-recording users do today) vs pytest-xgen's replay.

The vcrpy cassette is recorded once per run against ``tests/server.py`` (chat
completions, ``record_mode="all"``), the server is stopped, and each rep times
``vcr.use_cassette(path, record_mode="none")`` (cassette load included) around
``openai.OpenAI(base_url=..., api_key="x").chat.completions.create(...)`` for every prompt.
vcrpy's default matchers are used (pytest-recording's default too: method, scheme, host,
port, path, query), so identical-URL requests are served in recorded order. The xgen side
is B1's: ``xgen.model(name).chat(...)`` in record mode ``none`` from a pre-filled store,
same prompts, same answers. Both sides alternate inside one process.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import _common, _xgen

ROW = "B2"
WHAT = "replay the 1,000 calls: vcrpy cassette + openai client / pytest-xgen replay"
TARGET = ">= 20"
DEFAULT_REPS = 3
#: The per-test layout of the extra measurement: this many calls per cassette.
PER_TEST = 10

ROOT = Path(__file__).resolve().parent.parent


def _fakeserver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("xgen_bench_server", ROOT / "tests" / "server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def record(directory: Path, n: int) -> tuple[Path, list[Path], str]:
    """Record the ``n`` calls into one vcrpy cassette, and again split into cassettes of
    ``PER_TEST`` calls (pytest-recording's one cassette per test); returns both and the
    base URL the recordings were made against (no longer listening)."""
    import openai
    import vcr
    import yaml

    server = _fakeserver().OpenAIServer().start()
    try:
        whole = directory / "all.yaml"
        with vcr.use_cassette(str(whole), record_mode="all"):
            client = openai.OpenAI(base_url=server.base_url, api_key="x")
            for i in range(n):
                client.chat.completions.create(model=_xgen.MODEL, **_params(i))
    finally:
        server.stop()
    # The split cassettes hold the very same interactions, cut into per-test files.
    data = yaml.load(whole.read_text(), Loader=yaml.CSafeLoader)
    interactions = data["interactions"]
    parts = []
    for start in range(0, n, PER_TEST):
        part = directory / f"test_{start // PER_TEST:04d}.yaml"
        chunk = {"interactions": interactions[start : start + PER_TEST], "version": data["version"]}
        part.write_text(yaml.dump(chunk, Dumper=yaml.CSafeDumper))
        parts.append(part)
    return whole, parts, server.base_url


def _params(i: int) -> dict[str, Any]:
    return {"messages": _xgen.messages(i), "temperature": 0, "seed": 0}


def replay(cassettes: list[Path], base_url: str, n: int) -> tuple[float, float]:
    """Seconds to replay the ``n`` calls from ``cassettes`` (in order, ``n / len`` calls
    each) and of that, seconds spent opening (loading) the cassettes."""
    import openai
    import vcr

    per = n // len(cassettes)
    loading = 0.0
    expected = _xgen.response(_xgen.prompt(n - 1))["text"]
    answer = None
    start = time.perf_counter()
    client = openai.OpenAI(base_url=base_url, api_key="x")
    for c, path in enumerate(cassettes):
        opened = time.perf_counter()
        with vcr.use_cassette(str(path), record_mode="none"):
            loading += time.perf_counter() - opened
            for i in range(c * per, (c + 1) * per):
                answer = client.chat.completions.create(model=_xgen.MODEL, **_params(i))
    elapsed = time.perf_counter() - start
    text = answer.choices[0].message.content if answer is not None else None
    if text != expected:
        raise AssertionError(f"vcrpy replayed {text!r}, expected {expected!r}")
    return elapsed, loading


def run(reps: int, n: int | None = None) -> dict[str, Any]:
    n = n or _common.calls()
    with tempfile.TemporaryDirectory(prefix="xgen-b2-") as tmp:
        whole, parts, base_url = record(Path(tmp), n)

        def job(ctx: _xgen.Context) -> dict[str, Any]:
            ctx.replay()  # warm-up of both sides (imports, SQLite pages, vcrpy patches)
            replay(parts[:1], base_url, min(n, PER_TEST))
            pairs = []
            for rep in range(reps):
                if rep % 2:
                    vcr_s, load_s = replay([whole], base_url, n)
                    xgen_s = ctx.replay()
                else:
                    xgen_s = ctx.replay()
                    vcr_s, load_s = replay([whole], base_url, n)
                pairs.append((vcr_s, load_s, xgen_s))
            split_s, split_load = replay(parts, base_url, n)
            return {"pairs": pairs, "split": (split_s, split_load, ctx.replay())}

        found = _xgen.in_xgen(Path(tmp) / "xgen", job, n=n)
    pairs = found["pairs"]
    ratios = [v / x for v, _, x in pairs]
    vcr_s = _common.median(v for v, _, _ in pairs)
    load_s = _common.median(load for _, load, _ in pairs)
    xgen_s = _common.median(x for _, _, x in pairs)
    split_s, split_load, split_x = found["split"]
    detail = (
        f"{n} calls; one cassette: vcrpy {vcr_s:.2f} s ({_common.ms(vcr_s / n)}/call, of which "
        f"{load_s:.2f} s loading the YAML; a replayed request is matched by scanning the "
        f"cassette, so the time grows with calls x cassette size), xgen {xgen_s:.3f} s "
        f"({_common.us(xgen_s / n)}/call); pytest-recording's one cassette per test "
        f"({len(parts)} cassettes of {PER_TEST} calls, one pass): vcrpy {split_s:.2f} s "
        f"({split_load:.2f} s loading), ratio {split_s / split_x:.1f}"
    )
    return _common.result(ratios, TARGET, detail)


if __name__ == "__main__":
    sys.exit(_common.main(sys.modules[__name__]))
