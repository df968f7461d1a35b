"""Prompt invariance: a meaning-preserving perturbation must not change the answers.

With a temperature above 0 a model answers the same prompt differently from sample to
sample, so "the answer changed" says nothing by itself. Each evaluator's answers on the
base and on the perturbed prompt are therefore two samples, and the question is whether
the perturbed prompt gives a *lower rate*, by more than the tolerated ``max_drop``
(default ``1 - min_invariance``): of right answers when ``expected`` is given, otherwise of
the *reference answer*, the most common of the base prompt's screening samples (ties go to
the answer seen first).

A check screens, then confirms, spending from one budget per search
(:mod:`pytest_xgen.checks.confirmation`): a whole search fails falsely with probability at
most ``1 - confidence``.

**A product under perturbation** (``explanation=`` a callable, such as ``tutor.explain``):
the product explains each prompt with its own code and prompts, once per prompt. Its
answer on the perturbed prompt must equal its answer on the base prompt (or both be
correct), compared exactly; and each evaluator answers each prompt *with the product's
explanation of it* handed over (the transfer condition), screened and confirmed as above.
The base prompt is only the reference: whatever its own transfer gives, a search goes on
through every drawn example, unless ``require_correct=True`` (with ``expected``) makes a
wrong product answer on either prompt a failure.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_xgen.checks import data
from pytest_xgen.checks.conditions import Explanation, given, given_text, sample_count
from pytest_xgen.checks.confirmation import (
    POWER_DROP,
    SCREEN_P,
    ModelTest,
    SearchBudget,
    confirmation_power,
    confirmation_size,
    drop_test,
    screen_sizes,
    smallest_p,
    suggests,
)
from pytest_xgen.checks.context import Ran
from pytest_xgen.checks.parallel import serial
from pytest_xgen.checks.transfer_report import show
from pytest_xgen.core import metrics, prompts, significance
from pytest_xgen.core.answers import AnswerSpec
from pytest_xgen.core.perturb import PerturbedPrompt
from pytest_xgen.errors import XgenConfigError, hide_frame
from pytest_xgen.settings.marker import TransferOptions, source_name

if TYPE_CHECKING:
    from pytest_xgen.checks.conditions import Ask, Extract
    from pytest_xgen.checks.context import CheckContext
    from pytest_xgen.checks.parallel import FanOut
    from pytest_xgen.models.base import Message

__tracebackhide__ = hide_frame

PRODUCT_ROW = "explanation"
"""The answers table's row of the product's own answers (``explanation=`` a callable)."""


@dataclass
class InvariantResult:
    """The outcome of ``xgen.invariant()``."""

    kind: ClassVar[str] = "invariant"

    base: str
    perturbed: str
    options: TransferOptions
    spec: AnswerSpec
    expected: Any
    base_answers: dict[str, list[Any]]
    perturbed_answers: dict[str, list[Any]]
    agreement: dict[str, metrics.PairAgreement]
    verdict: str = "pass"
    reasons: list[str] = field(default_factory=list)
    tests: dict[str, ModelTest] = field(default_factory=dict)
    """Per evaluator, the screen and confirmation; empty in exact mode."""
    level: float | None = None
    """A confirmation's significance level, ``(1 - confidence) / confirmations`` (``None``:
    the exact comparison)."""
    search_size: int = 1
    problem: str | None = None
    """With explanations compared (``xgen.invariant(..., problem=PROMPT)``): the problem."""
    confirmations: int = 1
    """The most examples the search confirms."""
    spent: int = 0
    """Confirmations the search had spent once this check was done."""
    confirmation_samples: int = 0
    """Fresh samples per prompt and evaluator in a confirmation."""
    power_drop: float | None = None
    """The drop (``max_drop + POWER_DROP``) each test's ``power`` is stated for."""
    base_explanation: Explanation | None = None
    """With ``explanation=`` a callable: its explanation of the base prompt (``.answer`` is
    the product's answer to it, ``.output`` its whole text); ``None`` otherwise."""
    explanation: Explanation | None = None
    """With ``explanation=`` a callable: its explanation of the perturbed prompt, the one the
    evaluators were handed with it; ``None`` otherwise."""

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def explanation_changed(self) -> bool:
        """Whether the product's answer on the perturbed prompt differs from its answer on
        the base prompt (equal, or both correct, is no change; so is no product)."""
        if self.base_explanation is None or self.explanation is None:
            return False
        return not _same(
            self.base_explanation.answer, self.explanation.answer, self.spec, self.expected
        )

    @property
    def exact(self) -> bool:
        """Whether the check compared sample by sample instead of testing."""
        return self.level is None

    @property
    def flipped(self) -> list[str]:
        """Evaluators whose answers the perturbation changed: beyond ``min_invariance`` in
        exact mode, otherwise by a drop beyond ``max_drop`` confirmed on fresh samples."""
        if not self.exact:
            return [m for m, t in self.tests.items() if t.failed]
        return [
            m
            for m, a in self.agreement.items()
            if a.rate is None or a.rate < self.options.min_invariance
        ]

    def to_dict(self) -> dict[str, Any]:
        """The check as the JSON report holds it (kind invariant)."""
        prompt = self.perturbed
        if getattr(prompt, "edits", None) is None:
            prompt = PerturbedPrompt(str(self.perturbed), str(self.base), ())
        return {
            "kind": "invariant",
            "prompt": str(self.base),
            "perturbed": str(self.perturbed),
            "perturbation": data.perturbation(prompt),
            "evaluators": list(self.options.evaluators),
            "options": data.jsonable(self.options.to_dict()),
            "answer_spec": self.spec.describe(),
            "expected": data.jsonable(self.expected),
            "models": {
                m: {
                    "base": data.jsonable(self.base_answers[m]),
                    "perturbed": data.jsonable(self.perturbed_answers[m]),
                    "agree": self.agreement[m].agree,
                    "total": self.agreement[m].total,
                }
                for m in self.agreement
            },
            "flipped": self.flipped,
            "level": self.level,
            "search_size": self.search_size,
            "confirmations": self.confirmations,
            "spent": self.spent,
            "confirmation_samples": self.confirmation_samples,
            "screen_p": SCREEN_P,
            "power_drop": self.power_drop,
            "problem": self.problem,
            "explanation": self._explanation_data(),
            "tests": {m: t.to_dict() for m, t in self.tests.items()},
            "verdict": self.verdict,
            "reasons": list(self.reasons),
        }

    def _explanation_data(self) -> dict[str, Any] | None:
        """The product's explanations of both prompts, as JSON data (``None``: no product)."""
        if self.base_explanation is None or self.explanation is None:
            return None
        return {
            "origin": self.explanation.origin,
            "base": {
                "answer": data.jsonable(self.base_explanation.answer),
                "output": self.base_explanation.output,
            },
            "perturbed": {
                "answer": data.jsonable(self.explanation.answer),
                "output": self.explanation.output,
            },
            "changed": self.explanation_changed,
        }

    def explain(self) -> str:
        lines = [f"invariance {self.verdict.upper()}: " + "; ".join(self.reasons or ["ok"])]
        prompt: Any = self.perturbed
        if getattr(prompt, "edits", None) is None:
            prompt = PerturbedPrompt(self.perturbed, self.base, ())
        lines.append(f"perturbation: {prompt.describe()}")
        lines.extend(f"  {line}" for line in prompt.diff().splitlines())
        product = self.base_explanation is not None and self.explanation is not None
        names = [*self.agreement, "answers", *([PRODUCT_ROW] if product else [])]
        width = max(len(name) for name in names)
        lines.append("")
        if self.exact:
            lines.append(f"  {'answers':<{width}}  {'base':<20}  {'perturbed':<20}  agreement")
        else:
            lines.append(
                f"  {'answers':<{width}}  {'base':<20}  {'perturbed':<20}  "
                "rate base -> perturbed (screen p), noise floor"
            )
        if product:
            assert self.base_explanation is not None and self.explanation is not None
            before, after = self.base_explanation.answer, self.explanation.answer
            row = f"  {PRODUCT_ROW:<{width}}  {show(before):<20}  {show(after):<20}  " + (
                "changed   <- flipped" if self.explanation_changed else "same"
            )
            lines.append(row)
        for model, pair in self.agreement.items():
            row = (
                f"  {model:<{width}}  {' '.join(map(show, self.base_answers[model])):<20}  "
                f"{' '.join(map(show, self.perturbed_answers[model])):<20}  "
            )
            test = self.tests.get(model)
            if test is None:
                row += f"{pair.agree}/{pair.total}"
            else:
                row += test.describe()
            lines.append(row + ("   <- flipped" if model in self.flipped else ""))
        if not self.exact:
            lines.append(self.design())
        if self.expected is not None:
            lines.append(f"  expected: {show(self.expected)}")
        if self.explanation is not None:
            lines.append(
                f"  {PRODUCT_ROW}: the answer of {self.explanation.origin} on each prompt; "
                "the evaluators answered each prompt with its explanation handed over"
            )
        lines.append(f"  base prompt: {' '.join(self.base.split())}")
        return "\n".join(lines)

    def design(self) -> str:
        """One line: the screen, the confirmation's level and size, and its power."""
        assert self.level is not None
        alpha = self.level * self.confirmations
        powers = [t.power for t in self.tests.values() if t.power is not None]
        power = (
            f"; power {min(powers):.2f} to confirm a drop of {self.power_drop:g}"
            if powers and self.power_drop is not None
            else ""
        )
        return (
            f"  screen p < {SCREEN_P:g}; confirmed on {self.confirmation_samples} fresh "
            f"samples per prompt at {alpha:.2g}/{self.confirmations} = {self.level:.2g} "
            f"(at most {self.confirmations} confirmation(s) in {self.search_size} example(s), "
            f"{self.spent} spent); tolerated drop {self.options.tolerated_drop:g}{power}"
        )


def planned_calls(options: TransferOptions) -> tuple[int, bool]:
    """The most calls one ``invariant()`` makes, and whether that is only an upper bound."""
    count = sample_count(options)
    evaluators = len(options.evaluators)
    if options.confidence is None or (options.temperature == 0 and count == 1):
        return 2 * evaluators * count, False
    base, _, most = screen_sizes(options)
    return evaluators * (base + most + 2 * confirmation_size(options)), True


def invariant(
    base: str,
    perturbed: str,
    options: TransferOptions,
    spec: AnswerSpec,
    expected: Any,
    ask: Ask,
    extract: Extract,
    fan_out: FanOut | None = None,
    *,
    search_size: int = 1,
    problem: str | None = None,
    budget: SearchBudget | None = None,
    explanation: Callable[[str], str] | None = None,
) -> InvariantResult:
    """Answer both prompts with every evaluator, screen and confirm (see the module
    docstring). Every call of a round is independent, so all of them go to ``fan_out``
    together. ``budget`` is the running search's (a new one of :func:`SearchBudget.for_search`
    when ``None``).

    With ``problem``, ``base`` and ``perturbed`` are two explanations of it (an original and
    an edit, such as ``xst.corrupt_step()`` draws), each handed to the evaluators as the
    transfer check hands one: the same search-level control then finds the smallest edit of
    an explanation that changes an answer.

    With ``explanation`` (the product's callable), the product explains each prompt once;
    its answer must not change (compared exactly, see :func:`_product`), and the evaluators
    answer each prompt with the product's explanation of it."""
    search_size = max(1, search_size)
    budget = budget if budget is not None else SearchBudget.for_search(search_size)
    key = (
        str(base),
        str(perturbed),
        problem,
        repr(expected),
        repr(options),
        spec.describe(),
        None if explanation is None else source_name(explanation),
    )
    if key in budget.decided:
        seen: InvariantResult = copy.deepcopy(budget.decided[key])
        return seen
    made: dict[str, Explanation] = {}
    if explanation is not None:
        for prompt in dict.fromkeys((str(base), str(perturbed))):
            text, origin, name = given_text(explanation, prompt)
            made[prompt] = given(name, text, options, spec, ask, extract, "given", origin)
    count = sample_count(options)
    ask_all = functools.partial(
        _answers_of,
        options=options,
        spec=spec,
        ask=ask,
        extract=extract,
        fan_out=fan_out,
        problem=problem,
        handed={prompt: m.text for prompt, m in made.items()},
    )
    exact = options.confidence is None or (options.temperature == 0 and count == 1)
    base_n, first, most = (count, count, count) if exact else screen_sizes(options)
    models = tuple(options.evaluators)
    found = ask_all([(base, range(base_n)), (perturbed, range(first))], models)
    result = InvariantResult(
        base, perturbed, options, spec, expected, found[0], found[1], {}, search_size=search_size
    )
    result.problem = problem
    if made:
        result.base_explanation = made[str(base)]
        result.explanation = made[str(perturbed)]
    _agreement(result)
    if exact:
        _product(result)
        _exact(result)
        return result
    assert options.confidence is not None
    alpha = round(1 - options.confidence, 12)  # 1 - 0.95 is 0.05000000000000004
    margin = options.tolerated_drop
    result.confirmations = budget.size
    result.level = alpha / budget.size
    result.confirmation_samples = size = confirmation_size(options)
    result.power_drop = round(margin + POWER_DROP, 12)
    for model in models:
        result.tests[model] = drop_test(found[0][model], found[1][model], spec, expected, margin)
    if most > first:
        again = [m for m, t in result.tests.items() if suggests(t, margin)]
        if again:
            more = ask_all([(perturbed, range(first, most))], tuple(again))
            for model in again:
                found[1][model] = found[1][model] + more[0][model]
                result.tests[model] = drop_test(
                    found[0][model], found[1][model], spec, expected, margin
                )
            _agreement(result)
    for test in result.tests.values():
        test.screened = suggests(test, margin)
        test.power = confirmation_power(test.base_rate, size, result.level, margin)
    # Without ``expected`` the base prompt's answers are the reference: with none readable
    # there is nothing to compare, which is no evidence of invariance (as in exact mode).
    unreadable = [
        m
        for m, t in result.tests.items()
        if expected is None and t.reference is None and not any(a is not None for a in found[0][m])
    ]
    smallest = significance.drop_beyond_p(size, size, 0, size, margin)
    suspects = [m for m, t in result.tests.items() if t.screened]
    if smallest >= result.level:
        result.verdict = "inconclusive"
        needed = next(
            (n for n in range(count + 1, 200) if smallest_p(options, n) < result.level), 200
        )
        result.reasons.append(
            f"a confirmation of {size} sample(s) per prompt cannot show any drop beyond "
            f"{margin:g} at level {result.level:.2g} (even a complete flip gives "
            f"p={smallest:.3g}); use samples={needed} or more"
        )
    elif suspects and budget.left <= 0:
        for model in suspects:
            result.tests[model].note = (
                f"screen suggests a drop; not confirmed: the search's {budget.size} "
                "confirmation(s) are spent"
            )
    elif suspects:
        _confirm(result, budget, suspects, ask_all, start=max(base_n, most), size=size)
    result.spent = budget.spent
    for model in result.flipped:
        test = result.tests[model]
        assert test.confirmation is not None  # a failed test was confirmed
        measure = test.measure
        if test.reference is not None:
            measure += f" ({show(test.reference)})"
        result.reasons.append(
            f"{model}: {measure} fell from {test.base_rate:.2f} to "
            f"{test.perturbed_rate:.2f} (screen p={test.p_value:.3g} < {SCREEN_P:g}), and "
            f"again on {size} fresh samples per prompt from {test.confirmation[0]:.2f} to "
            f"{test.confirmation[1]:.2f} (p={test.confirmation[2]:.3g} < {result.level:.2g}, "
            f"beyond a drop of {margin:g})"
        )
    for model in unreadable:
        result.reasons.append(
            f"{model} gave no parseable answer on the base prompt's {base_n} screening "
            "sample(s), so there is no reference answer to compare with"
        )
    _product(result)
    if result.flipped or unreadable or result.explanation_changed or _product_wrong(result):
        result.verdict = "fail"
    budget.decided[key] = copy.deepcopy(result)
    return result


def _same(before: Any, after: Any, spec: AnswerSpec, expected: Any) -> bool:
    """One answer against another as the exact comparison counts them: equal, or both
    correct (no answer read on either side is a change)."""
    if before is None or after is None:
        return False
    if expected is not None and spec.correct(before, expected) and spec.correct(after, expected):
        return True
    return bool(spec.equal(before, after))


def _product_wrong(result: InvariantResult) -> list[str]:
    """With ``require_correct`` and ``expected``: the prompts on which the product's answer
    is wrong (``"base"``, ``"perturbed"``)."""
    if not result.options.require_correct or result.expected is None:
        return []
    made = (("base", result.base_explanation), ("perturbed", result.explanation))
    return [
        which
        for which, found in made
        if found is not None
        and found.answer is not None
        and not result.spec.correct(found.answer, result.expected)
    ]


def _product(result: InvariantResult) -> None:
    """The product's answers: a change from the base prompt's, and with ``require_correct``
    a wrong one, each a reason to fail (no sampling: the product explained each prompt once)."""
    if result.base_explanation is None or result.explanation is None:
        return
    before, after = result.base_explanation.answer, result.explanation.answer
    origin = result.explanation.origin
    unread = [w for w, a in (("base", before), ("perturbed", after)) if a is None]
    if unread:
        result.reasons.append(
            f"no answer could be read from the explanation of the {' and the '.join(unread)} "
            f"prompt ({origin}); it must end with the answer, e.g. an 'Answer:' line"
        )
    elif result.explanation_changed:
        result.reasons.append(
            f"the explanation's answer changed from {show(before)} on the base prompt to "
            f"{show(after)} on the perturbed one ({origin})"
        )
    for which in _product_wrong(result):
        found = before if which == "base" else after
        result.reasons.append(
            f"the explanation's answer on the {which} prompt is {show(found)} (expected "
            f"{show(result.expected)}: wrong; require_correct)"
        )


def _confirm(
    result: InvariantResult,
    budget: SearchBudget,
    suspects: list[str],
    ask_all: Any,
    *,
    start: int,
    size: int,
) -> None:
    """Spend one confirmation on ``suspects``: fresh samples of both prompts, the drop beyond
    ``max_drop`` against the screen's reference, Holm over the suspects at ``result.level``."""
    indices = budget.take(start, size)
    fresh = ask_all([(result.base, indices), (result.perturbed, indices)], tuple(suspects))
    margin = result.options.tolerated_drop
    tests = {}
    for model in suspects:
        screen = result.tests[model]
        tests[model] = drop_test(
            fresh[0][model],
            fresh[1][model],
            result.spec,
            result.expected,
            margin,
            reference=screen.reference,
            fixed=True,
        )
    adjusted = significance.adjust([t.p_value for t in tests.values()], "holm")
    assert result.level is not None
    for (model, again), p in zip(tests.items(), adjusted, strict=True):
        test = result.tests[model]
        test.confirmation = (again.base_rate, again.perturbed_rate, p)
        test.failed = p < result.level and again.drop > margin + 1e-9


def _agreement(result: InvariantResult) -> None:
    """Sample *i* of the base against sample *i* of the perturbed prompt, as far as both go."""
    spec, expected = result.spec, result.expected
    for model in result.options.evaluators:
        before, after = result.base_answers[model], result.perturbed_answers[model]
        n = min(len(before), len(after))
        before, after = before[:n], after[:n]
        correct_before = correct_after = None
        if expected is not None:
            correct_before = [spec.correct(a, expected) for a in before]
            correct_after = [spec.correct(a, expected) for a in after]
        result.agreement[model] = metrics.agreement_with(
            before, after, correct_before, correct_after, equal=spec.equal
        )


def _answers_of(
    requests: list[tuple[str, range]],
    models: tuple[str, ...],
    *,
    options: TransferOptions,
    spec: AnswerSpec,
    ask: Ask,
    extract: Extract,
    fan_out: FanOut | None,
    problem: str | None = None,
    handed: dict[str, str] | None = None,
) -> list[dict[str, list[Any]]]:
    """Each ``(prompt, sample indices)`` of ``requests`` answered by every model of ``models``,
    all calls at once; a prompt in ``handed`` with that explanation handed over."""
    params = {"temperature": options.temperature}

    def messages(text: str) -> list[Message]:
        if handed:
            return prompts.transfer(text, handed[text], options.delivery, options.prompts)
        if problem is None:
            return prompts.baseline(text, "own", options.prompts)
        return prompts.transfer(problem, text, options.delivery, options.prompts)

    calls = [
        functools.partial(ask, model, messages(str(prompt)), i, params)
        for prompt, indices in requests
        for model in models
        for i in indices
    ]
    results = iter((fan_out or serial)(calls, models))
    found: list[dict[str, list[Any]]] = []
    for _, indices in requests:
        found.append({m: [extract(next(results).text, spec) for _ in indices] for m in models})
    return found


def _exact(result: InvariantResult) -> None:
    """Sample *i* against sample *i*: at least ``min_invariance`` of them must agree."""
    options = result.options
    for model in result.flipped:
        pair = result.agreement[model]
        if pair.total == 0:
            result.reasons.append(f"{model} gave no parseable answer pair")
        else:
            changed = pair.total - pair.agree
            result.reasons.append(
                f"{model} changed its answer on {changed} of {pair.total} sample(s) "
                f"(min_invariance {options.min_invariance:g})"
            )
    result.verdict = "fail" if result.reasons else "pass"


def run_check(
    ctx: CheckContext,
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
) -> Ran:
    """``xgen.invariant()``: the evaluators' answers on ``perturbed`` against ``base``
    (or the product's, with ``explanation``); its verdict decides a marked test. A
    Hypothesis search shares one budget of confirmations (``ctx.search_budget``)."""
    method = "xgen.invariant()"
    product = _product_source(explanation, problem)
    if product is not None:
        options["explanation"] = product
    spec = ctx.spec(answer, tolerance, rel_tolerance, choices, fallback, method=method)
    opts = ctx.options(options, needs_generator=False, method=method)
    if product is None and callable(opts.explanation) and problem is None:
        product = opts.explanation  # the marker's product
    wanted = ctx.expected(expected, spec, method=method)
    calls, at_most = planned_calls(opts)
    if product is not None:
        # The product's own calls cannot be foreseen: counted without a total, then
        # the evaluators' as the plan once it has explained.
        ctx.begin(0)
        count = 1 if str(base) == str(perturbed) else 2
        product = _replanning(ctx, product, calls, at_most, count)
    else:
        ctx.begin(calls, at_most=at_most)
    search_size = ctx.search_size
    if search_size > 1 and ctx.search_budget is None:
        # One budget of confirmations for the whole search, shrinking included.
        ctx.search_budget = SearchBudget.for_search(search_size)
    result = invariant(
        base,
        perturbed,
        opts,
        spec,
        wanted,
        ctx.ask,
        ctx.extract,
        ctx.fan_out,
        search_size=search_size,
        problem=problem,
        budget=ctx.search_budget if search_size > 1 else None,
        explanation=product,
    )
    return Ran(result, [(result, True)])


def _replanning(
    ctx: CheckContext, product: Callable[[str], str], calls: int, at_most: bool, prompts: int
) -> Callable[[str], str]:
    """``product``, telling the progress line after each of its explanations what is
    still to come: the check's ``calls``, and one call for each of the ``prompts`` it
    has not explained yet (its name kept for messages and reports)."""
    done = [0]

    @functools.wraps(product)
    def explain(prompt: str) -> str:
        try:
            return product(prompt)
        finally:
            done[0] += 1
            ctx.replan(calls + max(0, prompts - done[0]), at_most=at_most)

    return explain


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
