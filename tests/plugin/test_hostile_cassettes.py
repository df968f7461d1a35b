"""Cassettes are untrusted input (they arrive in pull requests): inner runs replay odd lines,
tampered recordings and escape sequences, and serve each valid or report it as a cassette
error naming the file and line, never any other exception. Reading single hostile lines:
tests/unit/test_hostile_cassettes.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_xgen.cli import main
from tests.helpers import cassette, with_usage
from tests.server import OpenAIServer

ROOT = Path(__file__).resolve().parents[2]
SEPARATORS = "line\u2028sep\u2029para\u0085next"

CALL = f"""
def test_one(xgen):
    r = xgen.model("echo")({SEPARATORS!r})
    assert r.text.endswith({SEPARATORS!r})
"""


def test_line_separators_in_model_text_replay(project: pytest.Pytester, fake: OpenAIServer) -> None:
    # The fake echoes the prompt, so the answer holds U+2028, U+2029 and U+0085.
    project.makepyfile(test_calls=CALL)
    project.runpytest().assert_outcomes(passed=1)
    raw = cassette(project).read_bytes()
    assert raw.count(b"\n") == 1  # one recording, one line
    assert b"\\u2028" in raw and "\u2028".encode() not in raw
    replay = project.runpytest("--xgen-record-mode=none")
    replay.assert_outcomes(passed=1)
    # Recording again rewrites the same bytes: nothing is "damaged".
    again = project.runpytest("--xgen-record-mode=new_episodes")
    again.assert_outcomes(passed=1)
    assert "damaged" not in again.stdout.str()
    assert cassette(project).read_bytes() == raw
    assert fake.calls == 1


def test_none_mode_errors_and_recording_modes_re_record(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    project.makepyfile(test_calls=CALL)
    project.runpytest().assert_outcomes(passed=1)
    path = cassette(project)
    good = path.read_text(encoding="utf-8")
    path.write_text(with_usage(good.strip(), "NaN") + "\n", encoding="utf-8")
    replay = project.runpytest("--xgen-record-mode=none", "-p", "no:cacheprovider")
    replay.assert_outcomes(errors=1)
    replay.stdout.fnmatch_lines(["*test_calls.jsonl, line 1: not valid JSON (NaN is not a*"])
    assert "Traceback" not in replay.stdout.str()
    recorded = project.runpytest("--xgen-record-mode=new_episodes")
    recorded.assert_outcomes(passed=1)
    assert path.read_text(encoding="utf-8") == good  # dropped, re-recorded


ESCAPES = "\x1b]0;PR-TAMPERED\x07\x1b[1;5mBLINK\u202e"


def test_escape_sequences_never_reach_the_terminal(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    # The fake echoes the prompt, so every evaluator answer carries escape sequences; the
    # model string in the header carries them too.
    pytester.makepyprojecttoml(
        f"""
        [tool.xgen]
        evaluators = ["echo"]
        [tool.xgen.models.echo]
        base_url = "{fake.base_url}"
        model = "echo\\u001b[31mRED"
        """
    )
    pytester.makepyfile(
        test_calls=f"""
        import pytest

        @pytest.mark.transfers
        def test_invariant(xgen):
            xgen.invariant({("Q " + ESCAPES)!r}, {("R " + ESCAPES)!r}, samples=1,
                           temperature=0, answer="text")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b]0;PR-TAMPERED\\x07" in out
    assert "echo\\x1b[31mRED" in out  # the header line


SIGNING_KEY = "team-signing-key-0123456789abcdef"


def tampered(line: str) -> str:
    """The line with its answer changed and key and digest recomputed, as anyone can."""
    from pytest_xgen.recording.store import canonical_json, entry_digest, sha256_text

    data = json.loads(line)
    data["response"]["text"] = "echo: an answer a pull request slipped in"
    data["key"] = sha256_text(canonical_json(data["request"]))
    data["digest"] = entry_digest(data["request"], data["response"])
    return canonical_json(data)


def test_a_signing_key_detects_an_edit_the_digest_cannot(
    project: pytest.Pytester,
    fake: OpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XGEN_CASSETTE_KEY", SIGNING_KEY)
    project.makepyfile(test_calls=CALL)
    project.runpytest().assert_outcomes(passed=1)
    path = cassette(project)
    line = path.read_text(encoding="utf-8").strip()
    assert '"signature":"' in line and SIGNING_KEY not in line
    assert main(["check", str(path)]) == 0
    path.write_text(tampered(line) + "\n", encoding="utf-8")
    # The digest alone cannot tell: without the key the edit passes.
    monkeypatch.delenv("XGEN_CASSETTE_KEY")
    assert main(["check", str(path)]) == 0
    # With it, the line is refused by xgen check and by replay.
    monkeypatch.setenv("XGEN_CASSETTE_KEY", SIGNING_KEY)
    capsys.readouterr()
    assert main(["check", str(path)]) == 1
    assert "line 1: not signed with the key in XGEN_CASSETTE_KEY" in capsys.readouterr().err
    replay = project.runpytest("--xgen-record-mode=none")
    replay.assert_outcomes(errors=1)
    replay.stdout.fnmatch_lines(["*line 1: not signed with the key in XGEN_CASSETTE_KEY*"])
    # A reviewed cassette is signed again with xgen sign.
    assert main(["sign", str(path)]) == 0
    assert main(["check", str(path)]) == 0
    monkeypatch.setenv("XGEN_CASSETTE_KEY", "short")
    assert main(["sign", str(path)]) == 2
    assert "a signing key needs at least 16" in capsys.readouterr().err


def store_entries(project: pytest.Pytester) -> dict[str, str]:
    """The recordings in an inner run's store, as stored (text), by key."""
    import diskcache

    cache = diskcache.Cache(str(project.path / ".xgen" / "cache"))
    try:
        return {str(k): str(cache.get(k)) for k in cache.iterkeys() if len(str(k)) == 64}
    finally:
        cache.close()


def test_a_signing_key_covers_the_store(
    project: pytest.Pytester, fake: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The store is a directory like any other: cache_dir is a project setting, and a pull
    # request can point it at committed files. With the key set it is trusted no more than
    # a cassette: an entry is served only with a valid signature.
    import diskcache

    monkeypatch.setenv("XGEN_CASSETTE_KEY", SIGNING_KEY)
    project.makepyfile(test_calls=CALL)
    project.runpytest().assert_outcomes(passed=1)
    cassette(project).unlink()  # the store alone holds the call, as for a new module
    [(key, stored)] = store_entries(project).items()
    cache = diskcache.Cache(str(project.path / ".xgen" / "cache"))
    try:
        cache.set(key, tampered(stored))
    finally:
        cache.close()
    refused = (
        f"*entry {key[:12]}: not signed with the key in XGEN_CASSETTE_KEY (written by someone "
        "without it, or before it was set), so it is not served*"
    )
    replay = project.runpytest("--xgen-record-mode=none")
    replay.assert_outcomes(errors=1)
    replay.stdout.fnmatch_lines([refused])
    assert fake.calls == 1
    # Recording: the entry is dropped and its call made again; the cassette gets the answer
    # the endpoint gives, signed, never the edited one.
    again = project.runpytest("--xgen-record-mode=new_episodes")
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines([f"*re-recorded {key[:12]}: cache *{refused[1:]}"])
    assert fake.calls == 2
    written = cassette(project).read_text(encoding="utf-8")
    assert "slipped in" not in written and '"signature":"' in written
    assert main(["check", str(cassette(project))]) == 0
    assert "slipped in" not in store_entries(project)[key]
    assert '"signature":"' in store_entries(project)[key]


CLIENT = """
QUESTION = [{"role": "user", "content": "What is 3 + 4?"}]


def test_whole(xgen):
    r = xgen.client("echo").chat.completions.create(messages=QUESTION)
    print("RECEIVED", r.choices[0].message.content)


def test_streamed(xgen):
    stream = xgen.client("echo").chat.completions.create(messages=QUESTION, stream=True)
    print("RECEIVED", "".join(c.choices[0].delta.content or "" for c in stream if c.choices))
"""


def edited_answer(line: str) -> str:
    """The line with the answer its replay returns changed (in ``raw`` or in a chunk) and
    its digest recomputed, while the ``text`` a reviewer reads stays as it was."""
    from pytest_xgen.recording.store import canonical_json, entry_digest

    data = json.loads(line)
    response = data["response"]
    if "raw" in response:
        response["raw"]["choices"][0]["message"]["content"] = "Answer: 8"
    else:
        response["chunks"][0]["choices"][0]["delta"]["content"] = "Answer: 8"
    data["digest"] = entry_digest(data["request"], response)
    return canonical_json(data)


def test_what_a_reviewer_reads_is_what_the_application_receives(
    project: pytest.Pytester,
    fake: OpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project.makepyfile(test_calls=CLIENT)
    project.runpytest().assert_outcomes(passed=2)
    path = cassette(project)
    recorded = path.read_text(encoding="utf-8").splitlines()
    assert len(recorded) == 2 and "Answer: 8" not in "".join(recorded)
    path.write_text("\n".join(edited_answer(line) for line in recorded) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    for number in (1, 2):
        assert f"test_calls.jsonl, line {number}: response.text is " in err
    assert "but response.raw, which replay returns, gives" in err
    assert "but response.chunks, which replay returns, gives" in err
    # Replay refuses it: an error naming the cassette and line, never the edited answer.
    replay = project.runpytest("--xgen-record-mode=none", "-s")
    replay.assert_outcomes(errors=2)
    replay.stdout.fnmatch_lines(
        ["*test_calls.jsonl, line ?: response.text is *, which replay returns, gives *Answer: 8*"]
    )
    assert "RECEIVED" not in replay.stdout.str()
    assert fake.calls == 2
    # Review-then-sign never signs such a line.
    monkeypatch.setenv("XGEN_CASSETTE_KEY", SIGNING_KEY)
    assert main(["sign", str(path)]) == 1
    assert "signed 0 recording(s)" in capsys.readouterr().out
    assert '"signature"' not in path.read_text(encoding="utf-8")
