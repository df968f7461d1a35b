"""The recorder on a real diskcache store and real cassette files: each record mode, the
live-call budget, dry runs, damaged recordings, cassette writing and the cross-process lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.errors import (
    BudgetExhaustedError,
    CassetteError,
    ModelCallError,
    RecordingMissError,
)
from pytest_xgen.recording import cassettes, recorder
from pytest_xgen.recording.recorder import CallSite, CallStats, Recorder
from pytest_xgen.recording.store import Store, build_request, canonical_json, make_entry

MODULE = "tests/test_a.py"
TEST = "tests/test_a.py::test_one"
SITE = CallSite(test=TEST, module=MODULE, model="m", prompt="What\n is  2+2?")


def request(n: int = 0, **params: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": f"question {n}"}]
    return build_request("chat", {"model": "m"}, {"max_tokens": 5, **params}, n, messages=messages)


class Live:
    """A model call: counts how often it is made."""

    def __init__(self, text: str = "4", tokens: int = 7) -> None:
        self.calls = 0
        self.text = text
        self.tokens = tokens

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return {"text": self.text, "usage": {"total_tokens": self.tokens}}


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store(tmp_path / "cache")
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _no_signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cassettes.SIGNING_ENV, raising=False)


def make(mode: str, store: Store, tmp_path: Path, **kwargs: Any) -> Recorder:
    return Recorder(mode, store, tmp_path / "cassettes", **kwargs)


def cassette(tmp_path: Path, module: str = MODULE) -> Path:
    return cassettes.cassette_path(tmp_path / "cassettes", module)


def committed(tmp_path: Path, text: str) -> Path:
    """The module's cassette, holding ``text`` (as a pull request might leave it)."""
    path = cassette(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- counting -------------------------------------------------------------------------------
def test_call_stats_count_per_test_and_add_up_across_workers() -> None:
    stats = CallStats()
    stats.count("a", live=False, tokens=3, cost=0.5)
    stats.count("a", live=True, tokens=5, cost=0.25)
    assert stats.per_test == {
        "a": {
            "calls": 2,
            "live": 1,
            "tokens": 5,
            "cost": 0.25,
            "replayed_tokens": 3,
            "replayed_cost": 0.5,
        }
    }
    stats.unpriced.add("m")
    stats.add(
        {
            "replayed": 2,
            "live": 3,
            "tokens": 9,
            "cost": 1.0,
            "replayed_tokens": 4,
            "replayed_cost": 2.0,
            "rerecorded": 1,
            "unpriced": ["z", "m"],
            "events": ["e"],
            "per_test": {"a": {"calls": 1, "live": 1, "tokens": 2, "cost": 1.0}, "b": {"calls": 4}},
        }
    )
    stats.add({})
    zero = {"cost": 0, "replayed_tokens": 0, "replayed_cost": 0}
    assert stats.to_dict() == {
        "replayed": 3,
        "live": 4,
        "tokens": 14,
        "cost": 1.25,
        "replayed_tokens": 7,
        "replayed_cost": 2.5,
        "rerecorded": 1,
        "unpriced": ["m", "z"],
        "events": ["e"],
        "per_test": {
            "a": {
                "calls": 3,
                "live": 2,
                "tokens": 7,
                "cost": 1.25,
                "replayed_tokens": 3,
                "replayed_cost": 0.5,
            },
            "b": {"calls": 4, "live": 0, "tokens": 0, **zero},
        },
    }
    copy = stats.to_dict()
    copy["events"].append("x")
    copy["per_test"]["a"]["calls"] = 0
    assert stats.events == ["e"] and stats.per_test["a"]["calls"] == 3


def test_a_call_site_shows_the_prompt_on_one_short_line() -> None:
    assert SITE.describe() == f"test {TEST}, model 'm', prompt 'What is 2+2?'"
    at_limit = CallSite(TEST, MODULE, "m", "x" * 80)
    over = CallSite(TEST, MODULE, "m", "y" * 81)
    assert at_limit.first_line() == "x" * 80
    assert over.first_line() == "y" * 77 + "..."
    assert over.first_line(limit=10) == "yyyyyyy..."


# -- record modes ---------------------------------------------------------------------------
def test_new_episodes_records_once_then_replays(store: Store, tmp_path: Path) -> None:
    rec = make("new_episodes", store, tmp_path)
    live = Live()
    entry, replayed = rec.call(request(), live, SITE)
    assert (replayed, live.calls, entry["response"]["text"], entry["test"]) == (False, 1, "4", TEST)
    assert store.get(entry["key"]) == entry
    again, replayed = rec.call(request(), live, SITE)
    assert (again, replayed, live.calls) == (entry, True, 1)
    assert rec.stats.to_dict() == {
        "replayed": 1,
        "live": 1,
        "tokens": 7,
        "cost": 0.0,
        "replayed_tokens": 7,
        "replayed_cost": 0.0,
        "rerecorded": 0,
        "unpriced": ["m"],
        "events": [],
        "per_test": {
            TEST: {
                "calls": 2,
                "live": 1,
                "tokens": 7,
                "cost": 0.0,
                "replayed_tokens": 7,
                "replayed_cost": 0.0,
            }
        },
    }
    assert rec.write_cassettes() == [cassette(tmp_path)]
    assert cassettes.read(cassette(tmp_path)) == {entry["key"]: entry}
    assert rec.write_cassettes() == []  # nothing new


def test_a_response_without_usage_counts_what_was_sent_and_received(
    store: Store, tmp_path: Path
) -> None:
    from pytest_xgen.recording.cost import prompt_estimate

    rec = make("new_episodes", store, tmp_path)
    rec.call(request(), lambda: {"text": "4", "usage": {}}, SITE)
    rec.call(request(1), lambda: {"text": "four" * 10}, SITE)
    sent = prompt_estimate(request()) + prompt_estimate(request(1))
    assert rec.stats.tokens == sent + 0 + 10 and rec.stats.live == 2


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"text": "4", "usage": {"prompt_tokens": -1000000}}, "usage.prompt_tokens"),
        ({"text": "4", "token_logprobs": [-0.5, float("nan")]}, "token_logprobs[1]"),
    ],
)
def test_an_impossible_answer_from_any_backend_is_an_error_and_never_recorded(
    store: Store, tmp_path: Path, answer: dict[str, Any], field: str
) -> None:
    rec = make("new_episodes", store, tmp_path)
    with pytest.raises(
        ModelCallError,
        match=f"model 'm' answered with a number no answer can "
        f"have: {field.replace('[', '.').replace(']', '.')}",
    ):
        rec.call(request(), lambda: answer, SITE)
    assert len(store) == 0 and rec.write_cassettes() == []
    assert rec.stats.live == 0


def test_a_fresh_clone_replays_what_another_module_recorded(store: Store, tmp_path: Path) -> None:
    first = make("new_episodes", store, tmp_path)
    entry, _ = first.call(request(), Live(), SITE)
    first.take_pending()  # recorded, not yet in any cassette
    other = CallSite("tests/test_b.py::test_two", "tests/test_b.py", "m", "q")
    rec = make("new_episodes", store, tmp_path)
    found, replayed = rec.call(request(), Live(), other)
    assert (found, replayed) == (entry, True)
    assert rec.write_cassettes() == [cassette(tmp_path, "tests/test_b.py")]
    assert list(cassettes.read(cassette(tmp_path, "tests/test_b.py"))) == [entry["key"]]


def test_replay_only_serves_recordings_and_names_the_command_for_a_miss(
    store: Store, tmp_path: Path
) -> None:
    make("new_episodes", store, tmp_path).call(request(), Live(), SITE)
    rec = make("none", store, tmp_path)
    live = Live()
    assert rec.call(request(), live, SITE)[1] is True
    assert rec.pending == {}  # replay-only never writes cassettes
    with pytest.raises(RecordingMissError) as raised:
        rec.call(request(1), live, SITE)
    assert str(raised.value) == (
        "no recording for this call in replay-only mode (--xgen-record-mode=none): "
        f"{SITE.describe()}. Record it with: pytest --xgen-record-mode=new_episodes "
        f"'{TEST}', then commit the cassette"
    )
    assert live.calls == 0
    assert rec.write_cassettes() == []


def test_replay_only_refuses_a_damaged_cassette_and_store_entry(
    store: Store, tmp_path: Path
) -> None:
    committed(tmp_path, "{oops\n")
    with pytest.raises(CassetteError, match="line 1: not valid JSON"):
        make("none", store, tmp_path).call(request(), Live(), SITE)
    entry = make_entry(request(), {"text": "4", "usage": {}})
    store.cache.set(entry["key"], canonical_json({**entry, "digest": "0" * 64}))
    with pytest.raises(CassetteError, match="the digest does not match"):
        Recorder("none", store, None).call(request(), Live(), SITE)


def test_record_mode_once_completes_a_new_cassette_but_not_an_existing_one(
    store: Store, tmp_path: Path
) -> None:
    rec = make("once", store, tmp_path)
    assert rec.call(request(), Live(), SITE)[1] is False
    rec.call(request(1), Live(), SITE)  # the cassette does not exist yet: recorded
    rec.write_cassettes()
    later = make("once", store, tmp_path)
    assert later.call(request(), Live(), SITE)[1] is True
    with pytest.raises(RecordingMissError) as raised:
        later.call(request(2), Live(), SITE)
    assert str(raised.value) == (
        f"the cassette {cassette(tmp_path)} exists and has no recording for this call "
        f"(record mode once treats an existing cassette as complete): {SITE.describe()}. "
        f"Add it with: pytest --xgen-record-mode=new_episodes '{TEST}'\n"
        f"The closest recording (this test, this model, in {cassette(tmp_path)}) differs in "
        "messages, sample:\n"
        "    --- recorded\n"
        "    +++ this call\n"
        "    @@ -2,5 +2,5 @@\n"
        '     kind: "chat"\n'
        "    -messages[0] user: question 1\n"
        "    +messages[0] user: question 2\n"
        "     params.max_tokens: 5\n"
        "    -sample: 1\n"
        "    +sample: 2\n"
        "     v: 1"
    )


def test_a_damaged_cassette_is_re_recorded_and_rewritten_without_the_bad_line(
    store: Store, tmp_path: Path
) -> None:
    good = make_entry(request(), {"text": "4", "usage": {}}, test=TEST)
    path = committed(tmp_path, canonical_json(good) + "\n{oops\n")
    rec = make("once", store, tmp_path)
    live = Live()
    assert rec.call(request(), live, SITE)[1] is True
    assert rec.call(request(1), live, SITE)[1] is False  # not complete: once may fill it in
    assert rec.stats.events == [
        f"dropped a damaged line, re-recording: cassette {path}, line 2: not valid JSON "
        "(Expecting property name enclosed in double quotes); restore the file from version "
        "control or delete the line and re-record with --xgen-record-mode=new_episodes"
    ]
    assert rec.write_cassettes() == [path]
    assert set(cassettes.read(path)) == {good["key"], make_entry(request(1), live())["key"]}


def test_a_damaged_cassette_with_nothing_new_is_still_rewritten(
    store: Store, tmp_path: Path
) -> None:
    path = committed(tmp_path, "{oops\n")
    rec = make("new_episodes", store, tmp_path)
    rec._cassette(MODULE)
    assert rec.write_cassettes() == [path]
    assert path.read_text(encoding="utf-8") == ""
    assert len(rec.stats.events) == 1  # seen once, when read


def test_record_mode_all_makes_each_call_live_once_per_run(store: Store, tmp_path: Path) -> None:
    make("new_episodes", store, tmp_path).call(request(), Live("old"), SITE)
    rec = make("all", store, tmp_path)
    live = Live("new")
    entry, replayed = rec.call(request(), live, SITE)
    assert (replayed, entry["response"]["text"], live.calls) == (False, "new", 1)
    again, replayed = rec.call(request(), live, SITE)
    assert (again, replayed, live.calls) == (entry, True, 1)
    assert store.get(entry["key"]) == entry
    rec.write_cassettes()
    assert cassettes.read(cassette(tmp_path))[entry["key"]]["response"]["text"] == "new"


def test_a_corrupt_store_entry_is_dropped_and_recorded_anew(store: Store, tmp_path: Path) -> None:
    entry = make_entry(request(), {"text": "4", "usage": {}})
    store.cache.set(entry["key"], "{oops")
    rec = Recorder("new_episodes", store, None)
    live = Live("5")
    fresh, replayed = rec.call(request(), live, SITE)
    assert (replayed, fresh["response"]["text"], live.calls) == (False, "5", 1)
    assert rec.stats.rerecorded == 1
    assert rec.stats.events == [
        f"re-recorded {entry['key'][:12]}: cache {store.directory} entry {entry['key'][:12]}: "
        "not valid JSON (Expecting property name enclosed in double quotes)"
    ]
    assert store.get(entry["key"]) == fresh


def test_without_a_cassette_directory_only_the_store_records(store: Store) -> None:
    rec = Recorder("new_episodes", store, None)
    entry, _ = rec.call(request(), Live(), SITE)
    assert rec.pending == {} and rec.write_cassettes() == []
    assert Recorder("none", store, None).call(request(), Live(), SITE) == (entry, True)


# -- one call at a time ---------------------------------------------------------------------
def test_threads_asking_for_one_call_make_it_once(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = make("new_episodes", store, tmp_path)
    # Each thread, on first finding no recording, waits for the other three to find none
    # too: all four then ask for a call none has made, and only one may make it.
    missed = threading.Barrier(4, timeout=30)
    looked: set[int] = set()
    get = store.get

    def get_after_all_missed(key: str) -> dict[str, Any] | None:
        entry = get(key)
        if entry is None and threading.get_ident() not in looked:
            looked.add(threading.get_ident())
            missed.wait()
        return entry

    monkeypatch.setattr(store, "get", get_after_all_missed)
    calls = []

    def live() -> dict[str, Any]:
        calls.append(1)
        return {"text": "4", "usage": {}}

    results: list[bool] = []

    def ask() -> None:
        results.append(rec.call(request(), live, SITE)[1])

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert sorted(results) == [False, True, True, True]
    assert "xgen-flight:" not in "".join(str(k) for k in store.cache)


def test_a_lock_left_by_a_dead_process_is_taken_over(store: Store) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    name = "xgen-flight:abc"
    store.cache.set(name, f"{recorder._HOST}:{child.pid}")
    with recorder._store_lock(store, name, 30.0):
        value, expires = store.cache.get(name, expire_time=True)
        assert value == f"{recorder._HOST}:{os.getpid()}"
        assert time.time() + 25 < expires <= time.time() + 30
    assert store.cache.get(name) is None


def test_a_lock_is_released_only_by_its_holder(store: Store) -> None:
    name = "xgen-flight:abc"
    with recorder._store_lock(store, name, 600.0):
        store.cache.set(name, "elsewhere:1")  # expired and taken by another host meanwhile
    assert store.cache.get(name) == "elsewhere:1"


def test_a_lock_held_by_a_live_process_is_waited_for(store: Store) -> None:
    name = "xgen-flight:abc"
    store.cache.set(name, f"{recorder._HOST}:{os.getppid()}")
    taken = threading.Event()

    def take() -> None:
        with recorder._store_lock(store, name, 600.0):
            taken.set()

    thread = threading.Thread(target=take)
    thread.start()
    assert not taken.wait(0.1)
    store.cache.delete(name)
    assert taken.wait(5)
    thread.join()


def test_which_lock_holders_are_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert recorder._holder_dead(f"{recorder._HOST}:{child.pid}")
    assert not recorder._holder_dead(f"{recorder._HOST}:{os.getpid()}")
    assert not recorder._holder_dead(f"another-host:{child.pid}")
    assert not recorder._holder_dead(f"{recorder._HOST}:pid")
    assert not recorder._holder_dead(f"{recorder._HOST}:1")  # init: alive, not ours


def state(pid: int) -> str:
    """The process state letter of ``/proc/PID/stat`` (after the name, which may hold ")")."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@pytest.mark.parametrize("name", [None, b"x) R y"], ids=["python", "name-with-parenthesis"])
def test_a_killed_process_not_yet_reaped_holds_no_lock(name: bytes | None) -> None:
    rename = f"import ctypes; ctypes.CDLL(None).prctl(15, {name!r}, 0, 0, 0); " if name else ""
    # The child says when it has its name, then lives until it is killed.
    script = rename + "import sys; print('ready', flush=True); sys.stdin.read()"
    pipe = subprocess.PIPE
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=pipe, stdout=pipe, text=True
    ) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
            if name:
                assert name.decode() in Path(f"/proc/{child.pid}/stat").read_text()
            assert not recorder._holder_dead(f"{recorder._HOST}:{child.pid}")
            child.kill()
            os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped
            assert state(child.pid) == "Z"
            assert recorder._holder_dead(f"{recorder._HOST}:{child.pid}")
        finally:
            child.kill()


# -- budget and dry runs --------------------------------------------------------------------
def test_the_live_call_budget_is_shared_through_the_store(store: Store, tmp_path: Path) -> None:
    rec = make("new_episodes", store, tmp_path, max_live_calls=2)
    rec.call(request(0), Live(), SITE)
    other = make("new_episodes", store, tmp_path, max_live_calls=2)  # another worker
    other.call(request(1), Live(), SITE)
    assert store.cache.get("xgen-budget") == 2
    live = Live()
    with pytest.raises(BudgetExhaustedError) as raised:
        rec.call(request(2), live, SITE)
    assert str(raised.value) == (
        f"the live-call budget of 2 (--xgen-max-live-calls) is spent: {SITE.describe()}. "
        "Recorded work is kept; raise the budget, or replay with --xgen-record-mode=none"
    )
    assert live.calls == 0
    assert rec.call(request(0), live, SITE)[1] is True  # replays cost nothing
    rec.release_budget()
    assert "xgen-budget" not in store.cache


def test_without_a_budget_nothing_is_counted(store: Store, tmp_path: Path) -> None:
    rec = make("new_episodes", store, tmp_path, budget_key="run-1")
    for n in range(3):
        rec.call(request(n), Live(), SITE)
    assert "run-1" not in store.cache
    store.cache.set("run-1", 5)
    rec.release_budget()
    assert store.cache.get("run-1") == 5


def test_a_dry_run_plans_each_live_call_once_and_makes_none(store: Store, tmp_path: Path) -> None:
    recorded, _ = make("new_episodes", store, tmp_path).call(request(0), Live(), SITE)
    rec = make("new_episodes", store, tmp_path, dry_run=True)
    live = Live()
    assert rec.call(request(0), live, SITE)[1] is True
    planned, replayed = rec.call(request(1), live, SITE)
    assert not replayed and live.calls == 0
    assert planned["response"] == {"text": "", "usage": {}}
    assert planned["request"] == request(1)
    rec.call(request(1), live, SITE)
    messages = canonical_json(request(1)["messages"])
    assert rec.planned == {
        planned["key"]: {
            "test": TEST,
            "model": "m",
            "prompt": "What is 2+2?",
            "tokens": len(messages) // 4 + 5,
            "cost": 0.0,
        }
    }
    completion = build_request("completion", {"model": "m"}, {}, 0, prompt="p" * 40)
    key = rec.call(completion, live, SITE)[0]["key"]
    assert rec.planned[key]["tokens"] == len('"' + "p" * 40 + '"') // 4 + 256
    empty = build_request("chat", {"model": "m"}, {"max_tokens": 1}, 0, messages=[])
    assert rec.planned[rec.call(empty, live, SITE)[0]["key"]]["tokens"] == 0 + 1
    assert store.get(key) is None and rec.stats.live == 0
    assert rec.take_pending() == {MODULE: [recorded]}  # the replay, not the plans


def test_a_dry_run_in_replay_only_mode_counts_a_miss(store: Store, tmp_path: Path) -> None:
    rec = make("none", store, tmp_path, dry_run=True)
    live = Live()
    planned, replayed = rec.call(request(), live, SITE)
    assert not replayed and live.calls == 0
    assert rec.planned[planned["key"]]["miss"] == "replay-only mode (--xgen-record-mode=none)"
    assert rec.planned_misses_for(TEST) == 1 == rec.planned_for(TEST)


# -- writing cassettes ----------------------------------------------------------------------
def test_worker_recordings_are_merged_into_the_existing_cassette(
    store: Store, tmp_path: Path
) -> None:
    rec = make("new_episodes", store, tmp_path)
    kept, _ = rec.call(request(0), Live(), SITE)
    rec.write_cassettes()
    worker = make("new_episodes", store, tmp_path)
    worker._cassette(MODULE)
    new, _ = worker.call(request(1), Live(), SITE)
    handed = worker.take_pending()
    assert handed == {MODULE: [new]} and worker.take_pending() == {}
    rec.merge_pending(handed)
    rec.merge_pending({MODULE: [kept]})  # already in the file, unchanged
    assert rec.write_cassettes() == [cassette(tmp_path)]
    assert cassettes.read(cassette(tmp_path)) == {kept["key"]: kept, new["key"]: new}
    rec.merge_pending({MODULE: [kept]})
    assert rec.write_cassettes() == []


def test_a_re_recorded_answer_replaces_the_old_line(store: Store, tmp_path: Path) -> None:
    rec = make("new_episodes", store, tmp_path)
    old, _ = rec.call(request(0), Live("old"), SITE)
    rec.write_cassettes()
    new = make_entry(request(0), {"text": "new", "usage": {}}, test=TEST)
    rec.merge_pending({MODULE: [new]})
    assert rec.write_cassettes() == [cassette(tmp_path)]
    assert cassettes.read(cassette(tmp_path)) == {old["key"]: new}


def test_another_workers_damaged_line_is_reported_when_the_cassette_is_written(
    store: Store, tmp_path: Path
) -> None:
    rec = make("new_episodes", store, tmp_path)
    entry, _ = rec.call(request(0), Live(), SITE)
    path = committed(tmp_path, "{oops\n")  # appeared after this process read it
    assert rec.write_cassettes() == [path]
    assert rec.stats.events == [
        f"dropped a damaged line: cassette {path}, line 1: not valid JSON (Expecting "
        "property name enclosed in double quotes); restore the file from version control "
        "or delete the line and re-record with --xgen-record-mode=new_episodes"
    ]
    assert cassettes.read(path) == {entry["key"]: entry}


@pytest.mark.parametrize("link", ["file", "folder"])
def test_cassettes_are_never_written_through_a_link(
    store: Store, tmp_path: Path, link: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    rec = make("new_episodes", store, tmp_path)
    rec.call(request(0), Live(), SITE)
    other = CallSite("zzz/test_b.py::test_two", "zzz/test_b.py", "m", "q")
    rec.call(request(1), Live(), other)
    third = CallSite("tests/test_c.py::test_three", "tests/test_c.py", "m", "q")
    rec.call(request(2), Live(), third)
    path = cassette(tmp_path)
    path.parent.parent.mkdir(parents=True)
    if link == "file":
        path.parent.mkdir()
        path.symlink_to(outside / "target.jsonl")
    else:
        path.parent.symlink_to(outside)
    with pytest.raises(OSError) as raised:
        rec.write_cassettes()
    refused = [path] if link == "file" else [path, cassette(tmp_path, "tests/test_c.py")]
    assert str(raised.value) == "; ".join(
        f"{p} is reached through a symbolic link, and cassettes are not written through "
        "links; replace the link with a directory or file"
        for p in sorted(refused)
    )
    assert list(outside.iterdir()) == []
    assert cassette(tmp_path, "zzz/test_b.py").is_file()  # the others are written


def test_record_mode_once_without_a_cassette_directory_records(store: Store) -> None:
    rec = Recorder("once", store, None)
    assert rec.call(request(), Live(), SITE)[1] is False
    assert rec.call(request(1), Live(), SITE)[1] is False


def test_counts_add_up_over_many_calls(store: Store, tmp_path: Path) -> None:
    rec = make("new_episodes", store, tmp_path)
    for n in (0, 1, 0, 1, 0):
        rec.call(request(n), Live(tokens=3), SITE)
    assert (rec.stats.live, rec.stats.replayed, rec.stats.tokens) == (2, 3, 6)
    for n in (0, 1):
        store.cache.set(rec.call(request(n), Live(), SITE)[0]["key"], "{oops")
    fresh = Recorder("new_episodes", store, None)
    fresh.call(request(0), Live(), SITE)
    fresh.call(request(1), Live(), SITE)
    assert fresh.stats.rerecorded == 2


def test_a_module_replays_its_own_recordings_before_the_store(store: Store, tmp_path: Path) -> None:
    rec = make("new_episodes", store, tmp_path)
    entry, _ = rec.call(request(), Live(), SITE)
    store.delete(entry["key"])
    assert rec.call(request(), Live(), SITE) == (entry, True)


def test_the_flight_lock_names_the_call_and_expires(store: Store, tmp_path: Path) -> None:
    rec = make("new_episodes", store, tmp_path)
    assert rec.lock_expire == 600.0
    key = recorder.request_key(request())
    seen = []

    def live() -> dict[str, Any]:
        seen.append(store.cache.get(f"xgen-flight:{key}", expire_time=True))
        return {"text": "4", "usage": {}}

    rec.call(request(), live, SITE)
    ((holder, expires),) = seen
    assert holder == f"{recorder._HOST}:{os.getpid()}"
    assert time.time() + 590 < expires <= time.time() + 600


def test_replay_only_never_writes_cassettes_even_when_handed_entries(
    store: Store, tmp_path: Path
) -> None:
    rec = make("none", store, tmp_path)
    rec.merge_pending({MODULE: [make_entry(request(), {"text": "4", "usage": {}})]})
    assert rec.write_cassettes() == [] and not cassette(tmp_path).exists()


def test_which_lock_holders_are_gone_when_proc_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    stats = {"1": "1 (a) Z 0", "2": "2 (a) X 0", "3": "3 (a) S 0", "4": "4 (a)"}

    class FakePath:
        def __init__(self, name: str) -> None:
            self.pid = name.split("/")[2]

        def read_text(self) -> str:
            if self.pid not in stats:
                raise FileNotFoundError(self.pid)
            return stats[self.pid]

    monkeypatch.setattr(recorder, "Path", FakePath)
    monkeypatch.setattr(recorder.os, "kill", lambda pid, signal: None)
    assert [recorder._holder_dead(f"{recorder._HOST}:{pid}") for pid in (1, 2, 3, 4, 5)] == [
        True,
        True,
        False,
        False,
        False,
    ]

    def not_ours(pid: int, signal: int) -> None:
        raise PermissionError(pid)

    monkeypatch.setattr(recorder.os, "kill", not_ours)
    assert not recorder._holder_dead(f"{recorder._HOST}:1")
