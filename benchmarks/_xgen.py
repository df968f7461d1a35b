"""pytest-xgen's full replay path, timed inside one in-process pytest run.

A test replays through ``xgen.model(name).chat(...)``: the request is built and hashed,
looked up in the store (or the module's cassette), checked, turned into a ``ChatResult``,
and the ``pytest_xgen_call_done`` hook runs. The session, its recorder and that hook need
a pytest ``Config``, so the benchmark runs *inside* a real pytest run: ``in_xgen`` writes
a small project (``[tool.xgen]`` with ``record_mode = "none"``), runs ``pytest.main`` on
one generated test that asks for the ``xgen`` fixture, and that test hands the fixture to
a job of ours, which times only its replay loops.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL = "echo"
BASE_URL = "http://127.0.0.1:9/v1"  # never contacted: record mode none
TEST_FILE = "test_bench.py"

_PROJECT = """\
[tool.pytest.ini_options]
addopts = ""

[tool.xgen]
record_mode = "none"
cache_dir = ".xgen/cache"
cassette_dir = "cassettes"
cassettes = {cassettes}

[tool.xgen.models.{model}]
base_url = "{base_url}"
model = "{model}"
params = {{ temperature = 0 }}
"""

_TEST = """\
def test_bench(xgen):
    from benchmarks import _xgen

    _xgen.enter(xgen)
"""


def prompt(i: int) -> str:
    """The ``i``-th of the distinct prompts every benchmark replays."""
    return (
        f"Problem {i}: Tom has {i % 97 + 3} apples and buys {i % 13 + 1} more. "
        "How many apples does he have now? Answer with a number."
    )


def response(text: str) -> dict[str, Any]:
    """What ``tests/server.py`` answers to ``text`` (seed 0, temperature 0)."""
    return {
        "text": f"echo[seed=0,t=0]: {text}",
        "reasoning": "",
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12},
        "model": MODEL,
    }


def messages(i: int) -> list[dict[str, Any]]:
    return [{"role": "user", "content": prompt(i)}]


@dataclass
class Context:
    """What a job gets inside the pytest run."""

    xgen: Any  # the fixture (pytest_xgen.fixture.Xgen)
    n: int
    _keys: list[str] | None = None
    _messages: list[list[dict[str, Any]]] | None = None
    _recorded: Any = None  # a RecordedModel, which builds the requests

    @property
    def store(self) -> Any:
        """The run's ``pytest_xgen.recording.store.Store`` (its ``.cache`` is the diskcache)."""
        return self.xgen.session.recorder.store

    @property
    def messages(self) -> list[list[dict[str, Any]]]:
        if self._messages is None:
            self._messages = [messages(i) for i in range(self.n)]
        return self._messages

    def replay(self, start: int = 0, stop: int | None = None, *, prebuilt: bool = True) -> float:
        """Seconds to replay calls ``start`` to ``stop`` (all ``n`` by default) through
        ``xgen.model(MODEL).chat(...)``.

        ``prebuilt=False`` builds each prompt in the loop, so the run holds no list of
        ``n`` prompts (the scaling benchmark measures memory).
        """
        stop = self.n if stop is None else stop
        chat = self.xgen.model(MODEL).chat
        result = None
        if prebuilt:
            batch = self.messages[start:stop]
            began = time.perf_counter()
            for m in batch:
                result = chat(m)
            elapsed = time.perf_counter() - began
        else:
            began = time.perf_counter()
            for i in range(start, stop):
                result = chat([{"role": "user", "content": prompt(i)}])
            elapsed = time.perf_counter() - began
        expected = response(prompt(stop - 1))["text"]
        if result is None or not result.replayed or result.text != expected:
            raise AssertionError(f"the replay answered {result!r}, expected {expected!r}")
        return elapsed

    def request(self, i: int) -> dict[str, Any]:
        """The request ``xgen.model(MODEL).chat(messages(i))`` records."""
        if self._recorded is None:
            self._recorded = self.xgen.model(MODEL)
        request: dict[str, Any] = self._recorded.chat_request(messages(i))
        return request

    def prefill(self, *, cassette: bool) -> None:
        """Record the ``n`` answers: into the store, or into this module's cassette."""
        from pytest_xgen.recording import cassettes
        from pytest_xgen.recording.store import make_entry

        test = f"{TEST_FILE}::test_bench"
        if cassette:
            session = self.xgen.session
            path = cassettes.cassette_path(session.settings.path("cassette_dir"), TEST_FILE)
            entries = (make_entry(self.request(i), response(prompt(i)), test=test)
                       for i in range(self.n))  # fmt: skip
            cassettes.write(path, entries)
            return
        store = self.store
        with store.cache.transact():
            for i in range(self.n):
                store.put(make_entry(self.request(i), response(prompt(i)), test=test))

    @property
    def keys(self) -> list[str]:
        """The recording keys of the ``n`` calls, in order."""
        if self._keys is None:
            from pytest_xgen.recording.store import request_key

            self._keys = [request_key(self.request(i)) for i in range(self.n)]
        return self._keys


@dataclass
class _State:
    job: Callable[[Context], Any] | None = None
    n: int = 0
    prefill: str | None = None  # "store", "cassette" or None
    result: Any = None
    error: BaseException | None = None


_STATE = _State()


def enter(xgen: Any) -> None:
    """Called by the generated test with its ``xgen`` fixture."""
    try:
        ctx = Context(xgen, _STATE.n)
        if _STATE.prefill:
            ctx.prefill(cassette=_STATE.prefill == "cassette")
        _STATE.result = _STATE.job(ctx) if _STATE.job is not None else None
    except BaseException as exc:
        _STATE.error = exc
        raise


def project(workdir: Path, *, cassettes: bool) -> Path:
    """Write the benchmark project into ``workdir`` (kept if it is there)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "pyproject.toml").write_text(
        _PROJECT.format(cassettes=str(cassettes).lower(), model=MODEL, base_url=BASE_URL)
    )
    (workdir / TEST_FILE).write_text(_TEST)
    return workdir


def in_xgen(
    workdir: Path,
    job: Callable[[Context], Any] | None,
    *,
    n: int,
    prefill: str | None = "store",
    cassettes: bool = False,
) -> Any:
    """Run ``job(ctx)`` inside a pytest run of ``workdir`` that uses pytest-xgen in record
    mode ``none``; ``prefill`` ("store" / "cassette" / None) records the ``n`` answers first.

    Returns what the job returns; an error inside the run is raised here with pytest's output.
    """
    import pytest

    project(workdir, cassettes=cassettes or prefill == "cassette")
    _STATE.job, _STATE.n, _STATE.prefill = job, n, prefill
    _STATE.result, _STATE.error = None, None
    args = [
        str(workdir / TEST_FILE),
        "-q",
        "-p",
        "no:cacheprovider",
        "--import-mode=importlib",
        "-c",
        str(workdir / "pyproject.toml"),
        "--rootdir",
        str(workdir),
    ]
    out = io.StringIO()
    try:
        with _quiet(out):
            code = pytest.main(args)
        if _STATE.error is not None:
            raise _STATE.error
        if code != 0:
            raise RuntimeError(f"the in-process pytest run failed ({code}):\n{out.getvalue()}")
        return _STATE.result
    finally:
        _STATE.job, _STATE.result, _STATE.error = None, None, None


@contextlib.contextmanager
def _quiet(out: io.StringIO) -> Iterator[None]:
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        yield
