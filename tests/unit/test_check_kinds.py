"""The check registry: every kind follows the protocol and every report knows every kind."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from pytest_xgen.checks.kinds import KINDS, SHARED_KEYWORDS, CheckResult, check_data, gated, runner
from pytest_xgen.errors import XgenConfigError
from pytest_xgen.report.html import render_html
from pytest_xgen.settings.config import load_schema
from pytest_xgen.settings.marker import KEYWORDS, known


def test_every_registered_kind_follows_the_protocol() -> None:
    assert set(KINDS) == {
        "transfer",
        "invariant",
        "review",
        "weak_steps",
        "repair",
        "early_answering",
        "added_mistake",
        "paraphrase_control",
        "filler_control",
        "mirrored",
        "answer_position",
    }
    for name, kind in KINDS.items():
        result = kind.result_type()
        assert result.kind == name
        assert kind.run is not None and callable(runner(name)), name
        for method in ("explain", "to_dict"):
            assert callable(getattr(result, method)), (name, method)
        for attribute in ("verdict", "reasons"):
            assert attribute in result.__dataclass_fields__, (name, attribute)


def test_the_reports_know_exactly_the_registered_kinds() -> None:
    check = load_schema("report.schema.json")["$defs"]["check"]
    generic, *shaped = check["oneOf"]
    consts = {branch["properties"]["kind"]["const"] for branch in shaped}
    # Each kind with a shape of its own is one; any other kind (answer_position, a
    # plugin's) takes the generic one, which no shaped kind can.
    assert consts < set(KINDS) and set(generic["properties"]["kind"]["not"]["enum"]) == consts
    assert {name for name, kind in KINDS.items() if kind.html is None} == {"answer_position"}
    assert all(callable(kind.html_renderer()) for kind in KINDS.values() if kind.html)
    # The transfer check and the added mistake give the metrics the upgrade gate compares.
    assert [name for name in KINDS if gated(name)] == ["transfer", "added_mistake"]
    assert not gated("unknown")


@dataclass
class Odd:
    kind: ClassVar[str] = "odd"
    verdict: str = "pass"
    reasons: list[str] = field(default_factory=list)

    def explain(self) -> str:
        return "odd"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "odd", "prompt": "p", "verdict": self.verdict, "reasons": []}


def test_a_result_outside_the_registry_or_the_protocol_is_refused() -> None:
    assert isinstance(Odd(), CheckResult)
    with pytest.raises(TypeError, match="check kind 'odd' is not registered"):
        check_data(Odd())

    class Misnamed(Odd):
        kind: ClassVar[str] = "review"

    with pytest.raises(TypeError, match="must give kind 'review'.*got kind 'odd'"):
        check_data(Misnamed())

    class Unsure(Odd):
        kind: ClassVar[str] = "review"

        def to_dict(self) -> dict[str, Any]:
            return {**super().to_dict(), "kind": "review", "verdict": "maybe"}

    with pytest.raises(TypeError, match="verdict 'maybe'"):
        check_data(Unsure())


def test_a_kind_without_a_renderer_shows_its_data_in_the_html_report() -> None:
    doc = json.loads(
        json.dumps(
            {
                "format": "pytest-xgen-report",
                "version": 1,
                "run": {},
                "tests": [
                    {
                        "nodeid": "t.py::test_odd",
                        "outcome": "passed",
                        "calls": 0,
                        "live": 0,
                        "tokens": 0,
                        "metrics": None,
                        "checks": [Odd().to_dict() | {"detail": "<b>x</b>"}],
                    }
                ],
            }
        )
    )
    html = render_html(doc)
    assert "Check 1: odd" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_every_marker_keyword_is_shared_or_one_kinds_own() -> None:
    owners: dict[str, list[str]] = {}
    for name, kind in KINDS.items():
        for keyword, found in kind.keywords.items():
            assert known()[keyword] is found, keyword  # the marker takes the row's keyword
            owners.setdefault(keyword, []).append(name)
    assert not set(owners) & set(SHARED_KEYWORDS)
    assert set(owners) | set(SHARED_KEYWORDS) == set(known())
    # A kind's new keyword is not a TransferOptions field: its value is in options.extra.
    assert "max_steps_after_answer" in known() and "max_steps_after_answer" not in KEYWORDS
    assert all(len(kinds) == 1 for kinds in owners.values()), owners


def test_a_kind_that_cannot_be_run_is_named_with_those_that_can() -> None:
    with pytest.raises(
        XgenConfigError,
        match=r"check kind 'reveiw' is not registered \(did you mean 'review'\?\); registered kinds: added_mistake, ",
    ):
        runner("reveiw")


def _row(kind: str = "outside_kind", **fields: Any) -> Any:
    from pytest_xgen.checks.kinds import CheckKind

    base: dict[str, Any] = {
        "result": "outside.module:Result",
        "group": "interventions",
        "run": "outside.module:run",
    }
    return CheckKind(kind, **{**base, **fields})


def test_a_plugin_s_rows_are_registered_with_their_keywords_and_taken_back() -> None:
    from pytest_xgen.checks.kinds import register, unregister
    from pytest_xgen.settings.marker import Keyword, Whole

    own = Keyword(Whole(minimum=1), None, "the most steps")
    row = _row(keywords={"outside_steps": own})
    added = register([row, row], "hook")  # the same row twice (two conftest files) is one
    try:
        assert added == ["outside_kind"]
        assert KINDS["outside_kind"] is row and known()["outside_steps"] is own
        assert not gated("outside_kind")
        assert register([row], "hook") == []  # already there: nothing added
    finally:
        unregister(added)
    assert "outside_kind" not in KINDS and "outside_steps" not in known()
    unregister(["outside_kind"])  # twice: nothing left to take back


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            ["a row"],
            "hook: pytest_xgen_check_kinds must return a list of "
            "pytest_xgen.checks.kinds.CheckKind rows; got str 'a row'",
        ),
        (
            [_row("transfer")],
            "hook: check kind 'transfer' is registered already (its result "
            "is pytest_xgen.checks.transfer_report:TransferResult); give yours another name",
        ),
        ([_row("not a name")], "hook: check kind name 'not a name' must be a Python name"),
        ([_row(run=None)], "hook: check kind 'outside_kind' needs run='module:name'"),
        (
            [_row(result="no_colon")],
            "hook: check kind 'outside_kind': result='no_colon' must "
            "be 'module:name', e.g. 'my_package.checks:run'",
        ),
        ([_row(html="m:")], "hook: check kind 'outside_kind': html='m:' must be 'module:name'"),
        ([_row(units=":f")], "hook: check kind 'outside_kind': units=':f' must be 'module:name'"),
    ],
)
def test_a_bad_row_is_refused_and_none_of_its_batch_stays(rows: list[Any], message: str) -> None:
    from pytest_xgen.checks.kinds import register
    from pytest_xgen.settings.marker import Keyword, Whole

    first = _row("outside_first", keywords={"outside_first_n": Keyword(Whole(), 1, "n")})
    before = dict(KINDS)
    with pytest.raises(XgenConfigError) as raised:
        register([first, *rows], "hook")
    assert str(raised.value).startswith(message)
    assert before == KINDS and "outside_first_n" not in known()


def test_a_keyword_another_kind_took_is_refused_with_its_owner() -> None:
    from pytest_xgen.checks.kinds import register, unregister
    from pytest_xgen.settings.marker import Keyword, Whole

    keyword = Keyword(Whole(), 1, "n")
    added = register([_row("outside_one", keywords={"outside_n": keyword})], "hook")
    try:
        with pytest.raises(XgenConfigError) as raised:
            register([_row("outside_two", keywords={"outside_n": keyword})], "hook")
        assert str(raised.value) == (
            "hook: check kind 'outside_two': marker keyword 'outside_n' is taken by check kind "
            "'outside_one'; give the kind's keyword another name"
        )
        assert "outside_two" not in KINDS
    finally:
        unregister(added)
