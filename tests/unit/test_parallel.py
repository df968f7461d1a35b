"""Calls made at once: the thread pool behind --xgen-concurrency and the worker count the
session picks (one for the local server). Inner runs with concurrency are in
tests/plugin/test_parallel.py."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from pytest_xgen.checks import parallel
from pytest_xgen.checks.parallel import Pool, run_all
from pytest_xgen.session import XgenSession
from pytest_xgen.settings.config import Settings
from tests.helpers import pool_threads

# -- run_all -------------------------------------------------------------------------------


def test_results_keep_the_order_of_the_calls() -> None:
    # Each even call waits for the odd call after it, so the calls finish out of order.
    done = [threading.Event() for _ in range(12)]
    finished: list[int] = []

    def call(i: int) -> Any:
        def run() -> int:
            if i % 2 == 0:
                assert done[i + 1].wait(timeout=10)
            finished.append(i)
            done[i].set()
            return i

        return run

    assert run_all([call(i) for i in range(12)], workers=4) == list(range(12))
    assert finished != sorted(finished)
    assert pool_threads() == []


def test_one_worker_or_one_call_runs_inline() -> None:
    here = threading.get_ident()
    assert run_all([threading.get_ident] * 3, workers=1) == [here] * 3
    assert run_all([threading.get_ident], workers=8) == [here]
    assert run_all([], workers=8) == []


def test_calls_really_overlap() -> None:
    together = threading.Barrier(4)  # passes only when four calls wait at once

    def call() -> bool:
        together.wait(timeout=10)
        return True

    assert run_all([call] * 4, workers=4) == [True] * 4


def test_the_earliest_failure_is_raised_after_the_running_calls_finish(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The later call in the list fails first; the calls still running (the earlier failure
    # among them) go on only once the pool has cancelled the calls not started, which it
    # does only after it saw that first failure.
    cancelled = threading.Event()

    class Watched(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            future = super().submit(fn, *args, **kwargs)
            future.add_done_callback(seen)
            return future

    def seen(future: Future[Any]) -> None:
        if future.cancelled():
            cancelled.set()

    monkeypatch.setattr(parallel, "ThreadPoolExecutor", Watched)
    finished: list[str] = []

    def slow_ok() -> None:
        assert cancelled.wait(timeout=10)
        finished.append("slow")

    def late_failure() -> None:
        assert cancelled.wait(timeout=10)
        raise ValueError("the earlier call failed")

    def early_failure() -> None:
        raise KeyError("the later call failed first")

    def later(i: int) -> Any:
        def run() -> None:
            assert cancelled.wait(timeout=10)
            finished.append(f"later {i}")

        return run

    calls = [slow_ok, late_failure, early_failure, *[later(i) for i in range(20)]]
    with pytest.raises(ValueError, match="the earlier call failed"):
        run_all(calls, workers=3)
    assert "slow" in finished  # waited for, not abandoned
    # Three threads: besides the two above, at most the one that ran the first failure
    # took a next call before the rest were cancelled.
    assert len(finished) <= 2
    assert pool_threads() == []


def test_pytest_outcomes_pass_through() -> None:
    def skip() -> None:
        pytest.skip("from a worker thread")

    with pytest.raises(pytest.skip.Exception, match="from a worker thread"):
        run_all([lambda: 1, skip], workers=2)


def test_a_pool_keeps_its_threads_until_closed() -> None:
    pool = Pool()
    try:
        first = pool.run_all([threading.get_ident] * 8, workers=4)
        assert len(pool_threads()) == 4  # started up front, kept for the next check
        second = pool.run_all([threading.get_ident] * 8, workers=4)
        assert set(first) | set(second) <= {t.ident for t in pool_threads()}

        def nested() -> list[int]:
            # A call that fans out itself runs its calls inline: no waiting for a free thread.
            return pool.run_all([threading.get_ident] * 3, workers=4)

        [inner] = pool.run_all([nested, lambda: []], workers=4)[:1]
        assert len(set(inner)) == 1
    finally:
        pool.close()
    assert pool_threads() == []


# -- the worker count ----------------------------------------------------------------------

MODELS = {
    "q": {"local": "qwen2.5-coder-0.5b"},
    "s": {"local": "smollm2-135m"},
    "g": {"base_url": "http://127.0.0.1:1/v1", "model": "g"},
}


def session(config: pytest.Config, **settings: Any) -> XgenSession:
    return XgenSession(config, Settings(models=MODELS, **settings))


def test_local_models_get_one_worker(pytestconfig: pytest.Config) -> None:
    s = session(pytestconfig)
    assert s.settings.concurrency == 32
    assert s.workers_for(["q"]) == 1
    assert s.workers_for(["q", "s"]) == 1  # one server, one request at a time
    assert s.workers_for(["g"]) == 32
    # In a mix the remote calls overlap; the local ones still take turns (see record()).
    assert s.workers_for(["q", "g"]) == 32
    assert session(pytestconfig, concurrency=8).workers_for(["g"]) == 8
    assert session(pytestconfig, concurrency=1).workers_for(["g"]) == 1
    # A model mapped onto an embedded one is local too.
    assert session(pytestconfig, model_map={"g": "q"}).workers_for(["g"]) == 1
