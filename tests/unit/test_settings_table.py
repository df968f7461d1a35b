"""One table per setting: the command line, ini values, ``[tool.xgen]``, the marker keywords
and the JSON Schema all read their ranges and defaults from ``settings.options.SETTINGS``
(tests/plugin/test_settings_table.py shows every invalid value stop a run)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pytest_xgen.settings import values
from pytest_xgen.settings.config import Settings, load_schema
from pytest_xgen.settings.marker import KEYWORDS, marker_help
from pytest_xgen.settings.options import BY_KEY, SETTINGS
from tests.bad_settings import BAD_TEXT, BAD_TOML


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
        assert f"{name}=" in marker_help()


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


def test_every_setting_has_a_bad_value_here() -> None:
    assert set(BAD_TEXT) == set(BAD_TOML) == set(BY_KEY)


def test_only_optional_paths_take_any_text() -> None:
    anything = {key for key, text in BAD_TEXT.items() if text is None}
    assert anything == {
        s.key for s in SETTINGS if isinstance(s.kind, values.Text) and s.kind.optional
    } - {"save"}
