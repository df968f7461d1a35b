"""One typed object per pytest run: settings, models, the recorder and the local server.

Registered as a plugin under the name ``xgen-session``; its hook implementations write
cassettes, stop the server and print the summary. Importing this module stays light:
``openai``, ``diskcache`` and llama.cpp load on first use.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from pytest_xgen.errors import RecordingMissError, XgenConfigError, hide_frame
from pytest_xgen.report.outputs import Outputs
from pytest_xgen.reporter import XgenReporter
from pytest_xgen.settings import names
from pytest_xgen.settings.config import Settings

__tracebackhide__ = hide_frame

if TYPE_CHECKING:
    from pytest_xgen.models.base import ChatModel
    from pytest_xgen.models.local import LocalServer
    from pytest_xgen.recording.recorder import CallSite, Recorder

WORKER_KEY = "xgen"
HYPOTHESIS_MISS = (
    "This is a Hypothesis test: its examples come from a seed made from the test's source, "
    "so any edit of the test (even expected=8 to expected=4 + 4) draws other examples, "
    "whose calls were never recorded. Record them with --xgen-record-mode=new_episodes and "
    "commit the cassette."
)

T = TypeVar("T")


class XgenSession:
    """The state of one pytest-xgen run (one per process under pytest-xdist)."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.is_worker = hasattr(config, "workerinput")
        # One id per run, shared with pytest-xdist workers: it names the live-call budget.
        workerinput = getattr(config, "workerinput", {})
        self.run_id: str = workerinput.get("xgen_run_id") or uuid.uuid4().hex
        self.dry_run = bool(config.getoption("xgen_dry_run") or config.getini("xgen_dry_run"))
        # The Hypothesis tests of this run, by node id (a miss in one explains itself).
        self.hypothesis_tests: set[str] = set()
        # Dry run, per Hypothesis test: examples drawn, and the most calls one planned.
        self.dry_examples: dict[str, dict[str, int]] = {}
        # Dry run: tests stopped by a blank answer; their later calls are not counted.
        self.dry_stopped: set[str] = set()
        # By the name a test asks for and the table it runs (they differ under a model map).
        self._models: dict[tuple[str, str], ChatModel] = {}
        self._local: dict[str, bool] = {}  # is_local, by name
        self._modules: dict[Path, str] = {}  # module_of, by test file
        self._recorder: Recorder | None = None
        self._servers: dict[str, LocalServer] = {}
        self._lock = threading.Lock()
        # Calls of one check run on threads (see fan_out): building a model, reporting a
        # finished call and calling the single-threaded local server each take a lock.
        self._models_lock = threading.RLock()
        self._done_lock = threading.RLock()
        self._local_lock = threading.Lock()
        self._pool: Any = None  # pytest_xgen.checks.parallel.Pool, started on first use
        self.written: list[Path] = []  # cassette files
        self.server_notes: list[str] = []
        # Controller side: per test node id, its outcome, calls and checks (JSON data).
        self.tests: dict[str, dict[str, Any]] = {}
        # The report files, the baseline run and the gate.
        self.outputs = Outputs(config, settings)
        # What the terminal shows (header, progress, summary), registered beside this.
        self.reporter = XgenReporter(self)

    # -- parts, built on first use --------------------------------------------------------
    @property
    def recorder(self) -> Recorder:
        if self._recorder is not None:
            return self._recorder
        with self._models_lock:
            return self._make_recorder()

    def _make_recorder(self) -> Recorder:
        if self._recorder is None:
            # Here, not at the top: every pytest run loads this module, and one that makes
            # no model call never needs the recorder, the store or the cassettes.
            from pytest_xgen.recording.recorder import Recorder
            from pytest_xgen.recording.store import Store

            s = self.settings
            self._recorder = Recorder(
                s.record_mode,
                Store(s.path("cache_dir")),
                s.path("cassette_dir") if s.cassettes else None,
                max_live_calls=s.max_live_calls,
                budget_key=f"xgen-budget:{self.run_id}",
                max_cost=s.max_cost,
                price_of=self.price,
                dry_run=self.dry_run,
                model_map=s.model_map,
                # A lock whose holder died frees itself once the slowest call would be over.
                lock_expire=s.timeout * (s.max_retries + 1) + 60,
            )
        return self._recorder

    @property
    def local_models(self) -> list[str]:
        """The embedded models whose server this run has (each built model asks for its own,
        see :meth:`server`)."""
        return sorted(self._servers)

    def server(self, local: str) -> LocalServer:
        """The llama.cpp server of the embedded model ``local``: one process per model, so
        that a check alternating between models (an ensemble's generators and scorer) never
        waits for the server to unload one model and load another."""
        with self._lock:
            if local not in self._servers:
                from pytest_xgen.models.local import LocalServer

                s = self.settings
                self._servers[local] = LocalServer(
                    [local],
                    models_dir=s.path("models_dir"),
                    n_ctx=s.local_n_ctx,
                    n_threads=s.local_n_threads,
                    log_path=s.path("cache_dir").parent / f"llama-server-{local}.log",
                )
            return self._servers[local]

    def price(self, name: str) -> tuple[float, ...] | None:
        """What model ``name`` (after ``--xgen-model-map``) costs per million input and output
        tokens (and cache reads and writes, when its table prices them): its table's
        ``price``; 0 for an embedded model without one; else ``None``."""
        spec = self.settings.models.get((self.settings.model_map or {}).get(name, name)) or {}
        price = spec.get("price")
        if price is not None:
            from pytest_xgen.recording.cost import price_of

            return price_of(price)
        from pytest_xgen.models.base import backend_of

        return (0.0, 0.0) if spec and backend_of(spec) == "local" else None

    def secret_params(self, name: str) -> tuple[str, ...]:
        """The ``secret_params`` of the model that runs as ``name``."""
        spec = self.settings.models.get((self.settings.model_map or {}).get(name, name)) or {}
        return tuple(spec.get("secret_params", ()))

    def model(self, name: str) -> ChatModel:
        """The model that runs as ``name`` (after ``--xgen-model-map``), built once through
        ``pytest_xgen_make_model``."""
        target = (self.settings.model_map or {}).get(name, name)
        if target not in self.settings.models:
            models = self.settings.models
            raise XgenConfigError(
                f"unknown {names.listing([name], models)}; "
                f"{names.configured(models, self.settings.none_found())}. Add it under "
                f"{names.table(name)} or with --xgen-model {name}=local:smollm2-135m"
            )
        return self._built(name, target)

    def table_model(self, name: str) -> ChatModel:
        """The model of the table ``name`` itself, whatever the model map says (what the
        header and the report's list of models describe)."""
        return self._built(name, name)

    def _built(self, name: str, table: str) -> ChatModel:
        """The model asked for as ``name`` and built from the table ``table``, built once."""
        with self._models_lock:
            if (name, table) not in self._models:
                self._models[name, table] = self._build(name, self.settings.models[table])
            return self._models[name, table]

    def _build(self, name: str, spec: dict[str, Any]) -> ChatModel:
        from pytest_xgen.models.base import backend_of

        try:
            model: ChatModel | None = self.config.hook.pytest_xgen_make_model(
                name=name, spec=spec, session=self
            )
        except XgenConfigError as exc:
            # Raised afresh: the hook's frames hold the spec (base_url and all) among
            # their locals, which -l would print.
            raise XgenConfigError(str(exc)) from None
        if model is None:
            raise XgenConfigError(
                f"model {name!r}: no plugin builds backend {backend_of(spec)!r} (the table "
                f"has keys {', '.join(sorted(spec))}); implement pytest_xgen_make_model in "
                "a plugin or the rootdir conftest.py, see docs/models.md"
            )  # the keys, not their values: they may hold secrets
        return model

    def check_models(self) -> None:
        """Build every configured model now, so that a table its backend rejects (a
        ``base_url`` with credentials, a plugin backend's own keys) stops the run before
        any test, with every problem listed."""
        problems = []
        for name in sorted(self.settings.models):
            try:
                self.table_model(name)
            except XgenConfigError as exc:
                problems.append(str(exc))
        if problems:
            raise pytest.UsageError("xgen: " + "\nxgen: ".join(problems))

    def record(
        self, request: dict[str, Any], live: Callable[[], dict[str, Any]], site: CallSite
    ) -> tuple[dict[str, Any], bool]:
        if self.is_local(site.model):
            live = self._one_at_a_time(live)
        try:
            entry, replayed = self.recorder.call(request, live, site)
        except RecordingMissError as exc:
            if site.test not in self.hypothesis_tests:
                raise
            raise RecordingMissError(f"{exc}\n{HYPOTHESIS_MISS}") from None
        # Hook implementations (and the progress line) see one finished call at a time,
        # even when a check's calls run on several threads.
        with self._done_lock:
            self.config.hook.pytest_xgen_call_done(
                session=self, model=site.model, test=site.test, entry=entry, replayed=replayed
            )
        return entry, replayed

    def _one_at_a_time(self, live: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
        def serialised() -> dict[str, Any]:
            with self._local_lock:
                return live()

        return serialised

    def module_of(self, path: Path) -> str:
        """The test file at ``path`` as cassettes name it: relative to the rootdir (its
        name alone outside it)."""
        module = self._modules.get(path)
        if module is None:
            try:
                module = str(path.relative_to(self.config.rootpath))
            except ValueError:
                module = path.name
            self._modules[path] = module
        return module

    # -- calls made at once ----------------------------------------------------------------
    def is_local(self, name: str) -> bool:
        """Whether calls to model ``name`` (after ``--xgen-model-map``) must take turns:
        the model says so with ``one_at_a_time`` (the embedded llama.cpp server does)."""
        local = self._local.get(name)
        if local is None:  # asked on every call: the answer is the built model's, kept
            from pytest_xgen.models.base import one_at_a_time

            local = self._local[name] = one_at_a_time(self.model(name))
        return local

    def workers_for(self, models: Iterable[str]) -> int:
        """How many calls among ``models`` may run at once: the ``concurrency`` setting, or
        1 when every model is embedded (the local server answers one request at a time;
        in a mix, the local calls still take turns, see :meth:`record`)."""
        names = set(models)
        if not names or all(self.is_local(name) for name in names):
            return 1
        return max(1, int(self.settings.concurrency))

    def fan_out(self, calls: Sequence[Callable[[], T]], models: Iterable[str]) -> list[T]:
        """Run independent ``calls`` (of ``models``) at once, on the run's thread pool;
        results in call order (see :func:`pytest_xgen.checks.parallel.run_all`)."""
        workers = self.workers_for(models)
        if workers <= 1 or len(calls) <= 1:
            return [call() for call in calls]
        with self._models_lock:
            if self._pool is None:
                from pytest_xgen.checks.parallel import Pool

                self._pool = Pool()
            pool = self._pool
        results: list[T] = pool.run_all(calls, workers)
        return results

    # -- default model factory -------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_xgen_make_model(
        self, name: str, spec: dict[str, Any], session: XgenSession
    ) -> ChatModel | None:
        from pytest_xgen.models.base import backend_of

        s = self.settings
        timeout = float(spec.get("timeout", s.timeout))
        retries = int(spec.get("max_retries", s.max_retries))
        backend = backend_of(spec)
        if backend == "local":
            from pytest_xgen.models.local import LocalChatModel

            return LocalChatModel(
                name,
                spec["local"],
                self.server(spec["local"]),
                params=spec.get("params"),
                timeout=timeout,
                max_retries=retries,
            )
        if backend == "openai-responses":
            from pytest_xgen.models.openai_responses import OpenAIResponsesModel

            return OpenAIResponsesModel.from_spec(name, spec, timeout=timeout, max_retries=retries)
        if backend == "anthropic":
            from pytest_xgen.models.anthropic_messages import AnthropicModel

            return AnthropicModel.from_spec(name, spec, timeout=timeout, max_retries=retries)
        if backend != "openai":
            return None  # another plugin's backend
        from pytest_xgen.models.openai_chat import OpenAIChatModel

        return OpenAIChatModel(
            name,
            base_url=spec["base_url"],
            model=spec["model"],
            api_key_env=spec.get("api_key_env"),
            params=spec.get("params"),
            timeout=timeout,
            max_retries=retries,
            headers_env=spec.get("headers_env"),
        )

    # -- results ---------------------------------------------------------------------------
    def test_data(self, item: pytest.Item, checks: list[dict[str, Any]]) -> dict[str, Any] | None:
        """What the report keeps of one test: its calls and checks (None if it made none)."""
        if not checks and (
            self._recorder is None or item.nodeid not in self._recorder.stats.per_test
        ):
            return None  # a test that made no call (every test of a run without xgen)
        from pytest_xgen.recording.recorder import PER_TEST

        counts: dict[str, Any] = dict.fromkeys(PER_TEST, 0)
        if self._recorder is not None:
            counts.update(self._recorder.stats.per_test.get(item.nodeid, {}))
        if not checks and not counts["calls"]:
            return None
        for name in ("cost", "replayed_cost"):
            counts[name] = round(counts[name], 9)
        return {**counts, "checks": checks}

    def hand_off(self) -> dict[str, list[dict[str, Any]]] | None:
        """A worker's recordings not yet handed to the controller (``None`` elsewhere)."""
        if not self.is_worker or self._recorder is None:
            return None
        return self._recorder.take_pending() or None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        pending = getattr(report, "xgen_pending", None)
        if pending and not self.is_worker:
            self.recorder.merge_pending(pending)
        data = getattr(report, "xgen", None)
        if self.is_worker or data is None or report.when != "call":
            return
        self.tests[report.nodeid] = {"outcome": _outcome(report), **data}

    def identities(self) -> dict[str, dict[str, str]]:
        """Each configured model as its recordings name it: no credentials."""
        return {
            name: dict(self.table_model(name).identity) for name in sorted(self.settings.models)
        }

    def build_report(self) -> dict[str, Any]:
        from pytest_xgen.recording.recorder import CallStats
        from pytest_xgen.report.build import build_report

        stats = self._recorder.stats if self._recorder is not None else CallStats()
        workers = getattr(self.config.option, "numprocesses", 0)
        return build_report(
            settings=self.settings,
            identities=self.identities(),
            model_map=self.settings.model_map or {},
            tests=self.tests,
            stats=stats.to_dict(),
            workers=workers if isinstance(workers, int) else 0,
        )

    # -- end of run ------------------------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist controller: workers share this run's id (and so its budget)."""
        node.workerinput["xgen_run_id"] = self.run_id

    def planned_calls(self, test: str) -> int:
        """Dry run: how many calls of ``test`` would be made live so far."""
        return 0 if self._recorder is None else self._recorder.planned_for(test)

    def skip_if_dry(self, item: pytest.Item, *, stopped: bool = False) -> None:
        """In a dry run, a test that needed live calls is skipped: its answers were blanks.
        With ``stopped`` the test raised (on a blank answer, most likely) before its end."""
        if not self.dry_run:
            return
        needed = self.planned_calls(item.nodeid)
        if not needed:
            return
        if stopped:
            self.dry_stopped.add(item.nodeid)
        hypothesis = self.dry_examples.get(item.nodeid)
        more = ""
        if item.nodeid in self.dry_stopped:
            more = " or more (it stopped at a blank answer; later calls are not counted)"
        if hypothesis is not None:
            more += (
                f" ({hypothesis['examples']} Hypothesis example(s), every one drawn; "
                f"shrinking a failure adds up to {hypothesis['per']} per step)"
            )
        misses = self.recorder.planned_misses_for(item.nodeid)
        if misses:  # the record mode would not make them: a real run fails on each
            pytest.skip(
                f"dry run: {needed} call(s) of this test have no recording, and record mode "
                f"{self.settings.record_mode} would not make {misses} of them live (a real run "
                f"fails on a miss){more}; record them with --xgen-record-mode=new_episodes"
            )
        pytest.skip(f"dry run: {needed} call(s) of this test would be made live{more}")

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """pytest-xdist controller: take a finished worker's recordings and counts."""
        data = getattr(node, "workeroutput", {}).get(WORKER_KEY)
        if not data and error is not None:
            worker = getattr(node, "gateway", None)
            name = getattr(worker, "id", "a worker")
            self.recorder.stats.events.append(
                f"{name} ended without handing over its counts ({error}): the "
                "call counts above miss its calls; the recordings of its finished tests were "
                "handed over with their reports and are written, a test it was running is "
                "recorded again next run"
            )
        if data:
            self.recorder.merge_pending(data["pending"])
            self.recorder.stats.add(data["stats"])
            self.server_notes.extend(data["server"])
            self.recorder.planned.update(data["planned"])
            self.dry_examples.update(data.get("dry_examples", {}))
            self.dry_stopped.update(data.get("dry_stopped", ()))

    @pytest.hookimpl(tryfirst=True)  # before the terminal summary, which reads the results
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        try:
            if self._recorder is not None:
                if self.is_worker:
                    # Workers hand their recordings to the controller, which alone writes
                    # cassette files, so two workers never write one file.
                    self.config.workeroutput[WORKER_KEY] = {  # type: ignore[attr-defined]
                        "pending": self._recorder.take_pending(),
                        "stats": self._recorder.stats.to_dict(),
                        "server": self._stop_servers(),
                        "planned": self._recorder.planned,
                        "dry_examples": self.dry_examples,
                        "dry_stopped": sorted(self.dry_stopped),
                    }
                else:
                    try:
                        self.written = self._recorder.write_cassettes()
                    except OSError as exc:
                        # The recordings are safe in the store: say so and fail the run.
                        self._recorder.stats.events.append(
                            f"could not write cassettes ({exc}); the recordings are kept in "
                            f"{self.settings.path('cache_dir')}: fix the cassette directory "
                            "and run again to write them"
                        )
                        session.exitstatus = pytest.ExitCode.TESTS_FAILED
            if not self.is_worker:
                try:
                    hook = self.config.hook.pytest_xgen_report
                    if self.outputs.wanted or hook.get_hookimpls():
                        doc = self.build_report()
                        if self.outputs.wanted:
                            self.outputs.write(doc, session)
                        hook(report=doc, session=self)
                except OSError as exc:
                    # A report path that is a directory, a full disk: the run's results
                    # stand, the summary still prints, and the reason is shown.
                    self.outputs.errors.append(
                        f"could not write a report: {exc}; choose another path "
                        "(--xgen-report / --xgen-html / --xgen-save)"
                    )
                    session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
                if self._recorder is not None:
                    self._recorder.release_budget()
        finally:
            self.close()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.close()

    def _stop_servers(self) -> list[str]:
        notes = []
        for server in self._servers.values():
            if server.process is None:
                continue
            server.stop()
            notes.append(
                f"local llama.cpp server served {', '.join(server.models)} on 127.0.0.1:"
                f"{server.port}, now stopped"
            )
            server.process = None
        return notes

    def close(self) -> None:
        """Join the call threads, stop the local server and close the store (idempotent)."""
        if self._pool is not None:
            self._pool.close()
        self.server_notes.extend(self._stop_servers())
        if self._recorder is not None:
            self._recorder.store.close()


def _outcome(report: pytest.TestReport) -> str:
    if getattr(report, "xgen_error", False):
        return "error"
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    return report.outcome
