"""A recording's readable fields must be what its replayed answer gives
(pytest_xgen.recording.derived): an edit that shows a reviewer one answer while the
application receives another is refused with a message naming the field."""

from __future__ import annotations

from typing import Any

from pytest_xgen.models.openai_chat import raw_record, stream_record
from pytest_xgen.recording.derived import mismatch

RAW = {
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris"}}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
CHUNKS = [
    {"choices": [{"index": 0, "delta": {"content": "Par"}}]},
    {"choices": [{"index": 0, "delta": {"content": "is"}}]},
    {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}},
]


def entry(kind: str, response: dict[str, Any]) -> dict[str, Any]:
    return {"request": {"kind": kind}, "response": response}


def test_a_client_recording_as_recorded_agrees():
    assert mismatch(entry("client.chat", raw_record("chat", RAW))) is None
    assert mismatch(entry("client.chat", stream_record("chat", CHUNKS))) is None
    completion = {"choices": [{"index": 0, "text": "42"}]}
    assert mismatch(entry("client.completion", raw_record("completion", completion))) is None


def test_the_plugins_own_call_without_an_answer_agrees():
    assert mismatch(entry("chat", {"text": "Paris", "usage": {}})) is None
    assert mismatch(entry("completion", {"text": "x"})) is None


def test_the_plugins_own_call_with_an_answer_beside_it_is_refused():
    for name in ("raw", "chunks"):
        problem = mismatch(entry("chat", {"text": "Paris", name: RAW}))
        assert problem == (
            f"response.{name} is recorded only for calls of xgen.client(); a call of kind "
            "chat replays response.text, so the two could differ (edited?)"
        )
    # the first answer field is named when both are there
    both = mismatch(entry("completion", {"text": "", "raw": {}, "chunks": []}))
    assert both is not None and both.startswith("response.raw is recorded only")
    assert "kind completion replays" in both


def test_a_client_recording_needs_exactly_one_answer():
    neither = mismatch(entry("client.chat", {"text": "Paris"}))
    assert neither == (
        "a call of xgen.client() records its answer in response.raw or response.chunks, "
        "and this one has neither (edited?)"
    )
    record = raw_record("chat", RAW)
    both = mismatch(entry("client.chat", {**record, "chunks": CHUNKS}))
    assert both is not None and both.endswith("this one has both (edited?)")


def test_an_edited_text_is_refused_naming_both_values():
    record = {**raw_record("chat", RAW), "text": "Rome"}
    assert mismatch(entry("client.chat", record)) == (
        'response.text is "Rome" but response.raw, which replay returns, gives "Paris" '
        "(edited?): a reviewer reads one and the application receives the other"
    )
    streamed = {**stream_record("chat", CHUNKS), "text": "Rome"}
    problem = mismatch(entry("client.chat", streamed))
    assert problem is not None
    assert problem.startswith('response.text is "Rome" but response.chunks, which replay')


def test_an_edited_usage_is_refused():
    record = raw_record("chat", RAW)
    record["usage"] = {**record["usage"], "completion_tokens": 0}
    problem = mismatch(entry("client.chat", record))
    assert problem is not None
    assert problem.startswith("response.usage is {")
    assert '"completion_tokens":0' in problem and '"completion_tokens":1' in problem


def test_a_missing_readable_field_is_refused():
    record = raw_record("chat", RAW)
    del record["usage"]
    problem = mismatch(entry("client.chat", record))
    assert problem is not None and problem.startswith("response.usage is null but")


def test_a_field_replay_never_returns_is_refused():
    record = {**raw_record("chat", RAW), "reasoning": "because"}
    assert mismatch(entry("client.chat", record)) == (
        "response.reasoning is not part of a recording of xgen.client(), whose replay "
        "returns response.raw alone (edited?)"
    )
    streamed = {**stream_record("chat", CHUNKS), "note": 1}
    problem = mismatch(entry("client.chat", streamed))
    assert problem is not None and problem.endswith("returns response.chunks alone (edited?)")


def test_an_answer_that_cannot_be_read_is_a_clear_problem():
    problem = mismatch(entry("client.chat", {"raw": "not an answer", "text": ""}))
    assert problem is not None
    assert problem.startswith("response.raw cannot be read as an answer (AttributeError: ")
    assert problem.endswith(")")
    bad_chunks = mismatch(entry("client.chat", {"chunks": [1, 2], "text": ""}))
    assert bad_chunks is not None
    assert bad_chunks.startswith("response.chunks cannot be read as an answer (")


def test_the_kind_without_its_prefix_reads_the_answer():
    # a completion's answer read as a chat answer would give no text
    completion = raw_record("completion", {"choices": [{"index": 0, "text": "42"}]})
    assert mismatch(entry("client.completion", completion)) is None
    assert mismatch(entry("client.chat", completion)) is not None


def test_values_shown_are_escaped_and_cut():
    record = {**raw_record("chat", RAW), "text": "a\nb" + "x" * 200}
    problem = mismatch(entry("client.chat", record))
    assert problem is not None
    shown = problem.split(" is ", 1)[1].split(" but ", 1)[0]
    assert "\n" not in problem
    assert len(shown) == 80 and shown.endswith("...")
    assert shown.startswith('"a\\nb')  # JSON's escape of the line break
    short = {**raw_record("chat", RAW), "text": "é" * 10}
    problem = mismatch(entry("client.chat", short))
    assert problem is not None and problem.startswith(f'response.text is "{"é" * 10}" but')


def test_an_error_message_is_kept_on_one_line():
    class Odd(dict):
        def get(self, *args: Any) -> Any:
            raise ValueError("line one\n   line two \x1b[5m")

    problem = mismatch(entry("client.chat", {"raw": Odd(), "text": ""}))
    assert problem == (
        "response.raw cannot be read as an answer (ValueError: line one line two \\x1b[5m)"
    )


def test_a_long_error_message_is_cut():
    class Odd(dict):
        def get(self, *args: Any) -> Any:
            raise ValueError("y" * 200)

    problem = mismatch(entry("client.chat", {"raw": Odd(), "text": ""}))
    assert problem == f"response.raw cannot be read as an answer (ValueError: {'y' * 65}...)"


def test_a_value_of_eighty_characters_is_shown_whole():
    text = "z" * 78  # 80 characters once quoted
    problem = mismatch(entry("client.chat", {**raw_record("chat", RAW), "text": text}))
    assert problem is not None and problem.startswith(f'response.text is "{text}" but')
