"""The upgrade gate: Fisher and Wald p-values, verdicts, thresholds, loading runs and the
``xgen compare`` command, on constructed reports."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_xgen.core.significance import fisher_p as fisher_exact
from pytest_xgen.core.significance import lift_change_p
from pytest_xgen.report.gate import (
    Comparison,
    compare,
    format_comparison,
    gate,
    load_run,
    main_compare,
    parse_thresholds,
)
from pytest_xgen.settings.config import load_schema

# Baseline consistency of the constructed tests unless one says otherwise.
BASELINE = (3, 15)


def metrics(
    agree: int,
    total: int,
    baseline: tuple[int, int] = BASELINE,
    accuracy: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """A test's ``metrics`` block, shaped as ``report.build.test_metrics`` writes it."""

    def count(hits: int, n: int) -> dict[str, Any]:
        return {"agree": hits, "total": n, "value": hits / n if n else None}

    transfer, base = count(agree, total), count(*baseline)
    lift = None
    if transfer["value"] is not None and base["value"] is not None:
        lift = transfer["value"] - base["value"]
    correct = (
        None
        if accuracy is None
        else {"correct": accuracy[0], "total": accuracy[1], "value": accuracy[0] / accuracy[1]}
    )
    return {
        "consistency": transfer,
        "baseline_consistency": base,
        "lift": lift,
        "accuracy": correct,
        # Two evaluators: one pair per sample, so the per-sample units are the same counts.
        "units": {"consistency": transfer, "baseline_consistency": base, "accuracy": correct},
    }


def report(tests: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """A minimal report with these tests' metrics, checked against the shipped schema so the
    constructed runs cannot drift from what the plugin writes."""
    document = {
        "format": "pytest-xgen-report",
        "version": 1,
        "created": "2025-01-01T00:00:00+00:00",
        "run": {
            "record_mode": "none",
            "seed": 0,
            "models": {},
            "model_map": {},
            "versions": {"python": "3.12.0"},
            "calls": {"replayed": 0, "live": 0, "tokens": 0, "cache_hit_rate": None},
            "workers": 0,
        },
        "tests": [
            {
                "nodeid": nodeid,
                "outcome": "passed",
                "calls": 0,
                "live": 0,
                "tokens": 0,
                "checks": [],
                "metrics": block,
            }
            for nodeid, block in sorted(tests.items())
        ],
    }
    jsonschema.Draft202012Validator(load_schema("report.schema.json")).validate(document)
    return document


def save(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def brute_force_fisher(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher by enumerating every table with exact fractions: an independent
    oracle for the log-factorial implementation."""
    n, row, column = a + b + c + d, a + b, a + c
    total = math.comb(n, row)

    def probability(x: int) -> Fraction:
        return Fraction(math.comb(column, x) * math.comb(n - column, row - x), total)

    observed = probability(a)
    tables = range(max(0, row + column - n), min(row, column) + 1)
    return float(sum(p for p in map(probability, tables) if p <= observed))


# --- fisher_exact ---------------------------------------------------------------------------


def test_fisher_known_values() -> None:
    # [[8, 2], [1, 5]]: rows 10 and 6, first column 9, n = 16; P(a) = C(9,a) C(7,10-a) / 8008
    # for a = 3..9, numerators 84, 882, 2646, 2940, 1260, 189, 7. The observed a = 8 has 189;
    # the tables no more likely are a in {3, 8, 9}: (84 + 189 + 7) / 8008 = 0.034965.
    assert fisher_exact(8, 2, 1, 5) == pytest.approx(280 / 8008, rel=1e-9)
    assert fisher_exact(8, 2, 1, 5) == pytest.approx(0.0350, abs=1e-4)
    # [[3, 1], [1, 3]]: C(8, 4) = 70; a in {0, 1, 3, 4}: (1 + 16 + 16 + 1) / 70 = 0.485714.
    assert fisher_exact(3, 1, 1, 3) == pytest.approx(34 / 70, rel=1e-9)
    # SciPy's documented example: fisher_exact([[1, 9], [11, 3]]) -> 0.0027594561852200836.
    assert fisher_exact(1, 9, 11, 3) == pytest.approx(0.0027594561852200836, rel=1e-9)


@pytest.mark.parametrize(
    "table",
    [(8, 2, 1, 5), (3, 1, 1, 3), (14, 1, 3, 12), (4, 1, 3, 2), (0, 5, 5, 0), (7, 8, 7, 8)],
)
def test_fisher_matches_enumeration_and_symmetries(table: tuple[int, int, int, int]) -> None:
    a, b, c, d = table
    expected = brute_force_fisher(a, b, c, d)
    assert fisher_exact(a, b, c, d) == pytest.approx(expected, rel=1e-9)
    # Swapping the rows, the columns, or transposing describes the same data.
    assert fisher_exact(c, d, a, b) == pytest.approx(expected, rel=1e-9)
    assert fisher_exact(b, a, d, c) == pytest.approx(expected, rel=1e-9)
    assert fisher_exact(a, c, b, d) == pytest.approx(expected, rel=1e-9)


def test_fisher_without_data_or_difference() -> None:
    assert fisher_exact(0, 0, 0, 0) == 1.0
    assert fisher_exact(5, 0, 0, 0) == 1.0  # a zero margin: one possible table
    # Identical rows are the most likely table; every table counts.
    assert fisher_exact(5, 5, 5, 5) == pytest.approx(1.0)
    # Large counts go through log-factorials without overflow.
    assert 0.0 < fisher_exact(900, 100, 850, 150) < 0.01


def test_fisher_rejects_negative_cells() -> None:
    with pytest.raises(ValueError, match="cell c must be >= 0; got -1"):
        fisher_exact(1, 2, -1, 3)


# --- lift_change_p --------------------------------------------------------------------------


def test_lift_change_p_sanity() -> None:
    assert lift_change_p((12, 15, 3, 15), (12, 15, 3, 15)) == 1.0
    # Lift 0.8 -> 0.4 over 1000 samples a condition: z is about 19.
    assert lift_change_p((900, 1000, 100, 1000), (500, 1000, 100, 1000)) < 0.01
    # The far tail stays positive instead of rounding to zero.
    assert lift_change_p((900, 1000, 100, 1000), (500, 1000, 100, 1000)) > 0.0
    # The same change on 15 samples is far weaker evidence.
    small = lift_change_p((12, 15, 3, 15), (9, 15, 3, 15))
    assert 0.05 < small < 1.0


def test_lift_change_p_known_value() -> None:
    # before: 12/15 vs 3/15 (lift 0.6); after: 6/15 vs 3/15 (lift 0.2); change -0.4.
    # variance = (0.8*0.2 + 0.2*0.8 + 0.4*0.6 + 0.2*0.8) / 15 = 0.72 / 15 = 0.048
    # z = 0.4 / sqrt(0.048) = 1.825742; two-sided p = 0.067889.
    assert lift_change_p((12, 15, 3, 15), (6, 15, 3, 15)) == pytest.approx(0.067889, abs=1e-6)


def test_lift_change_p_without_variance() -> None:
    # Every proportion at 0 or 1: the standard error is 0.
    assert lift_change_p((15, 15, 0, 15), (15, 15, 0, 15)) == 1.0
    assert lift_change_p((15, 15, 0, 15), (0, 15, 0, 15)) == 0.0


def test_lift_change_p_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="after: each count must be between 0 and a total > 0"):
        lift_change_p((1, 2, 1, 2), (1, 0, 1, 2))


# --- compare --------------------------------------------------------------------------------


def verdicts(comparison: Comparison) -> dict[str, str]:
    return {t.nodeid: t.verdict for t in comparison.tests}


def test_compare_verdicts() -> None:
    before = report(
        {
            "t::down": metrics(14, 15),
            "t::up": metrics(3, 15),
            "t::noise": metrics(4, 5, baseline=(3, 5)),
            "t::gone": metrics(10, 15),
            "t::plain": None,
            "t::lost_metrics": metrics(10, 15),
            "t::gained_metrics": None,
        }
    )
    after = report(
        {
            "t::down": metrics(3, 15),
            "t::up": metrics(14, 15),
            "t::noise": metrics(3, 5, baseline=(3, 5)),
            "t::added": metrics(10, 15),
            "t::plain": None,
            "t::lost_metrics": None,
            "t::gained_metrics": metrics(10, 15),
        }
    )
    comparison = compare(before, after)
    assert verdicts(comparison) == {
        "t::added": "new",
        "t::down": "regressed",
        "t::gone": "missing",
        "t::lost_metrics": "missing",  # measured nothing now (errored, skipped)
        "t::gained_metrics": "new",
        "t::noise": "unchanged",
        "t::plain": "unchanged",
        "t::up": "improved",
    }
    assert [t.nodeid for t in comparison.tests] == sorted(verdicts(comparison))
    assert comparison.counts() == {
        "regressed": 1,
        "improved": 1,
        "unchanged": 2,
        "new": 2,
        "missing": 2,
    }
    by_id = {t.nodeid: t for t in comparison.tests}
    for nodeid in ("t::added", "t::gone", "t::plain", "t::lost_metrics", "t::gained_metrics"):
        assert by_id[nodeid].changes == {}

    down = by_id["t::down"].changes["consistency"]
    assert (down.before, down.after) == pytest.approx((14 / 15, 3 / 15))
    assert down.delta == pytest.approx(-11 / 15)
    assert down.p_value == pytest.approx(fisher_exact(14, 1, 3, 12))
    assert down.significant
    lift = by_id["t::down"].changes["lift"]
    assert lift.delta == pytest.approx(-11 / 15)
    assert lift.significant

    # 4/5 -> 3/5 is a drop of 0.2, but five samples cannot tell it from chance.
    noise = by_id["t::noise"].changes["consistency"]
    assert noise.delta == pytest.approx(-0.2)
    assert noise.p_value == pytest.approx(1.0)
    assert not noise.significant


def test_compare_accuracy() -> None:
    before = report(
        {
            "t::acc": metrics(10, 15, accuracy=(28, 30)),
            "t::only_before": metrics(10, 15, accuracy=(28, 30)),
        }
    )
    after = report(
        {
            "t::acc": metrics(10, 15, accuracy=(12, 30)),
            "t::only_before": metrics(10, 15),
        }
    )
    by_id = {t.nodeid: t for t in compare(before, after).tests}
    assert by_id["t::acc"].verdict == "regressed"
    accuracy = by_id["t::acc"].changes["accuracy"]
    assert accuracy.p_value == pytest.approx(fisher_exact(28, 2, 12, 18))
    assert accuracy.significant and accuracy.delta == pytest.approx(-16 / 30)
    assert not by_id["t::acc"].changes["consistency"].significant

    # Accuracy only on one side is shown but not tested.
    one_sided = by_id["t::only_before"]
    assert one_sided.verdict == "unchanged"
    change = one_sided.changes["accuracy"]
    assert (change.before, change.after, change.delta, change.p_value, change.significant) == (
        pytest.approx(28 / 30),
        None,
        None,
        None,
        False,
    )


def test_compare_zero_totals_have_no_p_value() -> None:
    before = report({"t::a": metrics(0, 0, baseline=(0, 0))})
    after = report({"t::a": metrics(10, 15)})
    test = compare(before, after).tests[0]
    assert test.verdict == "unchanged"
    assert test.changes["consistency"].p_value is None
    assert test.changes["lift"].before is None
    assert test.changes["lift"].p_value is None


def test_compare_alpha_and_to_dict() -> None:
    before = report({"t::a": metrics(12, 15)})
    after = report({"t::a": metrics(6, 15)})
    # Fisher p for 12/15 -> 6/15 is about 0.06: significant at 0.1, not at 0.05.
    p = fisher_exact(12, 3, 6, 9)
    assert 0.05 < p < 0.1
    assert compare(before, after).tests[0].changes["consistency"].significant is False
    # Without a correction; with Holm's (two p-values: consistency and lift) it is not.
    loose = compare(before, after, alpha=0.1, adjust_with="none")
    assert loose.tests[0].changes["consistency"].significant is True
    held = compare(before, after, alpha=0.1).tests[0].changes["consistency"]
    assert held.p_adjusted == pytest.approx(2 * p) and not held.significant
    data = loose.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["alpha"] == 0.1
    assert data["counts"]["regressed"] == 1
    assert data["tests"][0]["nodeid"] == "t::a"
    assert data["tests"][0]["changes"]["consistency"]["p_value"] == pytest.approx(p)
    with pytest.raises(ValueError, match="alpha must be strictly between 0 and 1; got 0"):
        compare(before, after, alpha=0)


# --- gate and thresholds --------------------------------------------------------------------


def test_gate_needs_both_size_and_significance() -> None:
    before = report(
        {
            "tests/test_x.py::test_big": metrics(14, 15),
            "tests/test_x.py::test_noisy": metrics(4, 5, baseline=(3, 5)),
            "tests/test_x.py::test_small": metrics(950, 1000, baseline=(300, 1000)),
        }
    )
    after = report(
        {
            "tests/test_x.py::test_big": metrics(3, 15),
            "tests/test_x.py::test_noisy": metrics(1, 5, baseline=(3, 5)),
            "tests/test_x.py::test_small": metrics(900, 1000, baseline=(300, 1000)),
        }
    )
    comparison = compare(before, after)
    by_id = {t.nodeid: t.changes["consistency"] for t in comparison.tests}
    # noisy: a 0.6 drop that five samples cannot show; small: a real but 0.05 drop.
    assert by_id["tests/test_x.py::test_noisy"].delta == pytest.approx(-0.6)
    assert not by_id["tests/test_x.py::test_noisy"].significant
    assert by_id["tests/test_x.py::test_small"].significant
    p = fisher_exact(14, 1, 3, 12)

    def failures(thresholds: dict[str, float]) -> list[str]:
        result = gate(compare(before, after, adjust_with="none", thresholds=thresholds))
        return [line for line in result.failures if not line.startswith("suite:")]

    assert failures({"consistency": 0.1}) == [
        f"tests/test_x.py::test_big: consistency 0.93 -> 0.20 (-0.73 > 0.1, Fisher p={p:.1e}, "
        f"none p={p:.1e})"
    ]
    # A lower threshold lets the significant 0.05 drop through too; a drop of exactly
    # DELTA does not count as more than DELTA.
    assert len(failures({"consistency": 0.04})) == 2
    assert len(failures({"consistency": 0.05})) == 1
    # Metrics without a threshold are not gated.
    assert failures({"accuracy": 0.0}) == []
    assert gate(compare(before, after)).result == "pass"


def test_a_drop_of_exactly_delta_passes_despite_rounding() -> None:
    """0.80 -> 0.75 is a drop of 0.05000000000000004 in floating point: without the gate's
    tolerance it would count as more than DELTA = 0.05."""
    assert 0.8 - 0.75 > 0.05  # the rounding the tolerance exists for
    before = report({"tests/test_x.py::test_exact": metrics(800, 1000)})
    after = report({"tests/test_x.py::test_exact": metrics(750, 1000)})
    comparison = compare(before, after, adjust_with="none", thresholds={"consistency": 0.05})
    change = comparison.tests[0].changes["consistency"]
    assert change.significant and change.delta == pytest.approx(-0.05)
    assert [f for f in gate(comparison).failures if not f.startswith("suite:")] == []
    stricter = compare(before, after, adjust_with="none", thresholds={"consistency": 0.049})
    assert len([f for f in gate(stricter).failures if not f.startswith("suite:")]) == 1


def test_gate_line_for_lift_names_wald() -> None:
    before = report({"tests/test_x.py::test_a": metrics(12, 15)})
    after = report({"tests/test_x.py::test_a": metrics(4, 15, baseline=(5, 15))})
    comparison = compare(before, after, thresholds={"lift": 0.2})
    change = comparison.tests[0].changes["lift"]
    assert change.significant
    assert gate(comparison).failures[0] == (
        f"tests/test_x.py::test_a: lift 0.60 -> -0.07 (-0.67 > 0.2, Wald p={change.p_value:.3f}, "
        f"holm p={change.p_adjusted:.3f})"
    )


def test_parse_thresholds() -> None:
    assert parse_thresholds("consistency:0.05,accuracy:0.02") == {
        "consistency": 0.05,
        "accuracy": 0.02,
    }
    assert parse_thresholds(" lift : 0 , ") == {"lift": 0.0}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("speed:0.1", "unknown metric 'speed' in 'speed:0.1'"),
        ("consistency", "'consistency' has no ':'"),
        ("consistency:lots", "DELTA 'lots' in 'consistency:lots' is not a number"),
        ("consistency:-0.1", "DELTA in 'consistency:-0.1' must be a number >= 0"),
        ("consistency:nan", "DELTA in 'consistency:nan' must be a number >= 0"),
        ("lift:0.1,lift:0.2", "metric 'lift' is given twice"),
        ("", "no thresholds given"),
    ],
)
def test_parse_thresholds_errors(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_thresholds(text)
    message = str(excinfo.value)
    assert message.startswith(problem)
    assert "METRIC:DELTA" in message
    assert "consistency, lift, accuracy" in message


# --- format_comparison ----------------------------------------------------------------------


def test_format_comparison() -> None:
    before = report({"t::down": metrics(14, 15), "t::same": metrics(10, 15)})
    after = report(
        {"t::down": metrics(3, 15), "t::same": metrics(10, 15), "t::added": metrics(1, 2)}
    )
    comparison = compare(before, after)
    # Holm over four p-values (two metrics of two shared tests): the smallest times four.
    p = 4 * fisher_exact(14, 1, 3, 12)
    text = format_comparison(comparison)
    lines = text.splitlines()
    assert lines[0].split() == ["verdict", "test", "consistency", "lift", "accuracy"]
    assert lines[1].startswith("new        t::added")
    assert lines[2].startswith("regressed  t::down")
    assert f"0.93 -> 0.20 (-0.73, p={p:.1e})" in lines[2]
    assert lines[2].endswith("-")  # no accuracy on either side
    assert "t::same" not in text
    assert "suite" not in text  # no metric is gated
    assert lines[-1] == (
        "xgen compare: 1 regressed, 0 improved, 1 unchanged, 1 new, 0 missing "
        "(alpha 0.05, adjusted: holm)"
    )
    verbose = format_comparison(comparison, verbose=True)
    assert "unchanged  t::same" in verbose
    assert "0.67 -> 0.67 (+0.00, p=1.000)" in verbose


def test_format_comparison_with_nothing_to_show() -> None:
    same = report({"t::a": metrics(10, 15)})
    assert format_comparison(compare(same, same)) == (
        "xgen compare: 0 regressed, 0 improved, 1 unchanged, 0 new, 0 missing "
        "(alpha 0.05, adjusted: holm)"
    )


# --- load_run -------------------------------------------------------------------------------


def test_load_run_by_name_and_by_path(tmp_path: Path) -> None:
    runs = tmp_path / ".xgen" / "runs"
    document = report({"t::a": metrics(10, 15)})
    path = save(runs / "base.json", document)
    assert load_run("base", runs) == document
    assert load_run(str(path), tmp_path / "elsewhere") == document


def test_load_run_missing_file(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    with pytest.raises(FileNotFoundError) as excinfo:
        load_run("base", runs)
    assert str(excinfo.value) == (
        f"no saved run 'base' at {runs / 'base.json'}; save a run with --xgen-save=base"
    )
    missing = tmp_path / "nowhere.json"
    with pytest.raises(FileNotFoundError) as excinfo:
        load_run(str(missing), runs)
    assert str(excinfo.value) == f"no run report at {missing}; save a run with --xgen-save=NAME"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "is not a pytest-xgen report: not JSON"),
        ('{"format": "junit", "version": 1}', "is not a pytest-xgen report: format 'junit'"),
        ("[1, 2]", "is not a pytest-xgen report: format None"),
        (
            '{"format": "pytest-xgen-report", "version": 2, "tests": []}',
            "is a pytest-xgen report of version 2; this pytest-xgen reads version 1",
        ),
        (
            '{"format": "pytest-xgen-report", "version": 1}',
            "is not a valid pytest-xgen report: 'tests' is not a list",
        ),
        (
            '{"format": "pytest-xgen-report", "version": 1, "tests": [{"nodeid": "t::a", '
            '"metrics": {"units": {"consistency": {"agree": 3, "total": 2}}}}]}',
            "tests[0] (t::a): metrics.units.consistency needs integers agree and total",
        ),
        (
            '{"format": "pytest-xgen-report", "version": 1, "tests": [{"nodeid": "t::a", '
            '"metrics": {"consistency": {"agree": 1, "total": 2}}}]}',
            "tests[0] (t::a): metrics has no per-sample 'units' counts (a report of an older "
            "pytest-xgen); regenerate it",
        ),
    ],
)
def test_load_run_rejects_other_documents(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "other.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as excinfo:
        load_run(str(path), tmp_path)
    assert str(excinfo.value).startswith(str(path))
    assert problem in str(excinfo.value)


# --- main_compare ---------------------------------------------------------------------------


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """Two saved runs, ``base`` and ``next``: ``test_a`` regresses by 0.73 with p ~ 1e-4."""
    directory = tmp_path / "runs"
    save(directory / "base.json", report({"tests/test_x.py::test_a": metrics(14, 15)}))
    save(directory / "next.json", report({"tests/test_x.py::test_a": metrics(3, 15)}))
    return directory


def test_main_compare_without_gate(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main_compare(["base", "next", "--runs-dir", str(runs)]) == 0
    out = capsys.readouterr().out
    assert "regressed  tests/test_x.py::test_a" in out
    assert (
        "xgen compare: 1 regressed, 0 improved, 0 unchanged, 0 new, 0 missing "
        "(alpha 0.05, adjusted: holm)" in out
    )


def test_main_compare_gate_fails(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["base", "next", "--runs-dir", str(runs), "--fail", "consistency:0.1"]
    assert main_compare(argv) == 1
    captured = capsys.readouterr()
    assert "xgen compare: gate failed (consistency:0.1): 2 significant drop(s)" in captured.out
    assert "  tests/test_x.py::test_a: consistency 0.93 -> 0.20 (-0.73 > 0.1, Fisher p=" in (
        captured.out
    )
    assert "  suite: consistency: regressed, mean change -0.733" in captured.out
    assert "lift 0.73" not in captured.out  # lift is not gated
    assert captured.err == ""


def big_suite(tmp_path: Path, drop: int = 0) -> Path:
    """Two saved runs of 60 tests with 40 samples each; ``drop`` agreements fewer after."""
    directory = tmp_path / "runs"
    before = {f"t::test_{i}": metrics(36, 40, baseline=(20, 40)) for i in range(60)}
    after = {f"t::test_{i}": metrics(36 - drop, 40, baseline=(20, 40)) for i in range(60)}
    save(directory / "base.json", report(before))
    save(directory / "next.json", report(after))
    return directory


def test_main_compare_gate_passes_when_the_suite_shows_non_inferiority(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = big_suite(tmp_path)
    argv = ["base", "next", "--runs-dir", str(runs), "--fail", "consistency:0.05"]
    assert main_compare(argv) == 0
    out = capsys.readouterr().out
    assert "xgen compare: gate passed (consistency:0.05)" in out
    assert "xgen compare: suite consistency: pass, mean change +0.000" in out


def test_main_compare_underpowered_is_never_a_pass(
    runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # One test with 15 samples: a drop of 0.73 is within noise of DELTA 0.8, and the drop it
    # could detect is larger than a DELTA of 0.05 anyway.
    argv = ["base", "base", "--runs-dir", str(runs), "--fail", "consistency:0.05"]
    assert main_compare(argv) == 1
    out = capsys.readouterr().out
    assert "xgen compare: gate inconclusive (consistency:0.05): fails the run" in out
    assert "suite: consistency: inconclusive: underpowered: 1 test(s) detect a mean drop of" in out
    assert main_compare([*argv, "--on-underpowered", "warn"]) == 0
    assert "does not fail the run" in capsys.readouterr().out


def test_main_compare_adjustments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Each test drops by 4 of 40: no test alone survives Holm over 121 p-values, the suite
    # as a whole clearly dropped by more than 0.05.
    runs = big_suite(tmp_path, drop=4)
    argv = ["base", "next", "--runs-dir", str(runs), "--fail", "consistency:0.05"]
    assert main_compare(argv) == 1
    out = capsys.readouterr().out
    assert "gate failed (consistency:0.05): 1 significant drop(s)" in out
    assert "  suite: consistency: regressed, mean change -0.100" in out
    assert main_compare([*argv, "--adjust", "bh"]) == 1
    assert "adjusted: bh" in capsys.readouterr().out
    assert main_compare([*argv, "--adjust", "sometimes"]) == 2
    assert "invalid choice: 'sometimes'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--fail", "speed:0.1"], "xgen compare: --fail: unknown metric 'speed'"),
        (["--alpha", "1.5"], "xgen compare: --alpha must be between 0 and 1; got 1.5"),
        (["--alpha", "often"], "argument --alpha: invalid float value: 'often'"),
    ],
)
def test_main_compare_bad_options(
    runs: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main_compare(["base", "next", "--runs-dir", str(runs), *extra]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_main_compare_bad_runs(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main_compare(["base", "missing", "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xgen compare: no saved run 'missing' at ")
    assert "save a run with --xgen-save=missing" in err

    bogus = save(runs / "bogus.json", {"format": "something-else"})
    assert main_compare(["base", str(bogus), "--runs-dir", str(runs)]) == 2
    assert f"xgen compare: {bogus} is not a pytest-xgen report" in capsys.readouterr().err

    assert main_compare(["base"]) == 2
    assert "usage: xgen compare" in capsys.readouterr().err
