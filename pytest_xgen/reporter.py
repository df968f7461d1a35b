"""What the terminal shows of a run: the header, the progress of live calls and the summary.

Kept apart from :class:`~pytest_xgen.session.XgenSession` (the run's state) as
pytest-xdist keeps its terminal reporter apart from its session: this object only reads
the session and writes lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from pytest_xgen.core.printable import money, printable, tokens_of_which
from pytest_xgen.files import relative as _rel

if TYPE_CHECKING:
    from pytest_xgen.session import XgenSession

# How many of the costliest tests the summary lists without -v.
COSTLIEST = 5


class XgenReporter:
    """Registered beside the session as the ``xgen-reporter`` plugin."""

    def __init__(self, session: XgenSession) -> None:
        self.session = session
        self.config = session.config
        # Per test: [calls so far, calls planned, whether the plan is an upper bound].
        self._plan: dict[str, list[Any]] = {}
        self._checks: dict[str, int] = {}  # per test: the checks begun (one per example)

    def header(self) -> str:
        s = self.session.settings
        from pytest_xgen.models.base import description

        models = (
            ", ".join(
                f"{name} ({description(self.session.table_model(name))})"
                for name in sorted(s.models)
            )
            or "none"
        )
        if not self.session.local_models:
            server = "not needed"
        elif s.record_mode == "none":
            server = "not started (replay only)"
        else:
            server = "starts on the first unrecorded call"
        cassettes = _rel(s.path("cassette_dir"), s.rootpath) if s.cassettes else "off"
        mapped = ""
        if s.model_map:
            mapped = "; model map " + ", ".join(f"{a}->{b}" for a, b in s.model_map.items())

        # Model names and strings come from configuration a pull request may change.
        return printable(
            f"xgen: record mode {s.record_mode}, cache {_rel(s.path('cache_dir'), s.rootpath)}, "
            f"cassettes {cassettes}, seed {s.seed}, models: {models}{mapped}; "
            f"local server: {server}"
        )

    def pytest_report_header(self, config: pytest.Config) -> str:
        return self.header()

    # -- progress of live calls ------------------------------------------------------------
    def begin_check(self, test: str, planned: int, *, at_most: bool = False) -> None:
        """A check of ``test`` is about to make ``planned`` calls (with ``at_most``: up to
        ``planned``, as ``samples="auto"`` may stop early)."""
        with self.session._done_lock:
            self._plan[test] = [0, planned, at_most]
            self._checks[test] = self._checks.get(test, 0) + 1

    def replan(self, test: str, remaining: int, *, at_most: bool = False) -> None:
        """The check of ``test`` under way now knows its plan: ``remaining`` more calls
        after those it made (the same check: no new number)."""
        with self.session._done_lock:
            plan = self._plan.setdefault(test, [0, 0, False])
            plan[1], plan[2] = plan[0] + remaining, at_most

    @pytest.hookimpl(trylast=True)
    def pytest_xgen_call_done(
        self, session: XgenSession, model: str, test: str, entry: dict[str, Any], replayed: bool
    ) -> None:
        plan = self._plan.setdefault(test, [0, 0, False])
        plan[0] += 1
        if replayed or self.session.is_worker or self.session.dry_run:
            return
        # Live calls are slow: say which one is running out of how many the check plans, and
        # what it cost; a test running many checks (Hypothesis examples) numbers them.
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        done, planned, at_most = plan
        # Past the plan (calls a check cannot foresee, such as those of a callable
        # explanation's own code), the count goes on without a total it has passed.
        within = planned > 0 and done <= planned
        count = f"{done}/{'<=' if at_most else ''}{planned}" if within else str(done)

        price = self.session.price(model)
        usage = entry["response"].get("usage") or {}
        # Here, not at the top: a run without live calls never needs the recording layer.
        from pytest_xgen.recording.cost import call_cost

        cost = "" if price is None else f", cost {money(call_cost(usage, price))}"
        checks = self._checks.get(test, 0)
        which = f", check {checks}" if checks > 1 else ""
        runs_as = (self.session.settings.model_map or {}).get(model, model)
        shown = model if runs_as == model else f"{model}\u2192{runs_as}"
        line = f"xgen: live call {count} of {test} ({shown}{cost}){which}"
        # The test's output is being captured: step around it, as live logging does.
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if capture is None:
            reporter.write_line(line)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.session.is_worker or self.session._recorder is None:
            return
        stats = self.session._recorder.stats
        if not (
            stats.live
            or stats.replayed
            or stats.events
            or self.session._recorder.planned
            or self.session.outputs.errors
        ):
            return
        terminalreporter.write_sep("-", "xgen")
        self._write_plan(terminalreporter)
        from pytest_xgen.report.terminal import summary_lines

        verbose = self.config.option.verbose > 0
        if not self.session.dry_run:  # a dry run's answers are blanks: no verdicts
            for line in summary_lines(self.session.tests, verbose=verbose):
                terminalreporter.write_line(line)
        terminalreporter.write_line(calls_line(stats.to_dict()))
        for note in self.session.server_notes:
            terminalreporter.write_line(f"xgen: {note}")
        self._write_costs(terminalreporter, stats.per_test)
        for path in [*self.session.written, *self.session.outputs.written]:
            terminalreporter.write_line(f"xgen: wrote {_rel(path, self.session.settings.rootpath)}")
        for event in stats.events:
            terminalreporter.write_line(f"xgen: {event}")
        for problem in self.session.outputs.errors:
            terminalreporter.write_line(f"xgen: {problem}", red=True)
        outputs = self.session.outputs
        if outputs.comparison is not None:
            from pytest_xgen.report.gate import format_comparison

            for line in format_comparison(outputs.comparison, verbose=verbose).splitlines():
                terminalreporter.write_line(line)
            if outputs.gate is not None:
                lines = outputs.gate.lines()
                colour = {"pass": "green", "fail": "red"}.get(outputs.gate.result, "yellow")
                terminalreporter.write_line(f"xgen {lines[0]}", **{colour: True})
                for line in lines[1:]:
                    terminalreporter.write_line(f"xgen {line}", **{colour: True})

    def _write_plan(self, terminalreporter: Any) -> None:
        """Dry run: the calls a real run would make live, their tokens and cost."""
        if not self.session.dry_run:
            return

        planned = sorted(
            self.session.recorder.planned.values(), key=lambda p: (p["test"], p["model"])
        )
        live = [p for p in planned if not p.get("miss")]
        tokens = sum(p["tokens"] for p in live)
        cost = sum(p.get("cost", 0.0) for p in live)
        stopped = sorted(self.session.dry_stopped)
        bound = "at least" if stopped else "at most"
        terminalreporter.write_line(
            f"xgen dry run: {bound} {len(live)} call(s) would be made live, about {tokens} "
            f"tokens, estimated cost {money(cost)} (characters sent / 4 + max_tokens per choice, "
            "at the models' prices); none was made"
        )
        # Calls the record mode would not make live are counted all the same, as misses.
        for why in sorted({p["miss"] for p in planned if p.get("miss")}):
            count = sum(p.get("miss") == why for p in planned)
            terminalreporter.write_line(
                f"xgen dry run: {bound} {count} call(s) have no recording and would be misses, "
                f"not made live ({why}): a real run fails on each; record them with "
                "--xgen-record-mode=new_episodes"
            )
        if stopped:
            terminalreporter.write_line(
                f"xgen dry run: {len(stopped)} test(s) stopped at a blank answer, so their later "
                f"calls are not counted: {', '.join(stopped)}"
            )
        for p in planned:
            terminalreporter.write_line(
                f"xgen dry run:   {p['test']}  {p['model']}  ~{p['tokens']} tokens  "
                f"{money(p.get('cost', 0.0))}  {p['prompt']!r}"
                + ("  (a miss)" if p.get("miss") else "")
            )
        for test, counts in sorted(self.session.dry_examples.items()):
            if counts["per"]:
                terminalreporter.write_line(
                    f"xgen dry run: {test}: {counts['examples']} Hypothesis example(s), every "
                    f"one counted; if one fails, each shrink step makes at most {counts['per']} "
                    "more (bound the run with --xgen-max-live-calls or --xgen-max-cost)"
                )

    def _write_costs(self, terminalreporter: Any, per_test: dict[str, dict[str, Any]]) -> None:
        """Model calls and cost per test, costliest first (all with -v): what a test costs to
        record, and the bound a Hypothesis test's examples and shrinking stayed within."""
        if not per_test:
            return

        def spent(counts: dict[str, Any]) -> float:
            return float(counts.get("cost", 0)) + float(counts.get("replayed_cost", 0))

        ranked = sorted(per_test.items(), key=lambda kv: (-spent(kv[1]), -kv[1]["calls"], kv[0]))
        shown = ranked if self.config.option.verbose > 0 else ranked[:COSTLIEST]
        more = "" if len(shown) == len(ranked) else f" (costliest {len(shown)}; -v for all)"
        terminalreporter.write_line(f"xgen: model calls and cost per test{more}:")
        for test, counts in shown:
            terminalreporter.write_line(
                f"xgen: {counts['calls']:>6}  {money(spent(counts)):>8}  {test}"
            )


def _of_which(calls: dict[str, Any], prefix: str = "") -> str:
    """``of which R reasoning, C cache read, W cache write; `` or nothing."""
    parts = tokens_of_which(calls, prefix)
    return f"{parts}; " if parts else ""


def calls_line(calls: dict[str, Any]) -> str:
    """The summary line of a run's calls: live ones with their tokens (and how many of
    them were reasoning and prompt-cache tokens, where any) and cost, and what the
    replayed ones took when they were recorded."""
    live = _of_which(calls)
    line = (
        f"xgen: {calls['live'] + calls['replayed']} model calls: {calls['replayed']} replayed, "
        f"{calls['live']} live ({calls['tokens']} tokens, {live}"
        f"cost {money(calls.get('cost', 0))})"
    )
    if calls["replayed"]:
        line += (
            f"; the replayed calls took {calls.get('replayed_tokens', 0)} tokens "
            f"({_of_which(calls, 'replayed_')}cost {money(calls.get('replayed_cost', 0))}) "
            "when recorded"
        )
    if calls.get("unpriced"):
        line += f"; no price for {', '.join(calls['unpriced'])} (counted at 0)"
    return line
