"""Record modes: every model call is looked up, replayed, or made live and recorded.

=============  ==========================================================================
mode           behaviour
=============  ==========================================================================
none           replay only; a call without a recording is an error (nothing is called)
once           replay what is recorded; a module *without* a cassette records what is
               missing; a module whose cassette exists is complete, and a new call in it
               is an error that names the command to extend it (pytest-recording's once)
new_episodes   replay what is recorded, record what is missing, extend the cassettes
all            make every call live once per run and overwrite its recording
=============  ==========================================================================

Lookup order is the module's cassette, then the diskcache store. Errors (HTTP errors,
time-outs, malformed responses) raise before anything is written, so they are never
recorded.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_xgen.core import finite
from pytest_xgen.core.printable import money
from pytest_xgen.errors import (
    BudgetExhaustedError,
    CassetteError,
    ModelCallError,
    RecordingMissError,
    hide_frame,
)
from pytest_xgen.models.base import EXTRA_USAGE
from pytest_xgen.recording import cassettes, miss
from pytest_xgen.recording.budget import CostBudget
from pytest_xgen.recording.cost import (
    Price,
    estimate,
    estimated_cost,
    prompt_cost,
    spent_cost,
    spent_tokens,
)
from pytest_xgen.recording.store import Store, make_entry, request_key

__tracebackhide__ = hide_frame


# What the report keeps per test: calls, live calls, tokens and cost of the live calls, and
# the recorded tokens and cost of the replayed ones.
PER_TEST = ("calls", "live", "tokens", "cost", "replayed_tokens", "replayed_cost")
# The parts of those tokens some APIs report (reasoning tokens, prompt-cache reads and
# writes: :data:`pytest_xgen.models.base.EXTRA_USAGE`), of the live calls and, with the
# ``replayed_`` prefix, of the replayed ones. Kept per test and in the totals only once one
# is not zero, so a run of chat completions alone reports what it did before.
TOKEN_PARTS = EXTRA_USAGE
PARTS = (*TOKEN_PARTS, *(f"replayed_{name}" for name in TOKEN_PARTS))


def token_parts(usage: dict[str, Any]) -> dict[str, int]:
    """The :data:`TOKEN_PARTS` of a call's ``usage`` that are not zero."""
    found = {name: int(usage.get(name) or 0) for name in TOKEN_PARTS}
    return {name: count for name, count in found.items() if count}


@dataclass
class CallStats:
    """Counts for the terminal summary; additive across pytest-xdist workers.

    ``tokens`` and ``cost`` are those of live calls; ``replayed_tokens`` and
    ``replayed_cost`` what the replayed calls took when they were recorded (at the prices
    configured now). ``parts`` holds the non-zero :data:`PARTS`: how many of those tokens
    were reasoning tokens (already among the completion tokens) and prompt-cache reads and
    writes (input tokens the Anthropic API counts apart from the prompt tokens, and
    ``tokens`` counts with them: every token billed).
    """

    replayed: int = 0
    live: int = 0
    tokens: int = 0
    cost: float = 0.0
    replayed_tokens: int = 0
    replayed_cost: float = 0.0
    rerecorded: int = 0
    events: list[str] = field(default_factory=list)
    per_test: dict[str, dict[str, Any]] = field(default_factory=dict)
    unpriced: set[str] = field(default_factory=set)  # models called without a price
    parts: dict[str, int] = field(default_factory=dict)

    def count(
        self,
        test: str,
        *,
        live: bool,
        tokens: int = 0,
        cost: float = 0.0,
        parts: dict[str, int] | None = None,
    ) -> None:
        entry = self.per_test.setdefault(test, dict.fromkeys(PER_TEST, 0))
        entry["calls"] += 1
        if live:
            self.live += 1
            self.tokens += tokens
            self.cost += cost
            entry["live"] += 1
            entry["tokens"] += tokens
            entry["cost"] += cost
        else:
            self.replayed += 1
            self.replayed_tokens += tokens
            self.replayed_cost += cost
            entry["replayed_tokens"] += tokens
            entry["replayed_cost"] += cost
        for name, value in (parts or {}).items():
            if value:
                name = name if live else f"replayed_{name}"
                self.parts[name] = self.parts.get(name, 0) + value
                entry[name] = entry.get(name, 0) + value

    def add(self, other: dict[str, Any]) -> None:
        self.replayed += int(other.get("replayed", 0))
        self.live += int(other.get("live", 0))
        self.tokens += int(other.get("tokens", 0))
        self.cost += float(other.get("cost", 0))
        self.replayed_tokens += int(other.get("replayed_tokens", 0))
        self.replayed_cost += float(other.get("replayed_cost", 0))
        self.rerecorded += int(other.get("rerecorded", 0))
        self.unpriced.update(other.get("unpriced", ()))
        self.events.extend(other.get("events", []))
        for name in PARTS:
            if other.get(name):
                self.parts[name] = self.parts.get(name, 0) + int(other[name])
        for test, counts in other.get("per_test", {}).items():
            entry = self.per_test.setdefault(test, dict.fromkeys(PER_TEST, 0))
            for name in (*PER_TEST, *PARTS):
                if name in entry or counts.get(name):
                    entry[name] = entry.get(name, 0) + counts.get(name, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "replayed": self.replayed,
            "live": self.live,
            "tokens": self.tokens,
            "cost": self.cost,
            "replayed_tokens": self.replayed_tokens,
            "replayed_cost": self.replayed_cost,
            **{name: self.parts[name] for name in PARTS if self.parts.get(name)},
            "rerecorded": self.rerecorded,
            "unpriced": sorted(self.unpriced),
            "events": list(self.events),
            "per_test": {t: dict(c) for t, c in self.per_test.items()},
        }


@dataclass(frozen=True)
class CallSite:
    """Who is calling, for error messages and the cassette a call belongs to."""

    test: str
    module: str
    model: str
    prompt: str
    runs_as: str = ""
    """The model that answers in place of ``model`` under ``--xgen-model-map`` (empty: none)."""

    @property
    def shown_model(self) -> str:
        """The model as messages name it: ``smollm→qwen-follower`` when mapped."""
        if self.runs_as and self.runs_as != self.model:
            return f"{self.model}\u2192{self.runs_as}"
        return self.model

    def describe(self) -> str:
        return f"test {self.test}, model {self.shown_model!r}, prompt {self.first_line()!r}"

    def first_line(self, limit: int = 80) -> str:
        """The start of the prompt on one line (labels such as "Problem:" keep their text)."""
        line = " ".join(self.prompt.split())
        return line if len(line) <= limit else line[: limit - 3] + "..."


class Recorder:
    """Serves recordings and records live calls under one record mode."""

    def __init__(
        self,
        mode: str,
        store: Store,
        cassette_dir: Path | None,
        *,
        max_live_calls: int | None = None,
        budget_key: str = "xgen-budget",
        max_cost: float | None = None,
        price_of: Callable[[str], Price | None] = lambda model: None,
        dry_run: bool = False,
        lock_expire: float = 600.0,
        model_map: dict[str, str] | None = None,
    ) -> None:
        self.mode = mode
        self.store = store
        self.cassette_dir = cassette_dir
        self.max_live_calls = max_live_calls
        self.budget_key = budget_key
        self.max_cost = max_cost
        self.price_of = price_of
        self.dry_run = dry_run
        self.lock_expire = lock_expire
        self.model_map = dict(model_map or {})
        # Dry run: the calls a real run would make live, by key (test, model, prompt, tokens).
        self.planned: dict[str, dict[str, Any]] = {}
        self._flights: dict[str, threading.Lock] = {}
        self.stats = CallStats()
        self.pending: dict[str, dict[str, dict[str, Any]]] = {}
        self._cassettes: dict[str, dict[str, dict[str, Any]]] = {}
        self._cassette_existed: dict[str, bool] = {}
        self._damaged: set[str] = set()
        self._recorded_now: set[str] = set()
        self._lock = threading.RLock()

    # -- lookup ---------------------------------------------------------------------------
    def _cassette(self, module: str) -> dict[str, dict[str, Any]]:
        if self.cassette_dir is None:
            return {}
        with self._lock:
            if module not in self._cassettes:
                path = cassettes.cassette_path(self.cassette_dir, module)
                if self.mode == "none":
                    self._cassettes[module] = cassettes.read(path)
                else:
                    # Recording: a damaged line is never served; its call is recorded
                    # anew, the file rewritten without it, and the summary says so.
                    entries, damaged = cassettes.read_lenient(path)
                    for error in damaged:
                        self.stats.events.append(f"dropped a damaged line, re-recording: {error}")
                    if damaged:
                        self._damaged.add(module)
                    self._cassettes[module] = entries
                # A damaged cassette is not complete: record mode once may fill it in.
                self._cassette_existed[module] = path.exists() and module not in self._damaged
            return self._cassettes[module]

    def _find(self, key: str, site: CallSite) -> dict[str, Any] | None:
        entry = self._cassette(site.module).get(key)
        if entry is not None:
            return entry
        try:
            entry = self.store.get(key)
        except CassetteError as exc:
            if self.mode == "none":
                raise
            # A corrupt or tampered store entry is never served: drop it and record anew.
            self.store.delete(key)
            with self._lock:
                self.stats.rerecorded += 1
                self.stats.events.append(f"re-recorded {key[:12]}: {exc}")
            return None
        if entry is not None and self.cassette_dir is not None and self.mode != "none":
            # Recorded earlier (another module, or before cassettes were used): put it in
            # this module's cassette too so a fresh clone can replay the module.
            self._add_pending(site.module, entry)
        return entry

    def _add_pending(self, module: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self.pending.setdefault(module, {})[entry["key"]] = entry
            self._cassettes.setdefault(module, {})[entry["key"]] = entry

    # -- the call -------------------------------------------------------------------------
    def call(
        self,
        request: dict[str, Any],
        live: Callable[[], dict[str, Any]],
        site: CallSite,
    ) -> tuple[dict[str, Any], bool]:
        """The entry for ``request`` and whether it was replayed.

        ``live`` makes the real call and returns the response record; it runs only when the
        record mode allows and no usable recording exists.
        """
        key = request_key(request)
        if site.model in self.model_map and not site.runs_as:
            site = replace(site, runs_as=self.model_map[site.model])
        entry = self._replay(key, site)
        if entry is not None:
            return entry, True
        if self.dry_run:
            # Every record mode plans the same calls: those without a recording. A mode
            # that would not make them live (none, once with a cassette) marks them misses.
            return self._plan(key, request, site, self._miss(site)), False
        self._check_may_record(site, request)
        with self._single_flight(key):
            # The same request may have been recorded while this one waited for it.
            entry = self._replay(key, site)
            if entry is not None:
                return entry, True
            return self._record(key, request, live, site), False

    def _replay(self, key: str, site: CallSite) -> dict[str, Any] | None:
        if self.mode == "all" and key not in self._recorded_now:
            return None  # re-recorded once per run, then replayed
        entry = self._find(key, site)
        if entry is not None:
            tokens, cost, parts = self._spent(entry["request"], entry["response"], site)
            with self._lock:
                self.stats.count(site.test, live=False, tokens=tokens, cost=cost, parts=parts)
        return entry

    @contextlib.contextmanager
    def _single_flight(self, key: str) -> Iterator[None]:
        """Hold the right to make the call for ``key``: threads of this process queue on a
        lock, and pytest-xdist workers on a lock entry in the shared store."""
        with self._lock:
            flight = self._flights.setdefault(key, threading.Lock())
        with flight, _store_lock(self.store, f"xgen-flight:{key}", self.lock_expire):
            yield

    def _price(self, site: CallSite) -> Price | None:
        price = self.price_of(site.model)
        if price is None:
            with self._lock:
                self.stats.unpriced.add(site.model)
        return price

    def _spent(
        self, request: dict[str, Any], response: dict[str, Any], site: CallSite
    ) -> tuple[int, float, dict[str, int]]:
        """The tokens, cost and :func:`token_parts` of a made call: its usage, or what it
        sent and received when the answer has none
        (:func:`~pytest_xgen.recording.cost.spent_tokens`). The tokens are the usage's
        total (with the Anthropic API's cache reads and writes), else its prompt,
        completion and cache tokens added up: every token the call was billed for."""
        usage = spent_tokens(request, response)
        billed = ("prompt_tokens", "completion_tokens", "cache_read_tokens", "cache_write_tokens")
        total = usage.get("total_tokens") or sum(int(usage.get(name) or 0) for name in billed)
        return int(total), spent_cost(request, response, self._price(site)), token_parts(usage)

    @property
    def _budget(self) -> CostBudget | None:
        if self.max_cost is None:
            return None
        return CostBudget(self.store, f"{self.budget_key}:cost", self.max_cost)

    def release_budget(self) -> None:
        """Forget the run's shared count of live calls and cost (the run is over)."""
        if self.max_live_calls is not None:
            self.store.delete(self.budget_key)
        if self._budget is not None:
            self._budget.release()

    def _reserve_cost(self, request: dict[str, Any], site: CallSite) -> int:
        """Set aside the most this call may cost (:func:`~pytest_xgen.recording.cost.estimate`:
        every choice, every schema) from the budget that every pytest-xdist worker shares;
        return what was set aside, in the budget's units. A call that would take the spent
        and set-aside cost past the budget is refused before it is made."""
        budget = self._budget
        if budget is None:
            return 0
        price = self.price_of(site.model)
        if price is None:
            raise BudgetExhaustedError(
                f"model {site.shown_model!r} has no price, so a cost budget (--xgen-max-cost) "
                f"cannot hold for its live calls: {site.describe()}. Add price = {{ input = ..., "
                "output = ... }} (per million tokens) to its model table, or drop --xgen-max-cost"
            )
        cost = estimated_cost(request, price)
        reserved = budget.reserve(cost)
        if reserved is None:
            prompt, completion = estimate(request)
            raise BudgetExhaustedError(
                f"the cost budget of {money(self.max_cost or 0)} (--xgen-max-cost) is spent: "
                f"{money(budget.spent())} spent or set aside, and this call may cost "
                f"{money(cost)} (~{prompt} prompt + {completion} completion tokens): "
                f"{site.describe()}. Recorded work is kept; raise the budget, or replay with "
                "--xgen-record-mode=none"
            )
        return reserved

    def _settle_cost(
        self, reserved: int, request: dict[str, Any], cost: float, site: CallSite
    ) -> None:
        """Replace what was set aside for a call by what it cost, and never by less than
        what its prompt costs (:func:`~pytest_xgen.recording.cost.prompt_cost`): a call
        that was sent is paid for, whatever its answer says (no usage, a usage of 0) and
        also when it failed."""
        budget = self._budget
        if budget is None:
            return
        floor = prompt_cost(request, self.price_of(site.model))
        budget.settle(reserved, max(cost, floor))

    def _spend_budget(self, site: CallSite) -> None:
        if self.max_live_calls is None:
            return
        with self.store.writing:
            spent = int(self.store.cache.incr(self.budget_key, default=0))  # pragma: no mutate
        if spent > self.max_live_calls:
            raise BudgetExhaustedError(
                f"the live-call budget of {self.max_live_calls} (--xgen-max-live-calls) is "
                f"spent: {site.describe()}. Recorded work is kept; raise the budget, or "
                "replay with --xgen-record-mode=none"
            )

    def planned_for(self, test: str) -> int:
        """Dry run: the calls of ``test`` that would be made live."""
        with self._lock:
            return sum(1 for p in self.planned.values() if p["test"] == test)

    def _plan(
        self, key: str, request: dict[str, Any], site: CallSite, miss: str = ""
    ) -> dict[str, Any]:
        """Dry run: note the call instead of making it (with ``miss``: why the record mode
        would not make it, a real run's error); answer with an empty placeholder."""
        prompt, completion = estimate(request)
        planned = {
            "test": site.test,
            "model": site.shown_model,
            "prompt": site.first_line(),
            "tokens": prompt + completion,
            "cost": estimated_cost(request, self.price_of(site.model)),
        }
        if miss:
            planned["miss"] = miss
        with self._lock:
            self.planned.setdefault(key, planned)
        response = {"text": "", "usage": {}}
        return {"key": key, "request": request, "response": response}

    def _record(
        self,
        key: str,
        request: dict[str, Any],
        live: Callable[[], dict[str, Any]],
        site: CallSite,
    ) -> dict[str, Any]:
        self._spend_budget(site)
        reserved = self._reserve_cost(request, site)
        try:
            response = finite.answer(live())
        except finite.NumberError as exc:
            # A backend of a plugin (pytest_xgen_make_model) is checked here as the
            # built-in one is in its client: an impossible answer is never recorded.
            self._settle_cost(reserved, request, 0.0, site)
            raise ModelCallError(
                f"model {site.shown_model!r} answered with a number no answer can have: {exc}; "
                "nothing was recorded. Check the endpoint (or a proxy in front of it) and its "
                "logs"
            ) from None
        except BaseException:
            self._settle_cost(reserved, request, 0.0, site)
            raise
        tokens, cost, parts = self._spent(request, response, site)
        self._settle_cost(reserved, request, cost, site)
        entry = make_entry(request, response, test=site.test)
        self.store.put(entry)
        if self.cassette_dir is not None:
            self._add_pending(site.module, entry)
        with self._lock:
            self._recorded_now.add(key)
            self.stats.count(site.test, live=True, tokens=tokens, cost=cost, parts=parts)
        return entry

    def _nearest(self, site: CallSite, request: dict[str, Any]) -> str:
        """The closest recording of the module and its diff from ``request`` (or nothing)."""
        if self.cassette_dir is None:
            return ""
        entry = miss.closest(request, self._cassette(site.module).values(), site.test)
        if entry is None:
            return ""
        path = cassettes.cassette_path(self.cassette_dir, site.module)
        return miss.describe(request, entry, site.test, str(path))

    def _miss(self, site: CallSite) -> str:
        """Why the record mode would not make a call without a recording (empty: it would
        make it live): replay-only mode, or mode once with the module's cassette there."""
        if self.mode == "none":
            return "replay-only mode (--xgen-record-mode=none)"
        if self.mode == "once" and self._cassette_existed.get(site.module, False):
            assert self.cassette_dir is not None  # only a cassette directory has cassettes
            path = cassettes.cassette_path(self.cassette_dir, site.module)
            return f"record mode once: the cassette {path} exists, so it is taken as complete"
        return ""

    def planned_misses_for(self, test: str) -> int:
        """Dry run: the calls of ``test`` without a recording that the record mode would
        not make (a real run fails on each)."""
        with self._lock:
            return sum(1 for p in self.planned.values() if p["test"] == test and p.get("miss"))

    def _check_may_record(self, site: CallSite, request: dict[str, Any]) -> None:
        where = site.describe()
        if self.mode == "none":
            raise RecordingMissError(
                f"no recording for this call in replay-only mode (--xgen-record-mode=none): "
                f"{where}. Record it with: pytest --xgen-record-mode=new_episodes "
                f"'{site.test}', then commit the cassette{self._nearest(site, request)}"
            )
        existed = self._cassette_existed.get(site.module, False)  # pragma: no mutate
        if self.mode == "once" and existed:
            assert self.cassette_dir is not None  # only a cassette directory has cassettes
            path = cassettes.cassette_path(self.cassette_dir, site.module)
            raise RecordingMissError(
                f"the cassette {path} exists and has no recording for this call "
                f"(record mode once treats an existing cassette as complete): {where}. "
                f"Add it with: pytest --xgen-record-mode=new_episodes '{site.test}'"
                f"{self._nearest(site, request)}"
            )

    # -- writing cassettes ----------------------------------------------------------------
    def take_pending(self) -> dict[str, list[dict[str, Any]]]:
        """Hand over (and forget) the entries still to be written, by module."""
        with self._lock:
            pending = {m: list(e.values()) for m, e in self.pending.items() if e}
            self.pending.clear()
        return pending

    def merge_pending(self, pending: dict[str, list[dict[str, Any]]]) -> None:
        """Take entries a pytest-xdist worker recorded, to be written by this process."""
        for module, entries in pending.items():
            for entry in entries:
                self._add_pending(module, entry)

    def write_cassettes(self) -> list[Path]:
        """Merge the pending entries into their modules' cassette files; return the paths."""
        if self.cassette_dir is None or self.mode == "none":
            return []
        written = []
        refused = []
        pending = self.take_pending()
        for module in sorted(set(pending) | self._damaged):
            path = cassettes.cassette_path(self.cassette_dir, module)
            link = cassettes.written_through_link(path, self.cassette_dir)
            if link is not None:
                # A link committed in a pull request could point at any file the run may
                # write; the recordings stay in the store.
                refused.append(link)
                continue
            merged, damaged = cassettes.read_lenient(path)
            changed = bool(damaged)
            if module not in self._damaged:  # not seen by this process (another worker's)
                for error in damaged:
                    self.stats.events.append(f"dropped a damaged line: {error}")
            for entry in pending.get(module, []):
                if merged.get(entry["key"], {}).get("digest") != entry["digest"]:
                    merged[entry["key"]] = entry
                    changed = True
            if changed:
                cassettes.write(path, merged.values())
                written.append(path)
        if refused:
            raise OSError("; ".join(refused))
        return written


_HOST = socket.gethostname()


def _holder_dead(holder: object) -> bool:
    """Whether the process named by a lock entry (``host:pid``) is gone: killed runs must
    not block the next one until the lock expires."""
    host, _, pid = str(holder).rpartition(":")  # pragma: no mutate (a host has no ":")
    if host != _HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)  # pragma: no mutate (another signal would be sent)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed process not yet reaped by its parent
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in ("Z", "X")


@contextlib.contextmanager
def _store_lock(store: Store, name: str, expire: float) -> Iterator[None]:
    """A lock across processes sharing one diskcache store. The entry names its holder, so
    a lock left by a killed process is taken over at once; ``expire`` covers a holder on
    another host. Its writes queue on the store's write lock with this process's others."""
    cache, writing = store.cache, store.writing
    me = f"{_HOST}:{os.getpid()}"
    while True:
        with writing:
            if cache.add(name, me, expire=expire):
                break
        holder = cache.get(name)
        if holder is not None and _holder_dead(holder):
            with writing, cache.transact():  # delete only the dead holder's entry, atomically
                if cache.get(name) == holder:
                    cache.delete(name)
            continue
        time.sleep(0.005)
    try:
        yield
    finally:
        with writing, cache.transact():
            if cache.get(name) == me:
                cache.delete(name)
