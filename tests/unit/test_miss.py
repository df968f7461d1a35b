"""The closest recording of a call that missed, and the diff shown with the miss."""

from __future__ import annotations

from typing import Any

from pytest_xgen.recording.miss import MAX_LINES, closest, describe
from pytest_xgen.recording.store import build_request, make_entry

TEST = "t.py::test"


def chat(content: str, *, model: str = "m", sample: int = 0, **params: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": content}]
    return build_request("chat", {"model": model}, params, sample, messages=messages)


def entry(request: dict[str, Any], test: str = TEST) -> dict[str, Any]:
    return make_entry(request, {"text": "x", "usage": {}}, test=test)


def test_the_same_test_and_model_come_first_then_the_model_then_anything() -> None:
    want = chat("Tom has 3 apples")
    same = entry(chat("Tom has 4 apples"))
    nearer_elsewhere = entry(chat("Tom has 3 apples"), test="t.py::other")
    other_model = entry(chat("Tom has 3 apples", model="n"))
    assert closest(want, [nearer_elsewhere, same, other_model], TEST) is same
    assert closest(want, [nearer_elsewhere, other_model], TEST) is nearer_elsewhere
    assert closest(want, [other_model], TEST) is other_model
    assert closest(want, [], TEST) is None
    assert closest(want, [{"key": "k"}], TEST) is None  # no request: not a candidate


def test_the_nearest_by_content_wins_and_ties_keep_the_first() -> None:
    want = chat("Tom has 3 apples and buys 4 more", temperature=0)
    far = entry(chat("What is the capital of France?", temperature=0))
    near = entry(chat("Tom has 3 apples and buys 5 more", temperature=0))
    assert closest(want, [far, near], TEST) is near
    twin_a, twin_b = entry(chat("a", sample=1)), entry(chat("a", sample=2))
    assert closest(chat("a", sample=3), [twin_a, twin_b], TEST) is twin_a
    many = [entry(chat(f"unrelated question number {i}")) for i in range(20)]
    assert closest(want, [*many, near], TEST) is near  # found past the quick shortlist


def test_the_diff_names_each_field_that_differs() -> None:
    recorded = entry(chat("line one\nline two", temperature=0, max_tokens=16))
    call = chat("line one\nline 2", temperature=0)
    text = describe(call, recorded, TEST, "c.jsonl")
    assert text.startswith(
        "\nThe closest recording (this test, this model, in c.jsonl) differs in messages, params:\n"
    )
    lines = text.split("\n")[2:]
    assert lines[:2] == ["    --- recorded", "    +++ this call"]
    assert "    -messages[0] user: line two" in lines and "    +messages[0] user: line 2" in lines
    assert "    -params.max_tokens: 16" in lines
    assert "     messages[0] user: line one" in lines  # one line of context
    other = describe(chat("q", model="n"), entry(chat("q"), test="t.py::b"), TEST, "c.jsonl")
    assert 'test t.py::b, endpoint {"model": "m"}' in other and "differs in endpoint:" in other
    same = describe(chat("q"), entry(chat("q")), TEST, "c.jsonl")
    assert "differs in nothing but its key" in same


def test_long_diffs_are_cut_and_hostile_text_is_escaped() -> None:
    long = "\n".join(f"line {i}" for i in range(100))
    text = describe(chat(long.replace("line", "row")), entry(chat(long)), TEST, "c")
    shown = text.split("\n")[2:]
    assert len(shown) == MAX_LINES + 1 and shown[-1].startswith("    ... ")
    assert shown[-1].endswith(" more line(s)")
    hostile = describe(chat("a\x1b[2Jb\u2028c"), entry(chat("plain")), TEST, "c")
    assert "\x1b" not in hostile and "\\x1b[2J" in hostile and "\u2028" not in hostile


def test_every_shape_of_request_becomes_lines() -> None:
    prompt = build_request("completion", {"model": "m"}, {}, 0, prompt="p1\np2")
    text = describe(
        prompt, entry(build_request("completion", {"model": "m"}, {}, 0, prompt="p1")), TEST, "c"
    )
    assert "    +prompt: p2" in text
    parts = [{"type": "text", "text": "hi"}]
    odd = build_request(
        "client.chat",
        {"model": "m"},
        {},
        0,
        messages=[{"role": "user", "content": parts, "name": "u"}, "not a message"],
    )
    base = build_request("client.chat", {"model": "m"}, {}, 0, messages=[])
    text = describe(odd, entry(base), TEST, "c")
    assert '    +messages[0].name: "u"' in text
    assert '    +messages[0] user: [{"type": "text", "text": "hi"}]' in text
    assert '    +messages[1]: "not a message"' in text


def test_request_lines_one_field_per_line() -> None:
    from pytest_xgen.recording.miss import _lines

    request = build_request(
        "chat",
        {"model": "m", "host": "h"},
        {"temperature": 0, "stop": ["a"]},
        2,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "one\ntwo", "name": "u"},
        ],
    )
    assert _lines(request) == [
        'endpoint.host: "h"',
        'endpoint.model: "m"',
        'kind: "chat"',
        "messages[0] system: Be brief.",
        'messages[1].name: "u"',
        "messages[1] user: one",
        "messages[1] user: two",
        'params.stop: ["a"]',
        "params.temperature: 0",
        "sample: 2",
        "v: 1",
    ]
    prompt = build_request("completion", {"model": "m"}, {}, 0, prompt="a\nb")
    assert _lines(prompt)[-4:] == ["prompt: a", "prompt: b", "sample: 0", "v: 1"]
    odd = {"messages": "not a list", "prompt": 3, "x": {"b": 1, "a": [2]}}
    assert _lines(odd) == ['messages: "not a list"', "prompt: 3", "x.a: [2]", "x.b: 1"]


def test_closest_prefers_the_test_then_the_endpoint_in_that_order() -> None:
    want = chat("alpha beta gamma")
    mine_far = entry(chat("zzz"))
    other_test_near = entry(chat("alpha beta gamma!"), test="t.py::b")
    assert closest(want, [other_test_near, mine_far], TEST) is mine_far
    other_model = entry(chat("alpha beta gamma", model="n"), test="t.py::b")
    same_model_far = entry(chat("zzz"), test="t.py::c")
    assert closest(want, [other_model, same_model_far], TEST) is same_model_far
    text = describe(want, other_model, TEST, "c.jsonl")
    assert '(test t.py::b, endpoint {"model": "n"}, in c.jsonl)' in text
    exactly = describe(want, entry(chat("alpha beta gamma"), test="t.py::b"), TEST, "c")
    assert "(test t.py::b, this model, in c)" in exactly
    nameless = entry(chat("q"))
    del nameless["test"]
    assert "(test ?, this model, in c)" in describe(want, nameless, TEST, "c")
    completion = build_request("completion", {"model": "m"}, {}, 0, prompt="alpha")
    assert "differs in kind, messages, prompt:" in describe(completion, entry(want), TEST, "c")


def test_a_diff_of_exactly_the_limit_is_shown_whole() -> None:
    # n lines replaced by n + 1: 3 header lines, 2 of context, n removed and n + 1 added.
    for n, cut in ((17, False), (18, True)):
        old = "\n".join(f"a{i}" for i in range(n))
        new = "\n".join(f"b{i}" for i in range(n + 1))
        body = describe(chat(new), entry(chat(old)), TEST, "c").split("\n")[2:]
        total = 3 + 2 + n + n + 1
        if cut:
            assert len(body) == MAX_LINES + 1
            assert body[-1] == f"    ... {total - MAX_LINES} more line(s)"
        else:
            assert total == MAX_LINES and len(body) == MAX_LINES
            assert not body[-1].startswith("    ... ")


def test_request_lines_keep_every_field_and_sort_the_keys_of_values() -> None:
    from pytest_xgen.recording.miss import _lines

    prompt = build_request("completion", {"model": "m"}, {}, 0, prompt="two words\nnext")
    assert _lines(prompt) == [
        'endpoint.model: "m"',
        'kind: "completion"',
        "prompt: two words",
        "prompt: next",
        "sample: 0",
        "v: 1",
    ]
    # The same value in another key order is the same line: only a real change is shown.
    odd = {
        "messages": [[{"b": 1, "a": 2}], {"role": "user", "content": "hi"}],
        "params": {"extra_body": {"z": 1, "y": 2}},
        "tools": [{"b": 1, "a": 2}],
    }
    assert _lines(odd) == [
        'messages[0]: [{"a": 2, "b": 1}]',
        "messages[1] user: hi",
        'params.extra_body: {"y": 2, "z": 1}',
        'tools: [{"a": 2, "b": 1}]',
    ]
