"""``merge_reports`` on constructed shard reports: what makes shards one run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.cli import main as xgen
from pytest_xgen.report.merge import MergeError, merge_report_files, merge_reports
from tests.unit.test_compare import metrics, report, save


def shard(nodeid: str, seed: int = 0) -> dict[str, Any]:
    """A shard's report: one test, run with ``seed``."""
    doc = report({nodeid: metrics(18, 20)})
    doc["run"]["seed"] = seed
    return doc


def test_shards_with_one_seed_merge_and_keep_it() -> None:
    merged = merge_reports([("a.json", shard("t::a", 7)), ("b.json", shard("t::b", 7))])
    assert merged["run"]["seed"] == 7
    assert [t["nodeid"] for t in merged["tests"]] == ["t::a", "t::b"]


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_shards_run_with_different_seeds_are_refused_naming_both(order: tuple[int, int]) -> None:
    """Sample i asks with seed+i: shards with other seeds drew other samples, they are not
    one run. The message names both files and both seeds, whichever comes first."""
    first, second = order
    shards = [("a.json", shard("t::a", first)), ("b.json", shard("t::b", second))]
    with pytest.raises(MergeError) as excinfo:
        merge_reports(shards)
    assert str(excinfo.value) == (
        f"b.json ran with seed {second} and a.json with {first}: shards of one run share "
        "their settings; run every shard with the same seed"
    )


def test_a_third_shard_with_another_seed_is_refused() -> None:
    shards = [(f"{n}.json", shard(f"t::{n}", 1 if n == "c" else 0)) for n in "abc"]
    with pytest.raises(MergeError, match=r"^c\.json ran with seed 1 and a\.json with 0: "):
        merge_reports(shards)


def test_xgen_merge_refuses_shard_files_with_different_seeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = save(tmp_path / "a.json", shard("t::a", 0))
    b = save(tmp_path / "b.json", shard("t::b", 3))
    with pytest.raises(MergeError, match="ran with seed 3 and"):
        merge_report_files([a, b])
    out = tmp_path / "merged.json"
    assert xgen(["merge", str(a), str(b), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"xgen merge: {b} ran with seed 3 and {a} with 0: shards of one run share their "
        "settings; run every shard with the same seed\n"
    )
    assert not out.exists()
    # The same shards with one seed merge.
    save(b, shard("t::b", 0))
    assert xgen(["merge", str(a), str(b), "-o", str(out)]) == 0
    assert json.loads(out.read_text())["run"]["seed"] == 0


def full_shard(
    nodeids: list[str],
    *,
    models: dict[str, Any],
    calls: dict[str, Any],
    versions: dict[str, str],
    workers: int,
    created: str,
) -> dict[str, Any]:
    """A shard's report with every run field set."""
    doc = report({nodeid: metrics(18, 20) for nodeid in nodeids})
    doc["created"] = created
    doc["run"].update(
        record_mode="none",
        seed=3,
        models=models,
        model_map={"qwen": "gpt"},
        versions=versions,
        calls=calls,
        workers=workers,
    )
    return doc


QWEN = {"model": "qwen2.5", "base_url": "http://a"}
GPT = {"model": "gpt", "base_url": "http://b"}


def test_merged_run_fields_follow_their_rules() -> None:
    a = full_shard(
        ["t::c", "t::a"],
        models={"qwen": QWEN},
        calls={
            "replayed": 3,
            "live": 1,
            "tokens": 10,
            "cost": 0.1,
            "replayed_cost": 0.2,
            "unpriced": ["z", "m"],
            "cache_hit_rate": 0.75,
        },
        versions={"python": "3.12.0", "pytest": "9.0"},
        workers=2,
        created="2025-01-02T00:00:00+00:00",
    )
    b = full_shard(
        ["t::b"],
        models={"qwen": QWEN, "gpt": GPT},
        calls={
            "replayed": 1,
            "live": 4,
            "tokens": 5,
            "cost": 0.2,
            "replayed_cost": 0.1,
            "unpriced": ["m", "a"],
            "cache_hit_rate": 0.2,
        },
        versions={"python": "3.11.1", "pytest": "9.0"},
        workers=3,
        created="2025-01-03T00:00:00+00:00",
    )
    merged = merge_reports([("a.json", a), ("b.json", b)])
    assert merged["format"] == "pytest-xgen-report" and merged["version"] == 1
    assert merged["created"] == "2025-01-03T00:00:00+00:00"  # the latest shard's
    assert [t["nodeid"] for t in merged["tests"]] == ["t::a", "t::b", "t::c"]
    assert merged["tests"][1] is b["tests"][0]
    assert merged["run"] == {
        "record_mode": "none",
        "seed": 3,
        "models": {"qwen": QWEN, "gpt": GPT},
        "model_map": {"qwen": "gpt"},
        "versions": {"pytest": "9.0", "python": "3.11.1, 3.12.0"},
        "calls": {
            "replayed": 4,
            "live": 5,
            "tokens": 15,
            # 0.1 + 0.2 is 0.30000000000000004: rounded to nine places.
            "cost": 0.3,
            "replayed_cost": 0.3,
            "unpriced": ["a", "m", "z"],
            "cache_hit_rate": 4 / 9,  # recomputed from the sums
        },
        "workers": 5,
    }
    assert list(merged["run"]["versions"]) == ["pytest", "python"]  # sorted by package
    assert "comparison" not in merged
    # The shards are not changed.
    assert a["run"]["calls"]["replayed"] == 3 and a["run"]["models"] == {"qwen": QWEN}


def test_a_cost_is_rounded_to_nine_places() -> None:
    calls = {"replayed": 0, "live": 0, "tokens": 0, "cache_hit_rate": None}
    shards = [
        (
            f"{n}.json",
            full_shard(
                [f"t::{n}"],
                models={},
                calls={**calls, "cost": 0.1234567891, "replayed_cost": 1e-10},
                versions={},
                workers=0,
                created="2025-01-01T00:00:00+00:00",
            ),
        )
        for n in "ab"
    ]
    merged = merge_reports(shards)
    assert merged["run"]["calls"]["cost"] == 0.246913578
    assert merged["run"]["calls"]["replayed_cost"] == 0.0
    assert merged["run"]["calls"]["cache_hit_rate"] is None  # no calls: no rate
    assert merged["run"]["workers"] == 0 and merged["run"]["versions"] == {}


def test_no_shards_is_an_error() -> None:
    with pytest.raises(MergeError) as excinfo:
        merge_reports([])
    assert str(excinfo.value) == ("no shard reports to merge; pass the JSON reports of every shard")


def test_a_model_with_two_identities_is_refused_naming_both_files() -> None:
    calls = {"replayed": 0, "live": 0, "tokens": 0, "cache_hit_rate": None}
    common = {"calls": calls, "versions": {}, "workers": 1, "created": "2025-01-01T00:00:00"}
    a = full_shard(["t::a"], models={"gpt": GPT, "qwen": QWEN}, **common)
    b = full_shard(["t::b"], models={"gpt": GPT}, **common)
    c = full_shard(["t::c"], models={"qwen": {**QWEN, "model": "qwen3"}}, **common)
    # The same identity in two shards is one model.
    assert merge_reports([("a.json", a), ("b.json", b)])["run"]["models"] == {
        "gpt": GPT,
        "qwen": QWEN,
    }
    with pytest.raises(MergeError) as excinfo:
        merge_reports([("a.json", a), ("b.json", b), ("c.json", c)])
    assert str(excinfo.value) == (
        "model 'qwen' differs between a.json ({base_url=http://a, model=qwen2.5}) and c.json "
        "({base_url=http://a, model=qwen3}): the shards called different models; rerun "
        "them with one model table"
    )


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("record_mode", "once", "'once'"),
        ("model_map", {"qwen": "smollm", "a": "b"}, "{a=b, qwen=smollm}"),
    ],
)
def test_shards_with_other_settings_are_refused(field: str, value: Any, shown: str) -> None:
    calls = {"replayed": 0, "live": 0, "tokens": 0, "cache_hit_rate": None}
    common = {"calls": calls, "versions": {}, "workers": 1, "created": "2025-01-01T00:00:00"}
    a = full_shard(["t::a"], models={}, **common)
    b = full_shard(["t::b"], models={}, **common)
    b["run"][field] = value
    with pytest.raises(MergeError) as excinfo:
        merge_reports([("a.json", a), ("b.json", b)])
    first = "'none'" if field == "record_mode" else "{qwen=gpt}"
    assert str(excinfo.value) == (
        f"b.json ran with {field} {shown} and a.json with {first}: shards of one run share "
        f"their settings; run every shard with the same {field}"
    )


def test_a_test_in_two_shards_is_refused_naming_both() -> None:
    with pytest.raises(MergeError) as excinfo:
        merge_reports(
            [("a.json", shard("t::x")), ("b.json", shard("t::y")), ("c.json", shard("t::x"))]
        )
    assert str(excinfo.value) == (
        "test t::x is in both a.json and c.json: each test belongs to one shard; check the "
        "split (pytest-split's --splits/--group, or the -k / path subsets), or merge the "
        "reports of one run only"
    )


def test_figures_that_add_up_past_a_float_are_refused() -> None:
    big = [shard(f"t::{n}") for n in "ab"]
    for doc in big:
        doc["run"]["calls"]["tokens"] = 1e308
    with pytest.raises(MergeError) as excinfo:
        merge_reports([("a.json", big[0]), ("b.json", big[1])])
    assert str(excinfo.value) == (
        "the shard reports' figures add up to more than a number holds (at run/calls/tokens: "
        "Infinity is not a finite number); check the shard reports"
    )


def test_shard_files_of_any_name_are_read_and_each_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    save(tmp_path / "first", shard("t::a"))  # no .json suffix, in the working directory
    save(tmp_path / "sub" / "second.json", shard("t::b"))
    merged = merge_report_files([Path("first"), Path("sub/second.json")])
    assert [t["nodeid"] for t in merged["tests"]] == ["t::a", "t::b"]
    with pytest.raises(MergeError) as excinfo:
        merge_report_files([Path("first"), tmp_path / "first"])
    assert (
        str(excinfo.value) == f"{tmp_path / 'first'} is given twice; pass each shard's report once"
    )
    (tmp_path / "bad").write_text("{", encoding="utf-8")
    with pytest.raises(MergeError) as excinfo:
        merge_report_files([Path("first"), Path("bad")])
    assert str(excinfo.value).startswith("bad is not a pytest-xgen report: not JSON (")
    with pytest.raises(MergeError) as excinfo:
        merge_report_files([Path("missing")])
    assert str(excinfo.value) == "no run report at missing; save a run with --xgen-save=NAME"
