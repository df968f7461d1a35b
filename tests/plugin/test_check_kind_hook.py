"""A check kind from outside pytest-xgen: a plugin (here a conftest) registers it with the
``pytest_xgen_check_kinds`` hook, and a test runs it with ``xgen.run_check()``; nothing in
pytest-xgen names it. The kind, *brevity*, asks the generator and counts its answer's
words against its own marker keyword, ``max_words``."""

from __future__ import annotations

import json

import pytest

from pytest_xgen.checks.kinds import KINDS
from pytest_xgen.report.build import schema_problem
from pytest_xgen.settings.marker import known
from tests.scripted import conftest

BREVITY = """
from dataclasses import dataclass, field
from typing import ClassVar

from pytest_xgen.checks.context import Ran


@dataclass
class Brevity:
    kind: ClassVar[str] = "brevity"
    prompt: str
    words: int
    most: int | None
    verdict: str = "pass"
    reasons: list = field(default_factory=list)

    def explain(self):
        return f"brevity {self.verdict.upper()}: {self.words} words, at most {self.most}"

    def to_dict(self):
        return {"kind": self.kind, "prompt": self.prompt, "words": self.words,
                "max_words": self.most, "verdict": self.verdict, "reasons": self.reasons}


def run(ctx, prompt, **options):
    opts = ctx.options(options, method="xgen.run_check('brevity')")
    ctx.begin(1)
    answer = ctx.ask(opts.generator_name, [{"role": "user", "content": prompt}], 0, {})
    most = opts.extra["max_words"]
    result = Brevity(prompt, len(answer.text.split()), most)
    if most is not None and result.words > most:
        result.verdict = "fail"
        result.reasons.append(f"{result.words} words against max_words={most}")
    if prompt == "?":
        result.verdict = "inconclusive"
    return Ran(result, [(result, most is not None)])
"""

CONFTEST = conftest(
    """
from pytest_xgen.checks.kinds import CheckKind
from pytest_xgen.settings.marker import Keyword
from pytest_xgen.settings.values import Maybe, Whole


def reply(call):
    return "Four." if call.script == "terse" else "The answer, after some thought, is four."


def pytest_xgen_check_kinds():
    return [ROWS]
"""
)

ROW = """CheckKind(
        "brevity",
        "brevity:Brevity",
        "brevity",
        run="brevity:run",
        keywords={"max_words": Keyword(Maybe(Whole(1)), None, "brevity: most words")},
    )"""

PROJECT = """
[tool.xgen]
record_mode = "all"
[tool.xgen.models.terse]
base_url = "http://scripted.invalid/v1"
model = "terse"
[tool.xgen.models.wordy]
base_url = "http://scripted.invalid/v1"
model = "wordy"
"""

TESTS = """
import pytest


@pytest.mark.transfers(generator="terse", evaluators=["terse"], max_words=3)
def test_terse(xgen):
    assert xgen.run_check("brevity", "What is 2+2?").words == 1


@pytest.mark.transfers(generator="wordy", evaluators=["terse"], max_words=3)
def test_wordy(xgen):
    xgen.run_check("brevity", "What is 2+2?")


@pytest.mark.transfers(generator="terse", evaluators=["terse"], max_words=3)
@pytest.mark.transfers(on_inconclusive="xfail")
def test_undecided(xgen):
    xgen.run_check("brevity", "?")
"""


def _project(pytester: pytest.Pytester, rows: str = ROW) -> None:
    pytester.syspathinsert()
    pytester.makepyfile(brevity=BREVITY)
    pytester.makeconftest(CONFTEST.replace("[ROWS]", f"[{rows}]"))
    pytester.makepyprojecttoml(PROJECT)


def test_a_plugin_adds_a_kind_that_a_test_runs_and_the_reports_show(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester)
    pytester.makepyfile(test_suite=TESTS)
    result = pytester.runpytest("--xgen-report=run.json", "--xgen-html=run.html")
    result.assert_outcomes(passed=1, failed=1, xfailed=1)  # its marker's on_inconclusive
    result.stdout.fnmatch_lines(
        [
            "*TransferFailed: brevity FAIL: 7 words, at most 3",
            "*FAILED test_suite.py::test_wordy*",
        ]
    )
    doc = json.loads((pytester.path / "run.json").read_text())
    assert schema_problem(doc) is None
    checks = {t["nodeid"].split("::")[1]: t["checks"] for t in doc["tests"]}
    assert checks["test_wordy"] == [
        {
            "kind": "brevity",
            "prompt": "What is 2+2?",
            "words": 7,
            "max_words": 3,
            "verdict": "fail",
            "reasons": ["7 words against max_words=3"],
            "asserted": True,
        }
    ]
    html = (pytester.path / "run.html").read_text()
    assert html.count("Check 1: brevity") == 3
    # The kind and its keyword belonged to that run only.
    assert "brevity" not in KINDS and "max_words" not in known()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "CheckKind('transfer', 'brevity:Brevity', 'brevity', run='brevity:run')",
            "*check kind 'transfer' is registered already (its result is "
            "pytest_xgen.checks.*:TransferResult); give yours another name",
        ),
        (
            "{'kind': 'brevity'}",
            "*pytest_xgen_check_kinds must return a list of pytest_xgen.checks.kinds.CheckKind "
            "rows; got dict {'kind': 'brevity'}",
        ),
        (
            "CheckKind('brevity', 'brevity:Brevity', 'brevity', run='brevity.run')",
            "*check kind 'brevity': run='brevity.run' must be 'module:name', "
            "e.g. 'my_package.checks:run'",
        ),
        (
            "CheckKind('brevity', 'brevity:Brevity', 'brevity', run='brevity:run', "
            "keywords={'samples': Keyword(Whole(1), 3, 'mine')})",
            "*check kind 'brevity': marker keyword 'samples' is taken by pytest-xgen; give "
            "the kind's keyword another name",
        ),
    ],
)
def test_a_bad_kind_stops_the_run_and_says_what_to_change(
    pytester: pytest.Pytester, rows: str, message: str
) -> None:
    _project(pytester, rows)
    pytester.makepyfile(test_suite=TESTS)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: xgen: pytest_xgen_check_kinds: {message[1:]}"])
    assert "brevity" not in KINDS and "max_words" not in known()
