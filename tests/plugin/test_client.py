"""The application's own model client, recorded: ``xgen.client()`` and
``xgen.async_client()`` through the real ``openai`` client against the fake endpoint, in
inner pytest runs, then replayed with no request reaching the endpoint."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import fake_model
from tests.server import OpenAIServer

APP = """
import json
import re

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
    project: pytest.Pytester, fake: OpenAIServer
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


def test_the_async_client_under_anyio(project: pytest.Pytester, fake: OpenAIServer) -> None:
    project.makepyfile(test_async=ASYNC_APP)
    project.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    made = len(fake.requests)
    assert made == 3
    replay = project.runpytest("-p", "no:randomly", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=1)
    assert len(fake.requests) == made


def test_call_options_go_with_the_call_and_are_never_recorded(
    project: pytest.Pytester, fake: OpenAIServer
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
            "*create(): the parameter temperature is not JSON (Out of range float*",
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
    project: pytest.Pytester, fake: OpenAIServer
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
    project: pytest.Pytester, fake: OpenAIServer
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


# -- what the endpoint echoes --------------------------------------------------------------

CANARIES = {
    "CANARY_HEADER": "hdr-canary-5a1e9c0d",
    "CANARY_QUERY": "qry-canary-77b3e2f4",
    "CANARY_PARAM": "prm-canary-0c4d8a1b",
    "CANARY_DEFAULT": "dft-canary-93e6f5aa",
    "CANARY_MODEL": "mdl-canary-2f7b6c3e",
}

ECHOED = """
import os

HI = [{"role": "user", "content": "hi"}]


def test_header(xgen):
    token = os.environ["CANARY_HEADER"]
    xgen.client("echo").chat.completions.create(messages=HI, extra_headers={"X-Org-Token": token})


def test_query(xgen):
    token = os.environ["CANARY_QUERY"]
    xgen.client("echo").chat.completions.create(messages=HI, extra_query={"sig": token})


def test_secret_param(xgen):
    token = os.environ["CANARY_PARAM"]
    xgen.client("echo").chat.completions.create(messages=HI, extra_body={"token": token})


def test_default_header(xgen):
    token = os.environ["CANARY_DEFAULT"]
    client = xgen.client("echo").with_options(default_headers={"X-Team-Token": token})
    client.chat.completions.create(messages=HI)


def test_plugin_model(xgen):
    token = os.environ["CANARY_MODEL"]
    xgen.model("echo")("hi", extra_body={"token": token})
"""


@pytest.mark.parametrize(
    "flags",
    [(), ("-l", "--log-level=DEBUG", "-o", "log_cli=true", "--log-cli-level=DEBUG")],
    ids=["plain", "locals-and-logs"],
)
def test_values_sent_that_may_be_secret_are_redacted_whatever_the_endpoint_echoes(
    pytester: pytest.Pytester,
    fake: OpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
    flags: tuple[str, ...],
) -> None:
    pytester.makepyprojecttoml(f"""
        [tool.xgen.models.echo]
        {fake_model(fake, max_retries=0)}
        secret_params = ["extra_body.token"]
    """)
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_echoed=ECHOED)
    fake.fail_next(len(CANARIES), 400, echo_request=True)
    result = pytester.runpytest(
        "-p", "no:randomly", "--junitxml=junit.xml", "--xgen-report=r.json", *flags
    )
    result.assert_outcomes(errors=len(CANARIES))
    # Each value was sent, and echoed in the error body.
    sent = json.dumps(fake.headers) + json.dumps(fake.requests)
    assert fake.requests == []  # every request failed
    for name in ("CANARY_HEADER", "CANARY_DEFAULT"):
        assert CANARIES[name] in sent
    shown = result.stdout.str() + result.stderr.str()
    sections = shown.split("ERROR at call of ")[1:]
    assert len(sections) == len(CANARIES)
    for section in sections:
        assert "answered HTTP 400" in section and "***" in section, section
    written = "".join(
        p.read_text(errors="replace") for p in pytester.path.rglob("*") if p.is_file()
    )
    assert "<testcase" in written  # the JUnit XML is among them
    if flags:
        # The HTTP client's log line (live and captured) and the test's own locals.
        assert shown.count("HTTP Request: POST http://127.0.0.1") >= 2
        assert "/chat/completions?sig=*** " in shown
        assert re.search(r"token +=  *'\*\*\*'", shown)
    for canary in CANARIES.values():
        assert canary not in shown, canary
        assert canary not in written, canary


# -- ordinary openai usage -------------------------------------------------------------------

ORDINARY = """
import openai
import pytest
from openai.types.chat import ChatCompletionMessage

HELLO = [{"role": "user", "content": "hello there"}]
TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
PLAIN = "echo[seed=None,t=None]: hello there"


def test_not_given_and_omit_are_left_out(xgen):
    create = xgen.client("echo").chat.completions.create
    for unset in (openai.NOT_GIVEN, openai.omit):
        r = create(messages=HELLO, temperature=unset, stop=unset, timeout=unset)
        assert r.choices[0].message.content == PLAIN


def test_the_tool_call_loop(xgen):
    create = xgen.client("echo").chat.completions.create
    messages = list(HELLO)
    r = create(messages=messages, tools=TOOLS)
    messages.append(r.choices[0].message)
    call = r.choices[0].message.tool_calls[0]
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "42"})
    messages.append(ChatCompletionMessage(role="assistant", content="so 42"))
    messages.append({"role": "user", "content": "and now?"})
    r = create(messages=messages)
    assert r.choices[0].message.content == "echo[seed=None,t=None]: and now?"


def test_iterables_of_messages(xgen):
    create = xgen.client("echo").chat.completions.create
    r = create(messages=(m for m in HELLO), stop=("a", "b"))
    assert r.choices[0].message.content == PLAIN
    r = create(messages=tuple(HELLO), stop=["a", "b"])
    assert r.choices[0].message.content == PLAIN


def test_with_options(xgen):
    client = xgen.client("echo").with_options(
        timeout=20, max_retries=1, default_headers={"X-App": "checkout"}
    )
    assert type(client).__name__ == "RecordedClient"
    r = client.chat.completions.create(messages=[{"role": "user", "content": "optioned"}])
    assert r.choices[0].message.content == "echo[seed=None,t=None]: optioned"
    r = client.copy(timeout=5).chat.completions.create(messages=HELLO, extra_headers={"X-B": "1"})
    assert r.choices[0].message.content == PLAIN


@pytest.mark.anyio
async def test_async(xgen):
    client = xgen.async_client("echo").with_options(timeout=20)
    assert type(client).__name__ == "AsyncRecordedClient"
    r = await client.chat.completions.create(
        messages=(m for m in HELLO), temperature=openai.NOT_GIVEN
    )
    assert r.choices[0].message.content == PLAIN
    more = [*HELLO, r.choices[0].message, {"role": "user", "content": "more"}]
    r = await client.chat.completions.create(messages=more, top_p=openai.omit)
    assert r.choices[0].message.content == "echo[seed=None,t=None]: more"
    assert not hasattr(client.chat.completions, "with_raw_response")
"""


def test_the_recorded_client_takes_what_openai_takes(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makepyfile(test_ordinary=ORDINARY)
    result = project.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=5)
    # Left-out values are not in the key: one request for HELLO across the module (the
    # iterables, with_options and the async client's first call replay it), the same for
    # a tuple of stop words and a list, two for the tool loop, one for the async client's
    # second call, one for with_options' own message.
    bodies = [json.dumps(r, sort_keys=True) for r in fake.requests]
    assert len(bodies) == len(set(bodies)) == 6
    # The message objects were sent as openai sends them.
    loop = next(r for r in fake.requests if len(r.get("messages", ())) == 5)
    assert loop["messages"][1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"text": "hello there"}'},
            }
        ],
    }
    assert loop["messages"][3] == {"role": "assistant", "content": "so 42"}
    # with_options' header went with the call (and is not recorded).
    assert [{k.lower(): v for k, v in h.items()}.get("x-app") for h in fake.headers].count(
        "checkout"
    ) == 1
    assert "checkout" not in cassette_text(project)
    made = len(fake.requests)
    replay = project.runpytest("-p", "no:randomly", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=5)
    assert len(fake.requests) == made


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            'xgen.client("echo").chat.completions.create(messages="hello")',
            "*xgen.client('echo').chat.completions.create(): messages= takes a list of "
            "messages, e.g. *; got a str ('hello')",
        ),
        (
            'xgen.client("echo").chat.completions.create(messages={"role": "user"})',
            "*messages= takes a list of messages; got one message (a dict): put it in a list",
        ),
        (
            'xgen.client("echo").chat.completions.create(messages=["hello"])',
            "*create(): message 0 is a str ('hello'), not a message; pass a dict such as *",
        ),
        (
            'xgen.client("echo").chat.completions.create(temperature=0)',
            "*xgen.client('echo').chat.completions.create() needs messages=[[]{*",
        ),
        (
            'xgen.client("echo").chat.completions.with_raw_response.create(messages=[])',
            "*xgen.client('echo').chat.completions.with_raw_response is not recorded: the "
            "HTTP response (status, headers) is not recorded; call create(), which returns "
            "the parsed response",
        ),
        (
            'xgen.client("echo").with_streaming_response',
            "*xgen.client('echo').with_streaming_response is not recorded: call "
            "create(stream=True)*",
        ),
        (
            'xgen.client("echo").chat.completions.parse(messages=[])',
            "*xgen.client('echo').chat.completions.parse is not recorded: call create() with "
            "response_format set to the model's JSON schema*",
        ),
        (
            'xgen.client("echo").embeddings.create(input="hi")',
            "*xgen.client('echo').embeddings is not recorded: the recorded client answers "
            "chat.completions.create(), completions.create() and responses.create()*",
        ),
        (
            'xgen.async_client("echo").with_raw_response',
            "*xgen.async_client('echo').with_raw_response is not recorded*",
        ),
        (
            'xgen.client("echo").with_options(retries=3)',
            "*xgen.client('echo').with_options() got an unexpected keyword 'retries'; it "
            "takes *max_retries*",
        ),
        (
            'xgen.patch_openai("echo"); __import__("openai").OpenAI().with_raw_response',
            "*openai.OpenAI().with_raw_response is not recorded*",
        ),
        (
            'Answer = type("Answer", (__import__("pydantic").BaseModel,), '
            '{"__annotations__": {"value": int}}); '
            'xgen.client("echo").chat.completions.create(messages=[], response_format=Answer)',
            "*create(): response_format=Answer is a class; create() takes a JSON schema*",
        ),
    ],
    ids=[
        "messages-str",
        "messages-dict",
        "message-str",
        "no-messages",
        "with_raw_response",
        "with_streaming_response",
        "parse",
        "embeddings",
        "async-with_raw_response",
        "with_options-unknown",
        "patched",
        "response_format-class",
    ],
)
def test_what_the_recorded_client_cannot_do_is_a_clear_usage_error(
    project: pytest.Pytester, fake: OpenAIServer, call: str, message: str
) -> None:
    project.makepyfile(f"""
        def test_app(xgen):
            {call}
    """)
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])
    assert fake.requests == []
