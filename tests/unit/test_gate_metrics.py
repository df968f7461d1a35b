"""The gate's table of metrics and the counts they read: each count comes from a gated kind
that gives it, each metric's tests and words follow its row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.checks.kinds import KINDS
from pytest_xgen.core.gate_metrics import (
    COUNT,
    COUNTS,
    DIFFERENCE,
    GATE_METRIC,
    GATE_METRICS,
    METRICS,
    RATE,
    GateMetric,
)
from pytest_xgen.core.significance import drop_beyond_p, lift_drop_p
from pytest_xgen.report import gate_runs
from pytest_xgen.settings.options import parse_thresholds

DEMO = Path(__file__).parents[2] / "fixtures" / "reports" / "demo.json"


def transfer_check() -> dict[str, Any]:
    doc = json.loads(DEMO.read_text(encoding="utf-8"))
    return next(c for t in doc["tests"] for c in t["checks"] if c["kind"] == "transfer")


def mistake_check() -> dict[str, Any]:
    return {
        "kind": "added_mistake",
        "explanation": "3 + 4 = 7",
        "arms": [
            {"explanation": "3 + 4 = 8", "reference": {"hits": 3, "total": 5}},
            {"explanation": "3 + 4 = 9", "reference": {"hits": 5, "total": 5}},
            {"explanation": "no answers"},
        ],
    }


def test_the_option_accepts_exactly_the_table_s_metrics() -> None:
    assert METRICS == ("consistency", "lift", "accuracy", "explanation", "follow")
    assert METRICS == tuple(m.name for m in GATE_METRICS) == tuple(GATE_METRIC)
    assert parse_thresholds(",".join(f"{m}:0.1" for m in METRICS)) == dict.fromkeys(METRICS, 0.1)
    with pytest.raises(ValueError, match="unknown metric 'baseline_consistency'"):
        parse_thresholds("baseline_consistency:0.1")


def test_each_count_comes_from_a_gated_kind_that_gives_it() -> None:
    checks = {"transfer": transfer_check(), "added_mistake": mistake_check()}
    assert {c.kind for c in COUNTS} == set(checks)
    for count in COUNTS:
        kind = KINDS[count.kind]
        assert kind.gated
        units = kind.unit_counts()
        assert units is not None
        assert count.name in units(checks[count.kind]).counts, count.name
    for metric in GATE_METRICS:
        assert all(COUNT[name].unit for name in metric.counts), metric.name


def test_the_units_of_the_gated_kinds() -> None:
    from pytest_xgen.checks.units import added_mistake_units, transfer_units

    mistake = added_mistake_units(mistake_check())
    # Each answer given an edited explanation that left the reference answer followed it.
    assert mistake.counts == {"follow": (2, 10)}
    assert mistake.read == "\n\x1e\n".join(["3 + 4 = 7", "3 + 4 = 8", "3 + 4 = 9", "no answers"])
    assert added_mistake_units({"arms": []}).read is None
    check = transfer_check()
    found = transfer_units(check)
    assert found.read == check["explanation"]["text"]
    pairs = check["conditions"]["transfer"]["consistency"]
    assert found.counts["consistency_pairs"] == (pairs["agree"], pairs["total"])
    assert set(found.counts) == {
        "consistency_pairs",
        "baseline_consistency_pairs",
        "consistency",
        "baseline_consistency",
        "accuracy",
        "explanation",
    }
    unread = transfer_units({**check, "expected": None, "explanation": None})
    assert unread.read is None and "accuracy" not in unread.counts


def test_which_counts_every_report_holds() -> None:
    assert [c.name for c in COUNTS if c.required] == [
        "consistency_pairs",
        "baseline_consistency_pairs",
        "consistency",
        "baseline_consistency",
    ]
    assert not COUNT["accuracy"].required and not COUNT["follow"].required
    assert [c.name for c in COUNTS if not c.unit] == [
        "consistency_pairs",
        "baseline_consistency_pairs",
    ]


def test_a_row_must_read_the_counts_its_test_needs_and_be_better_higher() -> None:
    with pytest.raises(
        ValueError, match="'x': a difference reads 2 count\\(s\\); got 1: consistency$"
    ):
        GateMetric("x", ("consistency",), DIFFERENCE)
    with pytest.raises(
        ValueError, match="'y': a rate reads 1 count\\(s\\); got 2: consistency, accuracy"
    ):
        GateMetric("y", ("consistency", "accuracy"), RATE)
    with pytest.raises(
        ValueError, match="'z': the gate's tests are drop tests, so a metric must be"
    ):
        GateMetric("z", ("accuracy",), RATE, higher_is_better=False)
    assert GateMetric("w", ("accuracy",), RATE).per_test
    assert GateMetric("v", ("consistency", "baseline_consistency"), DIFFERENCE).counts[1] == (
        "baseline_consistency"
    )


def test_each_test_is_named_and_computed_as_its_row_says() -> None:
    assert [m.test for m in GATE_METRICS] == [RATE, DIFFERENCE, RATE, RATE, RATE]
    assert (RATE.label(0), RATE.label(0.05)) == ("Fisher", "Farrington-Manning")
    assert (DIFFERENCE.label(0), DIFFERENCE.label(0.05)) == ("Wald", "Wald")
    assert RATE.drop_p((9, 10), (3, 10), 0.2) == drop_beyond_p(9, 10, 3, 10, margin=0.2)
    assert RATE.drop_p((9, 10), (3, 10)) == drop_beyond_p(9, 10, 3, 10)
    # A rate cannot drop by 1 or more: nothing to test.
    assert RATE.drop_p((10, 10), (0, 10), 1.0) == 1.0
    below = drop_beyond_p(10, 10, 0, 10, margin=0.999)
    assert RATE.drop_p((10, 10), (0, 10), 0.999) == below != 1.0
    lift = ((9, 10, 2, 10), (3, 10, 2, 10))
    assert DIFFERENCE.drop_p(*lift, 0.1) == lift_drop_p(*lift, 0.1)
    assert DIFFERENCE.drop_p(*lift, 1.5) == lift_drop_p(*lift, 1.5)  # a lift spans 2
    assert not GATE_METRIC["explanation"].per_test
    assert [m.name for m in GATE_METRICS if not m.always_shown] == ["explanation", "follow"]
    assert [m.name for m in GATE_METRICS if m.adds] == ["explanation"]
    assert GATE_METRIC["lift"].value_text(None) == "-"
    assert GATE_METRIC["lift"].value_text(-0.125) == "-0.12"


# --- reading runs ---------------------------------------------------------------------------


def units(**counts: Any) -> dict[str, Any]:
    base = {"agree": 1, "total": 2}
    return {"consistency": base, "baseline_consistency": base, **counts}


@pytest.mark.parametrize(
    ("found", "bad"),
    [
        (units(), None),
        (units(accuracy=None, explanation=None), None),
        (units(follow={"followed": 0, "total": 0}), None),
        ({"consistency": {"agree": 1, "total": 2}}, "baseline_consistency"),
        (units(consistency={"agree": 1}), "consistency"),
        (units(consistency=[1, 2]), "consistency"),
        (units(consistency={"agree": True, "total": 2}), "consistency"),
        (units(consistency={"agree": 1, "total": False}), "consistency"),
        (units(consistency={"agree": 1.0, "total": 2}), "consistency"),
        (units(consistency={"agree": 1, "total": 2.0}), "consistency"),
        (units(consistency={"agree": -1, "total": 2}), "consistency"),
        (units(consistency={"agree": 0, "total": 0}), None),
        (units(consistency={"agree": 2, "total": 2}), None),
        (units(accuracy={"correct": 3, "total": 2}), "accuracy"),
        (units(explanation={"agree": 1, "total": 2}), "explanation"),
        (units(follow={"followed": 3, "total": 2}), "follow"),
        # A count the gate does not read is not checked.
        (units(consistency_pairs="x"), None),
    ],
)
def test_the_counts_the_gate_reads_are_checked(found: dict[str, Any], bad: str | None) -> None:
    document = {"tests": [{"nodeid": "t::a", "metrics": {"units": found}}]}
    message = gate_runs.structure_problem(document)
    if bad is None:
        assert message is None
    else:
        success = COUNT[bad].success
        assert message == (
            f"tests[0] (t::a): metrics.units.{bad} needs integers {success} and total with "
            f"0 <= {success} <= total"
        )


@pytest.mark.parametrize(
    ("tests", "problem"),
    [
        ([{"nodeid": "t::a", "metrics": None}, "x"], "tests[1] has no string 'nodeid'"),
        ([{"nodeid": 3}], "tests[0] has no string 'nodeid'"),
        ([{"nodeid": "t::a", "metrics": []}], "tests[0] (t::a) has no 'metrics' object or null"),
        ([{"nodeid": "t::a"}], "tests[0] (t::a) has no 'metrics' object or null"),
        (
            [{"nodeid": "t::a", "metrics": {}}],
            "tests[0] (t::a): metrics has no per-sample 'units' counts (a report of an older "
            "pytest-xgen)",
        ),
    ],
)
def test_the_tests_of_a_run_are_checked(tests: list[Any], problem: str) -> None:
    assert gate_runs.structure_problem({"tests": tests}) == problem


def test_a_required_count_names_its_success_and_bounds() -> None:
    document = {"tests": [{"nodeid": "t::a", "metrics": {"units": units(consistency=None)}}]}
    assert gate_runs.structure_problem(document) == (
        "tests[0] (t::a): metrics.units.consistency needs integers agree and total with "
        "0 <= agree <= total"
    )


def test_a_run_is_named_or_a_path(tmp_path: Path) -> None:
    # A Path is a report's path whatever its name; a string without .json or a slash is a
    # saved run's name.
    with pytest.raises(FileNotFoundError) as excinfo:
        gate_runs.load_run(Path("shard"), tmp_path)
    assert str(excinfo.value) == "no run report at shard; save a run with --xgen-save=NAME"
    with pytest.raises(FileNotFoundError) as excinfo:
        gate_runs.load_run("shard", tmp_path)
    assert str(excinfo.value) == (
        f"no saved run 'shard' at {tmp_path / 'shard.json'}; save a run with --xgen-save=shard"
    )
    for ref in ("a\\b", "a/b", "a.json"):
        with pytest.raises(FileNotFoundError) as excinfo:
            gate_runs.load_run(ref, tmp_path)
        assert str(excinfo.value) == f"no run report at {ref}; save a run with --xgen-save=NAME"
    (tmp_path / "latin.json").write_bytes(b'{"format": "\xff"}')
    with pytest.raises(ValueError, match=r"latin\.json is not a pytest-xgen report: not JSON"):
        gate_runs.load_run(str(tmp_path / "latin.json"), tmp_path)
    (tmp_path / "bad.json").write_text(
        '{"format": "pytest-xgen-report", "version": 1, "tests": [], "run": 3}', encoding="utf-8"
    )
    with pytest.raises(ValueError) as excinfo:
        gate_runs.load_run(str(tmp_path / "bad.json"), tmp_path)
    assert str(excinfo.value).startswith(
        f"{tmp_path / 'bad.json'} is not a valid pytest-xgen report: at "
    )
    assert str(excinfo.value).endswith(
        "; regenerate it with pytest --xgen-report=PATH (or --xgen-save=NAME)"
    )


# --- one test's changes -------------------------------------------------------------------


def test_a_report_without_digests_pairs_on_its_checks() -> None:
    from pytest_xgen.checks.data import digest
    from pytest_xgen.report.gate_changes import digests, paired

    check = transfer_check()
    older = {"metrics": {"units": {}}, "checks": [check]}
    assert digests(older) == [digest(check["explanation"]["text"])]
    assert digests({"metrics": {"explanations": ["x", 3]}, "checks": [check]}) == ["x", "3"]
    assert digests({"metrics": None}) == [] and digests({"checks": None}) == []
    assert paired(older, {"metrics": {"explanations": digests(older)}})
    assert not paired({"metrics": {"explanations": []}}, {"metrics": {"explanations": []}})
    assert paired(
        {"metrics": {"explanations": ["a", "b"]}}, {"metrics": {"explanations": ["b", "a"]}}
    )


def test_a_metric_one_run_did_not_measure_is_shown_untested() -> None:
    from pytest_xgen.report.gate_changes import changes

    measured = {"units": units(accuracy={"correct": 3, "total": 4})}
    unmeasured = {"units": units(accuracy=None)}
    found = changes(measured, unmeasured, {"accuracy": 0.1}, True)
    assert list(found) == list(METRICS)
    accuracy = found["accuracy"]
    assert (accuracy.metric, accuracy.before, accuracy.after) == ("accuracy", 0.75, None)
    assert (accuracy.delta, accuracy.p_value, accuracy.p_rise, accuracy.margin) == (
        None,
        None,
        None,
        0.1,
    )
    back = changes(unmeasured, measured, {}, True)["accuracy"]
    assert (back.before, back.after, back.delta, back.margin) == (None, 0.75, None, 0.0)
    empty = {"units": units(consistency={"agree": 0, "total": 0})}
    lift = changes(empty, measured, {}, True)["lift"]
    assert (lift.metric, lift.before, lift.after, lift.delta) == ("lift", None, 0.0, None)
    # Measured in both: tested only when paired and the metric has per-test tests.
    both = changes(measured, measured, {}, True)
    assert both["accuracy"].p_value is not None and both["accuracy"].delta == 0.0
    assert changes(measured, measured, {}, False)["accuracy"].p_value is None


def test_units_of_checks_with_parts_missing() -> None:
    from pytest_xgen.checks.units import added_mistake_units, transfer_units

    check = transfer_check()
    for condition in ("transfer", "baseline"):
        del check["conditions"][condition]["sample_agreement"]
    check["explanation"] = {"text": 3, "correct": None}
    found = transfer_units(check)
    assert found.counts["consistency"] == (0, 0) == found.counts["baseline_consistency"]
    assert "explanation" not in found.counts and found.read is None
    assert added_mistake_units({"explanation": "x"}) == added_mistake_units(
        {"explanation": "x", "arms": []}
    )
    assert added_mistake_units({"explanation": "x"}).counts == {"follow": (0, 0)}
    arms = [
        {"reference": {"hits": 1, "total": 2}},  # no edited explanation kept
        {"explanation": "e"},  # no answers counted
        {"explanation": "f", "reference": {"hits": 0, "total": 3}},
    ]
    found = added_mistake_units({"explanation": "x", "arms": arms})
    assert found.counts == {"follow": (4, 5)}
    assert found.read == "x\n\x1e\n\n\x1e\ne\n\x1e\nf"
