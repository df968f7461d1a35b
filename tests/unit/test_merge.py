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
