"""The small parsers behind every --xgen-* option and xgen_* ini value."""

from __future__ import annotations

import pytest

from pytest_xgen.settings import options


@pytest.mark.parametrize(
    ("text", "mode"),
    [("none", "none"), ("ONCE", "once"), ("new-episodes", "new_episodes"), ("all", "all")],
)
def test_record_mode(text: str, mode: str) -> None:
    assert options.parse_record_mode(text) == mode


def test_record_mode_error_lists_the_modes() -> None:
    with pytest.raises(
        pytest.UsageError, match=r"one of none, once, new_episodes, all; got 'sometimes'"
    ):
        options.parse_record_mode("sometimes")


@pytest.mark.parametrize(
    ("text", "value"), [("on", True), ("Yes", True), ("0", False), ("off", False)]
)
def test_bool(text: str, value: bool) -> None:
    assert options.parse_bool(text) is value


def test_bool_error() -> None:
    with pytest.raises(pytest.UsageError, match="expected on or off"):
        options.parse_bool("maybe")


def test_numbers() -> None:
    assert options.parse_int("-3") == -3
    assert options.parse_count("0") == 0
    assert options.parse_positive_int("4") == 4
    assert options.parse_seconds("2.5") == 2.5
    with pytest.raises(pytest.UsageError, match="at least 0; got '-1'"):
        options.parse_count("-1")
    with pytest.raises(pytest.UsageError, match="at least 1"):
        options.parse_positive_int("0")
    with pytest.raises(pytest.UsageError, match="whole number; got 'x'"):
        options.parse_int("x")
    with pytest.raises(pytest.UsageError, match="more than 0"):
        options.parse_seconds("0")
    with pytest.raises(pytest.UsageError, match="as a number"):
        options.parse_seconds("soon")
    with pytest.raises(pytest.UsageError, match="empty"):
        options.parse_path("  ")


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
    assert options.parse_samples("7") == 7
    assert options.parse_samples(" AUTO ") == "auto"
    for bad in ("many", "0", "2.5"):
        with pytest.raises(
            pytest.UsageError, match=r"samples must be a whole number of at least 1, or auto"
        ):
            options.parse_samples(bad)


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
