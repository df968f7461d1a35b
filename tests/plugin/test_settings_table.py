"""One table per setting: the command line, ini values, ``[tool.xgen]``, the marker keywords
and the JSON Schema all read their ranges and defaults from ``settings.options.SETTINGS``,
and every invalid value stops the run at start-up as a usage error (exit code 4)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pytest_xgen.settings import values
from pytest_xgen.settings.config import Settings, load_schema
from pytest_xgen.settings.marker import KEYWORDS, MARKER_HELP
from pytest_xgen.settings.options import BY_KEY, SETTINGS


def test_the_schema_states_each_settings_range_as_the_table_does() -> None:
    properties = dict(load_schema("config.schema.json")["properties"])
    properties.pop("models")
    prompts = properties.pop("prompts")  # a table of its own, as models
    assert {k: v for k, v in prompts.items() if k != "description"} == (
        values.PromptTexts().schema()
    )
    assert list(properties) == [s.key for s in SETTINGS]
    for setting in SETTINGS:
        assert properties[setting.key] == setting.kind.schema(), (
            f"config.schema.json properties.{setting.key} should be "
            f"{json.dumps(setting.kind.schema())}"
        )


def test_the_settings_defaults_are_the_tables() -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(Settings) if f.name in BY_KEY}
    assert defaults == {s.key: s.default for s in SETTINGS}


def test_marker_keywords_take_their_settings_kind_and_default() -> None:
    backed = {name: kw for name, kw in KEYWORDS.items() if kw.setting}
    assert set(backed) >= {"generator", "evaluators", "samples", "confidence", "baseline"}
    for name, keyword in backed.items():
        assert keyword.kind is BY_KEY[keyword.setting].kind, name
        assert keyword.default == BY_KEY[keyword.setting].default, name
    for name in KEYWORDS:
        assert f"{name}=" in MARKER_HELP


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        (values.Real(0.5, 0.999), "0.5", 0.5),
        (values.Real(0.5, 0.999), "0.999", 0.999),
        (values.Real(0, open_low=True), "1e-9", 1e-9),
        (values.Real(0, 1, open_low=True, open_high=True), "0.05", 0.05),
        (values.Whole(1), "1", 1),
        (values.Choice(("none", "new_episodes")), "New-Episodes", "new_episodes"),
        (values.Flag(), "Off", False),
        (values.Names(), " a, b ,", ["a", "b"]),
        (values.Either(values.Whole(1), "auto", "auto", ""), "AUTO", "auto"),
        (values.Either(values.Real(0.5, 0.999), "none", None, ""), "none", None),
        (values.Text("a path", optional=True), " none ", None),
        (values.Pairs("x"), "a=b, c=d", {"a": "b", "c": "d"}),
    ],
)
def test_kinds_parse_their_edges(kind: values.Kind, text: str, value: object) -> None:
    assert kind.parse(text) == value


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (values.Real(0.5, 0.999), "0.3"),
        (values.Real(0.5, 0.999), "1"),
        (values.Real(0, open_low=True), "0"),
        (values.Real(0, open_low=True), "inf"),
        (values.Real(0, 1, open_low=True, open_high=True), "1"),
        (values.Real(0, 2), "nan"),
        (values.Whole(1), "0"),
        (values.Whole(), "2.5"),
        (values.Choice(("a", "b")), "c"),
        (values.Flag(), "maybe"),
        (values.Names(), " , "),
        (values.Text("a path"), "  "),
        (values.Pairs("x"), "a"),
    ],
)
def test_kinds_reject_what_is_out_of_range(kind: values.Kind, text: str) -> None:
    with pytest.raises((TypeError, ValueError)):
        kind.parse(text)


# A value outside each setting's range, as the command line or an ini file gives it.
BAD_TEXT: dict[str, str | None] = {
    "record_mode": "sometimes",
    "cache_dir": "",
    "cassette_dir": " ",
    "cassettes": "maybe",
    "models_dir": "",
    "seed": "1.5",
    "timeout": "0",
    "max_retries": "-1",
    "concurrency": "0",
    "local_n_ctx": "100",
    "local_n_threads": "0",
    "generator": " ",
    "evaluators": ",",
    "samples": "0",
    "confidence": "0.3",
    "baseline": "nothing",
    "min_consistency": "1.5",
    "min_lift": "-2",
    "temperature": "3",
    "max_examples": "0",
    "max_live_calls": "-1",
    "max_cost": "-0.5",
    "report": None,  # any text is a path; none or empty is no report
    "html": None,  # any text is a path; none or empty is no html
    "markdown": None,
    "markdown_limit": "1000",
    "save": "../elsewhere",
    "model_map": "qwen",
    "compare": None,  # any text is a path; none or empty is no compare
    "compare_fail": "speed:0.1",
    "compare_alpha": "1",
    "compare_adjust": "bonferroni",
    "compare_underpowered": "ignore",
}

# The same as TOML values (types TOML has).
BAD_TOML = {
    "record_mode": '"sometimes"',
    "cache_dir": '""',
    "cassette_dir": '""',
    "cassettes": '"yes"',
    "models_dir": "1",
    "seed": "1.5",
    "timeout": "0",
    "max_retries": "-1",
    "concurrency": "0",
    "local_n_ctx": "100",
    "local_n_threads": "0",
    "generator": '""',
    "evaluators": "[]",
    "samples": "0",
    "confidence": "0.3",
    "baseline": '"nothing"',
    "min_consistency": "1.5",
    "min_lift": "-2",
    "temperature": "3",
    "max_examples": "0",
    "max_live_calls": "-1",
    "max_cost": '"ten"',
    "report": '""',
    "html": "false",
    "markdown": "3",
    "markdown_limit": '"large"',
    "save": '"../elsewhere"',
    "model_map": '"qwen"',
    "compare": '""',
    "compare_fail": "{ speed = 0.1 }",
    "compare_alpha": "1",
    "compare_adjust": '"bonferroni"',
    "compare_underpowered": '"ignore"',
}


def test_every_setting_has_a_bad_value_here() -> None:
    assert set(BAD_TEXT) == set(BAD_TOML) == set(BY_KEY)


def _runs_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x():\n    raise AssertionError('ran')\n")


def test_only_optional_paths_take_any_text() -> None:
    anything = {key for key, text in BAD_TEXT.items() if text is None}
    assert anything == {
        s.key for s in SETTINGS if isinstance(s.kind, values.Text) and s.kind.optional
    } - {"save"}


@pytest.mark.parametrize("key", [key for key, text in BAD_TEXT.items() if text is not None])
def test_a_bad_command_line_value_is_a_usage_error(pytester: pytest.Pytester, key: str) -> None:
    _runs_nothing(pytester)
    setting = BY_KEY[key]
    result = pytester.runpytest(f"{setting.flag}={BAD_TEXT[key]}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{setting.flag}*"])


@pytest.mark.parametrize(
    "key", [key for key, text in BAD_TEXT.items() if text is not None and text.strip()]
)  # an empty ini value means "not set"
def test_a_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester, key: str) -> None:
    _runs_nothing(pytester)
    setting = BY_KEY[key]
    pytester.makeini(f"[pytest]\n{setting.ini} = {BAD_TEXT[key]}\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*ini {setting.ini}: *"])


@pytest.mark.parametrize("key", list(BAD_TOML))
def test_a_bad_file_value_is_a_usage_error(pytester: pytest.Pytester, key: str) -> None:
    _runs_nothing(pytester)
    pytester.makepyprojecttoml(f"[tool.xgen]\n{key} = {BAD_TOML[key]}\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pyproject.toml [[]tool.xgen]*", f"*{key}*"])


def test_a_confidence_below_one_half_stops_the_run_before_any_test(
    pytester: pytest.Pytester,
) -> None:
    _runs_nothing(pytester)
    result = pytester.runpytest("--xgen-confidence", "0.3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: xgen: --xgen-confidence: confidence must be a number from 0.5 to 0.999, "
            "or none; got '0.3'"
        ]
    )
    assert "ran" not in result.stdout.str()
