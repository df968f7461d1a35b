"""What a test sees: the ``xgen`` fixture object and the recorded models it hands out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from pytest_xgen.checks.kinds import check_data, load, runner
from pytest_xgen.core.printable import printable
from pytest_xgen.errors import TransferFailed, hide_frame
from pytest_xgen.models.base import ChatResult, CompletionResult, Message
from pytest_xgen.recording.model import RecordedModel
from pytest_xgen.settings import marker
from pytest_xgen.settings.marker import MARKER, marker_kwargs
from pytest_xgen.stash import CHECKS, RESULTS, is_given

__tracebackhide__ = hide_frame

if TYPE_CHECKING:
    from pytest_xgen.checks.context import CheckContext, Ran
    from pytest_xgen.checks.ensemble import EnsembleExplanation
    from pytest_xgen.checks.interventions import Interventions
    from pytest_xgen.checks.invariance import InvariantResult
    from pytest_xgen.checks.kinds import CheckResult
    from pytest_xgen.checks.mirror import MirrorResult
    from pytest_xgen.checks.review import ReviewResult
    from pytest_xgen.checks.transfer_report import TransferResult
    from pytest_xgen.checks.weak import Repair, WeakSteps
    from pytest_xgen.recording.anthropic_client import AsyncRecordedAnthropic, RecordedAnthropic
    from pytest_xgen.recording.client import AsyncRecordedClient, RecordedClient
    from pytest_xgen.recording.patch import Patched
    from pytest_xgen.session import XgenSession
    from pytest_xgen.settings.marker import TransferOptions


class Xgen:
    """The ``xgen`` fixture: access to the configured models of this run, for one test."""

    def __init__(
        self, session: XgenSession, test: str, module: str, node: pytest.Item | None = None
    ) -> None:
        self.session = session
        self.test = test
        self.module = module
        self.node = node
        self.results: list[Any] = []
        self._patches: list[Patched] = []
        self._check_context: CheckContext | None = None  # built by the first check

    @property
    def _enforced(self) -> bool:
        """Whether verdicts decide the test: marked, and not a dry run (whose answers are
        blanks, so the test goes on to count its later calls)."""
        return self.marked and not self.session.dry_run

    def __repr__(self) -> str:
        # Stable across runs: Hypothesis prints it in every failing example.
        return f"<xgen for {self.test}>"

    @property
    def record_mode(self) -> str:
        return self.session.settings.record_mode

    @property
    def models(self) -> list[str]:
        """The names of the configured models."""
        return sorted(self.session.settings.models)

    def model(self, name: str) -> RecordedModel:
        """The configured model ``name``, recorded and replayed for this test."""
        return RecordedModel(self.session, name, self.test, self.module)

    def client(self, name: str) -> RecordedClient:
        """An ``openai.OpenAI`` for the application under test, on the configured model
        ``name``: ``chat.completions.create()``, ``completions.create()`` and
        ``responses.create()``, recorded and replayed like every other call (streams
        included). For the ``anthropic`` SDK, see :meth:`anthropic_client`."""
        from pytest_xgen.recording.client import RecordedClient

        return RecordedClient(self.model(name))

    def async_client(self, name: str) -> AsyncRecordedClient:
        """``client()`` for ``openai.AsyncOpenAI`` code (``await ...create()``)."""
        from pytest_xgen.recording.client import AsyncRecordedClient

        return AsyncRecordedClient(self.model(name))

    def patch_openai(self, name: str) -> Patched:
        """Route every ``openai.OpenAI(...)`` and ``openai.AsyncOpenAI(...)`` that code under
        test makes, from now until the test ends (or the ``with`` block does), to recorded
        clients of the configured model ``name``. Constructor arguments (``api_key``,
        ``base_url``, ...) are ignored: the model's table decides. A class imported before
        (``from openai import OpenAI`` at import time) is not reached."""
        self.model(name)  # an unknown name is an error now, not at the first call
        from pytest_xgen.recording.patch import patch_openai

        patched = patch_openai(lambda: self.model(name))
        self._patches.append(patched)
        return patched

    def anthropic_client(self, name: str) -> RecordedAnthropic:
        """An ``anthropic.Anthropic`` for the application under test, on the configured
        model ``name`` (``backend = "anthropic"``): ``messages.create()`` and
        ``messages.stream()``, recorded and replayed like every other call (streams
        included)."""
        from pytest_xgen.recording.anthropic_client import RecordedAnthropic

        return RecordedAnthropic(self.model(name))

    def async_anthropic_client(self, name: str) -> AsyncRecordedAnthropic:
        """``anthropic_client()`` for ``anthropic.AsyncAnthropic`` code."""
        from pytest_xgen.recording.anthropic_client import AsyncRecordedAnthropic

        return AsyncRecordedAnthropic(self.model(name))

    def patch_anthropic(self, name: str) -> Patched:
        """Route every ``anthropic.Anthropic(...)`` and ``anthropic.AsyncAnthropic(...)``
        that code under test makes, from now until the test ends (or the ``with`` block
        does), to recorded clients of the configured model ``name``, as
        :meth:`patch_openai` does for ``openai``."""
        from pytest_xgen.recording.anthropic_client import RecordedAnthropic
        from pytest_xgen.recording.patch import patch_anthropic

        RecordedAnthropic(self.model(name))  # a wrong name or backend is an error now
        patched = patch_anthropic(lambda: self.model(name))
        self._patches.append(patched)
        return patched

    def close(self) -> None:
        """Undo what the test patched (the fixture calls this when the test ends)."""
        while self._patches:
            self._patches.pop().undo()

    # -- the checks ------------------------------------------------------------------------
    def _markers(self) -> list[dict[str, Any]]:
        return [] if self.node is None else marker_kwargs(self.node, self.test)

    @property
    def marked(self) -> bool:
        return self.node is not None and self.node.get_closest_marker(MARKER) is not None

    def _ask(
        self, model: str, messages: list[Message], sample: int, params: dict[str, Any]
    ) -> ChatResult:
        return self.model(model).chat(messages, sample=sample, **params)

    def _complete(
        self, model: str, text: str, sample: int, params: dict[str, Any]
    ) -> CompletionResult:
        return self.model(model).complete(text, sample=sample, **params)

    def _extract(self, text: str, spec: Any) -> Any:
        value = self.session.config.hook.pytest_xgen_extract_answer(text=text, spec=spec)
        return spec.extract(text) if value is None else value

    def _resolve(self, call: dict[str, Any], needs_generator: bool, method: str) -> TransferOptions:
        """The check's keywords: its own arguments over markers over settings (an error
        names ``method``, the one called)."""
        return marker.resolve(
            self._markers(),
            call,
            self.session.settings,
            self.test,
            needs_generator=needs_generator,
            method=method,
        )

    def _progress(self, planned: int, at_most: bool, replan: bool) -> None:
        reporter = self.session.reporter
        if replan:
            reporter.replan(self.test, planned, at_most=at_most)
        else:
            reporter.begin_check(self.test, planned, at_most=at_most)

    @property
    def _context(self) -> CheckContext:
        """What every check of this test runs with (built once: a Hypothesis search keeps
        its budget of confirmations in it across examples)."""
        if self._check_context is None:
            from pytest_xgen.checks.context import CheckContext

            self._check_context = CheckContext(
                test=self.test,
                ask=self._ask,
                extract=self._extract,
                fan_out=self.session.fan_out,
                complete=self._complete,
                resolve=self._resolve,
                progress=self._progress,
                search_size=self._search_size(),
            )
        return self._check_context

    def _search_size(self) -> int:
        """How many examples the running Hypothesis search may try (1 outside one): the
        number of chances a flip by noise gets; invariance confirms at most 3 of them."""
        if self.node is None or not is_given(self.node):
            return 1
        from pytest_xgen.hypothesis_glue import search_size

        return search_size(self.node)

    def _count_check(self) -> None:
        """The test used its ``transfers`` marker (see the plugin's never-checked error)."""
        if self.node is not None:
            self.node.stash[CHECKS] = self.node.stash.get(CHECKS, 0) + 1

    def _labelled(self, result: Any) -> Callable[[], str]:
        """``result.explain``, ending with what ran in place of each mapped model the check
        used: the names in the message are the test's, the answers the candidate's."""
        model_map = self.session.settings.model_map or {}
        options = getattr(result, "options", None)
        used = set()
        if options is not None:
            used = {options.generator, *options.evaluators, options.strip_with} - {None}
        mapped = [f"{old}\u2192{new}" for old, new in model_map.items() if old in used]

        def explain() -> str:
            text = result.explain()
            if mapped:
                text += f"\n  model map: {', '.join(mapped)} (answers under the old names)"
            return str(text)

        return explain

    def _note_check(self, result: CheckResult, *, asserted: bool | None = None) -> None:
        """Keep ``result`` for the reports, with whether its verdict decides the test
        (``asserted``; by default, whether the test is marked: see :attr:`_enforced`)."""
        self.results.append(result)
        self._count_check()
        if self.node is not None:
            # As JSON data right away: it travels from pytest-xdist workers in the report.
            data = check_data(result)
            data["asserted"] = self._enforced if asserted is None else asserted
            self.node.stash.setdefault(RESULTS, []).append(data)

    def _run(self, kind: str, *args: Any, **kwargs: Any) -> Any:
        """Run the check kind ``kind`` (its registry row's ``run``)."""
        return self._ran(runner(kind), *args, **kwargs)

    def _ran(self, run: Callable[..., Ran], *args: Any, **kwargs: Any) -> Any:
        """``run(context, *args, **kwargs)``; keep its checks for the reports and, in a
        marked test, let those its kind asserts decide the test. Returns its value."""
        ran = run(self._context, *args, **kwargs)
        if not ran.checks:
            self._count_check()  # the marker configured it: a test that only ensembles uses it
        decided = []
        for result, asserts in ran.checks:
            self._note_check(result, asserted=self._enforced and bool(asserts))
            if self._enforced and asserts is True:
                decided.append(result)
        for result in decided:
            enforce(result.verdict, self._on_inconclusive(result), self._labelled(result))
        return ran.value

    def _on_inconclusive(self, result: Any) -> str:
        """What an inconclusive ``result`` does to the test: its options' keyword, or for
        a result without options (a plugin's kind) the closest marker's, else ``fail``."""
        options = getattr(result, "options", None)
        if options is not None:
            return str(options.on_inconclusive)
        marked = (m["on_inconclusive"] for m in self._markers() if "on_inconclusive" in m)
        return str(next(marked, "fail"))

    def run_check(self, kind: str, *args: Any, **kwargs: Any) -> Any:
        """Run a check of any registered kind (``pytest_xgen.checks.kinds.KINDS``, with
        those a plugin adds through ``pytest_xgen_check_kinds``): its arguments are its
        ``run``'s after the context; returns what its ``run`` gives. In a marked test the
        checks its kind asserts decide the test, as :meth:`check`'s do."""
        return self._run(kind, *args, **kwargs)

    def interventions(
        self,
        prompt: str,
        explanation: str | Callable[[str], str] | None = None,
        expected: Any = None,
        *,
        answer: Any = "number",
        tolerance: float | None = None,
        rel_tolerance: float | None = None,
        choices: Sequence[str] | None = None,
        fallback: bool = True,
        **options: Any,
    ) -> Interventions:
        """Intervene on an explanation and watch the evaluators' answers: early answering,
        an added mistake, a filler control and (with ``paraphrase_with``) a paraphrase
        control, each a check with its own verdict (``docs/interventions.md``).

        ``explanation`` is a text or a callable as for :meth:`check`; without one the
        generator explains. Keyword ``options`` are the marker's; in a marked test the
        asserted ones (``min_steps_needed``, ``min_follow_rate``, ``max_filler_lift``,
        ``max_paraphrase_change``) decide the test.
        """
        found: Interventions = self._run(
            "early_answering",
            prompt,
            explanation,
            expected,
            answer=answer,
            tolerance=tolerance,
            rel_tolerance=rel_tolerance,
            choices=choices,
            fallback=fallback,
            **options,
        )
        return found

    def mirror(
        self,
        question: str,
        mirrored: str,
        relation: str = "opposite",
        *,
        answer: Any = "choice",
        choices: Sequence[str] | None = ("yes", "no"),
        **options: Any,
    ) -> MirrorResult:
        """Ask ``question`` and its mirror image of every evaluator and count contradictory
        answer pairs: with ``relation="opposite"`` the two answers must differ (is X larger
        than Y / is Y larger than X), with ``"same"`` they must be equal. Asserted with
        ``max_contradiction_rate`` in a marked test (``docs/interventions.md``)."""
        result: MirrorResult = self._run(
            "mirrored", question, mirrored, relation, answer=answer, choices=choices, **options
        )
        return result

    def check(
        self,
        prompt: str,
        expected: Any = None,
        *,
        answer: Any = "number",
        tolerance: float | None = None,
        rel_tolerance: float | None = None,
        choices: Sequence[str] | None = None,
        fallback: bool = True,
        **options: Any,
    ) -> TransferResult:
        """Run the transfer protocol on ``prompt`` and return a ``TransferResult``.

        ``answer`` is ``"number"``, ``"choice"``, ``"text"`` or a callable reading the
        answer out of a text; ``expected`` (optional) adds accuracy and the
        consistent-correct / consistent-wrong split. Keyword ``options`` are those of the
        ``transfers`` marker and win over it. In a ``transfers``-marked test the thresholds
        are asserted here; elsewhere, assert on the result yourself.
        """
        result: TransferResult = self._run(
            "transfer",
            prompt,
            expected,
            answer=answer,
            tolerance=tolerance,
            rel_tolerance=rel_tolerance,
            choices=choices,
            fallback=fallback,
            **options,
        )
        return result

    def review(self, prompt: str, explanation: str | None = None, **options: Any) -> ReviewResult:
        """Peer review: each evaluator judges the generator's explanation step by step and
        names the first step that breaks. ``explanation`` defaults to a fresh one from the
        generator. With ``min_step_agreement`` (marker or argument) in a ``transfers``-marked
        test, the step-level agreement is asserted here."""
        result: ReviewResult = self._run("review", prompt, explanation, **options)
        return result

    def invariant(
        self,
        base: str,
        perturbed: str,
        expected: Any = None,
        *,
        answer: Any = "number",
        tolerance: float | None = None,
        rel_tolerance: float | None = None,
        choices: Sequence[str] | None = None,
        fallback: bool = True,
        problem: str | None = None,
        explanation: Callable[[str], str] | None = None,
        **options: Any,
    ) -> InvariantResult:
        """The evaluators' answers on ``perturbed`` must agree with their answers on
        ``base`` (equal, or both correct), on at least ``min_invariance`` of the samples.
        Asserted here in a ``transfers``-marked test; the failure shows the perturbation
        as a diff and every model's answers on both prompts. With ``problem``, ``base`` and
        ``perturbed`` are two explanations of it, handed over as the transfer check does
        (``xst.corrupt_step()`` and the other explanation strategies draw them).

        With ``explanation`` (a callable taking a prompt, e.g. ``tutor.explain``; also a
        callable ``explanation`` of the marker), the product under test explains both
        prompts: its answer (``result.explanation.answer``) must not change, and the
        evaluators answer each prompt with its explanation of it handed over. The base
        prompt is only the reference: its own result never ends a search, unless
        ``require_correct=True`` with ``expected`` asks for right answers too."""
        result: InvariantResult = self._run(
            "invariant",
            base,
            perturbed,
            expected,
            answer=answer,
            tolerance=tolerance,
            rel_tolerance=rel_tolerance,
            choices=choices,
            fallback=fallback,
            problem=problem,
            explanation=explanation,
            **options,
        )
        return result

    def ensemble(self, prompt: str, **options: Any) -> EnsembleExplanation:
        """An explanation of ``prompt`` built sentence by sentence: each of ``generators``
        proposes ``candidates`` next sentences, the ``scorer`` keeps the least surprising
        one (lowest mean token NLL), until an ``Answer:`` sentence, the end of the
        reasoning or ``max_sentences``. Without a scorer (``scorer=None``), the candidate
        the generators agree on most is kept. Keywords as for the ``transfers`` marker."""
        # Not a check: no row of its own in the registry.
        run = load("pytest_xgen.checks.ensemble:run_check")
        built: EnsembleExplanation = self._ran(run, prompt, **options)
        return built

    def weak_steps(
        self,
        explanation: Any,
        prompt: str | None = None,
        *,
        answer: Any = "number",
        expected: Any = None,
        **options: Any,
    ) -> WeakSteps:
        """Per sentence of ``explanation``: its surprisal under the ``scorer`` and the change
        in the evaluators' agreement when it is left out. ``explanation`` is an
        ``xgen.ensemble()`` result, a ``TransferResult`` (its stripped explanation) or a
        text (then ``prompt`` is needed); sentences declaring the answer are left out."""
        found: WeakSteps = self._run(
            "weak_steps", explanation, prompt, answer=answer, expected=expected, **options
        )
        return found

    def repair(
        self,
        explanation: Any,
        prompt: str | None = None,
        *,
        answer: Any = "number",
        expected: Any = None,
        **options: Any,
    ) -> Repair:
        """Find the weakest sentence (as ``weak_steps``), resample it from the generators,
        and keep the best replacement only if the evaluators' agreement does not drop."""
        found: Repair = self._run(
            "repair", explanation, prompt, answer=answer, expected=expected, **options
        )
        return found


def enforce(verdict: str, on_inconclusive: str, explain: Callable[[], str]) -> None:
    """Turn a verdict into the test's outcome: fail, xfail on an inconclusive interval if
    asked, or nothing."""
    if verdict == "fail" or (verdict == "inconclusive" and on_inconclusive == "fail"):
        # Model text is untrusted: no escape sequence reaches the reader's terminal.
        raise TransferFailed(printable(explain(), newlines=True))
    if verdict == "inconclusive" and on_inconclusive == "xfail":
        pytest.xfail("inconclusive: " + printable(explain().splitlines()[0]))
