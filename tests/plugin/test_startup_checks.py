"""What start-up checks, and how an unknown name is told: every one at once, each with its
closest match, before any test runs."""

from __future__ import annotations

import pytest

MODELS = """
[tool.xgen.models.qwen]
local = "qwen2.5-coder-0.5b"

[tool.xgen.models.smol]
local = "smollm2-135m"

[tool.xgen.models.gpt]
base_url = "http://127.0.0.1:9/v1"
model = "gpt"
"""

NEVER_RUNS = "def test_x():\n    raise AssertionError('ran')\n"


def test_unknown_default_models_stop_the_run_at_start_up(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.xgen]\ngenerator = "gtp"\nevaluators = ["qwne", "smolm"]\n' + MODELS
    )
    pytester.makepyfile(test_x=NEVER_RUNS)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: xgen: generator = 'gtp' (pyproject.toml [[]tool.xgen]) names unknown model "
            "'gtp' (did you mean 'gpt'?); evaluators = [[]'qwne', 'smolm'] (pyproject.toml "
            "[[]tool.xgen]) names unknown models 'qwne' (did you mean 'qwen'?), 'smolm' (did "
            "you mean 'smol'?); configured models: gpt, qwen, smol"
        ]
    )
    assert "ran" not in result.stdout.str()


def test_a_default_from_the_command_line_is_checked_too(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.xgen]\n" + MODELS)
    pytester.makepyfile(test_x=NEVER_RUNS)
    result = pytester.runpytest("--xgen-evaluators=qwen,smoll")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: xgen: evaluators = [[]'qwen', 'smoll'] (command line) names unknown model "
            "'smoll' (did you mean 'smol'?); configured models: gpt, qwen, smol"
        ]
    )


def test_with_no_xgen_settings_the_message_says_none_were_found(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_x='def test_x(xgen):\n    xgen.model("qwen")\n')
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "XgenConfigError: unknown model 'qwen'; configured models: none (no xgen.toml and "
            f"no [[]tool.xgen] in pyproject.toml under {pytester.path}). Add it under "
            "[[]tool.xgen.models.qwen] or with --xgen-model qwen=local:smollm2-135m"
        ]
    )


def test_an_embedded_models_own_name_points_to_the_alias_that_runs_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml(MODELS)
    pytester.makepyfile(test_x='def test_x(xgen):\n    xgen.model("qwen2.5-coder-0.5b")\n')
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "XgenConfigError: unknown model 'qwen2.5-coder-0.5b' (did you mean 'qwen'? it runs "
            "the embedded qwen2.5-coder-0.5b); configured models: gpt, qwen, smol. Add it under "
            '[[]tool.xgen.models."qwen2.5-coder-0.5b"] or with --xgen-model '
            "qwen2.5-coder-0.5b=local:smollm2-135m"
        ]
    )


def test_a_marker_with_several_mistakes_names_each(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(MODELS)
    pytester.makepyfile(
        test_keywords="""
        import pytest

        @pytest.mark.transfers(generatr="gpt", evaluatrs=["qwen"])
        def test_keywords(xgen):
            pass
        """,
        test_models="""
        import pytest

        @pytest.mark.transfers(generator="gtp", evaluators=["qwne", "smol", "smolm"])
        def test_models(xgen):
            pass
        """,
    )
    result = pytester.runpytest("test_keywords.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*unknown keyword(s) evaluatrs (did you mean 'evaluators'?), generatr (did you "
            "mean 'generator'?) (got generatr='gpt', evaluatrs=[[]'qwen']); allowed: *"
        ]
    )
    result = pytester.runpytest("test_models.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*test_models: @pytest.mark.transfers: generator='gtp' names unknown model 'gtp' "
            "(did you mean 'gpt'?); evaluators=[[]'qwne', 'smol', 'smolm'] names unknown models "
            "'qwne' (did you mean 'qwen'?), 'smolm' (did you mean 'smol'?); configured models: "
            "gpt, qwen, smol"
        ]
    )
