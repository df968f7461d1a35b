"""The benchmark harness (``benchmarks/``): it runs, prints its table, and turns a broken
benchmark into an error row. Nothing here times anything or asserts a speed; the sizes
are tiny (``XGEN_BENCH_CALLS``, small suites)."""

from __future__ import annotations

import copy
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _ours() -> None:
    # pysbd installs an unrelated top-level ``benchmarks`` package; ours must win.
    import benchmarks

    assert Path(benchmarks.__file__).resolve().parent == ROOT / "benchmarks"


def bench(*args: str, calls: int = 30) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XGEN_BENCH_CALLS=str(calls), PYTHONDONTWRITEBYTECODE="")
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def row_of(table: str, row: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(row + " "))
    return line.split()


def test_run_only_b1_prints_a_table_with_a_numeric_ratio(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = bench("benchmarks.run", "--only", "B1", "--reps", "1", "--json", str(out))
    assert result.returncode == 0, result.stderr
    header, rule, *rows = result.stdout.splitlines()
    assert header.split()[:8] == [
        "row",
        "what",
        "ratio",
        "spread",
        "reps",
        "target",
        "met",
        "detail",
    ]
    assert set(rule) == {"-"}
    assert len(rows) == 1 and rows[0].startswith("B1 ")
    # row, then WHAT (several words), then ratio, spread, reps, target ("<= 2.0"), met
    match = re.search(r"\s(\d[\d.e+]*)\s+([\d.e+]+-[\d.e+]+)\s+1\s+<= 2\.0\s+(yes|no)\s", rows[0])
    assert match, rows[0]
    assert float(match.group(1)) > 0
    assert "30 calls" in rows[0]
    import json

    (record,) = json.loads(out.read_text())
    assert record["result"]["reps"] == 1 and record["error"] is None
    assert set(record["result"]) == {"ratio", "reps", "spread", "target_met", "detail"}


def test_a_single_benchmark_runs_alone() -> None:
    result = bench("benchmarks.b1_replay", "--reps", "1", calls=20)
    assert result.returncode == 0, result.stderr
    assert row_of(result.stdout, "B1")[0] == "B1"


def test_b2_replays_through_vcrpy() -> None:
    pytest.importorskip("vcr")
    from benchmarks import b2_vcrpy

    res = b2_vcrpy.run(1, n=20)
    assert res["reps"] == 1 and res["ratio"] > 0
    assert "20 calls" in res["detail"] and "2 cassettes of 10" in res["detail"]


def test_b6_collects_a_generated_suite() -> None:
    from benchmarks import b6_collect

    res = b6_collect.run(1, modules=2, tests=3)
    assert res["reps"] == 1 and res["ratio"] > 0
    assert "6 tests" in res["detail"] and "import pytest_xgen.plugin" in res["detail"]


def _module(name: str, row: str, run: Any) -> ModuleType:
    module = ModuleType(name)
    module.ROW, module.WHAT, module.TARGET = row, f"what {row}", "<= 2.0"  # type: ignore[attr-defined]
    module.run = run  # type: ignore[attr-defined]
    return module


def test_a_benchmark_that_raises_is_an_error_row(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import _common, run

    def boom(reps: int) -> dict[str, Any]:
        raise RuntimeError("the endpoint is down")

    def fine(reps: int) -> dict[str, Any]:
        return _common.result([1.5] * reps, "<= 2.0", "ok")

    records = run.run_all(
        [(_module("b1_boom", "B1", boom), ""), (_module("b2_fine", "B2", fine), "")],
        2,
        progress=False,
    )
    table = _common.format_table([r["table"] for r in records])
    assert row_of(table, "B1")[:6] == ["B1", "what", "B1", "error", "-", "-"]
    assert "RuntimeError: the endpoint is down" in table
    assert row_of(table, "B2")[3:9] == ["1.5", "1.5-1.5", "2", "<=", "2.0", "yes"]
    assert records[0]["error"] and records[1]["error"] is None
    assert "RuntimeError" in capsys.readouterr().err  # the traceback, for whoever debugs it


def test_a_module_that_does_not_import_is_an_error_row() -> None:
    from benchmarks import _common, run

    ((module, error),) = run.load(["b9_missing"])
    assert module.ROW == "B9" and error.startswith("import failed: ModuleNotFoundError")
    (record,) = run.run_all([(module, error)], 1, progress=False)
    assert record["table"]["met"] == "error"
    assert "B9" in _common.format_table([record["table"]])


def test_discovery_finds_the_rows_in_order() -> None:
    from benchmarks import run

    names = run.discover()
    assert names[:2] == ["b1_replay", "b2_vcrpy"] and {"b6_collect", "b7_local"} <= set(names)
    numbers = [int(re.match(r"b(\d+)_", n).group(1)) for n in names]  # type: ignore[union-attr]
    assert numbers == sorted(numbers)
    for name in names:  # the interface every module keeps
        source = (ROOT / "benchmarks" / f"{name}.py").read_text()
        for needed in ("ROW = ", "WHAT = ", "TARGET = ", "def run("):
            assert needed in source, (name, needed)


def test_targets_and_results() -> None:
    from benchmarks import _common

    assert _common.meets(2.0, "<= 2.0") and not _common.meets(2.01, "<= 2.0")
    assert _common.meets(20, ">= 20") and not _common.meets(19.9, ">= 20")
    with pytest.raises(ValueError):
        _common.meets(1.0, "about 2")
    res = _common.result([3.0, 1.0, 2.0], ">= 2", "d")
    assert res == {"ratio": 2.0, "reps": 3, "spread": (1.0, 3.0), "target_met": True, "detail": "d"}


def test_scaling_runs_on_a_tiny_store_and_cassette() -> None:
    result = bench("benchmarks.scaling", "--sizes", "15", "--modes", "store,cassette")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "1st pass us/call" in lines[0] and "tracemalloc peak MB" in lines[0]
    assert [line.split()[:2] for line in lines[2:]] == [["store", "15"], ["cassette", "15"]]


# -- the compiled schema check B1 added to the replay path (pytest_xgen/recording/store.py) ---------
_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 2.5, "", "x", "a" * 64, "0" * 64, "0" * 64 + "\n",
    [], [1], ["s"], [None], [{}], [{"role": "u"}], {}, {"role": "u"}, {"a": 1}, "chat",
]  # fmt: skip


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*path, i))
    return found


def _mutate(entry: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    mutated = copy.deepcopy(entry)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(mutated)[1:])
        parent = mutated
        for part in path[:-1]:
            parent = parent[part]
        roll = rng.random()
        if roll < 0.6:
            parent[path[-1]] = copy.deepcopy(rng.choice(_VALUES))
        elif roll < 0.8 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            extra = rng.choice(["zz", "test", "prompt", "messages", "tokens", "text_offset"])
            parent[extra] = copy.deepcopy(rng.choice(_VALUES))
    return mutated


def test_the_fast_schema_check_never_accepts_what_jsonschema_rejects() -> None:
    from pytest_xgen.recording import store as cache
    from pytest_xgen.recording.store import build_request, make_entry

    fast, validator = cache._fast_check(), cache._validator()
    assert fast is not None, "the recording schema uses a keyword the fast check lacks"
    chat = make_entry(
        build_request("chat", {"endpoint": "h/v1", "model": "m"}, {"seed": 0}, 0,
                      messages=[{"role": "user", "content": "hi"}]),
        {"text": "a", "reasoning": "", "finish_reason": "stop", "model": "m",
         "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
        test="t",
    )  # fmt: skip
    completion = make_entry(
        build_request("completion", {"endpoint": "h/v1", "model": "m"}, {"echo": True}, 3,
                      prompt="p"),
        {"text": "a", "tokens": ["a", "b"], "token_logprobs": [None, -1.0], "usage": {}},
    )  # fmt: skip
    rng = random.Random(0)
    accepted = 0
    for entry in (chat, completion):
        assert fast(entry) and validator.is_valid(entry)
        for _ in range(1500):
            mutated = _mutate(entry, rng)
            if fast(mutated):
                accepted += 1
                assert validator.is_valid(mutated), mutated
    assert accepted > 100  # the mutations also produced valid entries, which it accepts


def test_an_unknown_schema_keyword_turns_the_fast_check_off() -> None:
    from pytest_xgen.recording import store as cache

    assert cache._compile({"type": "object", "maxProperties": 3}) is None
    assert cache._compile({"type": "object", "properties": {"a": {"oneOf": []}}}) is None
    check = cache._compile({"type": "integer", "minimum": 0})
    assert check is not None
    assert check(0) and not check(-1) and not check(True) and not check(1.5)


def test_calibration_simulations_tell_noise_from_change() -> None:
    import random

    from benchmarks import _calibration

    # A/A at 50 tests: the uncorrected per-test gate of old raises alarms, the gate does not.
    rng = random.Random("test")
    outcomes = [_calibration.gate_trial(rng, 50) for _ in range(12)]
    assert all(result != "fail" for result, _ in outcomes)
    assert any(legacy == "fail" for _, legacy in outcomes)
    # One evaluator's accuracy 0.88 -> 0.45 fails the gate.
    assert _calibration.gate_trial(random.Random(1), 50, after_accuracy=0.45)[0] == "fail"
    # A search of padding and noise passes; a distractible model is found.
    assert not _calibration.search_trial(3, distract=0.0, expected=False)
    assert _calibration.search_trial(3, distract=0.9, expected=True)
    # Verdicts at the defaults: a clear case passes, a clear failure fails.
    assert _calibration.check_verdict(random.Random(2), 1.0, 0.8, interval=True) == "pass"
    assert _calibration.check_verdict(random.Random(2), 0.3, 0.8, interval=True) == "fail"
