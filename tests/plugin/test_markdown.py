"""The Markdown summary through real inner runs: ``--xgen-markdown`` under pytest-xdist, the
same text from ``xgen report --format markdown``, held to a golden file and rendered by a
Markdown library as a reader's browser would; its size limit, and a crafted shard report."""

from __future__ import annotations

import json
import re

import pytest
from markdown_it import MarkdownIt

from pytest_xgen.cli import main as xgen
from pytest_xgen.report.markdown import size
from pytest_xgen.report.markdown_limits import COMMENT_LIMIT
from tests.helpers import golden, pinned
from tests.plugin.test_reports import GOOD, SUITE, TOM, WORSE
from tests.plugin.test_transfer import SCRIPTED, models


def priced_models(**scripts: str) -> str:
    """The scripted models, each at 0.15 / 0.60 per million tokens (10 + 5 tokens a call)."""
    return "\n".join(
        models(**{name: script}) + "price = { input = 0.15, output = 0.60 }\n"
        for name, script in scripts.items()
    )


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(
        pinned(priced_models(gen="transfer=7", a="baseline=7;transfer=7", b=GOOD, worse=WORSE))
    )
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def test_the_gates_summary_for_a_pull_request(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    suite.runpytest("--xgen-save=main").assert_outcomes(passed=5)
    after = suite.runpytest(
        "-n",
        "2",
        "--xgen-model-map=b=worse",
        "--xgen-record-mode=new_episodes",
        "--xgen-compare=main",
        "--xgen-compare-fail=consistency:0.05",
        "--xgen-report=after.json",
        "--xgen-markdown=summary.md",
    )
    assert after.ret == pytest.ExitCode.TESTS_FAILED
    text = (suite.path / "summary.md").read_text()
    golden("gate-fail.md", text)
    capsys.readouterr()  # the inner runs' output
    # The same summary from the saved report, written to standard output.
    assert xgen(["report", str(suite.path / "after.json"), "--format", "markdown", "-o", "-"]) == 0
    assert capsys.readouterr().out == text

    page = MarkdownIt("gfm-like").render(text)
    assert page.count("<table>") == 3  # the suite's tests, the regressed tests, the verdicts
    assert "<strong>Gate (consistency:0.05): failed: a drop beyond DELTA shown</strong>" in page
    assert "<code>test_suite.py::test_tom</code>" in page
    assert "<a " not in page and "<img" not in page  # link-free
    # Every row of the verdict table has its nine cells.
    verdicts = page.split("<table>")[3]
    rows = verdicts.split("<tr>")[2:]
    assert len(rows) == 4 and all(r.count("<td") == 9 for r in rows)

    # xgen compare writes the same summary, within the limit it is given.
    runs = suite.path / ".xgen" / "runs"
    small = suite.path / "small.md"
    argv = ["compare", str(runs / "main.json"), str(suite.path / "after.json")]
    argv += ["--fail", "consistency:0.05", "--markdown", str(small), "--markdown-limit", "1500"]
    assert xgen(argv) == 1
    shortened = small.read_text(encoding="utf-8")
    assert size(text) > 1500 >= size(shortened)
    assert "*Shortened to fit 1,500 bytes: " in shortened
    assert "**Gate (consistency:0.05): failed: a drop beyond DELTA shown**" in shortened


LONG_SUITE = f"""
import pytest

@pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_consistency=0.0, min_lift=-1)
@pytest.mark.parametrize("case", [f"word-problem-{{i:03}}-" + "x" * 40 for i in range(40)])
def test_transfer(xgen, case):
    xgen.check({TOM!r}, expected=7)
"""


def test_a_long_suite_fits_the_limit_it_is_given(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(
        pinned(priced_models(gen="transfer=7", a="baseline=7;transfer=7", b=GOOD))
    )
    pytester.makepyfile(test_long=LONG_SUITE)
    result = pytester.runpytest(
        "--xgen-report=run.json", "--xgen-markdown=summary.md", "--xgen-markdown-limit=2048"
    )
    result.assert_outcomes(passed=40)
    summary = (pytester.path / "summary.md").read_text(encoding="utf-8")
    assert size(summary) <= 2048
    assert "*Shortened to fit 2,048 bytes: " in summary
    assert summary.count("<details>") == summary.count("</details>") == 1
    assert "more transfer check(s) left out to fit the size limit" in summary
    capsys.readouterr()
    # xgen report: the default is a comment's limit, which the whole summary fits here.
    run = str(pytester.path / "run.json")
    assert xgen(["report", run, "--format", "markdown", "-o", "-"]) == 0
    whole = capsys.readouterr().out
    assert 2048 < size(whole) <= COMMENT_LIMIT and "Shortened" not in whole
    assert whole.count("word-problem-") == 40
    assert xgen(["report", run, "--format", "markdown", "--markdown-limit", "3000", "-o", "-"]) == 0
    cut = capsys.readouterr().out
    assert size(cut) <= 3000 and "*Shortened to fit 3,000 bytes: " in cut
    with pytest.raises(SystemExit) as exit_info:
        xgen(["report", run, "--format", "markdown", "--markdown-limit", "10"])
    assert exit_info.value.code == 2
    assert (
        "argument --markdown-limit: must be a whole number of bytes of at least 1024; got '10'"
        in capsys.readouterr().err
    )


def test_a_crafted_shard_report_cannot_mention_or_link(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shard's report is a file anyone can edit: its model names reach the summary through
    ``xgen merge`` and stay text."""
    suite.runpytest("--xgen-report=shard.json").assert_outcomes(passed=5)
    shard = suite.path / "shard.json"
    doc = json.loads(shard.read_text(encoding="utf-8"))
    doc["run"]["calls"]["unpriced"] = ["@octocat", "https://evil.example/login"]
    shard.write_text(json.dumps(doc), encoding="utf-8")
    merged = str(suite.path / "merged.json")
    assert xgen(["merge", str(shard), "-o", merged]) == 0
    capsys.readouterr()
    assert xgen(["report", merged, "--format", "markdown", "-o", "-"]) == 0
    page = MarkdownIt("gfm-like").render(capsys.readouterr().out)
    assert "No price for <code>@octocat</code>, <code>https://evil.example/login</code>" in page
    outside = re.sub(r"<code>.*?</code>", "", page, flags=re.DOTALL)
    assert "@" not in outside and "evil" not in outside and "<a " not in outside
