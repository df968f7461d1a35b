"""Record modes, the diskcache store and cassettes, seen through real inner pytest runs
against a real HTTP endpoint (the scripted fake server) and the real ``openai`` client."""

from __future__ import annotations

import pytest

from tests.helpers import ONE_CALL, cassette, lines
from tests.server import OpenAIServer

TWO_CALLS = (
    ONE_CALL
    + """
def test_two(xgen):
    assert xgen.model("echo")("And 3+3?").text.endswith("And 3+3?")
"""
)


def test_once_records_then_replays(project: pytest.Pytester, fake: OpenAIServer) -> None:
    project.makepyfile(test_calls=ONE_CALL)
    first = project.runpytest()
    first.assert_outcomes(passed=1)
    assert fake.calls == 1
    first.stdout.fnmatch_lines(
        [
            "*xgen: 1 model calls: 0 replayed, 1 live (12 tokens, cost 0); no price for echo*",
            "*xgen: wrote fixtures/cassettes/test_calls.jsonl*",
        ]
    )
    [record] = lines(cassette(project))
    assert record["test"] == "test_calls.py::test_one"
    assert record["request"]["messages"] == [{"role": "user", "content": "What is 2+2?"}]
    assert record["request"]["params"] == {"temperature": 0, "max_tokens": 16, "seed": 0}
    assert record["response"]["text"] == "echo[seed=0,t=0]: What is 2+2?"

    second = project.runpytest()
    second.assert_outcomes(passed=1)
    assert fake.calls == 1
    second.stdout.fnmatch_lines(["*xgen: 1 model calls: 1 replayed, 0 live*"])


@pytest.mark.parametrize(
    ("where", "base"), [("model params", 40), ("--xgen-seed", 7), ("a call argument", 90)]
)
def test_a_configured_seed_is_shifted_per_sample(
    pytester: pytest.Pytester, fake: OpenAIServer, where: str, base: int
) -> None:
    """Sample i runs with seed + i wherever the seed is set; a seed that stayed fixed
    would make every 'independent' sample the same answer."""
    params = "temperature = 1.0" + (", seed = 40" if where == "model params" else "")
    pytester.makepyprojecttoml(
        f"""
        [tool.xgen.models.echo]
        base_url = "{fake.base_url}"
        model = "echo"
        params = {{ {params} }}
        """
    )
    extra = ", seed=90" if where == "a call argument" else ""
    pytester.makepyfile(
        test_calls=f"""
def test_samples(xgen):
    for i in range(3):
        xgen.model("echo")("Pick a number", sample=i{extra})
"""
    )
    args = ["--xgen-seed=7"] if where == "--xgen-seed" else []
    pytester.runpytest(*args).assert_outcomes(passed=1)
    seeds = [r["request"]["params"]["seed"] for r in lines(cassette(pytester))]
    assert sorted(seeds) == [base, base + 1, base + 2]


def test_once_treats_an_existing_cassette_as_complete(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makepyfile(test_calls=ONE_CALL)
    project.runpytest().assert_outcomes(passed=1)
    project.makepyfile(test_calls=TWO_CALLS)
    result = project.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    assert fake.calls == 1
    result.stdout.fnmatch_lines(
        [
            "*the cassette *test_calls.jsonl exists and has no recording for this call*"
            "Add it with: pytest --xgen-record-mode=new_episodes 'test_calls.py::test_two'*",
        ]
    )


def test_new_episodes_extends_the_cassette(project: pytest.Pytester, fake: OpenAIServer) -> None:
    project.makepyfile(test_calls=ONE_CALL)
    project.runpytest().assert_outcomes(passed=1)
    project.makepyfile(test_calls=TWO_CALLS)
    project.runpytest("--xgen-record-mode=new_episodes").assert_outcomes(passed=2)
    assert fake.calls == 2
    assert [r["test"] for r in lines(cassette(project))] == [
        "test_calls.py::test_one",
        "test_calls.py::test_two",
    ]
    project.runpytest("--xgen-record-mode=none").assert_outcomes(passed=2)
    assert fake.calls == 2


def test_none_on_a_miss_is_an_error_that_names_everything(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makepyfile(test_calls=ONE_CALL)
    result = project.runpytest("--xgen-record-mode=none")
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert fake.calls == 0
    result.stdout.fnmatch_lines(
        [
            "*RecordingMissError: no recording for this call in replay-only mode*"
            "test test_calls.py::test_one, model 'echo', prompt 'What is 2+2?'*"
            "pytest --xgen-record-mode=new_episodes 'test_calls.py::test_one'*",
        ]
    )
    assert not cassette(project).exists()


def test_all_rerecords_once_per_run(project: pytest.Pytester, fake: OpenAIServer) -> None:
    project.makepyfile(
        test_calls=ONE_CALL
        + """
def test_again(xgen):
    assert xgen.model("echo")("What is 2+2?").replayed
"""
    )
    project.runpytest().assert_outcomes(passed=2)
    assert fake.calls == 1
    project.runpytest("--xgen-record-mode=all").assert_outcomes(passed=2)
    assert fake.calls == 2  # re-recorded once, then replayed within the run
    assert len(lines(cassette(project))) == 1


def test_samples_are_distinct_calls_with_distinct_seeds(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makepyfile(
        test_calls="""
def test_samples(xgen):
    texts = [xgen.model("echo")("Pick a number", sample=i, temperature=1.0).text for i in range(5)]
    assert texts == [f"echo[seed={i},t=1.0]: Pick a number" for i in range(5)]
"""
    )
    project.runpytest().assert_outcomes(passed=1)
    assert fake.calls == 5
    assert sorted(r["request"]["sample"] for r in lines(cassette(project))) == [0, 1, 2, 3, 4]
    project.runpytest("--xgen-record-mode=none").assert_outcomes(passed=1)
    assert fake.calls == 5


@pytest.mark.parametrize("cassettes", ["on", "off"])
def test_replay_only_never_calls_live_with_or_without_cassettes(
    project: pytest.Pytester, fake: OpenAIServer, cassettes: str
) -> None:
    project.makepyfile(test_calls=TWO_CALLS)
    # test_one is in the store (and its cassette, when on); test_two was never recorded.
    project.runpytest(f"--xgen-cassettes={cassettes}", "-k", "test_one").assert_outcomes(passed=1)
    assert fake.calls == 1
    result = project.runpytest("--xgen-record-mode=none", f"--xgen-cassettes={cassettes}")
    result.assert_outcomes(passed=1, errors=1)
    assert fake.calls == 1
    result.stdout.fnmatch_lines(["*RecordingMissError: no recording for this call*"])


def test_replay_from_the_cassette_alone(project: pytest.Pytester, fake: OpenAIServer) -> None:
    """A fresh clone has the committed cassette but no diskcache store."""
    project.makepyfile(test_calls=ONE_CALL)
    project.runpytest().assert_outcomes(passed=1)
    import shutil

    shutil.rmtree(project.path / ".xgen")
    fake.stop()  # nothing may be called
    result = project.runpytest("--xgen-record-mode=none")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*1 replayed, 0 live*"])


def test_store_alone_without_cassettes(project: pytest.Pytester, fake: OpenAIServer) -> None:
    project.makepyfile(test_calls=ONE_CALL)
    project.runpytest("--xgen-cassettes=off").assert_outcomes(passed=1)
    assert not cassette(project).exists()
    project.runpytest("--xgen-cassettes=off", "--xgen-record-mode=none").assert_outcomes(passed=1)
    assert fake.calls == 1
    # Running with cassettes on again fills the module's cassette from the store, no call made.
    project.runpytest().assert_outcomes(passed=1)
    assert fake.calls == 1
    assert len(lines(cassette(project))) == 1


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text[:-20] + "\n", "line 1: not valid JSON"),
        (
            lambda text: text.replace("What is 2+2?", "What is 2+3?", 1),
            "line 1: the key does not match",
        ),
        (
            lambda text: text.replace('"text":"echo', '"text":"ECHO', 1),
            "line 1: the digest does not match",
        ),
        (
            lambda text: text.replace('"format":1', '"format":7', 1),
            "line 1: invalid recording at format",
        ),
    ],
)
def test_a_damaged_cassette_is_a_clear_error(
    project: pytest.Pytester, fake: OpenAIServer, damage, message
) -> None:
    project.makepyfile(test_calls=ONE_CALL)
    project.runpytest().assert_outcomes(passed=1)
    path = cassette(project)
    path.write_text(damage(path.read_text()))
    result = project.runpytest("--xgen-record-mode=none")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*CassetteError: cassette *test_calls.jsonl, {message}*"])
    result.stdout.fnmatch_lines(["*restore the file from version control*"])


def test_http_errors_are_errors_and_never_recorded(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makepyfile(test_calls=ONE_CALL)
    fake.fail_next(3, status=503)  # first try + 2 retries
    result = project.runpytest("--xgen-timeout=5")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ModelCallError: model 'echo' at http://127.0.0.1:*/v1 answered HTTP 503 after 2 retries*"
        ]
    )
    assert not cassette(project).exists()
    assert fake.calls == 0
    project.runpytest("--xgen-record-mode=none").assert_outcomes(errors=1)
    project.runpytest().assert_outcomes(passed=1)
    assert fake.calls == 1


def test_rate_limit_is_retried_honouring_retry_after(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makepyfile(test_calls=ONE_CALL)
    fake.fail_next(1, status=429, headers={"Retry-After": "0"})
    project.runpytest().assert_outcomes(passed=1)
    assert fake.calls == 1
    assert len(fake.auth_headers) == 2


def test_unreachable_endpoint_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("""
        [tool.xgen.models.echo]
        base_url = "http://127.0.0.1:9/v1"
        model = "echo"
    """)
    pytester.makepyfile(test_calls=ONE_CALL)
    result = pytester.runpytest("--xgen-max-retries=0")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*model 'echo' at http://127.0.0.1:9/v1 is unreachable after 0 retries*"]
    )


def test_api_key_from_env_at_call_time_and_never_stored(
    project: pytest.Pytester, fake: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import fake_model

    project.makepyprojecttoml(f"""
        [tool.xgen.models.echo]
        {fake_model(fake, api_key_env="XGEN_TEST_KEY")}
    """)
    project.makepyfile(test_calls=ONE_CALL)
    monkeypatch.delenv("XGEN_TEST_KEY", raising=False)
    missing = project.runpytest()
    missing.assert_outcomes(errors=1)
    missing.stdout.fnmatch_lines(["*the environment variable XGEN_TEST_KEY is not set*"])
    canary = "sk-canary-0123456789abcdef"
    monkeypatch.setenv("XGEN_TEST_KEY", canary)
    result = project.runpytest("-v")
    result.assert_outcomes(passed=1)
    assert fake.auth_headers == [f"Bearer {canary}"]
    assert canary not in result.stdout.str()
    for path in (project.path / ".xgen").rglob("*"):
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), path
    assert canary not in cassette(project).read_text()


def test_think_blocks_become_reasoning(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_calls="""
def test_think(xgen):
    r = xgen.model("echo")("please think")
    assert r.reasoning == "pondering please think"
    assert r.text == "echo[seed=0,t=0]: please think"
    assert r.finish_reason == "stop" and r.usage.total_tokens == 12
"""
    )
    project.runpytest().assert_outcomes(passed=1)
    project.runpytest("--xgen-record-mode=none").assert_outcomes(passed=1)


def test_completions_with_logprobs_are_recorded(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makepyfile(
        test_calls="""
def test_score(xgen):
    r = xgen.model("echo").complete("the cat sat", echo=True, logprobs=1, max_tokens=1)
    assert r.tokens == ["the", "cat", "sat"]
    assert r.token_logprobs == [None, -1.0, -1.0]
"""
    )
    project.runpytest().assert_outcomes(passed=1)
    project.runpytest("--xgen-record-mode=none").assert_outcomes(passed=1)
    assert fake.calls == 1
    assert fake.requests[0]["echo"] is True


def test_xdist_workers_record_into_one_store_and_cassette(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    tests = "\n".join(
        f"def test_{i}(xgen):\n    assert xgen.model('echo')('question {i}').text.endswith('question {i}')\n"
        for i in range(8)
    )
    project.makepyfile(test_calls=tests)
    result = project.runpytest("-n", "2")
    result.assert_outcomes(passed=8)
    assert fake.calls == 8
    result.stdout.fnmatch_lines(["*xgen: 8 model calls: 0 replayed, 8 live*"])
    records = lines(cassette(project))
    assert sorted(r["test"] for r in records) == sorted(
        f"test_calls.py::test_{i}" for i in range(8)
    )
    replay = project.runpytest("-n", "2", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=8)
    replay.stdout.fnmatch_lines(["*xgen: 8 model calls: 8 replayed, 0 live*"])
    assert fake.calls == 8


def test_unknown_model_in_a_test_is_an_error(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_calls="""
def test_x(xgen):
    xgen.model("nope")("hi")
"""
    )
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown model 'nope'; configured models: echo*"])


def test_xgen_check_command_validates_cassettes(project: pytest.Pytester) -> None:
    from pytest_xgen.cli import main

    project.makepyfile(test_calls=ONE_CALL)
    project.runpytest().assert_outcomes(passed=1)
    assert main(["check", str(project.path / "fixtures" / "cassettes")]) == 0
    path = cassette(project)
    path.write_text(path.read_text().replace('"echo', '"ECHO', 1))
    assert main(["check", str(project.path / "fixtures" / "cassettes")]) == 1


def test_recording_modes_drop_a_damaged_line_and_record_its_call_again(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makepyfile(test_calls=TWO_CALLS)
    project.runpytest().assert_outcomes(passed=2)
    path = cassette(project)
    first, second = path.read_text().splitlines()
    path.write_text(first + "\n" + second.replace('"text":"echo', '"text":"ECHO', 1) + "\n")
    import shutil

    shutil.rmtree(project.path / ".xgen")  # the store must not hide the damage
    # Replay-only: the damaged line is an error, never served.
    project.runpytest("--xgen-record-mode=none").assert_outcomes(errors=2)
    # Recording (default mode once): the line is dropped, its call made again and reported.
    result = project.runpytest()
    result.assert_outcomes(passed=2)
    assert fake.calls == 3
    result.stdout.fnmatch_lines(
        [
            "*xgen: dropped a damaged line, re-recording: cassette *test_calls.jsonl, line 2: the digest does not match*"
        ]
    )
    assert len(lines(path)) == 2 and all(
        r["response"]["text"].startswith("echo") for r in lines(path)
    )
    project.runpytest("--xgen-record-mode=none").assert_outcomes(passed=2)
