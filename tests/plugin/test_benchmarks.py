"""The benchmark harness (``benchmarks/``): it runs, prints its table, and turns a broken
benchmark into an error row. Nothing here times anything or asserts a speed; the sizes
are tiny (``XGEN_BENCH_CALLS``, small suites)."""

from __future__ import annotations

import copy
import math
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


def test_b23_replays_a_recorded_suite_from_its_cassettes() -> None:
    from benchmarks import b23_replay_suite

    # run() records the suite, deletes the store, checks that the replay replayed every
    # call (with the store gone: from the cassettes alone), then times it.
    res = b23_replay_suite.run(1, modules=2, tests=2)
    assert res["reps"] == 1 and res["ratio"] > 0
    assert "4 tests; replay" in res["detail"] and "CPU-time ratio" in res["detail"]


def test_b24_runs_a_suite_without_xgen_with_and_without_the_plugin() -> None:
    from benchmarks import b24_unused_plugin

    res = b24_unused_plugin.run(1, modules=2, tests=2)
    assert res["reps"] == 1 and res["ratio"] > 0
    assert "4 tests; plugin on" in res["detail"]


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
    from pytest_xgen.core.schema_check import compile_schema

    assert compile_schema({"type": "object", "maxProperties": 3}) is None
    assert compile_schema({"type": "object", "properties": {"a": {"oneOf": []}}}) is None
    check = compile_schema({"type": "integer", "minimum": 0})
    assert check is not None
    assert check(0) and not check(-1) and not check(True) and not check(1.5)


def test_calibration_simulations_tell_noise_from_change() -> None:
    import random

    from benchmarks import _calibration, _searches

    # A/A at 50 tests (the iid special case): the gate does not fail.
    rng = random.Random("test")
    outcomes = [_calibration.gate_trial(rng, 50) for _ in range(12)]
    assert all(result != "fail" for result, _ in outcomes)
    # One evaluator's accuracy 0.88 -> 0.45 fails the gate.
    assert _calibration.gate_trial(random.Random(1), 50, after_accuracy=0.45)[0] == "fail"
    # A search where nothing changes passes; a drop on every example is found.
    assert not _searches.search_trial(3, examples=10, before=0.7, after=0.7).failed
    assert _searches.search_trial(3, examples=10, before=0.9, after=0.1).failed
    # Verdicts at the defaults: a clear case passes, a clear failure fails.
    assert _calibration.check_verdict(random.Random(2), 1.0, 0.8, interval=True) == "pass"
    assert _calibration.check_verdict(random.Random(2), 0.3, 0.8, interval=True) == "fail"


# -- the realistic generator of runs (benchmarks/_runs.py) -------------------------------------
def _fixed(samples: int) -> Any:
    from dataclasses import replace

    from benchmarks import _runs

    return replace(_runs.options(), samples=samples)


def test_the_realistic_models_answer_as_their_expectations_say() -> None:
    # Each draw is a fresh explanation (elicited and stripped by the plugin) and one sample
    # per evaluator in each condition; the rates must match the exact expectations.
    from benchmarks import _runs
    from pytest_xgen.checks.conditions import elicit
    from pytest_xgen.core import prompts
    from pytest_xgen.core.answers import answer_spec

    spec = answer_spec("number")
    opts = _runs.options()
    (problem,) = _runs.draw_suite("expect", 1)
    for world in (_runs.REALISTIC, _runs.evaluator_regression(_runs.REALISTIC, 0.5)):
        agree = base_agree = right = 0
        draws = 1500
        for k in range(draws):
            ask = _runs.Models([problem], world, f"run{k}", f"gen{k}")
            explanation = elicit(problem.prompt, opts, spec, ask, lambda t, s: s.extract(t))
            assert "Answer" not in explanation.text and "draft" in explanation.text
            moved = prompts.transfer(problem.prompt, explanation.text, "user")
            answers = [spec.extract(ask(m, moved, 0, {}).text) for m in _runs.EVALUATORS]
            base = prompts.baseline(problem.prompt, "empty")
            own = [spec.extract(ask(m, base, 0, {}).text) for m in _runs.EVALUATORS]
            agree += answers[0] == answers[1]
            base_agree += own[0] == own[1]
            right += sum(a == problem.truth for a in answers)
        truth = _runs.expected(problem, world)
        for seen, want, n in (
            (agree / draws, truth.consistency, draws),
            (base_agree / draws, truth.baseline_consistency, draws),
            (right / (2 * draws), truth.accuracy, 2 * draws),
        ):
            assert abs(seen - want) < 4 * math.sqrt(want * (1 - want) / n), (seen, want)


def test_the_exact_expectation_integrates_over_clarity_as_scipy_does() -> None:
    from scipy import integrate

    from benchmarks import _runs

    world = _runs.evaluator_regression(_runs.REALISTIC, 0.3)
    for problem in _runs.draw_suite("quad", 5):
        own = [_runs._own(problem, e) for e in world.evaluators]

        def agreement(clarity: float, stated: int, own: list[dict[int, float]] = own) -> float:
            mixed = []
            for e, dist in zip(world.evaluators, own, strict=True):
                f = e.follow(clarity)
                mix = {v: (1 - f) * p for v, p in dist.items()}
                mix[stated] += f
                mixed.append(mix)
            return sum(mixed[0][v] * mixed[1][v] for v in mixed[0])

        want = sum(
            p * integrate.quad(agreement, 0, 1, args=(stated,))[0]
            for stated, p in _runs._statements(problem, world)
        )
        assert _runs.expected(problem, world).consistency == pytest.approx(want, abs=1e-12)


def test_injected_regressions_have_the_size_asked_for() -> None:
    from benchmarks import _runs

    population = _runs._reference()
    before = _runs.mean_expected(population, _runs.REALISTIC)
    worse = _runs.mean_expected(population, _runs.regressed("evaluator", 0.15))
    assert before.consistency - worse.consistency == pytest.approx(0.15, abs=1e-6)
    assert worse.explanation == before.explanation  # the generator is unchanged
    for drop in (0.05, 0.3):
        weaker = _runs.mean_expected(population, _runs.regressed("generator", drop))
        assert before.explanation - weaker.explanation == pytest.approx(drop, abs=1e-9)
        assert weaker.accuracy < before.accuracy
    # No single dominant answer: 3 or 4 wrong answers, spread.
    assert all(len(p.wrong) in (3, 4) for p in population)
    assert sum(max(p.weights) > 0.8 for p in population) < 0.05 * len(population)


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    from benchmarks import _runs

    problems = _runs.draw_suite("recorded", 8)
    opts = _fixed(5)
    return {
        "first": _runs.record(problems, _runs.REALISTIC, "r1", opts=opts),
        "fresh": _runs.record(problems, _runs.REALISTIC, "r2", opts=opts),
        "replayed": _runs.record(problems, _runs.REALISTIC, "r2", "r1", opts=opts),
    }


def test_a_paired_run_replays_the_explanations_and_a_fresh_run_draws_new_ones(
    recorded: dict[str, Any],
) -> None:
    def explanations(run: Any) -> list[str]:
        return [e["checks"][0]["explanation"]["output"] for e in run.entries]

    def answers(run: Any) -> list[Any]:
        return [e["checks"][0]["conditions"]["baseline"]["models"] for e in run.entries]

    first, fresh, replayed = recorded["first"], recorded["fresh"], recorded["replayed"]
    assert explanations(replayed) == explanations(first)
    assert all(a != b for a, b in zip(explanations(fresh), explanations(first), strict=True))
    assert answers(replayed) == answers(fresh) != answers(first)  # samples from the run seed
    assert [e["metrics"] is not None for e in first.entries] == [True] * 8
    assert set(first.outcomes) <= {"passed", "failed", "xfailed"}


def test_a_run_compared_with_itself_has_nothing_regressed(recorded: dict[str, Any]) -> None:
    from benchmarks import _runs

    report = recorded["first"].report()
    found = _runs.gated(report, report, _runs.thresholds("consistency", "accuracy"))
    assert found.regressed == 0 and found.result != "fail"
    assert _runs.blocks(30, 200)[-1] == range(150, 180) and len(_runs.blocks(1, 200)) == 200


def test_explanation_variance_shows_between_runs_and_replaying_removes_it() -> None:
    from benchmarks import _runs

    problems = _runs.draw_suite("variance-test", 12)
    opts = _fixed(10)
    fresh, samples = _runs.variance_ratio(problems, _runs.REALISTIC, 5, opts=opts)
    replayed, _ = _runs.variance_ratio(problems, _runs.REALISTIC, 5, opts=opts, paired=True)
    iid, _ = _runs.variance_ratio(problems, _runs.IID, 5, opts=opts)
    assert samples == 10
    assert fresh > 1.5 * max(replayed, iid) and max(replayed, iid) < 1.5, (fresh, replayed, iid)


def test_the_realistic_rows_count_exits_per_size(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import _calibration, _runs, b8_c1_gate_aa, b12_c5_flips, b16_c7_aa_regressed

    def fake(trial: int) -> Any:
        # Every size: one comparison in four exits non-zero; at size 1 half report a regression.
        exits = {
            n: [
                _runs.Gated("inconclusive" if i % 4 == 0 else "pass", i % 4 == 0, 0)
                for i in range(8)
            ]
            for n in _calibration.AA_SIZES
        }
        exits[1] = [_runs.Gated("fail", True, i % 2) for i in range(8)]
        quiet = {n: [_runs.Gated("pass", False, 0)] * 4 for n in _calibration.AA_SIZES}
        outcomes = [("passed", "passed"), ("passed", "failed"), ("failed", "failed")]
        verdicts = [("pass", "pass"), ("pass", "inconclusive"), ("fail", "fail")]
        return _calibration.AATrial(exits, quiet, quiet, outcomes, verdicts, [5, 20])

    monkeypatch.setattr(_calibration, "aa_trial", fake)
    c1 = b8_c1_gate_aa.run(2, trials=3, variance=False)
    assert c1["ratio"] == 1.0 and not c1["target_met"]  # size 1 always exits non-zero
    assert "5: 0.250 ± 0.06" in c1["detail"] and "of 48 (inconclusive 12, pass 36)" in c1["detail"]
    assert "Paired A/A (replayed explanations), exit non-zero: 1: 0.000" in c1["detail"]
    c7 = b16_c7_aa_regressed.run(1, trials=2)
    assert c7["ratio"] == 0.5
    c5 = b12_c5_flips.run(1, trials=2)
    assert c5["ratio"] == pytest.approx(1 / 3)
    assert "inconclusive <-> pass 2" in c5["detail"]


# -- the noisy server's generator samples (tests/server.py) ------------------------------------
APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"


def _body(seed: int, messages: list[dict[str, str]]) -> bytes:
    import json

    return json.dumps({"model": "m", "messages": messages, "seed": seed}).encode()


def test_the_noisy_generator_draws_its_explanation_per_seed() -> None:
    from pytest_xgen.core import prompts
    from tests.server import noisy_answer as answer
    from tests.server import stated_sum

    messages = prompts.elicit(APPLES)
    said = [stated_sum(answer("right=0.7", messages, _body(s, messages))) for s in range(600)]
    right = said.count(7) / len(said)
    assert abs(right - 0.7) < 4 * math.sqrt(0.7 * 0.3 / 600)
    assert set(said) - {7} <= {5, 6, 8, 9} and len(set(said)) > 2
    # The same request (a replay) draws the same explanation; the default is always right.
    assert answer("right=0.7", messages, _body(3, messages)) == answer(
        "right=0.7", messages, _body(3, messages)
    )
    assert {stated_sum(answer("", messages, _body(s, messages))) for s in range(50)} == {7}


def test_noisy_followers_copy_a_wrong_explanation() -> None:
    from pytest_xgen.core import prompts
    from pytest_xgen.core.answers import answer_spec
    from pytest_xgen.core.strip import strip_answer
    from tests.server import noisy_answer as answer

    spec = answer_spec("number")
    wrong = strip_answer("1. Start with 3.\n2. Add 4: 3 + 4 = 9.\nAnswer: 9", 9, spec).text
    messages = prompts.transfer(APPLES, wrong, "user")

    def share_of_nine(model: str) -> float:
        said = [spec.extract(answer(model, messages, _body(s, messages))) for s in range(600)]
        return said.count(9) / len(said)

    # Following with 0.8, else right with 0.9 (a wrong own answer is 9 a quarter of the time).
    assert abs(share_of_nine("follow=0.8;transfer=0.9") - (0.8 + 0.2 * 0.1 / 4)) < 0.07
    # By default the evaluators ignore what the explanation states, as before.
    assert share_of_nine("transfer=0.9") < 0.06


def test_the_tuned_flip_row_counts_changes_at_the_suite_thresholds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dataclasses import replace

    from benchmarks import _runs, b22_c5_tuned

    # The suite's thresholds reach the check: the same draws pass more tests than the defaults.
    problems = _runs.draw_suite("tuned-test", 8)
    tuned = _runs.record(
        problems, _runs.REALISTIC, "t1", opts=replace(b22_c5_tuned.tuned_options(), samples=10)
    )
    default = _runs.record(problems, _runs.REALISTIC, "t1", opts=_fixed(10))
    assert tuned.outcomes.count("passed") > default.outcomes.count("passed")
    assert b22_c5_tuned.tuned_options().on_inconclusive == "fail"

    def fake(trial: int) -> tuple[Any, Any]:
        first = _runs.Run(
            [], ["passed", "passed", "failed", "failed"], ["pass", "pass", "inconclusive", "fail"]
        )
        second = _runs.Run(
            [], ["passed", "failed", "failed", "passed"], ["pass", "fail", "fail", "pass"]
        )
        return first, second

    monkeypatch.setattr(b22_c5_tuned, "tuned_trial", fake)
    c5t = b22_c5_tuned.run(2, trials=3)
    assert c5t["ratio"] == 0.5 and c5t["reps"] == 2 and not c5t["target_met"]
    assert c5t["passing"] == 0.5
    assert "fail <-> pass 12" in c5t["detail"] and "of 24 tests" in c5t["detail"]
    assert "pass <-> fail verdict flips 0.500" in c5t["detail"]
