"""The Markdown summary of a report: the demo's report against a golden file, long tables
folded, and hostile test ids and model names that stay text when a Markdown library renders
them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from markdown_it import MarkdownIt

from pytest_xgen.report.build import schema_problem
from pytest_xgen.report.markdown import OPEN_ROWS, code, render_markdown, text
from tests.helpers import golden

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "reports" / "demo.json"
RENDER = MarkdownIt("gfm-like")


def demo() -> dict:
    return json.loads(DEMO.read_text(encoding="utf-8"))


def test_the_demo_report_folds_its_long_table_and_keeps_what_failed_open() -> None:
    doc = demo()
    rendered = render_markdown(doc)
    golden("demo.md", rendered)
    page = RENDER.render(rendered)
    transfer = [t for t in doc["tests"] if t["metrics"] is not None]
    assert len(transfer) > OPEN_ROWS
    assert "<details>" in page and f"<summary>All {len(transfer)} transfer checks</summary>" in page
    # What did not pass is listed open above the fold, and again inside it.
    opened = page.split("<details>")[0]
    assert opened.count("<strong>fail</strong>") + opened.count("<em>inconclusive</em>") == (
        opened.count("<tr>") - 1
    )
    assert "<a " not in page


def test_a_short_table_is_not_folded() -> None:
    doc = demo()
    doc["tests"] = [t for t in doc["tests"] if t["metrics"] is not None][:3]
    page = RENDER.render(render_markdown(doc))
    assert "<details>" not in page and page.count("<table>") == 1


HOSTILE = [
    "t.py::test[a|b]",
    "t.py::test[`x`]",
    "t.py::test[<script>alert(1)</script>]",
    "t.py::test[[click](https://evil.invalid)]",
    "t.py::test[\x1b[31mred\x1b[0m]",
    "t.py::test[line\nbreak]",
    "t.py::test[https://evil.invalid/x and www.evil.invalid]",
    "t.py::test[**bold** _it_ ~~s~~ ![i](x.png)]",
]


def test_hostile_test_ids_stay_text_in_their_cell() -> None:
    doc = demo()
    [sample] = [t for t in doc["tests"] if t["metrics"] is not None][:1]
    doc["tests"] = [{**copy.deepcopy(sample), "nodeid": nodeid} for nodeid in HOSTILE]
    assert schema_problem(doc) is None
    rendered = render_markdown(doc)
    assert "\x1b" not in rendered and "\\x1b[31mred" in rendered
    page = RENDER.render(rendered)
    for forbidden in ("<script", "<a ", "<img", "<strong>bold", "<em>it", "<s>"):
        assert forbidden not in page
    body = page.split("<tbody>")[1]
    rows = body.split("<tr>")[1:]
    assert len(rows) == len(HOSTILE)
    assert all(r.count("<td") == 8 for r in rows)  # no "|" opened a cell


def test_text_and_code_spans() -> None:
    assert text("a*b_c [x](y) <b> `z` | ~~") == "a\\*b\\_c \\[x\\](y) &lt;b&gt; \\`z\\` \\| \\~\\~"
    assert RENDER.renderInline(text("*not em* [no](link)")) == "*not em* [no](link)"
    assert code("a`b") == "``a`b``" and code("`x") == "`` `x ``" and code("") == "` `"
    assert RENDER.renderInline(code("<i>x</i>")) == "<code>&lt;i&gt;x&lt;/i&gt;</code>"
