"""The comparison and the gate as JSON data (what ``--xgen-report`` and ``xgen compare
--report`` write under ``comparison``), field by field on constructed values."""

from __future__ import annotations

import json

from pytest_xgen.core.significance import PairedChange
from pytest_xgen.report.gate import Comparison, GateResult, TestComparison
from pytest_xgen.report.gate_changes import MetricChange

CHANGE = MetricChange(
    "consistency",
    0.1,
    0.2,
    0.3,
    0.4,
    significant=True,
    p_adjusted=0.5,
    variance=0.6,
    margin=0.7,
    p_rise=0.8,
    p_rise_adjusted=0.9,
    regressed=False,
)


def suite(metric: str) -> PairedChange:
    return PairedChange(metric, 3, -0.1, 0.05, 0.02, 0.3, 0.6, 0.2, "underpowered", paired=2)


def test_a_change_as_data() -> None:
    assert CHANGE.to_dict() == {
        "before": 0.1,
        "after": 0.2,
        "delta": 0.3,
        "margin": 0.7,
        "p_value": 0.4,
        "p_adjusted": 0.5,
        "p_rise": 0.8,
        "p_rise_adjusted": 0.9,
        "significant": True,
        "regressed": False,
    }
    assert list(CHANGE.to_dict()) == [
        *("before", "after", "delta", "margin", "p_value", "p_adjusted", "p_rise"),
        *("p_rise_adjusted", "significant", "regressed"),
    ]
    assert CHANGE.in_family
    assert not MetricChange("lift", None, None, None, None).in_family


def test_a_comparison_as_data() -> None:
    comparison = Comparison(
        tests=[
            TestComparison("t::a", "improved", {"consistency": CHANGE}, True),
            TestComparison("t::b", "unpaired", {}, False),
            TestComparison("t::c", "new", {}),
        ],
        alpha=0.1,
        adjust="bh",
        suite={"consistency": suite("consistency"), "lift": suite("lift")},
        thresholds={"consistency": 0.05},
    )
    data = comparison.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "alpha": 0.1,
        "adjust": "bh",
        "counts": {
            "regressed": 0,
            "improved": 1,
            "unchanged": 0,
            "unpaired": 1,
            "new": 1,
            "missing": 0,
        },
        "pairing": {"paired": 1, "compared": 2},
        "suite": {
            "consistency": {**suite("consistency").to_dict(), "gated": True},
            "lift": {**suite("lift").to_dict(), "gated": False},
        },
        "tests": [
            {
                "nodeid": "t::a",
                "verdict": "improved",
                "paired": True,
                "changes": {"consistency": CHANGE.to_dict()},
            },
            {"nodeid": "t::b", "verdict": "unpaired", "paired": False, "changes": {}},
            {"nodeid": "t::c", "verdict": "new", "paired": None, "changes": {}},
        ],
    }
    assert comparison.pairing() == (1, 2)


def test_a_gate_result_as_data() -> None:
    warned = GateResult("pass", {"consistency": 0.05}, [], ["under"], "warn")
    assert warned.to_dict() == {
        "result": "pass",
        "thresholds": {"consistency": 0.05},
        "failures": [],
        "underpowered": ["under"],
        "warnings": ["under"],
        "on_underpowered": "warn",
    }
    strict = GateResult("inconclusive", {"lift": 0.1}, ["drop"], ["under"], "fail")
    assert strict.to_dict() == {
        "result": "inconclusive",
        "thresholds": {"lift": 0.1},
        "failures": ["drop"],
        "underpowered": ["under"],
        "warnings": [],
        "on_underpowered": "fail",
    }
    assert GateResult("pass", {}, [], []).on_underpowered == "warn"
    assert strict.failed and GateResult("fail", {}, ["x"], []).failed and not warned.failed


# --- the comparison and the gate in words -----------------------------------------------------


def test_how_many_tests_were_paired_in_words() -> None:
    def line(*paired: bool) -> str | None:
        tests = [TestComparison(f"t::{i}", "unchanged", {}, p) for i, p in enumerate(paired)]
        return Comparison(tests=tests, alpha=0.05).pairing_line()

    assert line() is None
    assert line(True) == (
        "1 test read the same explanation in both runs (the baseline's generator calls "
        "replayed): per-test tests"
    )
    assert line(False, False) == (
        "0 of 2 tests read the same explanation in both runs (the generator changed, "
        "re-recorded or sampled anew): per-test changes are shown, not tested; the suite "
        "tests decide"
    )
    assert line(True, False, False) == (
        "1 of 3 tests read the same explanation in both runs: per-test tests; 2 read a new "
        "one: their changes count in the suite test only"
    )


def test_the_gate_s_headline() -> None:
    limits = {"consistency": 0.05, "lift": 0.1}
    assert GateResult("fail", limits, ["a", "b"], []).headline() == (
        "gate failed (consistency:0.05, lift:0.1): 2 drop(s) beyond DELTA shown"
    )
    assert GateResult("inconclusive", limits, [], ["u"], "fail").headline() == (
        "gate inconclusive (consistency:0.05, lift:0.1): fails the run (on_underpowered=fail: "
        "a drop beyond DELTA must be ruled out)"
    )
    assert GateResult("pass", limits, [], ["u"], "warn").headline() == (
        "gate passed with 1 warning(s) (consistency:0.05, lift:0.1): no drop beyond DELTA "
        "shown, but the suite could not rule one out"
    )
    assert GateResult("pass", limits, [], [], "warn").headline() == (
        "gate passed (consistency:0.05, lift:0.1): a drop beyond DELTA ruled out"
    )
    assert GateResult("pass", limits, ["f"], ["u"], "warn").lines() == [
        GateResult("pass", limits, ["f"], ["u"], "warn").headline(),
        "  f",
        "  warning: u",
    ]
    assert GateResult("inconclusive", limits, [], ["u"], "fail").lines()[1:] == ["  u"]


def test_a_gated_metric_no_test_measured_in_both_runs_is_underpowered() -> None:
    from pytest_xgen.report.gate import compare, gate
    from tests.unit.test_compare import metrics, report

    before = report({"t::a": metrics(10, 15)})
    after = report({"t::a": metrics(10, 15)})
    result = gate(compare(before, after, thresholds={"follow": 0.1}))
    assert result.underpowered == [
        "follow: no test has follow counts in both runs: nothing to compare"
    ]
    assert result.result == "pass" and result.warnings == result.underpowered
    strict = gate(compare(before, after, thresholds={"follow": 0.1}), "fail")
    assert strict.result == "inconclusive" and strict.failed


def test_the_comparison_table_shows_what_was_measured() -> None:
    from pytest_xgen.report.gate import compare, format_comparison
    from tests.unit.test_compare import metrics, report

    def with_follow(block: dict[str, object], followed: int) -> dict[str, object]:
        count = {"followed": followed, "total": 10, "value": followed / 10}
        return {**block, "follow": count, "units": {**block["units"], "follow": count}}  # type: ignore[dict-item]

    before = report({"t::a": metrics(10, 15, explanations=("x",)), "t::b": metrics(9, 15)})
    after = report(
        {
            "t::a": metrics(10, 15, explanations=("y",)),
            "t::b": with_follow(metrics(9, 15), 4),
        }
    )
    after["run"]["model_map"] = {"qwen": "gpt", "a": "b"}
    # Unpaired and unchanged tests are left out without verbose.
    assert format_comparison(compare(before, after)).splitlines() == [
        "xgen compare: models of the new run: a\u2192b, qwen\u2192gpt",
        "xgen compare: 0 regressed, 0 improved, 1 unchanged, 1 unpaired, 0 new, 0 missing "
        "(alpha 0.05, adjusted: holm)",
    ]
    verbose = format_comparison(compare(before, after), verbose=True).splitlines()
    # A column one run measured (follow, in the new run only) is shown; explanation, which
    # neither measured, is not.
    assert verbose[0].split() == ["verdict", "test", "consistency", "lift", "accuracy", "follow"]
    assert verbose[1].startswith("unpaired   t::a  0.67 -> 0.67 (+0.00)           0.47")
    assert verbose[2].startswith("unchanged  t::b  0.60 -> 0.60 (+0.00, p=1.000)  0.40")
    assert verbose[2].endswith("  -         - -> 0.40")
    # Nothing gated, nothing verbose: the pairing line only when no test could be tested.
    alone = report({"t::a": metrics(10, 15, explanations=("z",))})
    assert (
        "xgen compare: 0 of 1 test read the same explanation in both runs (the generator "
        "changed, re-recorded or sampled anew): per-test changes are shown, not tested; the "
        "suite tests decide"
    ) in format_comparison(compare(before, alone)).splitlines()
    assert "read the same" not in format_comparison(compare(before, before))


# --- compare's rules, on crafted per-test changes ---------------------------------------------


def crafted(monkeypatch: object, **found: MetricChange) -> None:
    """Every paired test of a comparison gets these changes (the rest untested)."""
    import pytest

    from pytest_xgen.report import gate_changes

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(gate_changes, "changes", lambda *args: dict(found))


def two_runs() -> tuple[dict[str, object], dict[str, object]]:
    from tests.unit.test_compare import metrics, report

    return report({"t::a": metrics(10, 15)}), report({"t::a": metrics(10, 15)})


def drop(delta: float, p: float, p_rise: float = 1.0, margin: float = 0.05) -> MetricChange:
    return MetricChange("consistency", 0.9, 0.9 + delta, delta, p, p_rise=p_rise, margin=margin)


def test_a_shown_drop_regresses_only_beyond_its_margin(monkeypatch: object) -> None:
    from pytest_xgen.report.gate import compare

    before, after = two_runs()
    cases = [
        (drop(-0.04, 1e-9), "unchanged"),  # tiny p, but within the margin
        (drop(-0.05, 1e-9), "unchanged"),  # exactly the margin is not beyond it
        (drop(-0.06, 1e-9), "regressed"),
        (drop(-0.06, 0.2), "unchanged"),  # beyond, but not shown
        (drop(0.0, 1.0, p_rise=1e-9), "unchanged"),  # a rise of 0 is no rise
        (drop(-0.01, 1.0, p_rise=1e-9), "unchanged"),
        (drop(0.01, 1.0, p_rise=1e-9), "improved"),
        (drop(0.01, 1.0, p_rise=0.2), "unchanged"),
    ]
    for change, verdict in cases:
        crafted(monkeypatch, consistency=change)
        found = compare(before, after, thresholds={"consistency": 0.05}, adjust_with="none")
        assert found.tests[0].verdict == verdict, change
        judged = found.tests[0].changes["consistency"]
        assert judged.p_adjusted == change.p_value and judged.p_rise_adjusted == change.p_rise
        assert judged.significant == (verdict != "unchanged")
        assert judged.regressed == (verdict == "regressed")
        assert found.tests[0].paired is True


def test_an_untested_change_is_kept_as_it_is(monkeypatch: object) -> None:
    from pytest_xgen.report.gate import compare

    before, after = two_runs()
    shown = MetricChange("consistency", 0.9, 0.5, -0.4, None, margin=0.05)
    crafted(monkeypatch, consistency=shown, lift=drop(-0.3, 1e-9))
    found = compare(before, after, thresholds={"consistency": 0.05, "lift": 0.1})
    assert found.tests[0].changes["consistency"] is shown
    assert found.tests[0].changes["lift"].regressed


def test_adjusted_p_values_stay_at_most_1(monkeypatch: object) -> None:
    from pytest_xgen.report.gate import compare

    before, after = two_runs()
    crafted(monkeypatch, consistency=drop(0.01, 0.7, p_rise=0.6))
    found = compare(before, after, thresholds={"consistency": 0.05})
    # Two parts (the test's drop test and the suite test) each take half of alpha.
    change = found.tests[0].changes["consistency"]
    assert change.p_adjusted == 1.0 and change.p_rise_adjusted == 0.6
    assert found.suite["consistency"].p_regressed is not None
    assert found.suite["consistency"].p_regressed <= 1.0


def test_without_an_adjustment_the_suite_p_values_are_raw() -> None:
    from pytest_xgen.core.significance import paired_margin
    from pytest_xgen.report.gate import compare
    from tests.unit.test_compare import metrics, report

    before = report({f"t::{i}": metrics(12, 15, explanations=(str(i),)) for i in range(4)})
    after = report({f"t::{i}": metrics(9 + i, 15, explanations=(str(i),)) for i in range(4)})
    gates = {"consistency": 0.05, "lift": 0.05}
    raw = compare(before, after, thresholds=gates, adjust_with="none")
    holm = compare(before, after, thresholds=gates)
    for metric in gates:
        found = [t.changes[metric] for t in raw.tests]
        alone = paired_margin(
            metric,
            [c.delta for c in found if c.delta is not None],
            [c.variance for c in found],
            0.05,
            0.05,
            paired=[True] * len(found),
        )
        assert raw.suite[metric].p_regressed == alone.p_regressed
        assert holm.suite[metric].p_regressed != alone.p_regressed
        assert raw.suite[metric].adjusted == "none" and holm.suite[metric].adjusted == "holm"
    # An ungated metric's suite test is against 0, and not adjusted.
    assert raw.suite["accuracy"].margin == 0.0 and raw.suite["consistency"].margin == 0.05
    assert compare(before, after).suite["consistency"].adjusted is None


def test_the_rise_tests_are_adjusted_as_the_family_says() -> None:
    from pytest_xgen.core.significance import adjust
    from pytest_xgen.report.gate import compare
    from tests.unit.test_compare import metrics, report

    before = report({"t::a": metrics(3, 15), "t::b": metrics(5, 15)})
    after = report({"t::a": metrics(14, 15), "t::b": metrics(6, 15)})
    for method in ("none", "bh", "holm"):
        found = compare(before, after, adjust_with=method)
        changes = [c for t in found.tests for c in t.changes.values() if c.p_rise is not None]
        assert [c.p_rise_adjusted for c in changes] == adjust(
            [c.p_rise for c in changes if c.p_rise is not None], method
        )


def test_a_test_without_metrics_in_either_run_is_unchanged_and_not_compared() -> None:
    from pytest_xgen.report.gate import compare
    from tests.unit.test_compare import report

    found = compare(report({"t::a": None}), report({"t::a": None}))
    assert found.tests == [TestComparison("t::a", "unchanged", {}, None)]


def test_labels_name_the_models_the_new_run_mapped() -> None:
    from pytest_xgen.report.gate import compare
    from tests.unit.test_compare import metrics, report

    before, after = report({"t::a": metrics(10, 15)}), report({"t::a": metrics(10, 15)})
    after["run"]["model_map"] = {"qwen": "gpt"}
    assert compare(before, after).labels == {"qwen": "qwen\u2192gpt"}
    after["run"]["model_map"] = None
    assert compare(before, after).labels == {}
    del after["run"]
    assert compare(before, after).labels == {}


def test_bad_arguments_are_refused_by_name() -> None:
    import pytest

    from pytest_xgen.report.gate import compare

    before, after = two_runs()
    for alpha in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError) as excinfo:
            compare(before, after, alpha=alpha)
        assert str(excinfo.value) == f"alpha must be strictly between 0 and 1; got {alpha}"
    with pytest.raises(ValueError) as excinfo:
        compare(before, after, adjust_with="bonferroni")
    assert str(excinfo.value) == "adjust must be one of holm, bh, none; got 'bonferroni'"
