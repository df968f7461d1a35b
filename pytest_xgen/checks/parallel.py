"""Independent model calls made at once on a thread pool, their results in call order.

A check's calls wait on the network, not the CPU, so threads overlap them well. The
session keeps one :class:`Pool` of started threads for the run (a thread started while
others hold the interpreter lock waits for it, which would delay every check's first
calls) and closes it, joining every thread, when the run ends. :func:`run_all` without a
pool makes its own and joins it before returning. No thread outlives the run.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from pytest_xgen.errors import TransferFailed, XgenConfigError, XgenInfraError, hide_frame

__tracebackhide__ = hide_frame

T = TypeVar("T")

THREAD_PREFIX = "xgen-call"
STARTED_AHEAD = 64  # threads a pool starts up front; beyond these they start on demand


# fan_out(calls, models) -> the calls' results in call order. The session's runs the calls
# at once (threads); ``serial`` runs them one after another. Either starts the calls in
# order (a call may wait for an earlier one, never for a later one).
FanOut = Callable[[Sequence[Callable[[], Any]], Iterable[str]], list[Any]]


def serial(calls: Sequence[Callable[[], Any]], models: Iterable[str] = ()) -> list[Any]:
    """Run ``calls`` one after another (the default :data:`FanOut`)."""
    return [call() for call in calls]


def run_all(
    calls: Sequence[Callable[[], T]], workers: int, pool: ThreadPoolExecutor | None = None
) -> list[T]:
    """``[call() for call in calls]``, with up to ``workers`` calls running at once (on
    ``pool``'s threads if given, else on a pool of its own).

    The results are in the order of ``calls`` whatever order the calls finish in, and the
    calls start in that order: a call may wait for an earlier one. With ``workers <= 1``, a
    single call, or when called from one of the pool's threads, the calls run inline, in
    order, on this thread.

    When a call raises, the calls not started yet are cancelled, the running ones are
    waited for, and then the exception of the earliest failed call (in the order of
    ``calls``) is raised: the one a serial run would have raised, since every call before a
    started call was started too.
    """
    if workers <= 1 or len(calls) <= 1 or _in_pool():
        return [call() for call in calls]
    if pool is not None:
        return _gather(pool, calls)
    with ThreadPoolExecutor(min(workers, len(calls)), THREAD_PREFIX) as own:  # joins on exit
        return _gather(own, calls)


def _in_pool() -> bool:
    return threading.current_thread().name.startswith(THREAD_PREFIX)


def _gather(pool: ThreadPoolExecutor, calls: Sequence[Callable[[], T]]) -> list[T]:
    futures: list[Future[T]] = []
    try:
        futures = [pool.submit(call) for call in calls]
        wait(futures, return_when=FIRST_EXCEPTION)
    finally:
        # After a failure (or an interrupt) nothing new starts; what runs is waited for, so
        # no call is left running behind the test's back.
        for future in futures:
            future.cancel()
        wait(futures)
    for future in futures:
        if not future.cancelled():
            error = future.exception()
            if error is not None:
                if _user_facing(error):
                    # Its message says it all: shown from the test's line, as if raised
                    # there, not from the worker thread's frames.
                    raise error.with_traceback(None)
                raise error
    return [future.result() for future in futures]


def _user_facing(error: BaseException) -> bool:
    return isinstance(error, (XgenInfraError, XgenConfigError, TransferFailed))


class Pool:
    """Thread pools by size, their threads started up front, kept until :meth:`close`."""

    def __init__(self) -> None:
        self._pools: dict[int, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()

    def get(self, workers: int) -> ThreadPoolExecutor:
        """The pool of ``workers`` threads, up to :data:`STARTED_AHEAD` of them started."""
        with self._lock:
            pool = self._pools.get(workers)
            if pool is None:
                pool = ThreadPoolExecutor(workers, THREAD_PREFIX)
                _start_threads(pool, min(workers, STARTED_AHEAD))
                self._pools[workers] = pool
            return pool

    def run_all(self, calls: Sequence[Callable[[], T]], workers: int) -> list[T]:
        """:func:`run_all` on this pool's threads."""
        if workers <= 1 or len(calls) <= 1 or _in_pool():
            return [call() for call in calls]
        return run_all(calls, workers, self.get(workers))

    def close(self) -> None:
        """Stop every pool and join its threads (idempotent)."""
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)


def _start_threads(pool: ThreadPoolExecutor, count: int) -> None:
    """Make ``pool`` start ``count`` threads now: a task per thread that waits for the
    others (a free thread would otherwise take the next task instead of a new one
    starting)."""
    together = threading.Barrier(count)

    def meet() -> None:
        # Broken only if a thread failed to start in time: the pool still works.
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait(timeout=10)

    wait([pool.submit(meet) for _ in range(count)])
