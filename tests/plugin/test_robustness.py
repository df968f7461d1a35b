"""Recording under stress, seen through real inner pytest runs against the fake server:
pytest-xdist workers and threads asking the same question at once, a run killed mid-way,
damaged store entries, secrets that must never be written, the live-call budget and the
dry run."""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache
import pytest

from pytest_xgen.recording import cassettes
from pytest_xgen.recording.store import Store, canonical_json
from tests.helpers import fake_model
from tests.server import OpenAIServer

RECORDING_KEY = re.compile(r"[0-9a-f]{64}")
# An inner run whose tests rely on their order must not be shuffled by pytest-randomly.
IN_ORDER = ("-p", "no:randomly")


def cache_dir(pytester: pytest.Pytester) -> Path:
    return pytester.path / ".xgen" / "cache"


def cassette(pytester: pytest.Pytester, name: str = "test_calls") -> Path:
    return pytester.path / "fixtures" / "cassettes" / f"{name}.jsonl"


def store_keys(directory: Path) -> list[str]:
    """Every key in the store, opened the way a later run opens it."""
    cache = diskcache.Cache(str(directory))
    try:
        return [str(key) for key in cache.iterkeys()]
    finally:
        cache.close()


def recordings(directory: Path) -> list[str]:
    """The recording keys in the store, each checked to be served as a valid entry."""
    keys = [key for key in store_keys(directory) if RECORDING_KEY.fullmatch(key)]
    store = Store(directory)
    try:
        for key in keys:
            assert store.get(key) is not None, key
    finally:
        store.close()
    return keys


def one_call_per_test(count: int, words: str = "question") -> str:
    return "\n".join(
        f"def test_{i}(xgen):\n"
        f"    assert xgen.model('echo')('{words} {i}').text.endswith('{words} {i}')\n"
        for i in range(count)
    )


# -- pytest-xdist workers and threads asking the same question at once ---------------------

# Two classes walk the same ten questions, and so do two more: pytest-xdist's loadscope
# hands each class to its own worker, so both askers of a question reach it together (the
# one that waits replays at once and catches up with the one that made the call).
SHARED = """
import json
import os
import time

import pytest

TIMELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "timeline.jsonl")


def ask(xgen, i):
    start = time.time()
    r = xgen.model("echo")(f"shared question {i}")
    line = json.dumps({
        "question": i,
        "worker": os.environ.get("PYTEST_XDIST_WORKER"),
        "start": start,
        "end": time.time(),
        "replayed": r.replayed,
    })
    with open(TIMELINE, "a") as f:
        f.write(line + "\\n")
    assert r.text == f"echo[seed=0,t=0]: shared question {i}"

""" + "\n".join(
    f"""
class Test{name}:
    @pytest.mark.parametrize("i", range({lo}, {lo + 10}))
    def test_ask(self, xgen, i):
        ask(xgen, i)
"""
    for name, lo in (("FirstA", 0), ("FirstB", 0), ("SecondA", 10), ("SecondB", 10))
)


def collisions(timeline: list[dict[str, Any]]) -> int:
    """Questions whose second asker, on another worker, started before the first one's
    call was answered (so it can only have been served by waiting for that call)."""
    found = 0
    for i in {line["question"] for line in timeline}:
        pair = [line for line in timeline if line["question"] == i]
        live = [p for p in pair if not p["replayed"]]
        waited = [p for p in pair if p["replayed"]]
        found += (
            len(live) == len(waited) == 1
            and live[0]["worker"] != waited[0]["worker"]
            and waited[0]["start"] < live[0]["end"]
        )
    return found


def test_xdist_workers_make_each_shared_call_once(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    fake.delay = 0.2
    project.makepyfile(test_calls=SHARED)
    started = time.perf_counter()
    result = project.runpytest("-n", "4", "--dist", "loadscope", *IN_ORDER)
    wall = time.perf_counter() - started
    result.assert_outcomes(passed=40)
    output = result.stdout.str() + result.stderr.str()
    assert "database is locked" not in output
    assert fake.calls == 20
    assert sorted(r["messages"][0]["content"] for r in fake.requests) == sorted(
        f"shared question {i}" for i in range(20)
    )
    result.stdout.fnmatch_lines(
        [
            "*xgen: 40 model calls: 20 replayed, 20 live (240 tokens, cost 0); the replayed "
            "calls took 240 tokens (cost 0) when recorded; no price for echo (counted at 0)"
        ]
    )

    keys = store_keys(cache_dir(project))
    recorded = recordings(cache_dir(project))
    assert len(recorded) == 20
    assert not [k for k in keys if k.startswith("xgen-flight:")]
    assert set(keys) == set(recorded), "only recordings outlive the run"
    lines = cassette(project).read_text().splitlines()
    assert len(lines) == 20
    assert sorted(cassettes.read(cassette(project))) == sorted(recorded)

    timeline = [json.loads(line) for line in (project.path / "timeline.jsonl").open()]
    assert len(timeline) == 40
    assert sum(not t["replayed"] for t in timeline) == 20
    collided = collisions(timeline)
    print(
        f"\nxdist -n 4: {fake.calls} requests, {len(recorded)} entries, {wall:.1f}s wall, "
        f"{collided} of 20 questions asked by two workers at once"
    )
    # Without a collision the run would not have tested single-flight at all.
    assert collided >= 1

    replay = project.runpytest("-n", "4", "--xgen-record-mode=none", *IN_ORDER)
    replay.assert_outcomes(passed=40)
    replay.stdout.fnmatch_lines(["*xgen: 40 model calls: 40 replayed, 0 live*"])
    assert fake.calls == 20


def test_threads_make_a_shared_call_once(project: pytest.Pytester, fake: OpenAIServer) -> None:
    fake.delay = 0.2
    project.makepyfile(
        test_calls="""
import threading
from concurrent.futures import ThreadPoolExecutor


def test_eight_threads(xgen):
    model = xgen.model("echo")
    together = threading.Barrier(8)

    def ask(_):
        together.wait(timeout=10)
        return model("one question for eight threads")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(ask, range(8)))
    assert {r.text for r in results} == {"echo[seed=0,t=0]: one question for eight threads"}
    assert sorted(r.replayed for r in results) == [False] + [True] * 7
"""
    )
    result = project.runpytest()
    result.assert_outcomes(passed=1)
    assert fake.calls == 1
    result.stdout.fnmatch_lines(["*xgen: 8 model calls: 7 replayed, 1 live*"])
    assert len(recordings(cache_dir(project))) == 1
    assert len(cassette(project).read_text().splitlines()) == 1


# -- a run killed mid-way ------------------------------------------------------------------


class CountingServer(OpenAIServer):
    """The fake server, also counting the responses it finished sending and the requests
    it is still working on (a killed client leaves one behind)."""

    answered = 0
    busy = 0

    def _handler(self) -> type[Any]:
        base = super()._handler()
        server = self

        class Counting(base):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:
                with server.lock:
                    server.busy += 1
                try:
                    super().do_POST()
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client is gone: not answered
                else:
                    with server.lock:
                        server.answered += 1
                finally:
                    with server.lock:
                        server.busy -= 1

        return Counting


@pytest.fixture
def counting() -> Iterator[CountingServer]:
    server = CountingServer(delay=0.3).start()
    yield server
    server.stop()


def wait_for(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.01)


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_a_killed_run_leaves_a_store_the_next_run_completes(
    pytester: pytest.Pytester, counting: CountingServer
) -> None:
    pytester.makepyprojecttoml(f"""
        [tool.xgen.models.echo]
        {fake_model(counting)}
        params = {{ temperature = 0, max_tokens = 16 }}
    """)
    pytester.makepyfile(test_calls=one_call_per_test(30, "crash question"))
    out = pytester.path / "killed.out"
    with out.open("wb") as sink:
        proc = pytester.popen(
            [sys.executable, "-m", "pytest", "-q", *IN_ORDER],
            stdout=sink,
            stderr=sink,
            cwd=pytester.path,
        )
        try:
            wait_for(
                lambda: counting.answered >= 10 or proc.poll() is not None,
                "10 answered requests",
            )
            # A run spends most of its time waiting for the model, so that is where a
            # kill usually lands: wait for the next request to be in flight.
            wait_for(lambda: counting.busy or proc.poll() is not None, "the next request")
            assert proc.poll() is None, out.read_text()
        finally:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # A request in flight at the kill is still answered into the void; count it first.
    wait_for(lambda: counting.busy == 0, "the server to finish the last request")
    answered = counting.answered

    intact = recordings(cache_dir(pytester))
    print(f"\nkilled after {answered} answered requests: {len(intact)} entries intact")
    # An answer the killed run never stored is lost; a stored entry is never half written.
    assert answered - 1 <= len(intact) <= answered
    if cassette(pytester).exists():
        cassettes.read(cassette(pytester))
    cassette_dir = cassette(pytester).parent
    cassette_dir.mkdir(parents=True, exist_ok=True)
    assert not list(cassette_dir.glob("*.tmp"))
    # What a crash inside the atomic write would leave next to the cassette.
    leftover = cassette_dir / "test_calls.jsonlq8x1vz3k.tmp"
    leftover.write_text('{"format":1,"key":"trunc')

    before = counting.calls
    flights = [k for k in store_keys(cache_dir(pytester)) if k.startswith("xgen-flight:")]
    try:
        # The missing calls take about six seconds; minutes mean the rerun is waiting for
        # a call the killed run can no longer make.
        rerun = pytester.runpytest_subprocess("-q", *IN_ORDER, timeout=60)
    except pytester.TimeoutExpired:
        pytest.fail(
            "the rerun after the kill did not finish within 60s; flight locks the killed "
            f"run left in the store: {flights}"
        )
    rerun.assert_outcomes(passed=30)
    assert counting.calls - before == 30 - len(intact)
    rerun.stdout.fnmatch_lines(
        [f"*xgen: 30 model calls: {len(intact)} replayed, {30 - len(intact)} live*"]
    )
    assert len(cassettes.read(cassette(pytester))) == 30
    keys = store_keys(cache_dir(pytester))
    assert len(recordings(cache_dir(pytester))) == 30
    assert not [k for k in keys if k.startswith("xgen-flight:")]
    assert leftover.read_text() == '{"format":1,"key":"trunc'


# -- damaged store entries -----------------------------------------------------------------

ONE_CALL = """
def test_one(xgen):
    assert xgen.model("echo")("What is 2+2?").text.endswith("What is 2+2?")
"""


def bad_json(raw: str) -> str:
    return raw[: len(raw) // 2]


def edited_answer(raw: str) -> str:
    entry = json.loads(raw)
    entry["response"]["text"] = "echo[seed=0,t=0]: 5"
    return canonical_json(entry)


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (bad_json, "not valid JSON"),
        (edited_answer, "the digest does not match the recording (edited or corrupt)"),
    ],
    ids=["bad-json", "edited-answer"],
)
def test_a_damaged_store_entry_is_never_served(
    project: pytest.Pytester, fake: OpenAIServer, damage: Any, problem: str
) -> None:
    project.makepyfile(test_calls=ONE_CALL)
    project.runpytest("--xgen-cassettes=off").assert_outcomes(passed=1)
    [key] = recordings(cache_dir(project))
    cache = diskcache.Cache(str(cache_dir(project)))
    try:
        cache.set(key, damage(cache.get(key)))
    finally:
        cache.close()
    where = f"cache {cache_dir(project)} entry {key[:12]}: {problem}"

    replay = project.runpytest("--xgen-record-mode=none", "--xgen-cassettes=off")
    replay.assert_outcomes(errors=1)
    replay.stdout.fnmatch_lines([f"*CassetteError: {where}*"])
    assert fake.calls == 1

    result = project.runpytest("--xgen-cassettes=off")
    result.assert_outcomes(passed=1)
    assert fake.calls == 2
    result.stdout.fnmatch_lines([f"*xgen: re-recorded {key[:12]}: {where}*"])
    assert recordings(cache_dir(project)) == [key]
    project.runpytest("--xgen-record-mode=none", "--xgen-cassettes=off").assert_outcomes(passed=1)
    assert fake.calls == 2


# -- secrets -------------------------------------------------------------------------------

API_KEY = "sk-canary-7f3a9c"
PASSWORD = "canarypass"

LEAKY = """
def test_b_server_error_with_a_key(xgen):
    xgen.model("keyed")("then another server error")


def test_d_keyed(xgen):
    assert xgen.model("keyed")("keyed question").text.endswith("keyed question")


def test_f_fails_on_purpose(xgen):
    keyed = xgen.model("keyed")
    answer = keyed("keyed question")
    assert (keyed, answer) is None


def test_h_key_with_a_newline(xgen):
    xgen.model("newline")("the key ends with a newline")


def test_i_key_not_ascii(xgen):
    xgen.model("accented")("the key holds a non-ASCII character")
"""
TOKEN = "canarytoken42"
NEWLINE_KEY = "sk-canary-newline-5d1e"
ACCENTED_KEY = "sk-canary-caf\u00e9-8b2c"


@pytest.mark.parametrize("showlocals", [[], ["-l"]], ids=["plain", "showlocals"])
def test_no_secret_reaches_any_file_or_output(
    pytester: pytest.Pytester,
    fake: OpenAIServer,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    showlocals: list[str],
) -> None:
    # The settings live outside the project, so whatever the project holds afterwards
    # was written by the run.
    settings = tmp_path_factory.mktemp("settings") / "xgen.toml"
    with_password = fake.base_url.replace("http://", f"http://user:{PASSWORD}@")
    # Credentials or a token in a base_url stop the run at start-up, before any test.
    bad_urls = f"""
[models.creds]
base_url = {json.dumps(with_password)}
model = "echo"

[models.down]
base_url = "http://user:{PASSWORD}@127.0.0.1:9/v1"
model = "echo"

[models.query]
base_url = {json.dumps(fake.base_url + "?token=" + TOKEN)}
model = "echo"
"""
    settings.write_text(bad_urls)
    pytester.makepyfile(test_calls="def test_x(xgen):\n    xgen.model('creds')('q')\n")
    startup = pytester.runpytest_subprocess(f"--xgen-config={settings}", *showlocals)
    assert startup.ret == pytest.ExitCode.USAGE_ERROR
    startup.stderr.fnmatch_lines(
        [
            "*model 'creds': base_url http://127.0.0.1:*/v1 carries credentials*",
            "*model 'down': base_url http://127.0.0.1:9/v1 carries credentials*",
            "*model 'query': base_url http://127.0.0.1:*/v1 has a query string*",
        ]
    )
    for canary in (PASSWORD, TOKEN):
        assert canary not in startup.stdout.str() + startup.stderr.str()

    settings.write_text(f"""
[models.keyed]
{fake_model(fake, api_key_env="XGEN_CANARY_KEY")}

[models.newline]
{fake_model(fake, api_key_env="XGEN_CANARY_NEWLINE")}

[models.accented]
{fake_model(fake, api_key_env="XGEN_CANARY_ACCENTED")}
""")
    monkeypatch.setenv("XGEN_CANARY_KEY", API_KEY)
    monkeypatch.setenv("XGEN_CANARY_NEWLINE", NEWLINE_KEY + "\n")
    monkeypatch.setenv("XGEN_CANARY_ACCENTED", ACCENTED_KEY)
    pytester.makepyfile(test_calls=LEAKY)
    fake.fail_next(1, status=500)
    result = pytester.runpytest_subprocess(
        f"--xgen-config={settings}",
        "--xgen-max-retries=0",
        "--xgen-report=r.json",
        "--xgen-html=r.html",
        "--junitxml=j.xml",
        "-v",
        *showlocals,  # -l: local variables in tracebacks, none of which may hold a secret
        *IN_ORDER,
        timeout=120,
    )
    result.assert_outcomes(passed=1, failed=1, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*model 'keyed' at http://127.0.0.1:*/v1 answered HTTP 500*",
            "*model 'newline': the key in XGEN_CANARY_NEWLINE begins or ends with whitespace*",
            "*model 'accented': the key in XGEN_CANARY_ACCENTED has characters an HTTP header*",
        ]
    )
    assert f"Bearer {API_KEY}" in fake.auth_headers
    assert fake.calls == 1  # test_d's call (test_f replays it); the 500 is not counted

    written = [p for p in pytester.path.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert {"r.json", "r.html", "j.xml", "test_calls.jsonl"} <= names
    assert any(p.parent == cache_dir(pytester) for p in written)
    for canary in (API_KEY, PASSWORD, TOKEN, NEWLINE_KEY, ACCENTED_KEY):
        assert canary not in result.stdout.str()
        assert canary not in result.stderr.str()
        for path in written:
            assert canary.encode() not in path.read_bytes(), (canary, path)


# -- the live-call budget ------------------------------------------------------------------


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_the_live_call_budget_stops_calls_and_keeps_the_recorded(
    project: pytest.Pytester, fake: OpenAIServer, workers: list[str]
) -> None:
    project.makepyfile(test_calls=one_call_per_test(5))
    result = project.runpytest("--xgen-max-live-calls=3", *workers)
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        ["*BudgetExhaustedError: the live-call budget of 3 (--xgen-max-live-calls) is spent*"]
    )
    assert fake.calls == 3
    keys = store_keys(cache_dir(project))
    assert len(recordings(cache_dir(project))) == 3
    assert not [k for k in keys if k.startswith(("xgen-budget:", "xgen-flight:"))]
    assert len(cassettes.read(cassette(project))) == 3

    replay = project.runpytest("--xgen-record-mode=none", *workers)
    replay.assert_outcomes(passed=3, errors=2)
    replay.stdout.fnmatch_lines(["*RecordingMissError*"])
    assert fake.calls == 3
    assert passed_tests(replay) == passed_tests(result)


def passed_tests(result: pytest.RunResult) -> set[str]:
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    return {r.nodeid for r in reports if r.when == "call" and r.passed}


# -- the dry run ---------------------------------------------------------------------------


def test_a_dry_run_makes_no_call_and_lists_what_it_would_make(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makepyfile(test_calls=one_call_per_test(2))
    project.runpytest().assert_outcomes(passed=2)
    assert fake.calls == 2
    project.makepyfile(test_new=one_call_per_test(3, "new question"))

    result = project.runpytest("--xgen-dry-run", "-rs")
    result.assert_outcomes(passed=2, skipped=3)
    assert fake.calls == 2

    def estimate(i: int) -> int:
        # The documented estimate: prompt characters / 4 + max_tokens.
        messages = [{"role": "user", "content": f"new question {i}"}]
        return len(canonical_json(messages)) // 4 + 16

    total = sum(estimate(i) for i in range(3))
    result.stdout.fnmatch_lines(
        [
            f"*xgen dry run: at least 3 call(s) would be made live, about {total} tokens, "
            "estimated cost 0*none was made*",
            "*xgen dry run: 3 test(s) stopped at a blank answer*",
            *(
                f"*xgen dry run:   test_new.py::test_{i}  echo  ~{estimate(i)} tokens  0  "
                f"'new question {i}'*"
                for i in range(3)
            ),
        ]
    )
    skipped = {
        r.nodeid: r.longrepr[2]
        for r in result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
        if r.skipped
    }
    assert skipped == {
        f"test_new.py::test_{i}": "Skipped: dry run: 1 call(s) of this test would be made live "
        "or more (it stopped at a blank answer; later calls are not counted)"
        for i in range(3)
    }
    assert len(recordings(cache_dir(project))) == 2
    assert not cassette(project, "test_new").exists()


SECRET_TOKEN = "routing-token-canary-91f2"
HEADER_TOKEN = "header-token-canary-4c7d"

SECRET_CALLS = """
import os

def test_secret_param(xgen):
    body = {"token": os.environ["XGEN_ROUTING_TOKEN"], "route": "eu"}
    assert xgen.model("echo")("hello", extra_body=body).text.endswith("hello")
"""


def test_secret_params_and_headers_are_sent_but_never_recorded(
    pytester: pytest.Pytester, fake: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyprojecttoml(f"""
        [tool.xgen.models.echo]
        {fake_model(fake)}
        secret_params = ["extra_body.token"]
        headers_env = {{ "X-Org-Token" = "XGEN_HEADER_TOKEN" }}
    """)
    monkeypatch.setenv("XGEN_ROUTING_TOKEN", SECRET_TOKEN)
    monkeypatch.setenv("XGEN_HEADER_TOKEN", HEADER_TOKEN)
    pytester.makepyfile(test_calls=SECRET_CALLS)
    result = pytester.runpytest_subprocess("--xgen-report=r.json", "-l", timeout=120)
    result.assert_outcomes(passed=1)
    # Sent: the token in the body, the header on the request.
    assert SECRET_TOKEN in json.dumps(fake.requests[-1])
    sent = {name.lower(): value for name, value in fake.headers[-1].items()}
    assert sent.get("x-org-token") == HEADER_TOKEN
    # Never written: the cassette keeps "<secret>" where the token was.
    written = [p for p in pytester.path.rglob("*") if p.is_file()]
    cassette = next(p for p in written if p.name == "test_calls.jsonl")
    assert '"token":"<secret>"' in cassette.read_text() and '"route":"eu"' in cassette.read_text()
    for path in written:
        for canary in (SECRET_TOKEN, HEADER_TOKEN):
            assert canary.encode() not in path.read_bytes(), (canary, path)
    # Another token value replays the same recording: the key does not hold the secret.
    monkeypatch.setenv("XGEN_ROUTING_TOKEN", "another-token-value-0000")
    replay = pytester.runpytest_subprocess("--xgen-record-mode=none", timeout=120)
    replay.assert_outcomes(passed=1)
