"""The transfer check end to end: inner pytest runs with scripted models that go through the
real recorder, so pass, fail, inconclusive and the failure message are what a user sees."""

from __future__ import annotations

import json

import pytest

from tests.helpers import pinned
from tests.scripted import conftest

# Scripted models: a model's `model` string is its script, e.g. "baseline=6,6;transfer=7,7".
# Sample i answers the i-th value; "x" is an unparseable answer.
SCRIPT = """
from pytest_xgen.core import prompts

EXPLANATION = (
    "1. Tom starts with 3 apples.\\n"
    "2. He buys 4 more, so 3 + 4 = 7.\\n"
    "Therefore, Tom has 7 apples.\\n"
    "Answer: 7"
)


def transfer_script(call):
    script = call.settings
    if call.system == prompts.ELICIT_SYSTEM:
        return script.get("explain", EXPLANATION).replace("|", "\\n")
    if call.system == prompts.STRIP_SYSTEM:
        return script.get("strip", "{}")
    if call.system == prompts.REVIEW_SYSTEM:
        return script["review"].replace("|", "\\n")
    condition = "transfer" if call.system == prompts.TRANSFER_SYSTEM else "baseline"
    values = script[condition].split(",")
    value = values[call.sample % len(values)]
    return "I am not sure." if value == "x" else f"Some thoughts.\\nAnswer: {value}"


reply = transfer_script
"""
SCRIPTED = conftest(SCRIPT)


def esc(pattern: str) -> str:
    """``pattern`` with ``[`` made literal for fnmatch."""
    return pattern.replace("[", "[[]")


def models(**scripts: str) -> str:
    return "\n".join(
        f'[tool.xgen.models.{name}]\nbase_url = "http://scripted.invalid/v1"\nmodel = "{script}"\n'
        for name, script in scripts.items()
    )


@pytest.fixture
def scripted(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(SCRIPTED)
    return pytester


def project(pytester: pytest.Pytester, extra: str = "", **scripts: str) -> None:
    pytester.makepyprojecttoml(pinned(extra + "\n" + models(**scripts)))


TOM = "Tom has 3 apples and buys 4 more. How many apples does he have?"


def test_a_transfer_that_raises_agreement_passes(scripted: pytest.Pytester) -> None:
    project(
        scripted,
        gen="baseline=7;transfer=7",
        a="baseline=7,7,7,7,7;transfer=7,7,7,7,7",
        b="baseline=6,6,6,6,6;transfer=7,7,7,7,7",
    )
    scripted.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_consistency=0.8, min_lift=0.5)
        def test_tom(xgen):
            r = xgen.check({TOM!r}, expected=7)
            assert r.passed and r.verdict == "pass"
            assert r.consistency == 1.0 and r.baseline_consistency == 0.0 and r.lift == 1.0
            assert r.accuracy == {{"a": 1.0, "b": 1.0}}
            assert r.explanation.answer == 7.0
            assert r.explanation.stripped.removed == ("Therefore, Tom has 7 apples.", "Answer: 7")
            assert r.explanation.text == "1. Tom starts with 3 apples.\\n2. He buys 4 more, so 3 + 4 = 7."
            assert r.transfer.breakdown.consistent_correct == 1.0
    """)
    result = scripted.runpytest()
    result.assert_outcomes(passed=1)
    # 1 elicitation + 2 evaluators x 5 samples x 2 conditions, all recorded.
    result.stdout.fnmatch_lines(["*xgen: 21 model calls: 0 replayed, 21 live*"])
    replay = scripted.runpytest("--xgen-record-mode=none")
    replay.assert_outcomes(passed=1)
    replay.stdout.fnmatch_lines(["*xgen: 21 model calls: 21 replayed, 0 live*"])


def test_a_failure_explains_itself(scripted: pytest.Pytester) -> None:
    project(
        scripted,
        gen="baseline=7;transfer=7",
        a="baseline=7,7,7,7,7;transfer=7,7,7,7,7",
        b="baseline=6,x,6,6,6;transfer=6,6,7,6,6",
    )
    scripted.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_consistency=0.8)
        def test_tom(xgen):
            xgen.check({TOM!r}, expected=7)
    """)
    result = scripted.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*TransferFailed: transfer check FAIL: consistency 0.20 vs min_consistency 0.8",
            "*generator gen answered 7 (expected 7: correct); explanation from its text, 2 answer sentence(s) removed by rules",
            "*evaluators a, b: 5 sample(s) each at temperature 0.7; answers as number*",
            "*agreement * baseline (empty) * transfer",
            "*a ~ b * 0/4  0.00 * 1/5  0.20",
            "*consistency (mean ± sd) * 0.00 ± 0.00 * 0.20 ± 0.00 * lift +0.20 (min_lift 0)",
            "*answers * baseline (empty) * transfer * accuracy",
            "*a * 7 7 7 7 7 * 7 7 7 7 7 * 1.00 -> 1.00",
            "*b * 6 ? 6 6 6 * 6 6 7 6 6 * 0.00 -> 0.20   <- diverged",
            "*(? = unparseable: 1 answer(s), left out of their pairs)",
            '*  no number answer read from b\'s baseline (empty) sample 2, line "I am not sure."',
            "*transfer breakdown: consistent-correct 0.20, consistent-wrong 0.00, inconsistent 0.80",
            "*removed from the explanation:",
            "*- Therefore, Tom has 7 apples.",
            "*- Answer: 7",
            "*explanation given to b (excerpt):",
            "*| 1. Tom starts with 3 apples.",
            "*| 2. He buys 4 more, so 3 + 4 = 7.",
        ]
    )


def test_an_interval_that_straddles_the_threshold_is_inconclusive(
    scripted: pytest.Pytester,
) -> None:
    project(
        scripted,
        gen="baseline=7;transfer=7",
        a="baseline=7;transfer=7,7,7,7,7",
        b="baseline=6;transfer=7,7,7,7,6",
    )
    scripted.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_consistency=0.7, confidence=0.9)
        def test_fails_when_unsure(xgen):
            xgen.check({TOM!r})

        @pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_consistency=0.7, confidence=0.9,
                               on_inconclusive="xfail")
        def test_xfails_when_asked(xgen):
            xgen.check({TOM!r})

        @pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_consistency=0.7)
        def test_point_estimate_passes(xgen):
            assert xgen.check({TOM!r}).consistency == 0.8
    """)
    result = scripted.runpytest("-rx")
    result.assert_outcomes(failed=1, xfailed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            esc(
                "*transfer check INCONCLUSIVE: consistency 0.80 [0.34, 0.99] vs min_consistency 0.7: the interval straddles the threshold; raise samples (now 5); at this rate a fixed samples=49 would decide it"
            ),
            # Clopper-Pearson, 5% each side: 4 of 5 and 0 of 5
            esc("*exact 90% interval * [0.00, 0.45] * [0.34, 0.99]    (min_consistency 0.7)"),
        ]
    )
    result.stdout.fnmatch_lines(
        ["XFAIL*test_xfails_when_asked*inconclusive: transfer check INCONCLUSIVE*"]
    )


def test_a_marked_test_that_never_checks_is_an_error(scripted: pytest.Pytester) -> None:
    project(scripted, gen="transfer=7", a="transfer=7")
    scripted.makepyfile("""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["a"])
        def test_forgot(xgen):
            pass

        @pytest.mark.transfers(generator="gen", evaluators=["a"])
        def test_no_fixture():
            pass
    """)
    result = scripted.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*test_forgot is marked @pytest.mark.transfers but never called xgen.check(), xgen.invariant(), xgen.review(), xgen.ensemble(), xgen.weak_steps() or xgen.repair()*"
        ]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            'generator="gen", evaluators=["a"], min_consistancy=0.8',
            "*unknown keyword(s) min_consistancy (did you mean 'min_consistency'?) (got generator='gen', evaluators=['a'], min_consistancy=0.8); allowed: generator, evaluators, min_consistency, min_lift, samples,*",
        ),
        (
            'generator="gen", evaluators=["a"], samples="5"',
            "*samples='5' is not valid: expected a whole number*",
        ),
        (
            'generator="gen", evaluators=["a"], samples="many"',
            "*samples='many' is not valid: expected a whole number or 'auto'*",
        ),
        (
            'generator="gen", evaluators=["a"], samples=0',
            "*samples=0 is not valid: expected at least 1, or 'auto'*",
        ),
        (
            'generator="gen", evaluators=["a"], min_consistency=1.5',
            "*min_consistency=1.5 is not valid: expected from 0 to 1*",
        ),
        (
            'generator="gen", evaluators=["a", "nope"]',
            "*evaluators=['a', 'nope'] names unknown model 'nope'; configured models: a, gen*",
        ),
        (
            'generator="gen", evaluators="a"',
            "*evaluators='a' is not valid: expected a list of model names*",
        ),
        (
            'generator="gen", evaluators=["a"], baseline="none"',
            "*baseline='none' is not valid: expected one of 'empty', 'own', 'sampled'*",
        ),
        ('"gen"', "*@pytest.mark.transfers takes keyword arguments only; got ('gen',)*"),
    ],
)
def test_invalid_marker_arguments_are_usage_errors(
    scripted: pytest.Pytester, marker: str, message: str
) -> None:
    project(scripted, gen="transfer=7", a="transfer=7")
    scripted.makepyfile(f"""
        import pytest

        @pytest.mark.transfers({marker})
        def test_x(xgen):
            xgen.check("q")
    """)
    result = scripted.runpytest("--strict-markers")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([esc(message)])


@pytest.mark.parametrize("tb", ["auto", "long"])
def test_a_configuration_error_inside_a_test_reads_like_a_usage_error(
    scripted: pytest.Pytester, tb: str
) -> None:
    """The message and the user's line that caused it, not the plugin's own source."""
    project(scripted, gen="transfer=7", a="transfer=7")
    scripted.makepyfile(
        test_typo="""
        def test_typo(xgen):
            x = 1
            xgen.check("q", generator="gen", evaluators=["a"], min_consistancy=0.5)
    """
    )
    result = scripted.runpytest(f"--tb={tb}", "-l", "-p", "no:warnings")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at call of test_typo _*",
            "XgenConfigError: test_typo.py::test_typo: xgen.check(): unknown keyword(s) "
            "min_consistancy (did you mean 'min_consistency'?)*",
            "  from test_typo.py:3, in test_typo:",
            '    xgen.check("q", generator="gen", evaluators=["a"], min_consistancy=0.5)',
            "*short test summary info*",
            "ERROR test_typo.py::test_typo - XgenConfigError: test_typo.py::test_typo: *",
        ]
    )
    out = result.stdout.str()
    section = out[out.index("ERROR at call") : out.index("short test summary info")]
    assert len(section.splitlines()) <= 5, section
    for internal in ("raise XgenConfigError", "pytest_xgen", "def check(", "x = 1"):
        assert internal not in section, section


def test_closest_marker_wins_per_keyword_over_file_defaults(scripted: pytest.Pytester) -> None:
    project(
        scripted,
        extra='[tool.xgen]\ngenerator = "gen"\nevaluators = ["a", "b"]\nsamples = 2\nmin_consistency = 0.1',
        gen="transfer=7",
        a="baseline=7;transfer=7",
        b="baseline=6;transfer=6,7",
    )
    scripted.makepyfile(f"""
        import pytest

        pytestmark = pytest.mark.transfers(samples=4, min_lift=-1)

        class TestTom:
            pytestmark = pytest.mark.transfers(min_consistency=0.9)

            def test_class_marker_applies(self, xgen):
                r = xgen.check({TOM!r}, expected=7)
                assert (r.options.samples, r.options.min_consistency) == (4, 0.9)

            @pytest.mark.transfers(min_consistency=0.4)
            def test_function_marker_wins(self, xgen):
                r = xgen.check({TOM!r})
                assert r.passed and r.consistency == 0.5
                assert r.options.generator == "gen" and r.options.evaluators == ("a", "b")

        @pytest.mark.transfers
        def test_file_defaults(xgen):
            r = xgen.check({TOM!r})
            assert (r.options.samples, r.options.min_consistency, r.options.min_lift) == (4, 0.1, -1)
    """)
    result = scripted.runpytest("--strict-markers")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*TransferFailed: transfer check FAIL: consistency 0.50 vs min_consistency 0.9"]
    )
    # A command-line option overrides markers for this run.
    again = scripted.runpytest("--xgen-min-consistency=0.1", "--xgen-record-mode=none")
    again.assert_outcomes(passed=2, failed=1)
    again.stdout.fnmatch_lines(["*assert (4, 0.1) == (4, 0.9)*"])


def test_require_correct_fails_on_consistent_wrong_answers(scripted: pytest.Pytester) -> None:
    project(scripted, gen="transfer=8", a="baseline=8;transfer=8", b="baseline=6;transfer=8")
    scripted.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["a", "b"], samples=2)
        def test_agree_on_wrong(xgen):
            r = xgen.check({TOM!r}, expected=7)
            assert r.consistency == 1.0 and r.transfer.breakdown.consistent_wrong == 1.0

        @pytest.mark.transfers(generator="gen", evaluators=["a", "b"], samples=2, require_correct=True)
        def test_require_correct(xgen):
            xgen.check({TOM!r}, expected=7)
    """)
    result = scripted.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*transfer check FAIL: consistent-wrong 1.00 > 0 with require_correct=True*"]
    )


def test_one_evaluator_is_compared_with_the_generator(scripted: pytest.Pytester) -> None:
    project(scripted, gen="transfer=7", a="baseline=6,7;transfer=7,7")
    scripted.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["a"], samples=2, min_lift=0.5)
        def test_alone(xgen):
            r = xgen.check({TOM!r})
            assert (r.baseline_consistency, r.consistency) == (0.5, 1.0)
            assert r.notes == ["one evaluator: consistency is the agreement of a's samples with the generator gen's answer"]
            assert r.accuracy == {{}} and r.transfer.breakdown is None
    """)
    scripted.runpytest().assert_outcomes(passed=1)


def test_unmarked_tests_get_the_result_without_assertion(scripted: pytest.Pytester) -> None:
    project(scripted, gen="transfer=7", a="baseline=6;transfer=6", b="baseline=7;transfer=7")
    scripted.makepyfile(f"""
        def test_unmarked(xgen):
            r = xgen.check({TOM!r}, generator="gen", evaluators=["a", "b"], samples=1)
            assert r.verdict == "fail"
            assert "consistency 0.00 vs min_consistency 0.8" in r.explain()
    """)
    scripted.runpytest().assert_outcomes(passed=1)


def test_strip_with_a_model_and_an_extraction_hook(scripted: pytest.Pytester) -> None:
    project(
        scripted,
        gen="transfer=7",
        a="baseline=7;transfer=7",
        cutter='strip={\\"remove\\": [4]}',
    )
    scripted.makeconftest(
        SCRIPTED
        + """
def pytest_xgen_extract_answer(text, spec):
    return 7.0 if "thoughts" in text else None
"""
    )
    scripted.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["a"], samples=1, strip_with="cutter")
        def test_cut(xgen):
            r = xgen.check({TOM!r})
            assert r.explanation.stripped.method == "model cutter"
            assert r.explanation.stripped.removed == ("Answer: 7",)
            assert r.explanation.text.endswith("Therefore, Tom has 7 apples.")
    """)
    scripted.runpytest().assert_outcomes(passed=1)


def test_bad_check_arguments_are_errors(scripted: pytest.Pytester) -> None:
    project(scripted, gen="transfer=7", a="transfer=7")
    scripted.makepyfile("""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["a"])
        def test_answer_kind(xgen):
            xgen.check("q", answer="numbr")

        @pytest.mark.transfers(generator="gen", evaluators=["a"])
        def test_expected(xgen):
            xgen.check("q", expected="seven")

        def test_no_generator(xgen):
            xgen.check("q")
    """)
    result = scripted.runpytest()
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*answer must be 'number', 'choice', 'text' or a callable; got 'numbr'*",
            "*expected='seven' cannot be read as number*",
            "*no generator and no evaluators for the check*",
        ]
    )


def test_review_names_the_first_disputed_step(scripted: pytest.Pytester) -> None:
    project(
        scripted,
        gen="transfer=7",
        a="review=Step 1: agree|Step 2: agree|Step 3: agree|Step 4: agree|First error: none",
        b="review=Step 1: agree|Step 2: disagree - 3 + 4 is 7 but he ate one|Step 3: disagree|Step 4: agree|First error: 2",
    )
    scripted.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_step_agreement=0.4)
        def test_review(xgen):
            r = xgen.review({TOM!r})
            assert r.steps[0] == "1. Tom starts with 3 apples."
            assert len(r.steps) == 4
            assert r.first_disputed == {{"a": None, "b": 2}}
            assert r.reviews["b"].reasons == {{2: "3 + 4 is 7 but he ate one"}}
            assert r.step_agreement == 0.5

        @pytest.mark.transfers(generator="gen", evaluators=["a", "b"], min_step_agreement=0.9)
        def test_review_fails(xgen):
            xgen.review({TOM!r})
    """)
    result = scripted.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*review FAIL: step agreement 0.50 vs min_step_agreement 0.9",
            "*step   1  2  3  4",
            "*a      +  +  +  +   first disputed: none",
            "*b      +  x  x  +   first disputed: 2",
            "*step 2: 3 + 4 is 7 but he ate one",
        ]
    )


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.transfers(generator=NAME, evaluators=*docs/transfer.md"]
    )


def test_samples_are_separate_recordings(scripted: pytest.Pytester) -> None:
    project(scripted, gen="transfer=7", a="baseline=7,6,5;transfer=7,7,7")
    scripted.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["a"], samples=3, min_consistency=0)
        def test_three(xgen):
            r = xgen.check({TOM!r})
            assert r.baseline.answers == {{"a": [7.0, 6.0, 5.0]}}
    """)
    scripted.runpytest().assert_outcomes(passed=1)
    lines = (
        (scripted.path / "fixtures/cassettes/test_samples_are_separate_recordings.jsonl")
        .read_text()
        .splitlines()
    )
    records = [json.loads(line) for line in lines]
    baseline = [
        r
        for r in records
        if r["request"]["messages"][0]["content"].startswith("Answer the problem")
    ]
    assert sorted((r["request"]["sample"], r["request"]["params"]["seed"]) for r in baseline) == [
        (0, 0),
        (1, 1),
        (2, 2),
    ]


def test_prefill_delivery_puts_the_explanation_in_the_assistant_turn(
    scripted: pytest.Pytester,
) -> None:
    project(scripted, gen="transfer=7", a="baseline=7;transfer=7")
    scripted.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["a"], samples=1, delivery="prefill",
                               min_consistency=0)
        def test_prefill(xgen):
            xgen.check({TOM!r})
    """)
    scripted.runpytest().assert_outcomes(passed=1)
    path = (
        scripted.path
        / "fixtures/cassettes/test_prefill_delivery_puts_the_explanation_in_the_assistant_turn.jsonl"
    )
    requests = [json.loads(line)["request"] for line in path.read_text().splitlines()]
    prefilled = [r for r in requests if r["messages"][-1]["role"] == "assistant"]
    assert len(prefilled) == 1
    assert prefilled[0]["messages"][-1]["content"] == (
        "1. Tom starts with 3 apples.\n2. He buys 4 more, so 3 + 4 = 7.\n"
    )


# -- samples="auto" ------------------------------------------------------------------------

CLEAR = {
    "gen": "transfer=7",
    "a": "baseline=7;transfer=7",
    "b": "baseline=6;transfer=7",
    "c": "baseline=5;transfer=7",
    "d": "baseline=4;transfer=7",
}


def test_auto_samples_stop_early_on_a_clear_case(scripted: pytest.Pytester) -> None:
    project(scripted, **CLEAR)
    scripted.makepyfile(f"""
        import pytest

        # The boundaries count samples, not the six evaluator pairs of each: a pass at
        # min_consistency 0.5 needs 10 of 10 (0.5**10 = 0.001, within the 0.025 * 10/30 a
        # pass may spend by the second look; 5 of 5, 0.031, is over the first look's 0.0042).
        @pytest.mark.transfers(
            generator="gen", evaluators=["a", "b", "c", "d"], samples="auto", min_consistency=0.5
        )
        def test_clear(xgen):
            r = xgen.check({TOM!r})
            assert (r.verdict, r.samples_used, r.interval_level, r.stopped) == ("pass", 10, 0.95, "verdict")
            assert r.options.samples == "auto"
            assert r.notes == [
                "samples='auto': stopped after 10 of at most 30 samples, the verdict reached on 95% sequential boundaries",
                "samples='auto': the lift passed after 5 samples; later rounds sampled the transfer condition only",
            ]
            assert "evaluators a, b, c, d: 10 sample(s) each (samples=auto) at temperature" in r.explain()
    """)
    result = scripted.runpytest("--xgen-report=auto.json")
    result.assert_outcomes(passed=1)
    # 1 elicitation + 4 evaluators x 5 samples x 2 conditions, then 5 more transfer samples
    # each (the lift passed at the first look), of at most 1 + 4 x 30 x 2.
    result.stdout.fnmatch_lines(["*xgen: live call 61/<=241 of *", "*xgen: 61 model calls*"])
    [check] = json.loads((scripted.path / "auto.json").read_text())["tests"][0]["checks"]
    assert (check["samples_used"], check["interval_level"], check["stopped"]) == (
        10,
        0.95,
        "verdict",
    )
    assert check["looks"] == [
        {"samples": 5, "scored": 5, "agreements": 5.0, "pass_at": 6, "fail_at": -1},
        {"samples": 10, "scored": 10, "agreements": 10.0, "pass_at": 10, "fail_at": 1},
    ]
    # Fixed sampling replays what auto recorded: sample indices are 0, 1, 2, ... either way.
    replay = scripted.runpytest("--xgen-samples=5", "--xgen-record-mode=none")
    replay.assert_outcomes(failed=1)  # the test asserts auto's numbers
    replay.stdout.fnmatch_lines(["*xgen: 41 model calls: 41 replayed, 0 live*"])


BORDERLINE = {
    "gen": "transfer=7",
    "a": "baseline=7;transfer=7",
    "b": "baseline=6;transfer=7,7,7,7,6",
}


def test_auto_samples_give_up_on_a_borderline_case(scripted: pytest.Pytester) -> None:
    # Transfer consistency stays at 0.80 = min_consistency: no boundary is ever crossed,
    # and once a verdict by 30 samples is unlikely the check stops.
    project(scripted, **BORDERLINE)
    scripted.makepyfile(f"""
        import pytest

        @pytest.mark.transfers(generator="gen", evaluators=["a", "b"], samples="auto")
        def test_points(xgen):
            r = xgen.check({TOM!r})
            assert (r.samples_used, r.consistency, r.interval_level) == (10, 0.8, None)
            assert r.verdict == "pass"  # decided on point estimates, as samples=10 does
            assert r.notes == [
                "samples='auto': stopped after 10 of at most 30 samples without a verdict at 95%: one by 30 had become unlikely; decided on point estimates, as samples=10 does",
                "samples='auto': the lift passed after 5 samples; later rounds sampled the transfer condition only",
            ]

        @pytest.mark.transfers(generator="gen", evaluators=["a", "b"], samples="auto",
                               confidence=0.9)
        def test_intervals(xgen):
            xgen.check({TOM!r})
    """)
    result = scripted.runpytest("--xgen-report=auto.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            esc(
                "*transfer check INCONCLUSIVE: consistency 0.80 vs min_consistency 0.8 (12 of 15 samples agree; at 15 samples none can pass, 8 or fewer fail): no verdict at 90%; samples='auto' stopped after 15 samples, a verdict by 30 having become unlikely; at this rate no fixed samples up to 1000 would decide it (too close to min_consistency)"
            ),
            "*evaluators a, b: 15 sample(s) each (samples=auto) at temperature 0.7*",
            "*note: samples='auto': stopped after 15 of at most 30 samples without a verdict at 90%: one by 30 had become unlikely",
            "*xgen: 72 model calls: 31 replayed, 41 live*",  # the second test replays the first
        ]
    )
    tests = json.loads((scripted.path / "auto.json").read_text())["tests"]
    [check] = [t for t in tests if t["nodeid"].endswith("test_intervals")][0]["checks"]
    assert (check["samples_used"], check["stopped"], len(check["looks"])) == (15, "unlikely", 3)
    # A fixed samples=15 replays every call auto made; the baseline samples auto did not
    # take once the lift had passed are new calls.
    fixed = scripted.runpytest(
        "--xgen-samples=15", "--xgen-record-mode=new_episodes", "-k", "intervals"
    )
    fixed.assert_outcomes(failed=1)
    fixed.stdout.fnmatch_lines(
        [
            esc(
                "*transfer check INCONCLUSIVE: consistency 0.80 [*] vs min_consistency 0.8*raise samples (now 15)*"
            ),
            "*xgen: 61 model calls: 41 replayed, 20 live*",
        ]
    )
