"""The conditions an intervention compares (its arms) and the reference answer their answers
are counted against: the most common answer given the original explanation on separate
samples, used for nothing else (:func:`reference_samples`), and the doubts that leave it
unfit to measure on (:func:`doubts`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_xgen.checks.conditions import Ask, Extract, sample_calls, sample_count
from pytest_xgen.checks.data import jsonable
from pytest_xgen.checks.parallel import FanOut, serial
from pytest_xgen.core import metrics, prompts
from pytest_xgen.core.answers import AnswerSpec
from pytest_xgen.settings.marker import TransferOptions


@dataclass
class Arm:
    """One condition: the explanation given (``None``: none, the baseline) and the answers."""

    label: str
    text: str | None
    answers: dict[str, list[Any]]
    outputs: dict[str, list[str]]
    note: dict[str, Any] = field(default_factory=dict)

    def flat(self) -> list[Any]:
        return [a for answers in self.answers.values() for a in answers]

    def hits(self, reference: Any, spec: AnswerSpec) -> tuple[int, int]:
        """How many answers are ``reference``, out of all (unparseable ones included)."""
        found = self.flat()
        if reference is None:
            return 0, len(found)
        return sum(a is not None and spec.equal(a, reference) for a in found), len(found)

    def share(self, reference: Any, spec: AnswerSpec) -> float | None:
        hit, total = self.hits(reference, spec)
        return hit / total if total else None

    def to_dict(self, reference: Any, spec: AnswerSpec) -> dict[str, Any]:
        hit, total = self.hits(reference, spec)
        counts = Counter("unparsed" if a is None else shown(a).strip("'") for a in self.flat())
        return {
            "label": self.label,
            "explanation": self.text,
            "answers": {m: jsonable(v) for m, v in self.answers.items()},
            "outputs": {m: list(v) for m, v in self.outputs.items()},
            "distribution": dict(sorted(counts.items())),
            "reference": {"hits": hit, "total": total, "rate": hit / total if total else None},
            **jsonable(self.note),
        }


def shown(answer: Any) -> str:
    """An answer as the summaries write it: 7 for 7.0, quoted text, a custom answer type
    as its ``str`` (``7/2`` for a ``Fraction``)."""
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    if answer is None or isinstance(answer, str | bool | int | float):
        return repr(answer)
    return str(answer)


def modal(answers: Sequence[Any], spec: AnswerSpec) -> Any:
    """The most common parseable answer (the first seen among equals), or None."""
    return metrics.most_common(answers, spec.equal)[0]


def tally(answers: Sequence[Any], spec: AnswerSpec) -> list[tuple[Any, int]]:
    """The parseable answers grouped as :func:`~pytest_xgen.core.metrics.most_common`
    groups them (by ``spec.equal``, first seen first), with their counts, most common first."""
    groups: list[list[Any]] = []
    for answer in answers:
        if answer is None:
            continue
        for group in groups:
            if spec.equal(group[0], answer):
                group.append(answer)
                break
        else:
            groups.append([answer])
    return sorted(((g[0], len(g)) for g in groups), key=lambda item: -item[1])


def doubts(
    reference: Any, tie: bool, chosen_from: Arm, expected: Any, spec: AnswerSpec
) -> list[str]:
    """Why ``reference`` cannot be the answer the interventions measure: it won a tie among
    the separate samples ``chosen_from``, or it is not ``expected``. Empty when neither."""
    if reference is None:
        return []
    found = []
    hit, total = chosen_from.hits(reference, spec)
    if tie:
        others = [shown(a) for a, n in tally(chosen_from.flat(), spec) if n == hit]
        found.append(
            f"the reference answer {shown(reference)} came from a tie: "
            f"{' and '.join(others)} each {hit} of the {total} separate samples, the first "
            "seen taken; ask more samples (samples=...) to decide it"
        )
    if expected is not None and not spec.correct(reference, expected):
        found.append(
            f"the reference answer {shown(reference)} ({hit} of {total} separate samples) "
            f"is not the expected {shown(expected)}: the evaluators given the explanation "
            "do not reach the expected answer, so whether they follow its reasoning cannot "
            "be told from their answers"
        )
    return found


MakeArm = Callable[..., Arm]


def reference_samples(
    prompt: str,
    text: str,
    options: TransferOptions,
    spec: AnswerSpec,
    ask: Ask,
    extract: Extract,
    fan_out: FanOut | None,
) -> Arm:
    """The original condition again on samples ``count .. 2 * count - 1`` (``count`` as the
    arms take): the answers the reference is chosen from, independent of every arm
    compared. (With ``samples="auto"`` the transfer check may have asked these already;
    they replay.)"""
    count = sample_count(options)
    messages = prompts.transfer(prompt, text, options.delivery, options.prompts)
    params = {"temperature": options.temperature}
    calls = sample_calls(ask, options.evaluators, messages, params, count, 2 * count)
    results = iter((fan_out or serial)(calls, options.evaluators))
    answers: dict[str, list[Any]] = {}
    outputs: dict[str, list[str]] = {}
    for model in options.evaluators:
        texts = [next(results).text for _ in range(count)]
        outputs[model] = texts
        answers[model] = [extract(t, spec) for t in texts]
    return Arm("reference samples", text, answers, outputs)
