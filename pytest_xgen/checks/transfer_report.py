"""What a transfer check gives back: :class:`TransferResult`, the text a person reads when
it fails (or asks ``result.explain()``), and its JSON data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pytest_xgen.checks import data
from pytest_xgen.checks.conditions import AUTO, Condition, Explanation
from pytest_xgen.checks.looks import Look
from pytest_xgen.core.answers import AnswerSpec
from pytest_xgen.core.printable import rate, signed
from pytest_xgen.settings.marker import TransferOptions

EXCERPT_LINES = 8
EXCERPT_WIDTH = 100


@dataclass(frozen=True)
class Single:
    """One generator's own explanation under the transfer condition, next to an ensemble."""

    generator: str
    explanation: Explanation
    transfer: Condition
    lift: float | None

    @property
    def consistency(self) -> float | None:
        return self.transfer.mean

    @property
    def answer(self) -> Any:
        return self.explanation.answer


@dataclass
class TransferResult:
    """The outcome of one ``xgen.check()``."""

    kind: ClassVar[str] = "transfer"

    prompt: str
    options: TransferOptions
    spec: AnswerSpec
    expected: Any
    explanation: Explanation
    baseline: Condition
    transfer: Condition
    lift: float | None
    lift_interval: tuple[float, float] | None
    verdict: str = "pass"  # pass | fail | inconclusive
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Samples per evaluator and condition the check took (with samples="auto", where it
    # stopped), and the level of the intervals it decided on (None: point estimates).
    samples_used: int = 0
    interval_level: float | None = None
    # The looks at the transfer agreement (one with a fixed samples and a confidence, none
    # on point estimates), and why sampling stopped: "verdict", "unlikely" (a verdict by
    # the last look had become unlikely), "maximum", or "" (a fixed samples).
    looks: list[Look] = field(default_factory=list)
    stopped: str = ""
    # With explanation="ensemble": the EnsembleExplanation, and each generator's own
    # explanation measured the same way, for comparison.
    ensemble: Any = None
    singles: dict[str, Single] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.samples_used:
            self.samples_used = len(next(iter(self.transfer.compared.values()), []))
        if self.interval_level is None and self.transfer.interval is not None:
            self.interval_level = self.options.confidence

    @property
    def auto(self) -> bool:
        """Whether the check sampled sequentially (``samples="auto"``)."""
        return self.options.samples == AUTO

    @property
    def consistency(self) -> float | None:
        """Transfer consistency (mean over evaluator pairs)."""
        return self.transfer.mean

    @property
    def baseline_consistency(self) -> float | None:
        return self.baseline.mean

    @property
    def accuracy(self) -> dict[str, float | None]:
        """Accuracy per evaluator in the transfer condition (empty without ``expected``)."""
        return self.transfer.accuracy

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def diverged(self) -> str | None:
        """The evaluator that strayed furthest from the explanation under transfer: the
        lowest share of answers equal to the generator's, then the lowest mean agreement
        with the other evaluators."""
        reference = self.explanation.answer

        def follows(model: str) -> float:
            answers = [a for a in self.transfer.answers[model] if a is not None]
            if reference is None or not answers:
                return 1.0
            return sum(self.spec.equal(a, reference) for a in answers) / len(answers)

        def agrees(model: str) -> float:
            rates = [
                p.rate
                for pair, p in self.transfer.consistency.pairs.items()
                if model in pair and p.rate is not None
            ]
            return sum(rates) / len(rates) if rates else 1.0

        scores = {m: (follows(m), agrees(m)) for m in self.options.evaluators}
        worst = min(scores, key=lambda m: scores[m])
        return worst if scores[worst] < (1.0, 1.0) else None

    def explain(self) -> str:
        """A self-contained account of the check, used as the failure message."""
        return explain(self)

    def to_dict(self) -> dict[str, Any]:
        """The check as the JSON report holds it (kind transfer)."""
        return to_dict(self)


def show(value: Any) -> str:
    """An answer as it appears in tables: ``?`` when unparseable."""
    if value is None:
        return "?"
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    return text if len(text) <= 14 else text[:13] + "…"


def _rate(condition: Condition, a: str, b: str) -> str:
    pair = condition.consistency.pair(a, b)
    if pair.rate is None:
        return f"{'0/0':>5}  n/a "
    return f"{pair.agree:>2}/{pair.total:<2} {pair.rate:.2f}"


def _consistency(condition: Condition) -> str:
    c = condition.consistency
    if c.mean is None:
        return "n/a"
    return f"{c.mean:.2f} ± {c.std or 0.0:.2f}"


def answer_source(e: Explanation) -> str:
    """Whose answer a single evaluator is compared with, in words: the generator's (by
    name), or the explanation's with where it came from (a callable, a given text, an
    ensemble); never a missing generator's name."""
    if e.origin == "generator":
        return f"the generator {e.generator}'s answer"
    if e.origin == "given":
        return "the explanation's answer (an explanation given to the check)"
    if e.origin == "ensemble":
        return "the explanation's answer (an ensembled explanation)"
    return f"the explanation's answer (made by {e.origin})"


def maker(e: Explanation, generator: str | None) -> str:
    """Who made the explanation, as the report's ``generator`` field names it: the
    generator model, or the explanation's origin (``callable tutor.explain``, ``given``,
    ``ensemble``) when no model made it."""
    return str(generator) if e.origin == "generator" and generator else e.origin


# The parts of an answer only one API gives, and that API (as model identities name it):
# the account of a check says where a generator's explanation came from.
SOURCE_API = {"thinking": "anthropic", "reasoning summary": "openai-responses"}


def came_from(e: Explanation) -> str:
    """The part of the generator's answer the explanation came from, with the API that
    gives it where only one does: ``thinking (anthropic)``, ``reasoning summary
    (openai-responses)``, ``text``."""
    api = SOURCE_API.get(e.source)
    return f"{e.source} ({api})" if api else e.source


def explain(result: TransferResult) -> str:
    o = result.options
    e = result.explanation
    lines = [f"transfer check {result.verdict.upper()}: " + "; ".join(result.reasons or ["ok"])]
    expected = ""
    if result.expected is not None:
        verdict = "correct" if result.spec.correct(e.answer, result.expected) else "wrong"
        expected = f" (expected {show(result.expected)}: {verdict})"
    removed = f"{len(e.stripped.removed)} answer sentence(s) removed by {e.stripped.method}"
    if e.origin in ("generator", "ensemble"):
        lines.append(
            f"generator {e.generator} answered {show(e.answer)}{expected}; explanation from "
            f"its {came_from(e)}, {removed}"
        )
    else:
        made = "given to the check" if e.origin == "given" else f"made by {e.generator}"
        lines.append(f"explanation {made} answers {show(e.answer)}{expected}; {removed}")
    if e.answer is None:
        lines.append("  " + _miss(result, e.output, "the explanation's"))
    lines.extend(_ensemble_lines(result))
    lines.append(
        f"evaluators {', '.join(o.evaluators)}: {result.samples_used} sample(s) each"
        f"{' (samples=auto)' if result.auto else ''} at temperature "
        f"{o.temperature:g}; answers as {result.spec.describe()}"
    )
    lines.extend(f"note: {n}" for n in result.notes)
    if getattr(result.prompt, "edits", None) is not None:
        # A Hypothesis-drawn prompt: show what was changed from the base prompt.
        prompt: Any = result.prompt
        lines.append(f"perturbation: {prompt.describe()}")
        lines.extend(f"  {line}" for line in prompt.diff().splitlines())
    b, t = result.baseline, result.transfer
    width = max([len(f"{x} ~ {y}") for x, y in t.consistency.pairs] + [22])
    lines.append("")
    lines.append(f"  {'agreement':<{width}}  {b.name:<16}  {t.name}")
    for x, y in t.consistency.pairs:
        lines.append(f"  {x + ' ~ ' + y:<{width}}  {_rate(b, x, y):<16}  {_rate(t, x, y)}")
    lift = signed(result.lift)
    if result.lift_interval is not None:
        lift += f" [{result.lift_interval[0]:+.2f}, {result.lift_interval[1]:+.2f}]"
    lines.append(
        f"  {'consistency (mean ± sd)':<{width}}  {_consistency(b):<16}  {_consistency(t)}"
        f"    lift {lift} (min_lift {o.min_lift:g})"
    )
    if t.interval is not None and b.interval is not None and result.interval_level is not None:
        lines.append(
            f"  {f'exact {result.interval_level:.0%} interval':<{width}}  "
            f"{f'[{b.interval[0]:.2f}, {b.interval[1]:.2f}]':<16}  "
            f"[{t.interval[0]:.2f}, {t.interval[1]:.2f}]    (min_consistency {o.min_consistency:g})"
        )
    diverged = result.diverged()
    name_width = max([len(m) for m in o.evaluators] + [len("answers")])
    lines.append("")
    accuracy = "  accuracy" if result.expected is not None else ""
    lines.append(f"  {'answers':<{name_width}}  {b.name:<24}  {t.name:<24}{accuracy}")
    for model in o.evaluators:
        row = (
            f"  {model:<{name_width}}  {' '.join(map(show, b.answers[model])):<24}  "
            f"{' '.join(map(show, t.answers[model]))}"
        )
        if result.expected is not None or model == diverged:
            row = f"{row:<{name_width + 54}}"
        if result.expected is not None:
            row += f"  {rate(b.accuracy.get(model))} -> {rate(t.accuracy.get(model))}"
        if model == diverged:
            row += "   <- diverged"
        lines.append(row)
    unparseable = sum(t.unparseable.values()) + sum(b.unparseable.values())
    if unparseable:
        lines.append(f"  (? = unparseable: {unparseable} answer(s), left out of their pairs)")
        lines.extend(_first_misses(result))
    if t.breakdown is not None:
        k = t.breakdown
        lines.append(
            f"  transfer breakdown: consistent-correct {k.consistent_correct:.2f}, "
            f"consistent-wrong {k.consistent_wrong:.2f}, inconsistent {k.inconsistent:.2f}"
        )
    if e.stripped.removed:
        lines.append("")
        lines.append("  removed from the explanation:")
        lines.extend(f"    - {_clip(s)}" for s in e.stripped.removed)
    lines.append("")
    who = f"given to {diverged}" if diverged else "given to the evaluators"
    lines.append(f"  explanation {who} (excerpt):")
    text_lines = [line for line in e.text.splitlines() if line.strip()] or ["(empty)"]
    lines.extend(f"    | {_clip(line)}" for line in text_lines[:EXCERPT_LINES])
    if len(text_lines) > EXCERPT_LINES:
        lines.append(f"    | ... ({len(text_lines) - EXCERPT_LINES} more line(s))")
    return "\n".join(lines)


def _ensemble_lines(result: TransferResult) -> list[str]:
    """The ensembled explanation's provenance, and each generator's own lift beside it."""
    e = result.ensemble
    if e is None:
        return []
    how = f"scored by {e.scorer}" if e.scorer else "chosen by agreement (no scorer)"
    shares = ", ".join(f"{g} {n:.0%}" for g, n in e.share().items())
    lines = [
        f"explanation: ensemble of {', '.join(e.generators)}, {how}; {len(e.steps)} "
        f"sentence(s) ({shares}), stopped: {e.stop_reason}"
    ]
    if result.singles:
        lift = signed(result.lift)
        lines.append(f"single generators: (ensemble: lift {lift})")
        for name, single in result.singles.items():
            own = signed(single.lift)
            mean = rate(single.consistency)
            lines.append(f"  {name}: consistency {mean}, lift {own}")
    return lines


def _miss(result: TransferResult, output: str, whose: str) -> str:
    """What a reader needs when no answer was read from ``output``: the line it was
    looked for in (see ``AnswerSpec.answer_line``)."""
    line = result.spec.answer_line(output)
    where = f'{whose} line "{_clip(line)}"' if line else f"{whose} output: it is empty"
    return f"no {result.spec.kind} answer read from {where}"


def _first_misses(result: TransferResult) -> list[str]:
    """For each evaluator with an unparseable answer, where the first one was looked for."""
    found = []
    for model in result.options.evaluators:
        for condition in (result.baseline, result.transfer):
            outputs, answers = condition.outputs.get(model, []), condition.answers.get(model, [])
            sample = next((i for i, a in enumerate(answers) if a is None), None)
            if sample is not None and sample < len(outputs):
                whose = f"{model}'s {condition.name} sample {sample + 1},"
                found.append(f"  {_miss(result, outputs[sample], whose)}")
                break
    return found


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_WIDTH else text[: EXCERPT_WIDTH - 3] + "..."


def _condition(c: Condition) -> dict[str, Any]:
    correct = c.correct
    accuracy = c.accuracy
    return {
        "name": c.name,
        "consistency": data.consistency(c.consistency),
        "interval": data.interval(c.interval),
        "breakdown": data.breakdown(c.breakdown),
        "sample_agreement": list(c.sample_agreement),
        "models": {
            model: {
                "outputs": list(c.outputs[model]),
                "answers": data.jsonable(c.answers[model]),
                "correct": None if correct is None else list(correct[model]),
                "accuracy": accuracy.get(model),
                "unparseable": c.unparseable[model],
            }
            for model in c.outputs
        },
    }


def to_dict(r: TransferResult) -> dict[str, Any]:
    """The check as the JSON report holds it (``report.schema.json``, kind transfer)."""
    e = r.explanation
    found = {
        "kind": "transfer",
        "prompt": str(r.prompt),
        "perturbation": data.perturbation(r.prompt),
        "generator": maker(e, r.options.generator),
        "evaluators": list(r.options.evaluators),
        "options": data.jsonable(r.options.to_dict()),
        "answer_spec": r.spec.describe(),
        "expected": data.jsonable(r.expected),
        "explanation": {
            "origin": e.origin,
            "source": e.source,
            "output": e.output,
            "text": e.text,
            "removed": list(e.stripped.removed),
            "method": e.stripped.method,
            "answer": data.jsonable(e.answer),
            "correct": None if r.expected is None else r.spec.correct(e.answer, r.expected),
        },
        "conditions": {"baseline": _condition(r.baseline), "transfer": _condition(r.transfer)},
        "lift": r.lift,
        "lift_interval": data.interval(r.lift_interval),
        "samples_used": r.samples_used,
        "interval_level": r.interval_level,
        "looks": [look.to_dict() for look in r.looks],
        "stopped": r.stopped or None,
        "diverged": r.diverged(),
        "verdict": r.verdict,
        "reasons": list(r.reasons),
        "notes": list(r.notes),
    }
    if r.ensemble is not None:
        found["ensemble"] = r.ensemble.to_dict()
        found["singles"] = [
            {
                "generator": name,
                "consistency": single.consistency,
                "lift": single.lift,
                "answer": data.jsonable(single.answer),
            }
            for name, single in r.singles.items()
        ]
    return found
