"""The Markdown summary through real inner runs: ``--xgen-markdown`` under pytest-xdist, the
same text from ``xgen report --format markdown``, held to a golden file and rendered by a
Markdown library as a reader's browser would."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from pytest_xgen.cli import main as xgen
from tests.helpers import golden, pinned
from tests.plugin.test_reports import GOOD, SUITE, WORSE
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
    # Every row of the verdict table has its eight cells.
    verdicts = page.split("<table>")[3]
    rows = verdicts.split("<tr>")[2:]
    assert len(rows) == 4 and all(r.count("<td") == 8 for r in rows)
