"""The HTML report: the demo run's report as one self-contained, well-formed page."""

from __future__ import annotations

import copy
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.report.html import (
    pooled_agreement,
    render_diff,
    render_html,
    strike_removed,
    transfer_matrix,
)

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "reports" / "demo.json"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Page(HTMLParser):
    """Checks that every element opened is closed in order, and collects what the tests
    look at: element names, elements by id, and the heatmap cells with their SVG."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.ids: dict[str, tuple[str, dict[str, str]]] = {}
        self.cells: dict[str, list[dict[str, str]]] = {}
        self.legend: list[tuple[str, dict[str, str]]] = []
        self.svg: str | None = None
        self.text: list[str] = []
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {self.stack}")

    def _record(self, tag: str, attrs: list[tuple[str, str | None]]) -> dict[str, str]:
        found = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if "id" in found:
            if found["id"] in self.ids:
                self.errors.append(f"duplicate id {found['id']}")
            self.ids[found["id"]] = (tag, found)
        if tag == "g" and "cell" in found.get("class", "").split() and self.svg:
            self.cells.setdefault(self.svg, []).append(found)
        if self.svg == "legend" and tag in {"rect", "text"}:
            self.legend.append((tag, found))
        return found

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = self._record(tag, attrs)
        if tag == "svg":
            self.svg = found.get("id")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag == "svg":
            self.svg = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    report: dict[str, Any] = json.loads(DEMO.read_text(encoding="utf-8"))
    return report


@pytest.fixture(scope="module")
def page(demo: dict[str, Any]) -> str:
    return render_html(demo)


@pytest.fixture(scope="module")
def parsed(page: str) -> Page:
    return Page(page)


def transfer_checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for t in report["tests"] for c in t["checks"] if c["kind"] == "transfer"]


def luminance(colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def test_the_demo_page_is_well_formed(page: str, parsed: Page) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert parsed.errors == []
    for tag in ("html", "head", "style", "body", "table", "details", "summary", "svg"):
        assert tag in parsed.tags


def test_the_demo_page_is_self_contained(page: str, parsed: Page) -> None:
    assert "http://" not in page
    assert "https://" not in page
    assert "<script src" not in page.lower()
    assert "<link" not in page.lower()
    assert "link" not in parsed.tags
    assert "@import" not in page
    assert "url(" not in page
    # The only script is the inline print helper; the page reads the same without it.
    assert parsed.tags.count("script") == 1


def test_every_test_is_listed_and_has_a_drilldown(demo: dict[str, Any], page: str) -> None:
    for index, test in enumerate(demo["tests"]):
        assert html.escape(test["nodeid"]) in page
        assert f'href="#test-{index}"' in page
        assert f'id="test-{index}"' in page
    assert page.count('<details class="test"') == len(demo["tests"])


def test_heatmaps_legend_and_transfer_matrix(parsed: Page) -> None:
    for svg_id in ("heatmap-baseline", "heatmap-transfer", "transfer-matrix", "legend"):
        assert parsed.ids[svg_id][0] == "svg"


@pytest.mark.parametrize("condition", ["baseline", "transfer"])
def test_heatmap_cells_pool_the_pairs(demo: dict[str, Any], parsed: Page, condition: str) -> None:
    sums: dict[tuple[str, str], list[int]] = {}
    for check in transfer_checks(demo):
        for pair in check["conditions"][condition]["consistency"]["pairs"]:
            for key in ((pair["a"], pair["b"]), (pair["b"], pair["a"])):
                counts = sums.setdefault(key, [0, 0])
                counts[0] += pair["agree"]
                counts[1] += pair["total"]
    assert sums  # the demo has pairs in both conditions
    cells = parsed.cells[f"heatmap-{condition}"]
    shown = {
        (c["data-row"], c["data-col"]): [int(c["data-agree"]), int(c["data-total"])]
        for c in cells
        if "data-agree" in c
    }
    assert shown == sums
    diagonal = [c for c in cells if "diag" in c["class"].split()]
    assert {(c["data-row"], c["data-col"]) for c in diagonal} == {
        ("qwen", "qwen"),
        ("smollm", "smollm"),
    }
    _, pooled = pooled_agreement(demo, condition)
    assert {k: list(v) for k, v in pooled.items()} == sums


def test_heatmap_cells_print_their_rate(page: str, demo: dict[str, Any]) -> None:
    _, pooled = pooled_agreement(demo, "transfer")
    agree, total = pooled[("qwen", "smollm")]
    assert f">{agree / total:.2f}</text>" in page
    assert f">{agree}/{total}</text>" in page
    assert ">\u2014</text>" in page  # the diagonal


def test_transfer_matrix_compares_with_the_generators_answer(
    demo: dict[str, Any], parsed: Page
) -> None:
    expected: dict[tuple[str, str], list[int]] = {}
    for check in transfer_checks(demo):
        reference = check["explanation"]["answer"]
        if reference is None:
            continue
        for model, entry in check["conditions"]["transfer"]["models"].items():
            tally = expected.setdefault((check["generator"], model), [0, 0])
            for answer in entry["answers"]:
                if answer is not None:
                    tally[0] += answer == reference
                    tally[1] += 1
    generators, evaluators, counts = transfer_matrix(demo)
    assert generators == ["qwen"]
    assert evaluators == ["qwen", "smollm"]
    assert {k: list(v) for k, v in counts.items()} == expected
    shown = {
        (c["data-row"], c["data-col"]): [int(c["data-agree"]), int(c["data-total"])]
        for c in parsed.cells["transfer-matrix"]
    }
    assert shown == expected


def test_transfer_matrix_uses_json_equality() -> None:
    report = tiny_report()
    check = report["tests"][0]["checks"][0]
    check["explanation"]["answer"] = 1
    check["conditions"]["transfer"]["models"] = {
        "m": {**check["conditions"]["transfer"]["models"]["m"], "answers": [True, 1.0, None, "1"]}
    }
    # true is not the number 1 and "1" is a string; 1.0 is the number 1; null is not counted.
    assert transfer_matrix(report)[2] == {("gen", "m"): (1, 3)}


def test_the_legend_is_a_monotonic_single_hue_scale(parsed: Page) -> None:
    swatches = [
        attrs["fill"]
        for tag, attrs in parsed.legend
        if tag == "rect" and attrs["fill"].startswith("#") and "stroke-dasharray" not in attrs
    ][:6]
    values = [luminance(fill) for fill in swatches]
    assert values == sorted(values, reverse=True)  # darker as agreement rises
    inks = [
        attrs["fill"] for tag, attrs in parsed.legend if tag == "text" and "v" in attrs["class"]
    ]
    assert inks[0] != "#ffffff"
    assert inks[5] == "#ffffff"  # white text once the cell is dark


def test_removed_answer_sentences_are_struck(demo: dict[str, Any], page: str) -> None:
    struck = 0
    for check in transfer_checks(demo):
        for sentence in check["explanation"]["removed"]:
            assert re.search(r"<s(?: [^>]*)?>" + re.escape(html.escape(sentence)) + "</s>", page)
            struck += 1
    assert struck > 0


def test_the_invariant_diff_marks_insertions(demo: dict[str, Any], page: str) -> None:
    inserted = [
        match
        for test in demo["tests"]
        for check in test["checks"]
        if check["kind"] == "invariant"
        for match in re.findall(r"\{\+(.*?)\+\}", check["perturbation"]["diff"], re.DOTALL)
    ]
    assert inserted
    for text in inserted:
        assert f"<ins>{html.escape(text)}</ins>" in page
    assert "{+" not in page
    assert "\u2717 flipped" in page


def test_render_diff() -> None:
    assert render_diff("Tom has [-3-]{+three+} <apples>") == (
        "Tom has <del>3</del><ins>three</ins> &lt;apples&gt;"
    )
    assert render_diff("a{+ b & c+}") == "a<ins> b &amp; c</ins>"
    assert render_diff("[-x\ny-]") == "<del>x\ny</del>"


def test_strike_removed() -> None:
    text, missing = strike_removed(
        "Work. Answer: <7>. More. Answer: <7>.", ["Answer: <7>.", "gone"]
    )
    assert text.count("Answer: &lt;7&gt;.</s>") == 2
    assert "<7>" not in text
    assert missing == ["gone"]
    # Overlapping removals make one struck span, not nested ones.
    text, _ = strike_removed("abcdef", ["bcd", "cde"])
    assert text == 'a<s title="removed before the evaluators saw it">bcde</s>f'


def tiny_report(prompt: str = "What is 3 + 4?", nodeid: str = "t.py::test_x") -> dict[str, Any]:
    """A minimal report: one test with a transfer, an invariant and a review check."""

    def condition(name: str, answers: list[Any], outputs: list[str]) -> dict[str, Any]:
        return {
            "name": name,
            "consistency": {
                "mean": 1.0,
                "std": 0.0,
                "agree": 1,
                "total": 1,
                "pairs": [
                    {"a": "gen", "b": "m", "agree": 1, "total": 1, "excluded": 0, "rate": 1.0}
                ],
            },
            "interval": None,
            "breakdown": None,
            "models": {
                model: {
                    "outputs": outputs,
                    "answers": answers,
                    "correct": None,
                    "accuracy": None,
                    "unparseable": 0,
                }
                for model in ("gen", "m")
            },
        }

    transfer = {
        "kind": "transfer",
        "prompt": prompt,
        "perturbation": {"base": prompt, "edits": ["swap: <b>"], "diff": f"[-{prompt}-]{{+x+}}"},
        "generator": "gen",
        "evaluators": ["gen", "m"],
        "options": {"samples": 1},
        "answer_spec": "number",
        "expected": None,
        "explanation": {
            "source": "text",
            "output": f"Because {prompt}. Answer: 7",
            "text": f"Because {prompt}.",
            "removed": ["Answer: 7"],
            "method": "rules",
            "answer": 7,
        },
        "conditions": {
            "baseline": condition("baseline (empty)", [7], [prompt]),
            "transfer": condition("transfer", [7], [prompt]),
        },
        "lift": 0.0,
        "lift_interval": None,
        "diverged": None,
        "verdict": "pass",
        "reasons": [prompt],
        "notes": [prompt],
    }
    invariant = {
        "kind": "invariant",
        "prompt": prompt,
        "perturbed": "x",
        "perturbation": {"base": prompt, "edits": [], "diff": f"[-{prompt}-]{{+x+}}"},
        "evaluators": ["m"],
        "options": {},
        "answer_spec": "number",
        "expected": 7,
        "models": {"m": {"base": [7], "perturbed": [8], "agree": 0, "total": 1}},
        "flipped": ["m"],
        "verdict": "fail",
        "reasons": [],
    }
    review = {
        "kind": "review",
        "prompt": prompt,
        "evaluators": ["m"],
        "steps": [prompt],
        "reviews": {"m": {"verdicts": [False], "first_disputed": 1, "reasons": {"1": prompt}}},
        "step_agreement": 0.0,
        "verdict": "pass",
        "reasons": [],
    }
    return {
        "format": "pytest-xgen-report",
        "version": 1,
        "created": "2026-01-01T00:00:00+00:00",
        "run": {
            "record_mode": "none",
            "seed": 0,
            "models": {"gen": {"kind": "endpoint", "model": prompt}, "m": {"kind": "x"}},
            "model_map": {"m": "gen"},
            "versions": {"python": "3.11"},
            "calls": {"replayed": 1, "live": 0, "tokens": 0, "cache_hit_rate": 1.0},
            "workers": 0,
        },
        "tests": [
            {
                "nodeid": nodeid,
                "outcome": "passed",
                "calls": 1,
                "live": 0,
                "tokens": 0,
                "checks": [transfer, invariant, review],
                "metrics": {
                    "consistency": {"agree": 1, "total": 1, "value": 1.0},
                    "baseline_consistency": {"agree": 1, "total": 1, "value": 1.0},
                    "lift": 0.0,
                    "accuracy": None,
                },
            }
        ],
    }


def test_user_text_is_escaped() -> None:
    attack = "<script>alert(1)</script>"
    page = render_html(tiny_report(attack, nodeid='t.py::test_x["<b>&"]'))
    parsed = Page(page)
    assert parsed.errors == []
    assert attack not in page
    escaped = html.escape(attack)
    # Prompt, explanation, outputs, reasons, notes, review step, diff, model identity.
    assert page.count(escaped) >= 10
    assert parsed.tags.count("script") == 1
    assert "b" not in parsed.tags
    assert html.escape('t.py::test_x["<b>&"]') in page
    assert f"<del>{escaped}</del><ins>x</ins>" in page
    assert '<s title="removed before the evaluators saw it">Answer: 7</s>' in page


def test_a_constructed_report_renders_every_kind_of_check() -> None:
    page = render_html(tiny_report())
    parsed = Page(page)
    assert parsed.errors == []
    for text in ("Check 1: transfer", "Check 2: invariant", "Check 3: review", "first disputed"):
        assert text in page
    assert "\u2717 flipped" in page
    assert "\u2717 disagree" in page
    assert "No expected answer" in page


def test_a_report_without_tests() -> None:
    report = tiny_report()
    report["tests"] = []
    page = render_html(report)
    parsed = Page(page)
    assert parsed.errors == []
    assert "No transfer checks in this run" in page
    assert "no tests" in page
    assert "heatmap-baseline" not in parsed.ids
    assert "http" not in page


def test_a_report_without_transfer_checks(demo: dict[str, Any]) -> None:
    report = copy.deepcopy(demo)
    report["tests"] = [t for t in report["tests"] if not t["metrics"]]
    page = render_html(report)
    assert Page(page).errors == []
    assert "No transfer checks in this run" in page
    assert "transfer-matrix" not in page


def test_checks_nothing_asserted_read_measured_and_errors_stand_apart() -> None:
    """The overview, the header's tally and the drill-down say what the other summaries say:
    a check nothing asserted is measured (no pass or fail badge), a test that stopped on an
    error is an error, and pytest's outcome sits beside the verdict."""
    report = tiny_report()
    [test] = report["tests"]
    for check in test["checks"]:
        check["asserted"] = False
    errored = copy.deepcopy(test)
    errored["nodeid"], errored["outcome"] = "t.py::test_miss", "error"
    for check in errored["checks"]:
        check["asserted"] = True
    report["tests"].append(errored)
    page = render_html(report)
    assert Page(page).errors == []
    header = page.split('<p class="summary">')[1].split("</p>")[0]
    assert '<span class="verdict v-measured">\u2013 1 measured (not asserted)</span>' in header
    assert '<span class="verdict v-error">! 1 error</span>' in header
    assert '<span class="verdict v-fail">\u2717 0 fail</span>' in header
    measured, miss = page.split('<details class="test"')[1:]
    # The invariant check's verdict is fail, but nothing asserted it.
    assert "v-fail" not in measured and "v-pass" not in measured
    # The test, and each of its three checks in its heading and its verdict block.
    assert measured.count('<span class="verdict v-measured">') == 1 + 3 + 3
    assert '<span class="tag">passed</span>' in measured
    # An errored test: no verdict of its own; its checks keep theirs in the drill-down.
    summary = miss.split("</summary>")[0]
    assert '<span class="verdict v-error">! error</span>' in summary
    assert '<span class="tag bad">error</span>' in summary
    assert "v-fail" in miss.split("</summary>", 1)[1]


def test_a_report_without_asserted_fields_reads_as_before() -> None:
    """Reports written before checks said whether they were asserted show their verdicts."""
    page = render_html(tiny_report())
    assert '<span class="verdict v-measured">' not in page
    header = page.split('<p class="summary">')[1].split("</p>")[0]
    assert '<span class="verdict v-fail">\u2717 1 fail</span>' in header
