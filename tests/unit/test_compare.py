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

from pytest_xgen.cli import main_compare
from pytest_xgen.core.significance import adjust, drop_beyond_p, lift_drop_p
from pytest_xgen.core.significance import fisher_p as fisher_exact
from pytest_xgen.report.gate import Comparison, compare, format_comparison, gate
from pytest_xgen.report.gate_runs import load_run
from pytest_xgen.settings.config import load_schema
from pytest_xgen.settings.options import parse_thresholds

# Baseline consistency of the constructed tests unless one says otherwise.
BASELINE = (3, 15)


def metrics(
    agree: int,
    total: int,
    baseline: tuple[int, int] = BASELINE,
    accuracy: tuple[int, int] | None = None,
    explanation: tuple[int, int] | None = None,
    explanations: tuple[str, ...] = ("same",),
) -> dict[str, Any]:
    """A test's ``metrics`` block, shaped as ``report.build.test_metrics`` writes it. Two
    runs with the same ``explanations`` digests are paired (the default)."""

    def count(hits: int, n: int) -> dict[str, Any]:
        return {"agree": hits, "total": n, "value": hits / n if n else None}

    def right(counts: tuple[int, int] | None) -> dict[str, Any] | None:
        if counts is None:
            return None
        return {"correct": counts[0], "total": counts[1], "value": counts[0] / counts[1]}

    transfer, base = count(agree, total), count(*baseline)
    lift = None
    if transfer["value"] is not None and base["value"] is not None:
        lift = transfer["value"] - base["value"]
    correct, own = right(accuracy), right(explanation)
    return {
        "consistency": transfer,
        "baseline_consistency": base,
        "lift": lift,
        "accuracy": correct,
        "explanation": own,
        "explanations": list(explanations),
        # Two evaluators: one pair per sample, so the per-sample units are the same counts.
        "units": {
            "consistency": transfer,
            "baseline_consistency": base,
            "accuracy": correct,
            "explanation": own,
        },
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
        "unpaired": 0,
        "new": 2,
        "missing": 2,
    }
    by_id = {t.nodeid: t for t in comparison.tests}
    for nodeid in ("t::added", "t::gone", "t::plain", "t::lost_metrics", "t::gained_metrics"):
        assert by_id[nodeid].changes == {}

    down = by_id["t::down"].changes["consistency"]
    assert (down.before, down.after) == pytest.approx((14 / 15, 3 / 15))
    assert down.delta == pytest.approx(-11 / 15)
    # Without --fail every metric is compared at margin 0: one-sided Fisher for a drop.
    assert down.p_value == pytest.approx(fisher_exact(14, 1, 3, 12, "greater"))
    assert down.p_rise == pytest.approx(fisher_exact(3, 12, 14, 1, "greater"))
    assert down.significant and down.regressed
    lift = by_id["t::down"].changes["lift"]
    assert lift.delta == pytest.approx(-11 / 15)
    assert lift.significant

    # 4/5 -> 3/5 is a drop of 0.2, but five samples cannot tell it from chance.
    noise = by_id["t::noise"].changes["consistency"]
    assert noise.delta == pytest.approx(-0.2)
    assert noise.p_value == pytest.approx(fisher_exact(4, 1, 3, 2, "greater"))
    assert noise.p_value >= 0.5
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
    assert accuracy.p_value == pytest.approx(fisher_exact(28, 2, 12, 18, "greater"))
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
    after = report({"t::a": metrics(8, 15)})
    # One-sided Fisher p for 12/15 -> 8/15 is about 0.12: significant at 0.2, not at 0.1.
    p = fisher_exact(12, 3, 8, 7, "greater")
    assert 0.1 < p < 0.2
    assert compare(before, after, alpha=0.1).tests[0].changes["consistency"].significant is False
    # Without a correction; with Holm's (two p-values: consistency and lift) it is not.
    loose = compare(before, after, alpha=0.2, adjust_with="none")
    assert loose.tests[0].changes["consistency"].significant is True
    held = compare(before, after, alpha=0.2).tests[0].changes
    lift_p = held["lift"].p_value
    assert lift_p is not None
    assert held["consistency"].p_adjusted == pytest.approx(adjust([p, lift_p])[0])
    assert held["consistency"].p_adjusted > 0.2 and not held["consistency"].significant
    data = loose.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["alpha"] == 0.2
    assert data["counts"]["regressed"] == 1
    assert data["pairing"] == {"paired": 1, "compared": 1}
    assert data["tests"][0]["nodeid"] == "t::a"
    assert data["tests"][0]["paired"] is True
    assert data["tests"][0]["changes"]["consistency"]["p_value"] == pytest.approx(p)
    assert data["tests"][0]["changes"]["consistency"]["margin"] == 0.0
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
    p = drop_beyond_p(14, 15, 3, 15, margin=0.1)

    def failures(thresholds: dict[str, float]) -> list[str]:
        result = gate(compare(before, after, adjust_with="none", thresholds=thresholds))
        return [line for line in result.failures if not line.startswith("suite:")]

    assert failures({"consistency": 0.1}) == [
        f"tests/test_x.py::test_big: consistency 0.93 -> 0.20 (-0.73, a drop beyond 0.1 shown: "
        f"Farrington-Manning p={p:.1e}, none p={p:.1e})"
    ]
    # Against a lower margin the large, real 0.05 drop is shown beyond it too; a drop of
    # 0.05 is never shown to be beyond 0.05.
    assert len(failures({"consistency": 0.02})) == 2
    assert len(failures({"consistency": 0.05})) == 1
    # Metrics without a threshold are not gated.
    assert failures({"accuracy": 0.0}) == []
    assert gate(compare(before, after)).result == "pass"


def test_a_drop_of_exactly_delta_is_never_shown_beyond_delta() -> None:
    """The per-test tests have a shifted null: a drop of exactly DELTA gives p of about 0.5
    however many samples there are, so it cannot fail the gate (0.80 -> 0.75 is also a drop
    of 0.05000000000000004 in floating point)."""
    before = report({"tests/test_x.py::test_exact": metrics(800, 1000)})
    after = report({"tests/test_x.py::test_exact": metrics(750, 1000)})
    comparison = compare(before, after, adjust_with="none", thresholds={"consistency": 0.05})
    change = comparison.tests[0].changes["consistency"]
    assert change.delta == pytest.approx(-0.05) and change.margin == 0.05
    assert change.p_value == pytest.approx(0.5, abs=0.01)
    assert not change.regressed
    assert [f for f in gate(comparison).failures if not f.startswith("suite:")] == []
    # Tested against 0, the same drop is clear.
    plain = compare(before, after, adjust_with="none", thresholds={"consistency": 0.0})
    assert plain.tests[0].changes["consistency"].regressed
    assert plain.tests[0].verdict == "regressed"


def test_gate_line_for_lift_names_wald() -> None:
    before = report({"tests/test_x.py::test_a": metrics(12, 15)})
    after = report({"tests/test_x.py::test_a": metrics(4, 15, baseline=(5, 15))})
    comparison = compare(before, after, thresholds={"lift": 0.2})
    change = comparison.tests[0].changes["lift"]
    assert change.p_value == pytest.approx(lift_drop_p((12, 15, 3, 15), (4, 15, 5, 15), 0.2))
    assert change.regressed
    assert gate(comparison).failures[0] == (
        f"tests/test_x.py::test_a: lift 0.60 -> -0.07 (-0.67, a drop beyond 0.2 shown: "
        f"Wald p={change.p_value:.3f}, holm p={change.p_adjusted:.3f})"
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


# --- pairing on the explanation, the family, the explanation metric ---------------------------


def test_a_new_explanation_is_shown_not_tested_and_counts_in_the_suite() -> None:
    before = report(
        {
            "t::same_a": metrics(18, 20, explanations=("a",)),
            "t::same_b": metrics(18, 20, explanations=("b",)),
            "t::new": metrics(18, 20, explanations=("c",)),
        }
    )
    after = report(
        {
            "t::same_a": metrics(17, 20, explanations=("a",)),
            "t::same_b": metrics(18, 20, explanations=("b",)),
            "t::new": metrics(2, 20, explanations=("d",)),
        }
    )
    comparison = compare(before, after, thresholds={"consistency": 0.05})
    by_id = {t.nodeid: t for t in comparison.tests}
    new = by_id["t::new"]
    assert new.verdict == "unpaired" and new.paired is False
    change = new.changes["consistency"]
    # A drop of 0.8 on one explanation is shown, but not tested: the explanation changed.
    assert change.delta == pytest.approx(-0.8)
    assert (change.p_value, change.p_adjusted, change.regressed) == (None, None, False)
    assert by_id["t::same_a"].paired is True and by_id["t::same_a"].verdict == "unchanged"
    suite = comparison.suite["consistency"]
    assert (suite.tests, suite.paired) == (3, 2)
    assert suite.mean_change == pytest.approx((-0.05 + 0 - 0.8) / 3)
    data = comparison.to_dict()
    assert data["pairing"] == {"paired": 2, "compared": 3}
    assert {t["nodeid"]: t["paired"] for t in data["tests"]} == {
        "t::new": False,
        "t::same_a": True,
        "t::same_b": True,
    }
    assert comparison.pairing_line() == (
        "2 of 3 tests read the same explanation in both runs: per-test tests; 1 read a new "
        "one: their changes count in the suite test only"
    )
    assert "xgen compare: 2 of 3 tests read the same" in format_comparison(comparison)
    assert "1 unpaired" in format_comparison(comparison).splitlines()[-1]
    # The same explanations in another order (Hypothesis replaying examples) still pair.
    two = report({"t::a": metrics(18, 20, explanations=("x", "y"))})
    swapped = report({"t::a": metrics(18, 20, explanations=("y", "x"))})
    assert compare(two, swapped).tests[0].paired is True
    # An empty list of explanations (nothing to pair on) is never paired.
    bare = report({"t::a": metrics(18, 20, explanations=())})
    assert compare(bare, bare).tests[0].verdict == "unpaired"


def test_only_gated_metrics_are_adjusted_and_judged() -> None:
    # Lift falls hard in every test (the baseline rose): lift is not gated, so it is shown
    # with its raw p-value and makes no test regressed. Consistency falls by 0.13.
    before = report({f"t::{i}": metrics(180, 200, baseline=(2, 20)) for i in range(10)})
    after = report({f"t::{i}": metrics(154, 200, baseline=(18, 20)) for i in range(10)})
    comparison = compare(before, after, thresholds={"consistency": 0.05})
    consistency_ps = []
    for test in comparison.tests:
        lift = test.changes["lift"]
        assert lift.p_value is not None and lift.p_value < 1e-6
        assert lift.p_adjusted is None and not lift.regressed and not lift.significant
        consistency_ps.append(test.changes["consistency"].p_value)
    assert comparison.counts()["regressed"] == 0
    assert "raw p=" in format_comparison(comparison, verbose=True)
    # The family: ten per-test consistency tests and the suite's consistency test, alpha
    # split in half between the two parts (each adjusted, then doubled).
    suite_p = paired_margin_p(comparison, "consistency")
    per_test = [min(1.0, 2 * p) for p in adjust(consistency_ps, "holm")]
    assert 0.05 < min(per_test) < 0.5
    assert [t.changes["consistency"].p_adjusted for t in comparison.tests] == pytest.approx(
        per_test
    )
    assert comparison.suite["consistency"].p_regressed == pytest.approx(2 * suite_p)
    assert comparison.suite["consistency"].verdict == "regressed"
    assert comparison.suite["consistency"].adjusted == "holm"
    # Without per-test tests (no test read the same explanation) the suite keeps all alpha.
    unpaired = report(
        {f"t::{i}": metrics(154, 200, baseline=(18, 20), explanations=("new",)) for i in range(10)}
    )
    alone = compare(before, unpaired, thresholds={"consistency": 0.05})
    assert alone.suite["consistency"].p_regressed == pytest.approx(suite_p)
    # Gating lift puts it in the family: every test regressed.
    gated = compare(before, after, thresholds={"consistency": 0.05, "lift": 0.05})
    assert gated.counts()["regressed"] == 10
    assert gate(gated).result == "fail"
    # With no adjustment there is nothing to split.
    raw = compare(before, after, adjust_with="none", thresholds={"consistency": 0.05})
    assert raw.suite["consistency"].p_regressed == pytest.approx(suite_p)


def paired_margin_p(comparison: Comparison, metric: str) -> float:
    """The suite test's p-value before the adjustment, recomputed from the changes."""
    from pytest_xgen.core.significance import paired_margin

    changes = [t.changes[metric] for t in comparison.tests]
    result = paired_margin(
        metric,
        [c.delta or 0.0 for c in changes],
        [c.variance for c in changes],
        comparison.thresholds[metric],
        comparison.alpha,
    )
    assert result.p_regressed is not None
    return result.p_regressed


# --- which p-value makes a test regressed ----------------------------------------------------
#
# A metric of a paired test is regressed when *its own* drop test, adjusted with the family,
# has p below alpha (and the drop is beyond the margin). The runs below are built so that the
# other p-values at hand (the raw one, the suite's, another metric's) decide otherwise.


def assert_decided_by_own_adjusted_p(comparison: Comparison) -> None:
    """Every judged change is regressed exactly when its adjusted p is below alpha and its
    drop beyond its margin."""
    judged = 0
    for test in comparison.tests:
        for change in test.changes.values():
            if change.p_adjusted is None:
                assert not change.regressed
                continue
            judged += 1
            beyond = change.delta is not None and change.delta < -change.margin
            expected = change.p_adjusted < comparison.alpha and beyond
            assert change.regressed is expected, (test.nodeid, change.metric)
    assert judged


def test_a_test_regresses_on_its_adjusted_p_not_its_raw_p_nor_the_suites() -> None:
    """Six tests each drop 0.90 -> 0.60: each drop alone is significant (raw p 0.04), not
    after Holm over six tests and the split of alpha; the suite's mean drop is clear (its p
    is 0.006). No test is regressed, the suite is."""
    before = report(dict.fromkeys([f"t::{i}" for i in range(6)], metrics(18, 20)))
    after = report(dict.fromkeys([f"t::{i}" for i in range(6)], metrics(12, 20)))
    comparison = compare(before, after, thresholds={"consistency": 0.05})
    raw_p = drop_beyond_p(18, 20, 12, 20, margin=0.05)
    assert 0.03 < raw_p < 0.05
    holm = [min(1.0, 2 * p) for p in adjust([raw_p] * 6, "holm")]
    for test in comparison.tests:
        change = test.changes["consistency"]
        assert change.delta is not None and change.p_adjusted is not None
        assert change.delta == pytest.approx(-0.3) and change.delta < -change.margin
        assert change.p_value == pytest.approx(raw_p)
        assert change.p_adjusted == pytest.approx(holm[0]) and change.p_adjusted > 0.4
        assert not change.regressed and not change.significant
        assert test.verdict == "unchanged"
    suite = comparison.suite["consistency"]
    assert suite.p_regressed is not None and suite.p_regressed < 0.01
    assert suite.verdict == "regressed"
    assert comparison.counts()["regressed"] == 0
    assert_decided_by_own_adjusted_p(comparison)
    failures = gate(comparison).failures
    assert len(failures) == 1 and failures[0].startswith("suite: consistency: REGRESSED")
    # Without an adjustment the same drops, read with the same p, are each regressed.
    plain = compare(before, after, adjust_with="none", thresholds={"consistency": 0.05})
    assert plain.counts()["regressed"] == 6
    assert_decided_by_own_adjusted_p(plain)


def test_a_test_regresses_on_its_own_metrics_p_whatever_the_suite_and_other_metrics_say() -> None:
    """Two gated metrics: tests a and c lose consistency hard and accuracy a little, test b
    the other way round; lift (not gated) falls hard in a. Each metric is regressed by its own
    drop test (not by the test's other metric, nor by the same metric of another test), while
    the suite tests (three tests, one of them unchanged) show nothing."""
    before = report(
        {
            "t::a": metrics(19, 20, accuracy=(18, 20)),
            "t::b": metrics(14, 20, accuracy=(19, 20)),
            "t::c": metrics(19, 20, accuracy=(18, 20)),
        }
    )
    after = report(
        {
            "t::a": metrics(2, 20, accuracy=(14, 20)),
            "t::b": metrics(10, 20, accuracy=(2, 20)),
            "t::c": metrics(2, 20, accuracy=(14, 20)),
        }
    )
    comparison = compare(before, after, thresholds={"consistency": 0.05, "accuracy": 0.05})
    by_id = {t.nodeid: t for t in comparison.tests}
    a, b = by_id["t::a"].changes, by_id["t::b"].changes
    assert by_id["t::c"].changes == a
    hard, slight = drop_beyond_p(19, 20, 2, 20, margin=0.05), drop_beyond_p(18, 20, 14, 20, 0.05)
    assert hard < 1e-6 and slight > 0.1
    assert a["consistency"].p_value == pytest.approx(hard)
    assert a["accuracy"].p_value == pytest.approx(slight)
    assert b["accuracy"].p_value == pytest.approx(hard)
    assert b["consistency"].p_value == pytest.approx(drop_beyond_p(14, 20, 10, 20, margin=0.05))
    # Each metric's drop is beyond the margin; only the hard one is shown.
    for change in (a["consistency"], a["accuracy"], b["consistency"], b["accuracy"]):
        assert change.delta is not None and change.delta < -0.15
    assert a["consistency"].regressed and not a["accuracy"].regressed
    assert b["accuracy"].regressed and not b["consistency"].regressed
    # Lift is not gated: its tiny p makes nothing regressed.
    assert a["lift"].p_value is not None and a["lift"].p_value < 1e-4
    assert not a["lift"].regressed
    assert verdicts(comparison) == {"t::a": "regressed", "t::b": "regressed", "t::c": "regressed"}
    for metric in ("consistency", "accuracy"):
        suite = comparison.suite[metric]
        assert suite.p_regressed is not None and suite.p_regressed > 0.1
        assert suite.verdict != "regressed"
    assert_decided_by_own_adjusted_p(comparison)
    failures = gate(comparison).failures
    assert [line.split(" (")[0] for line in failures] == [
        "t::a: consistency 0.95 -> 0.10",
        "t::b: accuracy 0.95 -> 0.10",
        "t::c: consistency 0.95 -> 0.10",
    ]


def test_the_suite_regresses_on_its_adjusted_p() -> None:
    """Four tests each drop 0.90 -> 0.65: the suite's mean drop has a raw p of 0.028. When
    the tests are paired, per-test tests share the family and the suite's p is doubled
    (0.056): not shown, underpowered. When every explanation is new, the suite test is the
    whole family and the same raw p shows the drop."""
    before = report({f"t::{i}": metrics(18, 20, explanations=(f"e{i}",)) for i in range(4)})
    paired = report({f"t::{i}": metrics(13, 20, explanations=(f"e{i}",)) for i in range(4)})
    fresh = report({f"t::{i}": metrics(13, 20, explanations=(f"new{i}",)) for i in range(4)})
    thresholds = {"consistency": 0.05}
    with_tests = compare(before, paired, thresholds=thresholds)
    raw_p = paired_margin_p(with_tests, "consistency")
    assert 0.025 < raw_p < 0.05
    suite = with_tests.suite["consistency"]
    assert suite.p_regressed is not None
    assert suite.p_regressed == pytest.approx(2 * raw_p) and suite.p_regressed > 0.05
    assert suite.verdict == "underpowered"
    assert with_tests.counts()["regressed"] == 0  # each test's own drop is not shown either
    result = gate(with_tests)
    assert result.result == "pass" and result.failures == []
    assert [line.split(":")[0] for line in result.warnings] == ["consistency"]
    alone = compare(before, fresh, thresholds=thresholds)
    assert alone.counts()["unpaired"] == 4
    suite = alone.suite["consistency"]
    assert suite.p_regressed == pytest.approx(raw_p)
    assert suite.verdict == "regressed"
    assert gate(alone).failures[0].startswith("suite: consistency: REGRESSED")


RECIPE = {"consistency": 0.05, "accuracy": 0.05, "explanation": 0.05}


def test_a_run_compared_with_itself_passes_and_strict_gates_say_why_not() -> None:
    same = report(
        {
            f"t::{i}": metrics(
                8, 10, accuracy=(15, 20), explanation=(1, 1), explanations=(f"e{i}",)
            )
            for i in range(5)
        }
    )
    comparison = compare(same, same, thresholds=RECIPE)
    assert comparison.counts()["unchanged"] == 5
    result = gate(comparison)
    assert result.result == "pass" and not result.failed
    assert result.failures == []
    assert len(result.warnings) == 3  # five tests rule out a drop of 0.05 in none
    assert result.to_dict()["warnings"] == result.underpowered
    strict = gate(comparison, "fail")
    assert strict.result == "inconclusive" and strict.failed
    assert strict.warnings == [] and len(strict.underpowered) == 3
    with pytest.raises(ValueError, match="on_underpowered must be one of warn, fail"):
        gate(comparison, "maybe")


def test_a_clear_evaluator_regression_fails_test_by_test_and_over_the_suite() -> None:
    # The generator is kept (its explanation replayed): every test is paired.
    before = report({f"t::{i}": metrics(18, 20, explanations=(f"e{i}",)) for i in range(30)})
    after = report({f"t::{i}": metrics(6, 20, explanations=(f"e{i}",)) for i in range(30)})
    comparison = compare(before, after, thresholds={"consistency": 0.05})
    assert comparison.counts()["regressed"] == 30
    assert comparison.suite["consistency"].verdict == "regressed"
    result = gate(comparison)
    assert result.result == "fail" and result.failed
    assert len(result.failures) == 31
    assert result.failures[-1].startswith(
        "suite: consistency: REGRESSED: mean change -0.600 beyond the margin 0.05"
    )


def test_a_generator_with_wrong_explanations_fails_through_explanation_and_accuracy() -> None:
    """The generator is swapped for one whose explanations are wrong, and the followers copy
    them: they agree more than before (consistency rises), but their answers and the
    explanations' own answers are wrong. Every explanation is new: no per-test test, the
    suite tests find it."""
    before = report(
        {
            f"t::{i}": metrics(
                14, 20, accuracy=(30, 40), explanation=(1, 1), explanations=(f"right{i}",)
            )
            for i in range(20)
        }
    )
    after = report(
        {
            f"t::{i}": metrics(
                19, 20, accuracy=(4, 40), explanation=(0, 1), explanations=(f"wrong{i}",)
            )
            for i in range(20)
        }
    )
    alone = compare(before, after, thresholds={"consistency": 0.05})
    assert alone.counts()["unpaired"] == 20
    assert gate(alone).result == "pass"  # consistency alone cannot see it
    comparison = compare(before, after, thresholds=RECIPE)
    assert comparison.suite["consistency"].verdict == "pass"
    assert comparison.suite["accuracy"].verdict == "regressed"
    assert comparison.suite["explanation"].verdict == "regressed"
    result = gate(comparison)
    assert result.result == "fail"
    assert [line.split(":")[1].strip() for line in result.failures] == ["accuracy", "explanation"]
    table = format_comparison(comparison, verbose=True)
    assert table.splitlines()[0].split() == [
        "verdict",
        "test",
        "consistency",
        "lift",
        "accuracy",
        "explanation",
    ]
    assert "unpaired  t::0" in table and "1.00 -> 0.00 (-1.00)" in table


def transfer_check(text: str, correct: bool | None, expected: object = 7) -> dict[str, Any]:
    """A transfer check as the JSON report holds it, reduced to what ``test_metrics`` reads."""
    condition = {
        "consistency": {"agree": 4, "total": 5},
        "sample_agreement": [True, True, True, True, False],
        "models": {"a": {"correct": [True] * 5}, "b": {"correct": [True, False] * 2 + [True]}},
    }
    return {
        "kind": "transfer",
        "expected": expected,
        "explanation": {"text": text, "correct": correct},
        "conditions": {"baseline": condition, "transfer": condition},
    }


def test_metrics_hold_the_explanations_and_their_own_correctness() -> None:
    from pytest_xgen.checks.data import digest
    from pytest_xgen.report.build import explanation_digests, test_metrics

    checks = [
        transfer_check("3 + 4 = 7", True),
        transfer_check("3 + 4 = 8", False),
        transfer_check("no expected answer", None, expected=None),
    ]
    found = test_metrics(checks)
    assert found is not None
    assert found["explanations"] == [
        digest("3 + 4 = 7"),
        digest("3 + 4 = 8"),
        digest("no expected answer"),
    ]
    # One unit per check with an expected answer; the third has none.
    assert found["explanation"] == {"correct": 1, "total": 2, "value": 0.5}
    assert found["units"]["explanation"] == found["explanation"]
    assert digest(" 3 + 4 = 7\n") == digest("3 + 4 = 7") and len(digest("x")) == 16
    assert digest("3 + 4 = 7") != digest("3 + 4 = 8")
    # Added mistakes count their original explanation.
    mistake = {"kind": "added_mistake", "explanation": "3 + 4 = 7", "arms": []}
    assert explanation_digests([mistake]) == [digest("3 + 4 = 7")]
    # ... and the edited explanations the follow rate is measured on.
    edited = {**mistake, "arms": [{"explanation": "3 + 4 = 9"}]}
    other = {**mistake, "arms": [{"explanation": "3 + 4 = 6"}]}
    assert explanation_digests([edited]) != explanation_digests([other])
    assert explanation_digests([edited]) != explanation_digests([mistake])
    without = test_metrics([transfer_check("t", None, expected=None)])
    assert without is not None and without["explanation"] is None


# --- format_comparison ----------------------------------------------------------------------


def test_format_comparison() -> None:
    before = report({"t::down": metrics(14, 15), "t::same": metrics(10, 15)})
    after = report(
        {"t::down": metrics(3, 15), "t::same": metrics(10, 15), "t::added": metrics(1, 2)}
    )
    comparison = compare(before, after)
    # Holm over four p-values (two metrics of two shared tests): the smallest times four.
    p = 4 * fisher_exact(14, 1, 3, 12, "greater")
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
    assert (
        "xgen compare: 2 tests read the same explanation in both runs (the baseline's "
        "generator calls replayed): per-test tests" in verbose
    )


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
    assert "xgen compare: gate failed (consistency:0.1): 2 drop(s) beyond DELTA shown" in (
        captured.out
    )
    assert "  tests/test_x.py::test_a: consistency 0.93 -> 0.20 (-0.73, a drop beyond 0.1 " in (
        captured.out
    )
    assert (
        "  suite: consistency: REGRESSED: mean change -0.733 beyond the margin 0.1 (se 0.138, "
        "1 test, z-test; holm p=" in captured.out
    )
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
    assert "xgen compare: gate passed (consistency:0.05): a drop beyond DELTA ruled out" in out
    assert (
        "xgen compare: suite consistency: held: a mean drop beyond 0.05 ruled out (mean change "
        "+0.000, se 0.009, 60 tests, t-test p=" in out
    )
    assert "warning" not in out


def test_an_underpowered_gate_passes_with_a_warning_unless_strict(
    runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A run compared with itself: one test of 15 samples can rule out no drop of 0.05.
    argv = ["base", "base", "--runs-dir", str(runs), "--fail", "consistency:0.05"]
    assert main_compare(argv) == 0
    out = capsys.readouterr().out
    assert (
        "xgen compare: gate passed with 1 warning(s) (consistency:0.05): no drop beyond DELTA "
        "shown, but the suite could not rule one out" in out
    )
    assert "xgen compare: suite consistency: no drop beyond 0.05 shown (mean change +0.000" in out
    assert "p(drop" not in out
    warning = next(line for line in out.splitlines() if line.startswith("  warning: "))
    assert "1 test finds a mean drop of 0.34 with 80% power (DELTA 0.05)" in warning
    assert "about 35x the samples per test or tests" in warning
    assert "--xgen-compare-underpowered=fail" in warning
    assert main_compare([*argv, "--on-underpowered", "fail"]) == 1
    strict = capsys.readouterr().out
    assert "xgen compare: gate inconclusive (consistency:0.05): fails the run" in strict
    assert "  consistency: no drop beyond 0.05 shown, none ruled out: 1 test finds" in strict


def test_main_compare_adjustments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Each test drops by 4 of 40: no test alone survives Holm over 61 p-values, the suite as
    # a whole clearly dropped by more than 0.05.
    runs = big_suite(tmp_path, drop=4)
    argv = ["base", "next", "--runs-dir", str(runs), "--fail", "consistency:0.05"]
    assert main_compare(argv) == 1
    out = capsys.readouterr().out
    assert "gate failed (consistency:0.05): 1 drop(s) beyond DELTA shown" in out
    assert "  suite: consistency: REGRESSED: mean change -0.100 beyond the margin 0.05" in out
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
