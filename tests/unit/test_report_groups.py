"""The terminal and Markdown summaries count a check by its kind's group in the registry: a
kind added to ``KINDS`` is summed up with its group without an edit to the reports."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.checks.kinds import KINDS, CheckKind
from pytest_xgen.report import build
from pytest_xgen.report.markdown import render_markdown
from pytest_xgen.report.terminal import intervention_lines, summary_lines

DEMO = Path(__file__).parents[2] / "fixtures" / "reports" / "demo.json"


def demo() -> dict[str, Any]:
    return json.loads(DEMO.read_text(encoding="utf-8"))


def probe(verdict: str) -> dict[str, Any]:
    return {
        "kind": "probe",
        "prompt": "p",
        "verdict": verdict,
        "reasons": [],
        "summary": "the probe's summary",
        "asserted": True,
    }


def test_a_kind_registered_in_the_interventions_group_is_tallied_and_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = demo()
    doc["tests"] = [
        {"nodeid": "t.py::test_probe", "outcome": "failed", "checks": [probe("fail")]},
        {"nodeid": "t.py::test_other", "outcome": "passed", "checks": [probe("pass")]},
    ]
    tests = {t["nodeid"]: t for t in doc["tests"]}
    # Not registered: neither summary counts it.
    assert intervention_lines(tests, verbose=False) == []
    assert "Interventions:" not in render_markdown(doc)

    monkeypatch.setitem(KINDS, "probe", CheckKind("probe", "probes:Probe", "interventions"))
    assert intervention_lines(tests, verbose=False) == [
        "xgen interventions: 2 check(s): 1 pass, 1 fail, 0 inconclusive",
        "  t.py::test_probe  probe: fail: the probe's summary",
    ]
    summary = render_markdown(doc)
    assert "Interventions: 2 check(s): 1 pass, 1 fail, 0 inconclusive." in summary
    assert "- `t.py::test_probe` probe: **fail**: `the probe's summary`" in summary

    # In another group, it is not an intervention.
    monkeypatch.setitem(KINDS, "probe", CheckKind("probe", "probes:Probe", "review"))
    assert intervention_lines(tests, verbose=True) == []
    assert "Interventions:" not in render_markdown(doc)


def test_a_gated_kind_registered_in_the_transfer_group_gets_a_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kind of the transfer group whose checks give the transfer check's units: the JSON
    metrics, the terminal table and the Markdown verdict table show its test."""
    doc = demo()
    [test] = [copy.deepcopy(t) for t in doc["tests"] if t["metrics"] is not None][:1]
    test["checks"] = [{**c, "kind": "probe"} for c in test["checks"] if c["kind"] == "transfer"]
    test["nodeid"] = "t.py::test_probe"
    doc["tests"] = [test]
    tests = {test["nodeid"]: test}
    assert build.test_metrics(test["checks"]) is None
    assert summary_lines(tests, verbose=False) == []

    row = CheckKind(
        "probe",
        "probes:Probe",
        "transfer",
        units="pytest_xgen.checks.units:transfer_units",
    )
    monkeypatch.setitem(KINDS, "probe", row)
    metrics = build.test_metrics(test["checks"])
    assert metrics is not None and metrics["units"] == test["metrics"]["units"]
    lines = summary_lines(tests, verbose=True)
    assert lines[1].startswith("  t.py::test_probe ")
    assert lines[2].startswith("xgen transfer checks: 1 test(s): ")
    assert "| `t.py::test_probe` |" in render_markdown(doc)
