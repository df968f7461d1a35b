"""What a test sees: the ``xgen`` fixture object and the recorded models it hands out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from pytest_xgen.errors import XgenConfigError, hide_frame
from pytest_xgen.models.base import ChatResult, CompletionResult, Message
from pytest_xgen.recording.recorder import CallSite
from pytest_xgen.recording.store import build_request
from pytest_xgen.stash import CHECKS, RESULTS, is_given

__tracebackhide__ = hide_frame

if TYPE_CHECKING:
    from pytest_xgen.checks.ensemble import EnsembleExplanation
    from pytest_xgen.checks.interventions import Interventions, MirrorResult
    from pytest_xgen.checks.invariance import InvariantResult
    from pytest_xgen.checks.kinds import CheckResult
    from pytest_xgen.checks.review import ReviewResult
    from pytest_xgen.checks.transfer import TransferResult
    from pytest_xgen.checks.weak import Repair, WeakSteps
    from pytest_xgen.client import AsyncRecordedClient, RecordedClient
    from pytest_xgen.session import XgenSession
    from pytest_xgen.settings.marker import TransferOptions


SECRET = "<secret>"
"""What a ``secret_params`` value is recorded as."""


class RecordedModel:
    """A configured model bound to one test: every call is recorded or replayed.

    Call it with a prompt (``model("What is 2+2?")``) or messages
    (``model([{"role": "user", "content": "..."}])``). ``sample`` selects an independent
    sample of the same request: it is part of the recording key and shifts the seed
    (sample ``i`` runs with ``seed + i``), so five samples are five answers, not one.
    """

    def __init__(self, session: XgenSession, name: str, test: str, module: str) -> None:
        self.session = session
        self.name = name
        self.test = test
        self.module = module
        self.model = session.model(name)

    def __repr__(self) -> str:
        return f"<RecordedModel {self.name!r} for {self.test}>"

    def _params(self, params: dict[str, Any], sample: int) -> dict[str, Any]:
        if sample < 0:
            raise ValueError(f"sample must be 0 or more; got {sample}")
        merged = {**self.model.params, **params}
        merged["seed"] = int(merged.get("seed", self.session.settings.seed)) + sample
        return merged

    def _recorded(self, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` as recorded (key, store, cassette): each of the model's
        ``secret_params`` that is present becomes ``"<secret>"``. The call itself gets the
        real values; a change of a secret's value does not change the key."""
        paths = self.session.secret_params(self.name)
        if not paths:
            return params
        import copy

        from pytest_xgen.models.redaction import remember

        recorded = copy.deepcopy(params)
        for path in paths:
            node: Any = recorded
            *parents, last = path.split(".")
            for part in parents:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict) and last in node:
                # Sent, so kept out of every message should the endpoint echo it.
                remember([node[last]], declared=True)
                node[last] = SECRET
        return recorded

    def __call__(
        self,
        prompt: str | list[Message],
        *,
        system: str | None = None,
        sample: int = 0,
        **params: Any,
    ) -> ChatResult:
        """Chat with the model; a string prompt becomes one user message."""
        if isinstance(prompt, str):
            messages: list[Message] = [{"role": "user", "content": prompt}]
        else:
            messages = [dict(m) for m in prompt]
        if system is not None:
            messages.insert(0, {"role": "system", "content": system})
        return self.chat(messages, sample=sample, **params)

    def chat(self, messages: list[Message], *, sample: int = 0, **params: Any) -> ChatResult:
        """One chat completion, recorded under the current record mode."""
        merged = self._params(params, sample)
        request = build_request(
            "chat",
            self.model.identity,
            self._recorded(merged),
            sample,
            messages=[dict(m) for m in messages],
        )
        prompt = next(
            (str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), ""
        )
        entry, replayed = self.session.record(
            request,
            lambda: self.model.chat(messages, **merged).to_record(),
            CallSite(self.test, self.module, self.name, prompt),
        )
        result = ChatResult.from_record(entry["response"], key=entry["key"])
        return result if replayed else _live(result)

    def client_call(
        self,
        kind: str,
        kwargs: dict[str, Any],
        *,
        any_model: bool = False,
        defaults: dict[str, Any] | None = None,
        where: str | None = None,
    ) -> dict[str, Any]:
        """One ``create()`` of the application's recorded client (``xgen.client()``): the
        recorded answer (``raw`` JSON, or the ``chunks`` of a stream). ``any_model``: a
        routed client (``patch_openai``) takes the application's own model name, which
        is then part of the key but not sent. ``defaults``: the client's call options
        (``with_options()``), under the call's own. ``where`` names the method in errors."""
        from pytest_xgen.models.redaction import remember
        from pytest_xgen.recording.client_body import CALL_OPTIONS, given, sdk_body

        method = "chat.completions.create()" if kind == "chat" else "completions.create()"
        label = where or f"xgen.client({self.name!r})"
        where = f"{self.test}: {label}.{method}"
        body = given(kwargs)
        named = body.pop("model", None)
        if not any_model:
            endpoint_model = self.model.identity.get("model")
            allowed = list(dict.fromkeys(n for n in (self.name, endpoint_model) if n))
            if named is not None and named not in allowed:
                raise XgenConfigError(
                    f"{self.test}: {label} was asked for model={named!r}; "
                    f"leave model out, or pass {' or '.join(map(repr, allowed))}"
                )
            named = None
        raw = getattr(self.model, "raw", None)
        if raw is None:
            raise XgenConfigError(
                f"{self.test}: model {self.name!r} has no OpenAI-compatible endpoint (its "
                "backend has no raw()); xgen.client() needs a local or base_url model"
            )
        options = _call_options(defaults or {}, {k: body.pop(k) for k in CALL_OPTIONS if k in body})
        # Header and query values may be credentials: kept out of every message.
        remember([options.get("extra_headers", {}), options.get("extra_query", {})])
        body = sdk_body(kind, body, where)
        field = "messages" if kind == "chat" else "prompt"
        text = body.pop(field)
        keyed = self._recorded(body)
        if named is not None:
            keyed = {**keyed, "model": str(named)}
        request = build_request(
            f"client.{kind}",
            self.model.identity,
            keyed,
            0,
            **({"messages": text} if kind == "chat" else {"prompt": text}),
        )
        if kind == "chat":
            users = [m for m in text if m.get("role") == "user"]
            shown = str(users[-1].get("content", "")) if users else ""
        else:
            shown = str(text)
        entry, _ = self.session.record(
            request,
            lambda: raw(kind, {field: text, **body}, options),
            CallSite(self.test, self.module, self.name, shown),
        )
        response: dict[str, Any] = entry["response"]
        return response

    def complete(self, prompt: str, *, sample: int = 0, **params: Any) -> CompletionResult:
        """One raw completion (``/v1/completions``), e.g. with ``echo=True, logprobs=1``."""
        merged = self._params(params, sample)
        request = build_request(
            "completion", self.model.identity, self._recorded(merged), sample, prompt=prompt
        )
        entry, replayed = self.session.record(
            request,
            lambda: self.model.complete(prompt, **merged).to_record(),
            CallSite(self.test, self.module, self.name, prompt),
        )
        result = CompletionResult.from_record(entry["response"], key=entry["key"])
        return result if replayed else _live(result)


def _call_options(defaults: dict[str, Any], call: dict[str, Any]) -> dict[str, Any]:
    """The options of one call (``extra_headers``, ``extra_query``, ``timeout``) over the
    client's (``with_options()``; its ``max_retries`` too): headers and query values merged,
    a ``NOT_GIVEN``/``omit`` value left out (``timeout=None`` is no time-out, as in openai)."""
    from pytest_xgen.recording.client_body import given

    options = {**given(defaults), **given(call)}
    for name in ("extra_headers", "extra_query"):
        merged = {**(given(defaults.get(name) or {})), **(given(call.get(name) or {}))}
        if merged:
            options[name] = merged
        else:
            options.pop(name, None)
    return {k: v for k, v in options.items() if v is not None or k == "timeout"}


class Patched:
    """What ``xgen.patch_openai()`` returns: usable as a ``with`` block, which undoes the
    routing when it ends (otherwise the test's end does)."""

    def __init__(self, patch: pytest.MonkeyPatch) -> None:
        self._patch = patch

    def __enter__(self) -> Patched:
        return self

    def __exit__(self, *exc: object) -> None:
        self._patch.undo()


def _live(result: Any) -> Any:
    from dataclasses import replace

    return replace(result, replayed=False)


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
        self._patches: list[pytest.MonkeyPatch] = []
        self._search_budget: Any = None  # invariance's confirmations in a Hypothesis search

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
        ``name``: ``chat.completions.create()`` and ``completions.create()``, recorded and
        replayed like every other call (streams included)."""
        from pytest_xgen.client import RecordedClient

        return RecordedClient(self.model(name))

    def async_client(self, name: str) -> AsyncRecordedClient:
        """``client()`` for ``openai.AsyncOpenAI`` code (``await ...create()``)."""
        from pytest_xgen.client import AsyncRecordedClient

        return AsyncRecordedClient(self.model(name))

    def patch_openai(self, name: str) -> Patched:
        """Route every ``openai.OpenAI(...)`` and ``openai.AsyncOpenAI(...)`` that code under
        test makes, from now until the test ends (or the ``with`` block does), to recorded
        clients of the configured model ``name``. Constructor arguments (``api_key``,
        ``base_url``, ...) are ignored: the model's table decides. A class imported before
        (``from openai import OpenAI`` at import time) is not reached."""
        import openai

        from pytest_xgen.client import AsyncRecordedClient, RecordedClient

        self.model(name)  # an unknown name is an error now, not at the first call
        patch = pytest.MonkeyPatch()

        def sync(*args: Any, **kwargs: Any) -> RecordedClient:
            return RecordedClient(self.model(name), any_model=True, where="openai.OpenAI()")

        def asynchronous(*args: Any, **kwargs: Any) -> AsyncRecordedClient:
            where = "openai.AsyncOpenAI()"
            return AsyncRecordedClient(self.model(name), any_model=True, where=where)

        factory: Any
        for attribute, factory in (
            ("OpenAI", sync),
            ("Client", sync),
            ("AsyncOpenAI", asynchronous),
            ("AsyncClient", asynchronous),
        ):
            # The plugin's own client must stay real: its calls are the recorded ones.
            real = getattr(openai, attribute)
            factory.__xgen_real__ = getattr(real, "__xgen_real__", real)
            patch.setattr(openai, attribute, factory)
        self._patches.append(patch)
        return Patched(patch)

    def close(self) -> None:
        """Undo what the test patched (the fixture calls this when the test ends)."""
        while self._patches:
            self._patches.pop().undo()

    # -- the transfer check ----------------------------------------------------------------
    def _markers(self) -> list[dict[str, Any]]:
        from pytest_xgen.settings.marker import marker_kwargs

        return [] if self.node is None else marker_kwargs(self.node, self.test)

    @property
    def marked(self) -> bool:
        from pytest_xgen.settings.marker import MARKER

        return self.node is not None and self.node.get_closest_marker(MARKER) is not None

    def _ask(
        self, model: str, messages: list[Message], sample: int, params: dict[str, Any]
    ) -> ChatResult:
        return self.model(model).chat(messages, sample=sample, **params)

    def _extract(self, text: str, spec: Any) -> Any:
        value = self.session.config.hook.pytest_xgen_extract_answer(text=text, spec=spec)
        return spec.extract(text) if value is None else value

    def _count_check(self) -> None:
        """The test used its ``transfers`` marker (see the plugin's never-checked error)."""
        if self.node is not None:
            self.node.stash[CHECKS] = self.node.stash.get(CHECKS, 0) + 1

    def _labelled(self, result: Any) -> Callable[[], str]:
        """``result.explain``, ending with what ran in place of each mapped model the check
        used: the names in the message are the test's, the answers the candidate's."""
        model_map = self.session.settings.model_map or {}
        options = result.options
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
        from pytest_xgen.checks.kinds import check_data

        self.results.append(result)
        self._count_check()
        if self.node is not None:
            # As JSON data right away: it travels from pytest-xdist workers in the report.
            data = check_data(result)
            data["asserted"] = self._enforced if asserted is None else asserted
            self.node.stash.setdefault(RESULTS, []).append(data)

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
        from pytest_xgen.checks import interventions, transfer
        from pytest_xgen.core.interventions import numbered_steps, steps

        if explanation is not None:
            options["explanation"] = explanation
        method = "xgen.interventions()"
        spec = self._spec(answer, tolerance, rel_tolerance, choices, fallback, method=method)
        opts = self._options(options, method=method)
        if opts.explanation == "ensemble":
            raise XgenConfigError(
                "xgen.interventions() takes the generator's explanation or your own "
                "(explanation=TEXT or a callable), not an ensemble; build one with "
                "xgen.ensemble() and pass its .text"
            )
        # The plan is known once the explanation is: its own calls (the generator's, or a
        # callable's) are counted without a total, then as part of the check.
        self.session.reporter.begin_check(self.test, 0)
        if opts.explanation == "single":
            made = transfer.elicit(str(prompt), opts, spec, self._ask, self._extract)
        else:
            text, origin, name = transfer.given_text(opts.explanation, str(prompt))
            made = transfer.given(name, text, opts, spec, self._ask, self._extract, "given", origin)
        count, numbered = len(steps(made.text)), len(numbered_steps(made.text))
        self.session.reporter.replan(self.test, interventions.planned_calls(opts, count, numbered))
        found = interventions.run(
            str(prompt),
            opts,
            spec,
            made,
            self._ask,
            self._extract,
            self.session.fan_out,
            expected=self._expected(expected, spec, method=method),
        )
        for result in found.checks:
            self._note_check(result)
        if self._enforced:  # an intervention nothing is asserted about only reports
            for result in (c for c in found.checks if c.threshold is not None):
                enforce(result.verdict, opts.on_inconclusive, self._labelled(result))
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
        from pytest_xgen.checks import interventions
        from pytest_xgen.checks.transfer import sample_count

        method = "xgen.mirror()"
        chosen = choices if answer == "choice" else None
        spec = self._spec(answer, None, None, chosen, True, method=method)
        opts = self._options(options, needs_generator=False, method=method)
        self.session.reporter.begin_check(self.test, 2 * len(opts.evaluators) * sample_count(opts))
        result = interventions.mirror(
            str(question),
            str(mirrored),
            relation,
            opts,
            spec,
            self._ask,
            self._extract,
            self.session.fan_out,
        )
        self._note_check(result)
        if self._enforced:
            enforce(result.verdict, opts.on_inconclusive, self._labelled(result))
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
        from pytest_xgen.checks import transfer
        from pytest_xgen.settings.marker import EXPLANATION_MODES

        spec = self._spec(answer, tolerance, rel_tolerance, choices, fallback)
        opts = self._options(options)
        wanted = self._expected(expected, spec)
        planned, at_most = transfer.planned_calls(opts)
        explainer, built = None, []
        explainer_models: tuple[str, ...] = ()
        if opts.explanation == "ensemble":
            generators = opts.ensemble_generators
            explainer_models = (*generators, *([opts.scorer] if opts.scorer else []))
            per_single = 1 + (planned - 1) // 2
            planned += self._ensemble_calls(opts) + len(generators) * per_single
            at_most = True

            def explainer() -> transfer.Explanation:
                built.append(self._build_ensemble(str(prompt), opts))
                return transfer.given(
                    "ensemble", built[0].text, opts, spec, self._ask, self._extract, "ensemble"
                )

        elif opts.explanation not in EXPLANATION_MODES:
            source = opts.explanation
            explainer_models = (opts.strip_with,) if opts.strip_with else ()

            def explainer() -> transfer.Explanation:
                text, origin, name = transfer.given_text(source, prompt)
                return transfer.given(
                    name, text, opts, spec, self._ask, self._extract, "given", origin
                )

        self.session.reporter.begin_check(self.test, planned, at_most=at_most)
        result = transfer.check(
            prompt,
            opts,
            spec,
            wanted,
            self._ask,
            self._extract,
            fan_out=self.session.fan_out,
            explainer=explainer,
            explainer_models=explainer_models,
        )
        if built:
            result.ensemble = built[0]
            transfer.compare_singles(
                result, built[0].generators, self._ask, self._extract, self.session.fan_out
            )
        self._note_check(result)
        if self._enforced:
            enforce(result.verdict, result.options.on_inconclusive, self._labelled(result))
        return result

    def review(self, prompt: str, explanation: str | None = None, **options: Any) -> ReviewResult:
        """Peer review: each evaluator judges the generator's explanation step by step and
        names the first step that breaks. ``explanation`` defaults to a fresh one from the
        generator. With ``min_step_agreement`` (marker or argument) in a ``transfers``-marked
        test, the step-level agreement is asserted here."""
        from pytest_xgen.checks import review

        opts = self._options(options, method="xgen.review()")
        self.session.reporter.begin_check(self.test, (explanation is None) + len(opts.evaluators))
        result = review.review(prompt, explanation, opts, self._ask, self.session.fan_out)
        asserted = self._enforced and opts.min_step_agreement is not None
        self._note_check(result, asserted=asserted)
        if asserted:
            enforce(result.verdict, opts.on_inconclusive, self._labelled(result))
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
        from pytest_xgen.checks import invariance

        method = "xgen.invariant()"
        product = _product_source(explanation, problem)
        if product is not None:
            options["explanation"] = product
        spec = self._spec(answer, tolerance, rel_tolerance, choices, fallback, method=method)
        opts = self._options(options, needs_generator=False, method=method)
        if product is None and callable(opts.explanation) and problem is None:
            product = opts.explanation  # the marker's product
        wanted = self._expected(expected, spec, method=method)
        calls, at_most = invariance.planned_calls(opts)
        if product is not None:
            # The product's own calls cannot be foreseen: counted without a total, then
            # the evaluators' as the plan once it has explained.
            self.session.reporter.begin_check(self.test, 0)
            prompts = 1 if str(base) == str(perturbed) else 2
            product = self._replanning(product, calls, at_most, prompts)
        else:
            self.session.reporter.begin_check(self.test, calls, at_most=at_most)
        search_size = self._search_size()
        if search_size > 1 and self._search_budget is None:
            # One budget of confirmations for the whole search, shrinking included.
            self._search_budget = invariance.SearchBudget.for_search(search_size)
        result = invariance.invariant(
            base,
            perturbed,
            opts,
            spec,
            wanted,
            self._ask,
            self._extract,
            self.session.fan_out,
            search_size=search_size,
            problem=problem,
            budget=self._search_budget if search_size > 1 else None,
            explanation=product,
        )
        self._note_check(result)
        if self._enforced:
            enforce(result.verdict, opts.on_inconclusive, self._labelled(result))
        return result

    def _replanning(
        self, product: Callable[[str], str], calls: int, at_most: bool, prompts: int
    ) -> Callable[[str], str]:
        """``product``, telling the progress line after each of its explanations what is
        still to come: the check's ``calls``, and one call for each of the ``prompts`` it
        has not explained yet (its name kept for messages and reports)."""
        import functools

        done = [0]

        @functools.wraps(product)
        def explain(prompt: str) -> str:
            try:
                return product(prompt)
            finally:
                done[0] += 1
                left = max(0, prompts - done[0])
                self.session.reporter.replan(self.test, calls + left, at_most=at_most)

        return explain

    # -- sentence-level ensembling ---------------------------------------------------------
    def ensemble(self, prompt: str, **options: Any) -> EnsembleExplanation:
        """An explanation of ``prompt`` built sentence by sentence: each of ``generators``
        proposes ``candidates`` next sentences, the ``scorer`` keeps the least surprising
        one (lowest mean token NLL), until an ``Answer:`` sentence, the end of the
        reasoning or ``max_sentences``. Without a scorer (``scorer=None``), the candidate
        the generators agree on most is kept. Keywords as for the ``transfers`` marker."""
        opts = self._options(options, method="xgen.ensemble()")
        self.session.reporter.begin_check(self.test, self._ensemble_calls(opts), at_most=True)
        built = self._build_ensemble(str(prompt), opts)
        self._count_check()  # the marker configured it: a test that only ensembles uses it
        return built

    @staticmethod
    def _ensemble_calls(opts: Any) -> int:
        """The most calls an ensemble makes: proposals, and a score for each, per step."""
        per_step = len(opts.ensemble_generators) * opts.candidates * (2 if opts.scorer else 1)
        return int(per_step * opts.max_sentences)

    def _build_ensemble(self, prompt: str, opts: Any) -> EnsembleExplanation:
        from pytest_xgen.checks import ensemble

        return ensemble.build(
            prompt,
            opts.ensemble_generators,
            self._propose,
            scorer=opts.scorer,
            score=self._scorer(opts.scorer),
            candidates=opts.candidates,
            max_sentences=opts.max_sentences,
            fan_out=self.session.fan_out,
        )

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
        diagnosis, _, _ = self._diagnose(explanation, prompt, answer, expected, options)
        self._note_check(diagnosis, asserted=False)  # a diagnosis: nothing to assert
        return diagnosis

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
        from pytest_xgen.checks import weak

        diagnosis, opts, agreement = self._diagnose(
            explanation, prompt, answer, expected, options, repairing=True
        )
        result = weak.repair(
            diagnosis,
            [s.sentence for s in diagnosis.sentences],
            opts.ensemble_generators,
            self._propose,
            agreement,
            scorer=opts.scorer,
            score=self._scorer(opts.scorer),
            candidates=opts.candidates,
            fan_out=self.session.fan_out,
        )
        self._note_check(result, asserted=False)  # kept or not, nothing is asserted
        return result

    def _diagnose(
        self,
        explanation: Any,
        prompt: str | None,
        answer: Any,
        expected: Any,
        options: dict[str, Any],
        repairing: bool = False,
    ) -> tuple[WeakSteps, Any, Callable[[list[str]], float | None]]:
        """``weak.weak_steps`` on the explanation's sentences, with the check's options and
        its agreement measure."""
        from pytest_xgen.checks import transfer, weak

        prompt, sentences = self._sentences(explanation, prompt, answer)
        opts = self._options(options)
        samples = transfer.sample_count(opts)
        # leave-one-out runs, one scoring call per sentence, and for a repair: the
        # replacement's proposals, their scores and its agreement run
        planned = (len(sentences) + 1) * len(opts.evaluators) * samples
        planned += len(sentences) if opts.scorer else 0
        if repairing:
            planned += len(opts.evaluators) * samples
            planned += len(opts.ensemble_generators) * opts.candidates * 2
        self.session.reporter.begin_check(self.test, planned, at_most=repairing)
        agreement = self._agreement(prompt, opts, answer, expected)
        diagnosis = weak.weak_steps(
            prompt,
            sentences,
            agreement,
            scorer=opts.scorer,
            score=self._scorer(opts.scorer),
            evaluators=opts.evaluators,
            samples=samples,
        )
        return diagnosis, opts, agreement

    def _propose(self, generator: str, text: str, sample: int) -> CompletionResult:
        from pytest_xgen.checks.ensemble import PROPOSAL_PARAMS

        return self.model(generator).complete(text, sample=sample, **PROPOSAL_PARAMS)

    def _scorer(self, scorer: str | None) -> Callable[[str], CompletionResult] | None:
        from pytest_xgen.checks.ensemble import SCORING_PARAMS

        if scorer is None:
            return None
        model = self.model(scorer)
        return lambda text: model.complete(text, **SCORING_PARAMS)

    def _sentences(
        self, explanation: Any, prompt: str | None, answer: Any
    ) -> tuple[str, list[str]]:
        """The problem and the explanation's sentences, without those that declare its
        answer (removed as ``xgen.check()`` removes them: they would only leak it)."""
        from pytest_xgen.checks.ensemble import EnsembleExplanation
        from pytest_xgen.checks.transfer import TransferResult
        from pytest_xgen.core.strip import split_sentences, strip_answer

        if isinstance(explanation, EnsembleExplanation):
            text = explanation.text
            prompt = prompt or explanation.prompt
        elif isinstance(explanation, TransferResult):
            text = explanation.explanation.text
            prompt = prompt or str(explanation.prompt)
        elif isinstance(explanation, str):
            text = explanation
        else:
            raise XgenConfigError(
                "xgen.weak_steps()/repair(): explanation must be an xgen.ensemble() result, a "
                f"TransferResult or a text; got {type(explanation).__name__}"
            )
        if prompt is None:
            raise XgenConfigError(
                "xgen.weak_steps()/repair(): an explanation given as text needs the problem "
                "too: pass prompt=..."
            )
        spec = self._spec(answer, None, None, None, True)
        stripped = strip_answer(text, self._extract(text, spec), spec)
        return str(prompt), [s.text.strip() for s in split_sentences(stripped.text)]

    def _agreement(
        self, prompt: str, opts: Any, answer: Any, expected: Any
    ) -> Callable[[list[str]], float | None]:
        """The evaluators' transfer consistency given a list of sentences as explanation."""
        from pytest_xgen.checks import transfer
        from pytest_xgen.core import prompts
        from pytest_xgen.core.strip import Stripped

        if len(opts.evaluators) < 2:
            raise XgenConfigError(
                f"{self.test}: weak steps compare the agreement of evaluators, so they need at "
                f"least two; got evaluators={list(opts.evaluators)!r}"
            )
        spec = self._spec(answer, None, None, None, True)
        wanted = self._expected(expected, spec)

        def agreement(sentences: list[str]) -> float | None:
            text = "\n".join(sentences)
            given = transfer.Explanation(
                "explanation", text, "text", None, Stripped(text, (), "none")
            )
            condition = transfer.run_condition(
                "transfer",
                prompts.transfer(prompt, text, opts.delivery, opts.prompts),
                {"temperature": opts.temperature},
                opts,
                spec,
                wanted,
                given,
                self._ask,
                self._extract,
                self.session.fan_out,
            )
            return condition.mean

        return agreement

    def _options(
        self, call: dict[str, Any], *, needs_generator: bool = True, method: str = "xgen.check()"
    ) -> TransferOptions:
        """The check's keywords: its own arguments over markers over settings (an error
        names ``method``, the one called)."""
        from pytest_xgen.settings import marker

        return marker.resolve(
            self._markers(),
            call,
            self.session.settings,
            self.test,
            needs_generator=needs_generator,
            method=method,
        )

    def _search_size(self) -> int:
        """How many examples the running Hypothesis search may try (1 outside one): the
        number of chances a flip by noise gets; invariance confirms at most 3 of them."""
        if self.node is None or not is_given(self.node):
            return 1
        test = getattr(self.node, "obj", None)
        function = getattr(test, "__func__", test)
        chosen = getattr(function, "_hypothesis_internal_use_settings", None)
        return max(1, int(getattr(chosen, "max_examples", 1) or 1))

    @staticmethod
    def _spec(
        answer: Any,
        tolerance: float | None,
        rel_tolerance: float | None,
        choices: Sequence[str] | None,
        fallback: bool,
        *,
        method: str = "xgen.check()",
    ) -> Any:
        from pytest_xgen.core.answers import answer_spec

        try:
            return answer_spec(
                answer,
                tolerance=tolerance,
                rel_tolerance=rel_tolerance,
                choices=choices,
                fallback=fallback,
            )
        except ValueError as exc:
            raise XgenConfigError(f"{method}: {exc}") from None

    @staticmethod
    def _expected(expected: Any, spec: Any, *, method: str = "xgen.check()") -> Any:
        if expected is None:
            return None
        value = spec.normalize(expected)
        if value is None:
            raise XgenConfigError(
                f"{method}: expected={expected!r} cannot be read as {spec.describe()}"
            )
        return value


def _product_source(explanation: Any, problem: str | None) -> Callable[[str], str] | None:
    """``xgen.invariant()``'s ``explanation``: the product's callable, or an error that says
    what the argument takes."""
    if explanation is None:
        return None
    if not callable(explanation):
        shown = repr(explanation)[:60]
        raise XgenConfigError(
            f"xgen.invariant(explanation={shown}): explanation= takes a callable that "
            "explains a prompt (your product's, e.g. explanation=tutor.explain), called on "
            "the base and on the perturbed prompt; to compare two explanation texts of one "
            "problem, pass them as base and perturbed with problem=PROMPT"
        )
    if problem is not None:
        raise XgenConfigError(
            "xgen.invariant(): give problem= (base and perturbed are two explanations of "
            "it) or explanation= (your callable explains the base and the perturbed "
            "prompt), not both"
        )
    return explanation  # type: ignore[no-any-return]


def enforce(verdict: str, on_inconclusive: str, explain: Callable[[], str]) -> None:
    """Turn a verdict into the test's outcome: fail, xfail on an inconclusive interval if
    asked, or nothing."""
    from pytest_xgen.core.printable import printable
    from pytest_xgen.errors import TransferFailed

    if verdict == "fail" or (verdict == "inconclusive" and on_inconclusive == "fail"):
        # Model text is untrusted: no escape sequence reaches the reader's terminal.
        raise TransferFailed(printable(explain(), newlines=True))
    if verdict == "inconclusive" and on_inconclusive == "xfail":
        pytest.xfail("inconclusive: " + printable(explain().splitlines()[0]))
