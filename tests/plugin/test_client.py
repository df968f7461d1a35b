"""The application's own model client, recorded: ``xgen.client()`` and
``xgen.async_client()`` through the real ``openai`` client against the fake endpoint, in
inner pytest runs, then replayed with no request reaching the endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakeserver import FakeOpenAI

APP = """
import json

HELLO = [{"role": "user", "content": "hello there"}]


def test_chat(xgen):
    r = xgen.client("echo").chat.completions.create(messages=HELLO, temperature=0)
    assert type(r).__name__ == "ChatCompletion"
    assert r.choices[0].message.content == "echo[seed=None,t=0]: hello there"
    assert r.usage.total_tokens == 12


def test_the_model_may_be_named(xgen):
    client = xgen.client("echo")
    for name in ("echo", None):
        r = client.chat.completions.create(model=name, messages=HELLO, temperature=0)
        assert r.choices[0].message.content.endswith("hello there")


def test_stream(xgen):
    stream = xgen.client("echo").chat.completions.create(
        messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert type(chunks[0]).__name__ == "ChatCompletionChunk"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo[seed=None,t=None]: hello there"
    assert len(chunks) == 5  # three words, the finish, the usage
    assert chunks[-1].usage.total_tokens == 12


def test_tool_calls(xgen):
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
    r = xgen.client("echo").chat.completions.create(messages=HELLO, tools=tools)
    call = r.choices[0].message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == (
        "lookup", {"text": "hello there"}
    )
    assert r.choices[0].finish_reason == "tool_calls"


def test_response_format_and_reasoning(xgen):
    r = xgen.client("echo").chat.completions.create(
        messages=[{"role": "user", "content": "reason it out"}],
        response_format={"type": "json_object"},
    )
    message = r.choices[0].message
    assert json.loads(message.content) == {"echo": "reason it out"}
    assert message.reasoning_content == "reasoning about reason it out"


def test_completion(xgen):
    r = xgen.client("echo").completions.create(prompt="one two three", max_tokens=1)
    assert type(r).__name__ == "Completion" and r.choices[0].text == " ok"


def test_every_parameter_is_in_the_key(xgen):
    client = xgen.client("echo")
    cold = client.chat.completions.create(messages=HELLO, temperature=0)
    warm = client.chat.completions.create(messages=HELLO, temperature=0.5)
    assert cold.choices[0].message.content != warm.choices[0].message.content
"""

ASYNC_APP = """
import pytest

HELLO = [{"role": "user", "content": "hello there"}]


@pytest.mark.anyio
async def test_async_chat_and_stream(xgen):
    async with xgen.async_client("echo") as client:
        r = await client.chat.completions.create(messages=HELLO, temperature=0)
        assert r.choices[0].message.content == "echo[seed=None,t=0]: hello there"
        stream = await client.chat.completions.create(messages=HELLO, stream=True)
        parts = [c.choices[0].delta.content async for c in stream if c.choices]
        assert "".join(p or "" for p in parts) == "echo[seed=None,t=None]: hello there"
        r = await client.completions.create(prompt="one two", max_tokens=1)
        assert r.choices[0].text == " ok"
"""


def cassette_text(pytester: pytest.Pytester) -> str:
    return "".join(
        p.read_text() for p in (pytester.path / "fixtures" / "cassettes").rglob("*.jsonl")
    )


def test_the_recorded_client_records_once_and_replays_the_same_objects(
    project: pytest.Pytester, fake: FakeOpenAI
) -> None:
    project.makepyfile(test_app=APP)
    result = project.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=7)
    made = len(fake.requests)
    # One request is asked four times (test_chat's, both of test_the_model_may_be_named's,
    # the cold one of test_every_parameter...): made once, then replayed in each test.
    assert made == 6
    result.stdout.fnmatch_lines(["*xgen: 9 model calls: 3 replayed, 6 live*"])
    lines = [json.loads(line) for line in cassette_text(project).splitlines()]
    assert {e["request"]["kind"] for e in lines} == {"client.chat", "client.completion"}
    streamed = next(e for e in lines if e["request"]["params"].get("stream"))
    assert len(streamed["response"]["chunks"]) == 5
    assert streamed["response"]["text"] == "echo[seed=None,t=None]: hello there"

    replay = project.runpytest("-p", "no:randomly", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=7)
    assert len(fake.requests) == made
    fake.stop()
    Path(project.path / ".xgen").rename(project.path / ".xgen-old")  # cassettes alone
    fresh = project.runpytest("-p", "no:randomly", "--xgen-record-mode=none")
    fresh.assert_outcomes(passed=7)


def test_the_async_client_under_anyio(project: pytest.Pytester, fake: FakeOpenAI) -> None:
    project.makepyfile(test_async=ASYNC_APP)
    project.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    made = len(fake.requests)
    assert made == 3
    replay = project.runpytest("-p", "no:randomly", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=1)
    assert len(fake.requests) == made


def test_call_options_go_with_the_call_and_are_never_recorded(
    project: pytest.Pytester, fake: FakeOpenAI
) -> None:
    project.makepyfile("""
        def test_headers(xgen):
            xgen.client("echo").chat.completions.create(
                messages=[{"role": "user", "content": "hi"}],
                extra_headers={"X-Org-Token": "tok-s3cret-0123456789"},
                timeout=30,
            )
    """)
    project.runpytest().assert_outcomes(passed=1)
    sent = {k.lower(): v for k, v in fake.headers[-1].items()}
    assert sent["x-org-token"] == "tok-s3cret-0123456789"
    assert "s3cret" not in cassette_text(project)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            'create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])',
            "*xgen.client('echo') was asked for model='gpt-4o'; leave model out, or pass 'echo'*",
        ),
        (
            'create(messages=[{"role": "user", "content": "hi"}], temperature=float("nan"))',
            "*a parameter is not JSON*",
        ),
    ],
)
def test_a_call_the_recorder_cannot_key_is_a_clear_error(
    project: pytest.Pytester, call: str, message: str
) -> None:
    project.makepyfile(f"""
        def test_app(xgen):
            xgen.client("echo").chat.completions.{call}
    """)
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])


def test_an_endpoint_failure_is_an_error_not_a_failed_test(
    project: pytest.Pytester, fake: FakeOpenAI
) -> None:
    fake.fail_next(1, 400)
    project.makepyfile("""
        def test_app(xgen):
            xgen.client("echo").chat.completions.create(
                messages=[{"role": "user", "content": "hi"}]
            )
    """)
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*answered HTTP 400*"])
    assert cassette_text(project) == ""


def test_code_that_builds_its_own_client_is_routed_through_the_recorder(
    project: pytest.Pytester, fake: FakeOpenAI
) -> None:
    project.makepyfile(
        shop="""
        import openai

        def greet(name):
            client = openai.OpenAI(api_key="sk-real-key-never-used", base_url="https://x.invalid")
            r = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": f"hi {name}"}]
            )
            return r.choices[0].message.content

        async def greet_async(name):
            client = openai.AsyncOpenAI()
            r = await client.chat.completions.create(
                messages=[{"role": "user", "content": f"hey {name}"}]
            )
            return r.choices[0].message.content
        """,
        test_shop="""
        import openai
        import pytest
        import shop

        def test_greet(xgen):
            xgen.patch_openai("echo")
            assert shop.greet("Ann") == "echo[seed=None,t=None]: hi Ann"

        @pytest.mark.anyio
        async def test_greet_async(xgen):
            with xgen.patch_openai("echo"):
                assert await shop.greet_async("Bo") == "echo[seed=None,t=None]: hey Bo"
            assert openai.AsyncOpenAI.__module__.startswith("openai")

        def test_the_patch_ends_with_the_test():
            assert openai.OpenAI.__module__.startswith("openai")

        def test_an_unknown_model(xgen):
            xgen.patch_openai("nope")
        """,
    )
    # model= names the application's own deployment: a routed client takes any name
    # (and keys on it), while the configured model answers.
    result = project.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*unknown model 'nope'*"])
    assert "sk-real-key" not in cassette_text(project)
    params = [json.loads(line)["request"]["params"] for line in cassette_text(project).splitlines()]
    assert {p.get("model") for p in params} == {"gpt-4o-mini", None}
    assert {r["model"] for r in fake.requests} == {"echo"}  # the configured model answers
    made = len(fake.requests)
    replay = project.runpytest("-p", "no:randomly", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=3, errors=1)
    assert len(fake.requests) == made == 2
