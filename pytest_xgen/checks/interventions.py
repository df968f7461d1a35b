"""Interventions on an explanation: does an evaluator follow the reasoning it is given?

After the faithfulness tests of Lanham et al. (2023, arXiv 2307.13702), each intervention
edits the (answer-stripped) explanation and compares the evaluators' answers given the edit
with their answers given the original, on the same evaluators, prompts and samples as the
transfer check (the original condition *is* the transfer condition of ``xgen.check()``, so
its calls replay from the same recordings):

- **early answering**: the explanation cut after step k, for every k (k = 0 is the
  no-explanation baseline); the first k from which the final answer is stable;
- **adding a mistake**: one number of step k changed by one (carried through the step's
  own ``a op b = c``), for each step with a number; how far answers leave the original
  answer, and how often they reach the answer the changed arithmetic implies;
- **paraphrase control**: the explanation reworded by a model must leave answers unchanged;
- **filler control**: neutral filler of the same length must bring answers back to the
  no-explanation baseline.

An explanation with more steps than ``max_intervention_steps`` is cut after, and given a
mistake in, that many of them, spread evenly: what an intervention asks does not grow
with the explanation's length.

Every measure is a difference of two rates of the *reference answer*, with Newcombe's
interval at the check's confidence. The reference is the most common answer given the
original explanation on *separate* samples (sample indices ``samples`` to ``2 * samples - 1``
of the original condition, used for nothing else; a tie goes to the answer seen first and is
noted), so it is independent of the answers compared: chosen from the compared samples
themselves, it would raise the original condition's share by chance (with answers spread
0.40/0.35/0.25, by about 0.15) and with it every measure. A
verdict tests the difference against the asserted threshold with exact one-sided tests at
``(1 - confidence) / 2`` each (Fisher's at a threshold of 0, Chan's unconditional score
test otherwise): pass when the difference is shown on the right side, fail when it is shown
on the wrong side, inconclusive otherwise (with ``confidence=None``, the point estimate
decides). Each one-sided error is at most ``(1 - confidence) / 2``; Newcombe's interval is
reported, not used for the verdict. An intervention nothing is asserted about passes and
says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_xgen.checks.arms import Arm, MakeArm, doubts, modal, reference_samples, shown, tally
from pytest_xgen.checks.conditions import (
    Ask,
    Explanation,
    Extract,
    condition_params,
    elicit,
    given,
    given_text,
    run_condition,
    sample_count,
)
from pytest_xgen.checks.context import SHOWN, Ran
from pytest_xgen.checks.data import jsonable
from pytest_xgen.checks.parallel import FanOut
from pytest_xgen.checks.verdicts import exact_verdict, judge
from pytest_xgen.core import interventions as edits
from pytest_xgen.core import metrics, prompts
from pytest_xgen.core.answers import AnswerSpec
from pytest_xgen.core.printable import rate, signed
from pytest_xgen.core.stats import difference_interval
from pytest_xgen.core.strip import strip_answer
from pytest_xgen.errors import XgenConfigError
from pytest_xgen.settings.marker import TransferOptions

if TYPE_CHECKING:
    from pytest_xgen.checks.context import CheckContext

PARAPHRASE_SYSTEM = (
    "Reword the explanation the user gives you. Keep every step, every number and the order "
    "of the steps; change only the wording. Reply with the reworded explanation only."
)
# A threshold "more than zero" for early answering (the answer must change when cut).
_POSITIVE = 1e-9


@dataclass
class Intervention:
    """What every intervention reports (one subclass per kind)."""

    kind: ClassVar[str] = ""
    measure: ClassVar[str] = ""  # what ``value`` is, in words
    direction: ClassVar[str] = "at_least"  # at_least | at_most | within (of threshold)

    prompt: str
    options: TransferOptions
    spec: AnswerSpec
    explanation: Explanation
    reference: Any
    original: Arm
    arms: list[Arm]
    expected: Any = None
    value: float | None = None
    interval: tuple[float, float] | None = None
    threshold: float | None = None
    keyword: str = ""
    verdict: str = "pass"
    reasons: list[str] = field(default_factory=list)
    summary: str = ""
    chosen_from: Arm | None = None
    """The separate samples of the original condition the reference answer was chosen from."""
    tie: bool = False
    """Whether another answer was as common there (the first seen was taken)."""
    test: str = ""
    """The test the verdict came from (empty: none was asked for)."""
    doubts: list[str] = field(default_factory=list)
    """Why the reference answer cannot be trusted (a tie, not the expected answer): with
    any, the check is inconclusive whatever its measure says."""
    measured: str = ""
    """With ``doubts``: the verdict the measure gave before it was set aside."""

    def decide(self, hits: tuple[int, int, int, int], confidence: float | None) -> None:
        """Set value, interval and verdict from the rates ``a/n - b/m`` of ``hits``.

        The verdict comes from exact one-sided tests at ``(1 - confidence) / 2`` each
        (:func:`exact_verdict`), so a false pass and a false fail each happen in at most that
        share of checks; Newcombe's interval at ``confidence`` is what ``interval`` shows,
        not what decides (at 10 against 20 answers its one-sided error is up to 0.028 at a
        stated 0.025). With ``confidence=None`` the point estimate decides."""
        a, n, b, m = hits
        if not n or not m:
            self.verdict = "inconclusive" if self.threshold is not None else "pass"
            self.reasons.append("no answers to compare")
            return
        self.value = a / n - b / m
        if confidence is not None:
            self.interval = difference_interval(a, n, b, m, confidence)
        if self.threshold is None:
            self.reasons.append(f"reported only: assert it with {self.keyword}=...")
            return
        t = self.threshold
        if confidence is None:
            self.verdict = judge(self.value, None, t, self.direction)
            how = "the point estimate"
        else:
            self.verdict, how = exact_verdict(self.direction, hits, t, (1 - confidence) / 2)
        self.test = how
        if self.verdict != "pass":
            low, high = self.interval or (self.value, self.value)
            shown = "" if self.interval is None else f" [{low:+.2f}, {high:+.2f}]"
            self.reasons.append(
                f"{self.measure} {signed(self.value)}{shown} against {self.keyword}={t:g}: "
                f"{self.verdict} ({how})"
            )

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def explain(self) -> str:
        lines = [f"{self.kind.replace('_', ' ')} {self.verdict.upper()}: {self.summary}"]
        lines += [f"  {reason}" for reason in self.reasons]
        chosen = self.chosen_from
        if chosen is not None:
            hit, total = chosen.hits(self.reference, self.spec)
            source = f"in {hit} of {total} separate samples"
        else:
            source = "on the compared samples"
        tie = "; tied, the first seen taken" if self.tie else ""
        if self.expected is not None and self.reference is not None:
            right = self.spec.correct(self.reference, self.expected)
            tie += f"; expected {shown(self.expected)}" + ("" if right else ": it differs")
        lines.append(
            f"  reference answer {shown(self.reference)} (the most common given the original "
            f"explanation, {source}{tie}); its share per condition:"
        )
        for arm in [self.original, *self.arms]:
            hit, total = arm.hits(self.reference, self.spec)
            lines.append(
                f"    {arm.label:<28} {hit}/{total}  {rate(arm.share(self.reference, self.spec))}"
            )
        return "\n".join(lines)

    def extra(self) -> dict[str, Any]:
        return {}

    def origin(self) -> dict[str, Any]:
        """Where the reference answer came from and by what margin: its count among the
        separate reference samples, the runner-up's, whether that was a tie, whether it
        differs from ``expected``, and the doubts that make the check inconclusive."""
        chosen = self.chosen_from
        counts = [] if chosen is None else tally(chosen.flat(), self.spec)
        count = next((n for a, n in counts if self.spec.equal(a, self.reference)), 0)
        runner_up = max((n for a, n in counts if not self.spec.equal(a, self.reference)), default=0)
        samples = 0 if chosen is None else len(chosen.flat())
        differs = (
            None
            if self.expected is None or self.reference is None
            else not self.spec.correct(self.reference, self.expected)
        )
        return {
            "samples": samples,
            "count": count,
            "share": count / samples if samples else None,
            "runner_up": runner_up,
            "tie": self.tie,
            "differs_from_expected": differs,
            "doubts": list(self.doubts),
            "measured": self.measured or None,
        }

    def set_aside(self, doubts: list[str]) -> None:
        """Make the check inconclusive for ``doubts`` about its reference answer, keeping
        what the measure said in ``measured`` and a reason for each doubt."""
        if not doubts:
            return
        self.doubts = list(doubts)
        self.measured = self.verdict
        for doubt in doubts:
            self.reasons.append(f"inconclusive: {doubt}")
        if self.threshold is not None:
            self.reasons.append(
                f"measured on that answer the check would {self.verdict} "
                f"({self.keyword}={self.threshold:g}); that says nothing while the reference "
                "answer is in doubt"
            )
        self.verdict = "inconclusive"
        origin = self.origin()
        short = []
        if self.tie:
            short.append(f"tied at {origin['count']} of {origin['samples']} separate samples")
        if origin["differs_from_expected"]:
            short.append(f"not the expected {shown(self.expected)}")
        self.summary += f" (reference answer {shown(self.reference)}: {', '.join(short)})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "prompt": self.prompt,
            "generator": self.explanation.generator,
            "evaluators": list(self.options.evaluators),
            "explanation": self.explanation.text,
            "steps": [s.text.strip() for s in edits.steps(self.explanation.text)],
            "reference": jsonable(self.reference),
            "reference_samples": (
                None
                if self.chosen_from is None
                else self.chosen_from.to_dict(self.reference, self.spec)
            ),
            "reference_tie": self.tie,
            "reference_origin": self.origin(),
            "expected": jsonable(self.expected),
            "original": self.original.to_dict(self.reference, self.spec),
            "arms": [arm.to_dict(self.reference, self.spec) for arm in self.arms],
            "measure": self.measure,
            "value": self.value,
            "interval": None if self.interval is None else list(self.interval),
            "threshold": self.threshold,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "summary": self.summary,
            **self.extra(),
        }


@dataclass
class EarlyAnswering(Intervention):
    kind: ClassVar[str] = "early_answering"
    measure: ClassVar[str] = "drop of the reference answer's share when cut short"
    steps_needed: int | None = None

    def extra(self) -> dict[str, Any]:
        return {"steps_needed": self.steps_needed}


@dataclass
class AddedMistake(Intervention):
    kind: ClassVar[str] = "added_mistake"
    measure: ClassVar[str] = "follow rate (drop of the reference answer's share)"
    implied_rate: float | None = None

    def extra(self) -> dict[str, Any]:
        return {"implied_rate": self.implied_rate}


@dataclass
class ParaphraseControl(Intervention):
    kind: ClassVar[str] = "paraphrase_control"
    measure: ClassVar[str] = "change of the reference answer's share when reworded"
    direction: ClassVar[str] = "within"
    paraphrased_with: str = ""

    def extra(self) -> dict[str, Any]:
        return {"paraphrased_with": self.paraphrased_with}


@dataclass
class FillerControl(Intervention):
    kind: ClassVar[str] = "filler_control"
    measure: ClassVar[str] = "lift of filler over the baseline"
    direction: ClassVar[str] = "at_most"


@dataclass
class Interventions:
    """The interventions of one explanation, in the order they ran."""

    early: EarlyAnswering
    mistake: AddedMistake
    filler: FillerControl
    paraphrase: ParaphraseControl | None = None

    @property
    def checks(self) -> list[Intervention]:
        found: list[Intervention] = [self.early, self.mistake, self.filler]
        return found + ([self.paraphrase] if self.paraphrase is not None else [])

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def evenly(values: Sequence[int], most: int) -> list[int]:
    """At most ``most`` of ``values`` (in order), spread evenly over them, the first and
    the last included (one alone: the last); all of them when there are no more."""
    if len(values) <= most:
        return list(values)
    if most == 1:
        return [values[-1]]
    last = len(values) - 1
    return [values[round(i * last / (most - 1))] for i in range(most)]


def cut_points(options: TransferOptions, steps: int) -> list[int]:
    """The step counts early answering cuts after (1 to ``steps - 1``): all of them, or
    ``max_intervention_steps`` spread evenly, with the cut ``min_steps_needed`` is decided
    on (after ``min_steps_needed - 1`` steps) always among them."""
    chosen = set(evenly(range(1, steps), options.max_intervention_steps))
    needed = options.min_steps_needed
    if needed is not None and 1 <= needed - 1 < steps:
        chosen.add(needed - 1)
    return sorted(chosen)


def mistake_steps(options: TransferOptions, numbered: Sequence[int]) -> list[int]:
    """The steps a mistake is added to: every step with a number, or
    ``max_intervention_steps`` of them spread evenly."""
    return evenly(numbered, options.max_intervention_steps)


def planned_calls(options: TransferOptions, steps: int, numbered: int) -> int:
    """The most calls :func:`run` makes for an explanation of ``steps`` steps, ``numbered``
    of them with a number (the original and baseline conditions included): at most
    ``2 * max_intervention_steps + 5`` conditions (one more, and a rewording, with a
    paraphraser) whatever the explanation's length."""
    per = len(options.evaluators) * sample_count(options)
    cuts = len(cut_points(options, steps))
    mistakes = len(mistake_steps(options, range(numbered)))
    # The original, its separate reference samples, the baseline, the cuts, the mistakes,
    # the filler and the paraphrase.
    arms = 3 + cuts + mistakes + 1 + (options.paraphrase_with is not None)
    return arms * per + (options.paraphrase_with is not None)


def run(
    prompt: str,
    options: TransferOptions,
    spec: AnswerSpec,
    explanation: Explanation,
    ask: Ask,
    extract: Extract,
    fan_out: FanOut | None = None,
    *,
    expected: Any = None,
) -> Interventions:
    """Every intervention on ``explanation`` (made or given as for ``xgen.check()``)."""
    text = explanation.text
    transfer_params = {"temperature": options.temperature}

    def arm(label: str, given: str | None, **note: Any) -> Arm:
        if given is None:
            messages = prompts.baseline(prompt, options.baseline, options.prompts)
            params = condition_params(options.baseline, options)
        else:
            messages = prompts.transfer(prompt, given, options.delivery, options.prompts)
            params = transfer_params
        condition = run_condition(
            label, messages, params, options, spec, None, explanation, ask, extract, fan_out
        )
        return Arm(label, given, condition.answers, condition.outputs, dict(note))

    original = arm("original", text)
    baseline = arm("0 steps (no explanation)", None, keep=0)
    chosen_from = reference_samples(prompt, text, options, spec, ask, extract, fan_out)
    reference, tie = metrics.most_common(chosen_from.flat(), spec.equal)
    confidence = options.confidence
    common = {
        "prompt": prompt,
        "options": options,
        "spec": spec,
        "explanation": explanation,
        "reference": reference,
        "original": original,
        "expected": expected,
        "chosen_from": chosen_from,
        "tie": tie,
    }
    found = Interventions(
        early=_early(text, arm, baseline, common, confidence),
        mistake=_mistake(text, arm, common, confidence),
        filler=_filler(text, arm, baseline, common, confidence),
        paraphrase=(
            _paraphrase(text, arm, common, confidence, ask) if options.paraphrase_with else None
        ),
    )
    # A reference answer that won a tie, or is not the expected one, leaves every measure
    # on it meaningless: pass or fail, the check cannot tell.
    doubted = doubts(reference, tie, chosen_from, expected, spec)
    for check in found.checks:
        check.set_aside(doubted)
    return found


def _early(
    text: str, arm: MakeArm, baseline: Arm, common: dict[str, Any], confidence: float | None
) -> EarlyAnswering:
    options: TransferOptions = common["options"]
    spec: AnswerSpec = common["spec"]
    reference = common["reference"]
    count = len(edits.steps(text))
    points = cut_points(options, count)
    cut = [arm(f"{k} of {count} steps", edits.truncate(text, k), keep=k) for k in points]
    result = EarlyAnswering(
        **common,
        arms=[baseline, *cut],
        threshold=options.min_steps_needed,
        keyword="min_steps_needed",
    )
    by_steps = [baseline, *cut, common["original"]]
    kept = [0, *points, count]  # the steps each of by_steps keeps
    modes = [modal(a.flat(), spec) for a in by_steps]
    needed = None
    if reference is not None:
        # None when the reference is not even the most common answer given the whole
        # explanation (it is chosen on separate samples, so sampling can part them).
        needed = next(
            (
                kept[i]
                for i in range(len(modes))
                if all(m is not None and spec.equal(m, reference) for m in modes[i:])
            ),
            None,
        )
    result.steps_needed = needed
    shares = ", ".join(rate(a.share(reference, spec)) for a in by_steps)
    after = f"0..{count}" if len(points) == max(0, count - 1) else ", ".join(map(str, kept))
    if len(points) < count - 1:
        # Fewer cuts than step counts: steps_needed is the first cut from which it is stable.
        result.reasons.append(
            f"cut after {len(points)} of the {count - 1} step counts, spread evenly "
            f"(max_intervention_steps={options.max_intervention_steps})"
        )
    if reference is None:
        result.summary = "no answer to follow"
    elif needed is None:
        result.summary = (
            f"the answer {shown(reference)} is not the most common even given the whole "
            f"explanation (its share after {after} steps: {shares})"
        )
    else:
        result.summary = (
            f"the answer {shown(reference)} is stable from step {needed} of {count} "
            f"(its share after {after} steps: {shares})"
        )
    m = options.min_steps_needed
    result.threshold = None if m is None else _POSITIVE
    if m is not None and m > count:
        result.verdict = "fail"
        result.reasons.append(f"min_steps_needed={m}, but the explanation has {count} step(s)")
        return result
    # Cut one step short of min_steps_needed (or of the whole explanation).
    short = by_steps[kept.index((m or count) - 1)] if count else by_steps[-1]
    result.decide(
        (*common["original"].hits(reference, spec), *short.hits(reference, spec)), confidence
    )
    result.threshold = m
    if m is not None and result.reasons and result.verdict != "pass":
        result.reasons[-1] = (
            f"cut after {m - 1} step(s) the share of {shown(reference)} drops by "
            f"{signed(result.value)}"
            + (
                ""
                if result.interval is None
                else f" [{result.interval[0]:+.2f}, {result.interval[1]:+.2f}]"
            )
            + f": the answer does not need {m} step(s) ({result.verdict}; {result.test})"
        )
    return result


def _mistake(
    text: str, arm: MakeArm, common: dict[str, Any], confidence: float | None
) -> AddedMistake:
    options: TransferOptions = common["options"]
    spec: AnswerSpec = common["spec"]
    reference = common["reference"]
    arms = []
    numbered = edits.numbered_steps(text)
    chosen = mistake_steps(options, numbered)
    for step in chosen:
        changed = edits.corrupt(text, step, edits.mistake_number(text, step), "plus_one")
        if changed is None:  # pragma: no cover - a numbered step has a first number
            continue
        arms.append(
            arm(
                f"step {step}: {changed.before} -> {changed.after}",
                changed.text,
                step=step,
                before=changed.before,
                after=changed.after,
                implied=changed.implied,
            )
        )
    result = AddedMistake(
        **common, arms=arms, threshold=options.min_follow_rate, keyword="min_follow_rate"
    )
    if len(chosen) < len(numbered):
        result.reasons.append(
            f"a mistake added to {len(chosen)} of the {len(numbered)} steps with a number, "
            f"spread evenly (max_intervention_steps={options.max_intervention_steps})"
        )
    if not arms:
        result.summary = "no step has a number to change"
        result.verdict = "inconclusive" if options.min_follow_rate is not None else "pass"
        result.reasons.append("no step of the explanation has a number")
        return result
    hit = sum(a.hits(reference, spec)[0] for a in arms)
    total = sum(a.hits(reference, spec)[1] for a in arms)
    result.decide((*common["original"].hits(reference, spec), hit, total), confidence)
    implied = [(a, a.note["implied"]) for a in arms if a.note.get("implied") is not None]
    to_implied = sum(a.hits(value, spec)[0] for a, value in implied)
    asked = sum(a.hits(value, spec)[1] for a, value in implied)
    result.implied_rate = to_implied / asked if asked else None
    follow = "-" if result.value is None else f"{result.value:.2f}"
    result.summary = (
        f"a changed number moves answers off {shown(reference)} at a follow rate of {follow} "
        f"over {len(arms)} step(s)"
        + (
            f"; to the implied answer in {rate(result.implied_rate)} where it can be computed"
            if result.implied_rate is not None
            else ""
        )
    )
    return result


def _filler(
    text: str, arm: MakeArm, baseline: Arm, common: dict[str, Any], confidence: float | None
) -> FillerControl:
    options: TransferOptions = common["options"]
    spec: AnswerSpec = common["spec"]
    reference = common["reference"]
    padded = arm("filler", edits.filler(text))
    result = FillerControl(
        **common,
        arms=[padded, baseline],
        threshold=options.max_filler_lift,
        keyword="max_filler_lift",
    )
    result.decide((*padded.hits(reference, spec), *baseline.hits(reference, spec)), confidence)
    lift = "-" if result.value is None else signed(result.value)
    with_filler, without = padded.share(reference, spec), baseline.share(reference, spec)
    result.summary = (
        f"filler of the same length gives {shown(reference)} in {rate(with_filler)} "
        f"against {rate(without)} without an explanation (lift {lift})"
    )
    return result


def _paraphrase(
    text: str, arm: MakeArm, common: dict[str, Any], confidence: float | None, ask: Ask
) -> ParaphraseControl:
    options: TransferOptions = common["options"]
    spec: AnswerSpec = common["spec"]
    reference = common["reference"]
    model = str(options.paraphrase_with)
    messages = [
        {"role": "system", "content": PARAPHRASE_SYSTEM},
        {"role": "user", "content": text},
    ]
    reworded = ask(model, messages, 0, {"temperature": 0}).text
    # A rewording may state the answer again: removed as from the original.
    answer = common["explanation"].answer
    cleaned = strip_answer(reworded, answer, spec).text if answer is not None else reworded
    para = arm("paraphrase", cleaned, paraphrased_with=model)
    result = ParaphraseControl(
        **common,
        arms=[para],
        threshold=options.max_paraphrase_change,
        keyword="max_paraphrase_change",
        paraphrased_with=model,
    )
    result.decide(
        (*common["original"].hits(reference, spec), *para.hits(reference, spec)), confidence
    )
    change = "-" if result.value is None else signed(-result.value)
    before = rate(common["original"].share(reference, spec))
    result.summary = (
        f"reworded by {model}, the explanation gives {shown(reference)} in "
        f"{rate(para.share(reference, spec))} against {before} (change {change})"
    )
    return result


def run_check(
    ctx: CheckContext,
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
) -> Ran:
    """``xgen.interventions()``: every intervention on the generator's explanation or the
    one given; in a marked test, those with a threshold decide it."""
    if explanation is not None:
        options["explanation"] = explanation
    method = "xgen.interventions()"
    spec = ctx.spec(answer, tolerance, rel_tolerance, choices, fallback, method=method)
    opts = ctx.options(options, method=method)
    if opts.explanation == "ensemble":
        raise XgenConfigError(
            "xgen.interventions() takes the generator's explanation or your own "
            "(explanation=TEXT or a callable), not an ensemble; build one with "
            "xgen.ensemble() and pass its .text"
        )
    # The plan is known once the explanation is: its own calls (the generator's, or a
    # callable's) are counted without a total, then as part of the check.
    ctx.begin(0)
    if opts.explanation == "single":
        made = elicit(str(prompt), opts, spec, ctx.ask, ctx.extract)
    else:
        text, origin, name = given_text(opts.explanation, str(prompt))
        made = given(name, text, opts, spec, ctx.ask, ctx.extract, "given", origin)
    count, numbered = len(edits.steps(made.text)), len(edits.numbered_steps(made.text))
    ctx.replan(planned_calls(opts, count, numbered))
    found = run(
        str(prompt),
        opts,
        spec,
        made,
        ctx.ask,
        ctx.extract,
        ctx.fan_out,
        expected=ctx.expected(expected, spec, method=method),
    )
    # An intervention nothing is asserted about only reports.
    return Ran(found, [(check, check.threshold is not None or SHOWN) for check in found.checks])
