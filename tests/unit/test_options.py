"""The small parsers behind every --xgen-* option and xgen_* ini value."""

from __future__ import annotations

import pytest

from pytest_xgen.settings import options


def parse(key: str, text: str) -> object:
    return options.BY_KEY[key].parse(text)


@pytest.mark.parametrize(
    ("text", "mode"),
    [("none", "none"), ("ONCE", "once"), ("new-episodes", "new_episodes"), ("all", "all")],
)
def test_record_mode(text: str, mode: str) -> None:
    assert parse("record_mode", text) == mode


def test_record_mode_error_lists_the_modes() -> None:
    with pytest.raises(
        pytest.UsageError,
        match=r"--xgen-record-mode: record mode must be one of 'none', 'once', "
        r"'new_episodes', 'all'; got 'sometimes'",
    ):
        parse("record_mode", "sometimes")


@pytest.mark.parametrize(
    ("text", "value"), [("on", True), ("Yes", True), ("0", False), ("off", False)]
)
def test_bool(text: str, value: bool) -> None:
    assert parse("cassettes", text) is value


def test_bool_error() -> None:
    with pytest.raises(pytest.UsageError, match="cassettes must be on or off"):
        parse("cassettes", "maybe")


def test_numbers() -> None:
    assert parse("seed", "-3") == -3
    assert parse("max_retries", "0") == 0
    assert parse("concurrency", "4") == 4
    assert parse("timeout", "2.5") == 2.5
    with pytest.raises(pytest.UsageError, match="a whole number of at least 0; got '-1'"):
        parse("max_retries", "-1")
    with pytest.raises(pytest.UsageError, match="at least 1"):
        parse("concurrency", "0")
    with pytest.raises(pytest.UsageError, match="seed must be a whole number; got 'x'"):
        parse("seed", "x")
    with pytest.raises(pytest.UsageError, match="a number more than 0; got '0'"):
        parse("timeout", "0")
    with pytest.raises(pytest.UsageError, match="a number more than 0; got 'soon'"):
        parse("timeout", "soon")
    with pytest.raises(pytest.UsageError, match="cache dir must be a path; got '  '"):
        parse("cache_dir", "  ")


def test_model_local_shorthand() -> None:
    assert options.parse_model("q=local:qwen2.5-coder-0.5b") == (
        "q",
        {"local": "qwen2.5-coder-0.5b"},
    )


def test_model_json() -> None:
    name, spec = options.parse_model('g={"base_url": "https://h/v1", "model": "m"}')
    assert name == "g"
    assert spec == {"base_url": "https://h/v1", "model": "m"}


@pytest.mark.parametrize("bad", ["q", "=local:x", "q=", "q=not json", "q=[1]"])
def test_model_errors(bad: str) -> None:
    with pytest.raises(pytest.UsageError, match="model"):
        options.parse_model(bad)


def test_every_setting_has_flag_and_ini_names() -> None:
    for setting in options.SETTINGS:
        assert setting.flag == "--xgen-" + setting.key.replace("_", "-")
        assert setting.ini == "xgen_" + setting.key
        if setting.default is not None:
            assert setting.parse(str(setting.default).lower()) == setting.default


def test_samples_take_a_count_or_auto() -> None:
    assert parse("samples", "7") == 7
    assert parse("samples", " AUTO ") == "auto"
    for bad in ("many", "0", "2.5"):
        with pytest.raises(
            pytest.UsageError, match=r"samples must be a whole number of at least 1, or auto"
        ):
            parse("samples", bad)


def test_concurrency_is_a_positive_count_defaulting_to_32() -> None:
    setting = options.BY_KEY["concurrency"]
    assert (setting.flag, setting.ini, setting.default) == (
        "--xgen-concurrency",
        "xgen_concurrency",
        32,
    )
    assert setting.parse("8") == 8
    with pytest.raises(pytest.UsageError, match="at least 1"):
        setting.parse_as("0", "--xgen-concurrency")


def test_help_states_each_default_as_it_is_typed() -> None:
    help_of = {s.key: s.help_text for s in options.SETTINGS}
    assert help_of["seed"].endswith("; default 0")
    assert help_of["min_lift"].endswith("; default 0")
    assert help_of["timeout"].endswith("; default 120")
    assert help_of["cassettes"].endswith("; default on")
    assert help_of["samples"].endswith("; default auto")
    assert help_of["generator"] == "default generator model of transfer checks"
