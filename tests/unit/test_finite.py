"""Numbers read from outside (``pytest_xgen.core.finite``): ranges, log-probabilities,
answers made recordable, and JSON documents without non-finite numbers."""

from __future__ import annotations

import json

import pytest

from pytest_xgen.core import finite
from pytest_xgen.core.finite import LOGPROB_FLOOR, PRICE, TOKENS, NumberError
from pytest_xgen.recording.store import canonical_json
from pytest_xgen.settings.config import load_schema

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-1, "-1"),
        (2.5, "2.5"),
        (NAN, "NaN"),
        (INF, "Infinity"),
        (-INF, "-Infinity"),
        (10**9 + 1, "1000000001"),
        (True, "True"),
        ("7", "'7'"),
        (None, "None"),
    ],
)
def test_a_token_count_outside_its_range_names_where_it_was_read(value: object, shown: str) -> None:
    with pytest.raises(NumberError) as raised:
        TOKENS.check(value, "usage.prompt_tokens")
    assert str(raised.value) == (
        f"usage.prompt_tokens is {shown}, not a token count (a whole number from 0 to 1000000000)"
    )


@pytest.mark.parametrize("value", [0, 7, 7.0, 10**9])
def test_a_token_count_in_range_is_a_whole_number(value: float) -> None:
    checked = TOKENS.check(value, "x")
    assert checked == value and type(checked) is int


def test_a_price_may_be_any_finite_amount_up_to_its_bound() -> None:
    assert PRICE.check(0.15, "p") == 0.15 and PRICE.check(1e12, "p") == 1e12
    for bad in (NAN, INF, -0.01, 1.0000001e12):
        with pytest.raises(NumberError, match=r"^p is .*, not a price per million tokens"):
            PRICE.check(bad, "p")


def test_the_bounds_of_the_schemas_are_the_bounds_of_the_checks() -> None:
    price = load_schema("config.schema.json")["$defs"]["price"]["properties"]
    assert price["input"]["maximum"] == price["output"]["maximum"] == PRICE.high
    response = load_schema("recording.schema.json")["properties"]["response"]["properties"]
    for count in response["usage"]["properties"].values():
        assert (count["minimum"], count["maximum"]) == (TOKENS.low, TOKENS.high)
    logprob = response["token_logprobs"]["items"]
    assert (logprob["minimum"], logprob["maximum"]) == (LOGPROB_FLOOR, 0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), (-0.5, -0.5), (0, 0), (-INF, LOGPROB_FLOOR), (-1e300, LOGPROB_FLOOR)],
)
def test_a_logprob_of_probability_zero_becomes_the_floor(
    value: float | None, expected: float | None
) -> None:
    assert finite.logprob(value, "x") == expected


@pytest.mark.parametrize("value", [NAN, INF, 0.5, "-1"])
def test_an_impossible_logprob_is_refused(value: object) -> None:
    with pytest.raises(NumberError, match=r"^x is .*, not a log-probability"):
        finite.logprob(value, "x")


def test_an_answer_is_made_recordable_or_refused_by_its_field() -> None:
    content = [
        {
            "token": "a",
            "logprob": -INF,
            "bytes": [97],
            "top_logprobs": [{"token": "a", "logprob": -INF, "bytes": [97], "token_id": 5}],
        }
    ]
    record = {
        "text": "a",
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        "raw": {
            "choices": [{"logprobs": {"content": content}}],
            # vLLM's prompt_logprobs: a rank is no log-probability
            "prompt_logprobs": [None, {"17": {"logprob": -INF, "rank": 3}}],
        },
        "chunks": [
            {
                "choices": [
                    {
                        "logprobs": {
                            "tokens": ["a"],
                            "token_logprobs": [-INF],
                            "top_logprobs": [{"a": -INF}],
                            "text_offset": [0],
                        }
                    }
                ]
            }
        ],
    }
    out = finite.answer(record)
    canonical_json(out)  # JSON now
    item = out["raw"]["choices"][0]["logprobs"]["content"][0]
    assert item["logprob"] == item["top_logprobs"][0]["logprob"] == LOGPROB_FLOOR
    assert item["bytes"] == [97] and item["top_logprobs"][0]["token_id"] == 5
    assert out["raw"]["prompt_logprobs"][1]["17"] == {"logprob": LOGPROB_FLOOR, "rank": 3}
    logprobs = out["chunks"][0]["choices"][0]["logprobs"]
    assert logprobs["token_logprobs"] == [LOGPROB_FLOOR]
    assert logprobs["top_logprobs"] == [{"a": LOGPROB_FLOOR}]
    assert record["raw"]["choices"][0]["logprobs"]["content"][0]["logprob"] == -INF  # a copy

    for damage, message in [
        (
            lambda r: r["usage"].update(prompt_tokens=-1000000),
            "usage.prompt_tokens is -1000000, not a token count",
        ),
        (
            lambda r: r["raw"]["choices"][0]["logprobs"]["content"][0].update(logprob=NAN),
            "raw.choices[0].logprobs.content[0].logprob is NaN, not a log-probability",
        ),
        (
            lambda r: r["raw"].update(created=INF),
            "raw.created is Infinity, not a finite number",
        ),
        (
            lambda r: r["chunks"][0].update(score=-INF),
            "chunks[0].score is -Infinity, not a finite number",
        ),
    ]:
        bad = json.loads(json.dumps(record))  # a deep copy, -Infinity and all
        damage(bad)
        with pytest.raises(NumberError) as raised:
            finite.answer(bad)
        assert str(raised.value).startswith(message)


def test_the_first_number_that_is_not_finite_is_named_by_its_field() -> None:
    assert finite.first_nonfinite({"a": [1, 2.5, None, "nan"]}) is None
    for text, problem in [
        ('{"run": {"calls": {"cost": NaN}}}', "at run/calls/cost: NaN"),
        ('{"tests": [{"cost": 1, "x": Infinity}, {"cost": NaN}]}', "at tests/0/x: Infinity"),
        ('{"x": -Infinity}', "at x: -Infinity"),
        ('{"x": 1e999}', "at x: Infinity"),
    ]:
        assert finite.first_nonfinite(json.loads(text)) == f"{problem} is not a finite number"


def test_a_json_number_beyond_a_float_is_refused() -> None:
    assert finite.json_float("1e308") == 1e308
    with pytest.raises(NumberError, match=r"'1e999' is beyond the range of a number"):
        json.loads('{"x": 1e999}', parse_float=finite.json_float)


def test_a_number_at_the_top_of_a_document_is_named_as_such() -> None:
    assert finite.first_nonfinite(NAN) == "at (top level): NaN is not a finite number"
    assert finite.dotted(()) == "(top level)"
    assert finite.slashed(("run", "calls", 0)) == "run/calls/0"


def test_a_logprob_that_is_not_a_number_is_left_for_the_schema() -> None:
    raw = {"choices": [{"logprobs": {"content": [{"logprob": "low"}, {"logprob": True}]}}]}
    assert finite.answer({"text": "", "raw": raw})["raw"] == raw


@pytest.mark.parametrize(
    ("kind", "described"),
    [
        (finite.Range("a rate"), "a rate (a finite number)"),
        (finite.Range("a rate", 0, 2.5), "a rate (a finite number from 0 to 2.5)"),
        (finite.Range("a cost", low=0.5), "a cost (a finite number of at least 0.5)"),
        (finite.Range("a level", high=1), "a level (a finite number of at most 1)"),
        (finite.Range("a count", low=1, whole=True), "a count (a whole number of at least 1)"),
        (finite.LOGPROB, "a log-probability (a finite number from -9999 to 0)"),
    ],
)
def test_a_range_says_what_it_expects(kind: finite.Range, described: str) -> None:
    assert kind.describe() == described


def test_a_value_is_shown_cut_to_sixty_characters() -> None:
    assert finite.show("x" * 58) == repr("x" * 58)
    assert finite.show("x" * 59) == repr("x" * 59)[:57] + "..."
    assert len(finite.show("x" * 59)) == 60
    assert finite.show(12345, limit=4) == "1..."
    assert finite.show(-INF) == "-Infinity"


def test_a_usage_counts_nothing_it_does_not_give() -> None:
    assert finite.usage(None) == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    assert finite.usage({"prompt_tokens": 5, "completion_tokens": None}) == {
        "prompt_tokens": 5,
        "completion_tokens": 0,
        "total_tokens": 0,
    }


def test_an_answers_logprobs_are_recorded_floored_under_their_own_name() -> None:
    out = finite.answer({"text": "a", "token_logprobs": [None, -INF, -0.5]})
    assert out == {"text": "a", "token_logprobs": [None, LOGPROB_FLOOR, -0.5]}
