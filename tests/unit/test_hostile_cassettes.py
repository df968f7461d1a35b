"""Cassettes are untrusted input (they arrive in pull requests): any line, however odd, is
read as a valid recording or reported as a cassette error naming the file and line, never
any other exception. Inner runs that replay hostile cassettes:
tests/plugin/test_hostile_cassettes.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_xgen.cli import main
from pytest_xgen.errors import CassetteError
from pytest_xgen.recording import cassettes
from pytest_xgen.recording.store import check_entry
from tests.helpers import with_usage

ROOT = Path(__file__).resolve().parents[2]


def valid_line() -> str:
    path = ROOT / "fixtures" / "cassettes" / "examples" / "test_demo.jsonl"
    return path.read_text(encoding="utf-8").split("\n")[0]


HOSTILE = {
    "NaN": (lambda line: with_usage(line, "NaN"), "NaN is not a JSON number"),
    "huge integer": (lambda line: with_usage(line, "9" * 5000), "not valid JSON"),
    "deep nesting": (lambda line: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "lone surrogate": (
        lambda line: line.replace('"text":"', '"text":"\\ud800', 1),
        "not valid Unicode (a lone surrogate",
    ),
    "unknown usage key": (
        lambda line: with_usage(line, '1, "cost": 3'),
        "Additional properties are not allowed ('cost' was unexpected)",
    ),
    "not an object": (lambda line: "[1, 2]", "invalid recording at (entry)"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_line_is_a_cassette_error_naming_the_line(tmp_path: Path, name: str) -> None:
    mutate, words = HOSTILE[name]
    path = tmp_path / "c.jsonl"
    path.write_text(valid_line() + "\n" + mutate(valid_line()) + "\n", encoding="utf-8")
    entries, damaged = cassettes.read_lenient(path)
    assert len(entries) == 1
    [problem] = damaged
    assert f"cassette {path}, line 2: " in str(problem)
    assert words in str(problem)
    with pytest.raises(CassetteError, match="line 2"):
        cassettes.read(path)


def test_the_same_call_twice_is_an_error_naming_both_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join([valid_line(), valid_line(), valid_line()]) + "\n")
    entries, damaged = cassettes.read_lenient(path)
    assert entries == {}  # which copy is right cannot be told: neither is served
    assert [str(d).split(": the same")[0] for d in damaged] == [
        f"cassette {path}, line 2",
        f"cassette {path}, line 3",
    ]
    assert "first at line 1" in str(damaged[0])
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("the same call is recorded again") == 2


# A fuzz test: whatever a line holds, reading it never raises anything but CassetteError.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def _mutated(data: dict, path: list[str], value: object) -> dict:
    node = data
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return data
        node = child
    node[path[-1]] = value
    return data


FIELDS = [
    ["key"],
    ["digest"],
    ["format"],
    ["request"],
    ["request", "params"],
    ["request", "sample"],
    ["response"],
    ["response", "text"],
    ["response", "usage"],
    ["response", "usage", "total_tokens"],
    ["response", "tokens"],
    ["extra"],
]


@st.composite
def lines(draw: st.DrawFn) -> str:
    base = valid_line()
    kind = draw(st.sampled_from(["valid", "structure", "bytes", "json"]))
    if kind == "valid":
        return base
    if kind == "structure":
        data = json.loads(base)
        return json.dumps(_mutated(data, draw(st.sampled_from(FIELDS)), draw(JSON)))
    if kind == "json":
        return json.dumps(draw(JSON))
    start = draw(st.integers(0, len(base)))
    end = draw(st.integers(start, min(len(base), start + 20)))
    return base[:start] + draw(st.text(max_size=20)) + base[end:]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(lines(), min_size=1, max_size=4))
def test_fuzzed_lines_are_served_valid_or_reported(tmp_path_factory, found: list[str]) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "c.jsonl"
    path.write_text("\n".join(found) + "\n", encoding="utf-8", errors="surrogatepass")
    try:
        entries, damaged = cassettes.read_lenient(path)
    except CassetteError:
        return  # the whole file is unreadable (not UTF-8): a cassette error too
    for key, entry in entries.items():
        assert check_entry(entry, where="fuzz", key=key) is entry
    assert all(isinstance(d, CassetteError) for d in damaged)
    assert all("line " in str(d) for d in damaged)


# What a decoded line can hold: JSON without NaN or infinity.
DECODED = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DECODED)
def test_any_answer_in_a_client_recording_is_served_valid_or_reported(value: object) -> None:
    from pytest_xgen.recording.store import build_request, make_entry

    request = build_request("client.chat", {"model": "m"}, {}, 0, messages=[{"role": "user"}])
    for response in (
        {"text": "", "usage": {}, "raw": value},
        {"text": "", "usage": {}, "chunks": value},
        {"text": "", "usage": {}, "raw": {"choices": value, "usage": value}},
        {"text": "", "usage": {}, "chunks": [{"choices": value, "usage": value}]},
    ):
        try:
            check_entry(make_entry(request, response), where="w")
        except CassetteError as exc:
            assert str(exc).startswith("w: ")
