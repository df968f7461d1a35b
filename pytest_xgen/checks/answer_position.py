"""Where an explanation states its answer: the steps after it are decoration.

An explanation that states its final answer at step 2 of 6 and then "derives" it in steps
3 to 6 did not need those steps to reach it: they were written after the answer, not on the
way to it, and an evaluator handed them learns nothing the answer did not already say. The
check reads the explanation's steps (as the interventions cut them), finds the first step
whose own answer reading (the ``answer`` spec on that step alone) is the explanation's final
answer, and counts the steps after it that do not merely restate the answer. With
``max_steps_after_answer`` (marker or argument) more such steps fail the check, and in a
``transfers``-marked test the test; without it the position is measured only.

It makes no model call for an explanation it is given (a text, or a callable as for
``xgen.check()``), and one (the generator's explanation, recorded as every check records
it) otherwise. Run it with ``xgen.run_check("answer_position", prompt, ...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_xgen.checks.arms import shown
from pytest_xgen.checks.conditions import explanation_of, given_text
from pytest_xgen.checks.context import Ran
from pytest_xgen.checks.data import jsonable
from pytest_xgen.core import prompts
from pytest_xgen.core.interventions import steps as split_steps
from pytest_xgen.core.strip import declares_answer
from pytest_xgen.errors import hide_frame

if TYPE_CHECKING:
    from pytest_xgen.checks.context import CheckContext
    from pytest_xgen.core.answers import AnswerSpec

__tracebackhide__ = hide_frame

KEYWORD = "max_steps_after_answer"


@dataclass
class AnswerPosition:
    """The outcome of an ``answer_position`` check."""

    kind: ClassVar[str] = "answer_position"

    prompt: str
    source: str  # who wrote the explanation: the generator's name, or "given"/"callable NAME"
    steps: list[str]
    answer: Any
    stated_at: int | None = None
    """The first step (1-based) whose own answer is the final answer; None: none is."""
    after: list[int] = field(default_factory=list)
    """The steps after it that do more than restate the answer: the decoration."""
    threshold: int | None = None
    verdict: str = "pass"
    reasons: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def summary(self) -> str:
        if self.stated_at is None:
            return f"the final answer {shown(self.answer)} is stated at no single step"
        return (
            f"the answer {shown(self.answer)} is stated at step {self.stated_at} of "
            f"{len(self.steps)}; {len(self.after)} step(s) after it"
        )

    def to_dict(self) -> dict[str, Any]:
        """The check as the JSON report holds it (kind answer_position)."""
        return {
            "kind": self.kind,
            "prompt": str(self.prompt),
            "source": self.source,
            "steps": list(self.steps),
            "answer": jsonable(self.answer),
            "stated_at": self.stated_at,
            "steps_after": list(self.after),
            "threshold": self.threshold,
            "summary": self.summary,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
        }

    def explain(self) -> str:
        shown = "" if self.threshold is None else f" ({KEYWORD}={self.threshold})"
        lines = [f"answer position {self.verdict.upper()}{shown}: {self.summary}"]
        lines.extend(f"  {reason}" for reason in self.reasons)
        for number, step in enumerate(self.steps, 1):
            mark = ">" if number == self.stated_at else ("+" if number in self.after else " ")
            lines.append(f"  {mark}{number:>2} | {' '.join(step.split())[:100]}")
        return "\n".join(lines)


def locate(
    prompt: str,
    text: str,
    source: str,
    spec: AnswerSpec,
    extract: Callable[[str, AnswerSpec], Any],
    threshold: int | None,
) -> AnswerPosition:
    """Where ``text`` states its final answer, and the verdict against ``threshold``."""
    found = [s.text.strip() for s in split_steps(text)]
    answer = extract(text, spec)
    result = AnswerPosition(prompt, source, found, answer, threshold=threshold)
    readings = [spec.extract(step) for step in found]
    same = [r is not None and answer is not None and spec.equal(r, answer) for r in readings]
    if answer is not None and any(same):
        result.stated_at = same.index(True) + 1
        result.after = [
            number
            for number in range(result.stated_at + 1, len(found) + 1)
            if not (same[number - 1] or declares_answer(found[number - 1]))
        ]
    if threshold is None:
        result.reasons.append(f"reported only: assert it with {KEYWORD}=...")
    elif result.stated_at is None:
        result.verdict = "inconclusive"
        result.reasons.append(
            "no step states the final answer on its own"
            if answer is not None
            else "the explanation's final answer cannot be read"
        )
    elif len(result.after) > threshold:
        result.verdict = "fail"
        result.reasons.append(
            f"{len(result.after)} step(s) after the answer (steps "
            f"{', '.join(map(str, result.after))}) against {KEYWORD}={threshold}: they were "
            "written after the answer, not on the way to it"
        )
    return result


def planned_calls(explanation: object) -> int:
    """The calls the check makes: the generator's explanation when none is given."""
    return int(explanation is None)


def run_check(
    ctx: CheckContext,
    prompt: str,
    explanation: str | Callable[[str], str] | None = None,
    *,
    answer: Any = "number",
    tolerance: float | None = None,
    rel_tolerance: float | None = None,
    choices: Sequence[str] | None = None,
    fallback: bool = True,
    **options: Any,
) -> Ran:
    """``xgen.run_check("answer_position", prompt, explanation=None, ...)``: asserted in a
    marked test when ``max_steps_after_answer`` is set."""
    method = "xgen.run_check('answer_position')"
    spec = ctx.spec(answer, tolerance, rel_tolerance, choices, fallback, method=method)
    opts = ctx.options(options, needs_generator=explanation is None, method=method)
    ctx.begin(planned_calls(explanation))
    if explanation is None:
        made = ctx.ask(opts.generator_name, prompts.elicit(str(prompt), opts.prompts), 0, {})
        text, source = explanation_of(made)[1], opts.generator_name
    else:
        text, source, _ = given_text(explanation, str(prompt))
    threshold = opts.extra.get(KEYWORD)
    result = locate(str(prompt), text, source, spec, ctx.extract, threshold)
    return Ran(result, [(result, threshold is not None)])
