"""A project's own prompts: replaced in [tool.xgen.prompts], a marker or one call, merged by
name, validated, and sent to the models (the recordings hold them)."""

from __future__ import annotations

import json

import pytest

from pytest_xgen.core import prompts as core_prompts
from tests.helpers import pinned
from tests.scripted import conftest

EXECUTORS = conftest(
    """
from pytest_xgen.core import prompts


def reply(call):
    # Follows a plan only when it arrives as the project's executor prompt says it does.
    if call.system in (prompts.ELICIT_SYSTEM, "PLANNER"):
        return "1. Start from 3.\\n2. Add 4 to get 7.\\nAnswer: 7"
    if call.system == "EXECUTOR" and call.user.startswith("Plan:"):
        return "Answer: 7"
    return f"Answer: {5 + (call.sample + (call.model == 'b')) % 3}"
"""
)

MODELS = "\n".join(
    f'[tool.xgen.models.{name}]\nbase_url = "http://scripted.invalid/v1"\nmodel = "{name}"\n'
    for name in ("gen", "a", "b")
)
TOM = "Tom has 3 apples and buys 4 more. How many apples does he have?"
EXECUTOR = """
[tool.xgen.prompts]
transfer_system = "EXECUTOR"
transfer_template = "Plan:\\n{explanation}\\n\\nTask: {problem}"
"""


def project(pytester: pytest.Pytester, prompts: str = "") -> None:
    pytester.makeconftest(EXECUTORS)
    toml = 'generator = "gen"\nevaluators = ["a", "b"]\n' + prompts + "\n" + MODELS
    pytester.makepyprojecttoml(pinned(toml))


def systems(pytester: pytest.Pytester) -> set[str]:
    """Every system prompt in the recordings of the run."""
    found = set()
    for path in (pytester.path / "fixtures" / "cassettes").rglob("*.jsonl"):
        for line in path.read_text().splitlines():
            found.add(json.loads(line)["request"]["messages"][0]["content"])
    return found


def test_the_projects_prompts_reach_the_evaluators(pytester: pytest.Pytester) -> None:
    """Without the project's template the executors never follow the plan (lift 0), with it
    they do: the check passes only if the override was sent."""
    project(pytester, EXECUTOR)
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(min_consistency=0.8, min_lift=0.5)
        def test_plan(xgen):
            r = xgen.check({TOM!r}, expected=7)
            assert r.consistency == 1.0
    """)
    result = pytester.runpytest("--xgen-report=run.json")
    result.assert_outcomes(passed=1)
    assert "EXECUTOR" in systems(pytester)
    check = json.loads((pytester.path / "run.json").read_text())["tests"][0]["checks"][0]
    assert check["options"]["prompts"] == {
        "transfer_system": "EXECUTOR",
        "transfer_template": "Plan:\n{explanation}\n\nTask: {problem}",
    }
    assert pytester.runpytest("--xgen-record-mode=none").ret == 0


def test_the_default_prompts_fail_the_same_test(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(min_consistency=0.8, min_lift=0.5)
        def test_plan(xgen):
            xgen.check({TOM!r}, expected=7)
    """)
    pytester.runpytest().assert_outcomes(failed=1)
    assert "EXECUTOR" not in systems(pytester)


def test_prompts_merge_by_name_call_over_marker_over_project(pytester: pytest.Pytester) -> None:
    project(pytester, EXECUTOR + 'elicit_system = "PROJECT PLANNER"\n')
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(prompts={{"elicit_system": "MARKER PLANNER", "own_system": "OWN"}})
        def test_plan(xgen):
            r = xgen.check(
                {TOM!r}, expected=7, prompts={{"elicit_system": "PLANNER", "baseline_system": "BASE"}}
            )
            assert r.options.prompts.elicit_system == "PLANNER"
            assert r.options.prompts.own_system == "OWN"
            assert r.options.prompts.transfer_system == "EXECUTOR"
            assert r.explanation.answer == 7.0
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    sent = systems(pytester)
    assert "PLANNER" in sent and "MARKER PLANNER" not in sent and "PROJECT PLANNER" not in sent
    assert {"BASE", "EXECUTOR"} <= sent  # the baseline's and the project's transfer prompt


def test_own_system_reaches_the_own_baseline_and_prefill(pytester: pytest.Pytester) -> None:
    project(pytester, '[tool.xgen.prompts]\nown_system = "OWN WAY"\n')
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(baseline="own", delivery="prefill", min_consistency=0, min_lift=-1)
        def test_own(xgen):
            xgen.check({TOM!r}, expected=7)
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    sent = systems(pytester)
    assert "OWN WAY" in sent and core_prompts.OWN_SYSTEM not in sent


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'transfer_template = "Plan: {problem}"',
            "*[[]prompts] prompt transfer_template must contain {explanation}: it needs "
            "{problem} and {explanation}*",
        ),
        (
            'transfer_template = "{problem} {explanation} {answer}"',
            "*prompt transfer_template has the placeholder(s) {answer}; it may use only "
            "{problem} and {explanation}*",
        ),
        ('transfer_template = "{problem {explanation}"', "*is not a valid template*"),
        # A format spec or conversion could drop the explanation (the check would pass on
        # the problem alone), blow the request up, or fail at run time.
        (
            'transfer_template = "{problem} {explanation:.0}"',
            "*[[]prompts] prompt transfer_template has {explanation:.0}, a placeholder with "
            "the format spec :.0; it may use only {problem} and {explanation} as they are, "
            "with no conversion (!r) or format spec (:...)*",
        ),
        (
            'transfer_template = "{problem} {explanation:{problem}}"',
            "*prompt transfer_template has {explanation:{problem}}, a placeholder with the "
            "format spec :{problem};*",
        ),
        (
            'transfer_template = "{problem} {explanation:>99999999999999999999}"',
            "*transfer_template has {explanation:>99999999999999999999}*",
        ),
        (
            'transfer_template = "{problem!r} {explanation}"',
            "*transfer_template has {problem!r}, a placeholder with the conversion !r;*",
        ),
        ('elicit = "Solve it."', "*prompts*elicit*"),
    ],
)
def test_a_bad_project_prompt_stops_the_run_at_start_up(
    pytester: pytest.Pytester, table: str, message: str
) -> None:
    project(pytester, "[tool.xgen.prompts]\n" + table + "\n")
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.parametrize(
    ("prompts", "message"),
    [
        (
            '{"elicit": "Solve it."}',
            "*prompts={'elicit': 'Solve it.'} is not valid: expected a table of prompt texts "
            "by name: unknown prompt 'elicit' (did you mean 'elicit_system'?)*",
        ),
        ('{"transfer_template": "{problem}"}', "*must contain {explanation}*"),
        (
            '{"transfer_template": "{problem} {explanation:>10000000}"}',
            "*transfer_template has {explanation:>10000000}, a placeholder with the format "
            "spec :>10000000*",
        ),
        ('{"own_system": ""}', "*prompt own_system must be a non-empty text; got ''*"),
        ('"Solve it."', "*prompts='Solve it.' is not valid: expected a table of prompt texts*"),
    ],
)
def test_a_bad_prompt_in_a_call_is_a_clear_error(
    pytester: pytest.Pytester, prompts: str, message: str
) -> None:
    project(pytester)
    pytester.makepyfile(f"""
        def test_bad(xgen):
            xgen.check({TOM!r}, prompts={prompts})
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])


def test_a_template_with_literal_braces_sends_them(pytester: pytest.Pytester) -> None:
    """``{{`` and ``}}`` stay allowed: they are sent as single braces."""
    project(
        pytester,
        '[tool.xgen.prompts]\ntransfer_template = "{{plan}}\\n{explanation}\\n{problem}"\n',
    )
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(min_consistency=0, min_lift=-1)
        def test_braces(xgen):
            xgen.check({TOM!r}, expected=7)
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    users = [
        json.loads(line)["request"]["messages"][-1]["content"]
        for path in (pytester.path / "fixtures" / "cassettes").rglob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert any(u.startswith("{plan}\n1. Start from 3.") and u.endswith(TOM) for u in users)
