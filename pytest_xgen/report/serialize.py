"""Check results as plain JSON data (the ``checks`` of a test in the JSON report)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_xgen.checks.ensemble import EnsembleExplanation
    from pytest_xgen.checks.invariance import InvariantResult
    from pytest_xgen.checks.review import ReviewResult
    from pytest_xgen.checks.transfer import Condition, TransferResult
    from pytest_xgen.checks.weak import Repair, WeakSteps
    from pytest_xgen.core.metrics import Breakdown, Consistency


def jsonable(value: Any) -> Any:
    """``value`` as JSON data: numbers, strings, booleans, None, lists and dicts; anything
    else (a custom answer type) as its ``str``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def _interval(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [interval[0], interval[1]]


def _perturbation(prompt: Any) -> dict[str, Any] | None:
    edits = getattr(prompt, "edits", None)
    if edits is None:
        return None
    return {
        "base": str(prompt.base),
        "edits": [f"{e.kind}: {e.description}" for e in edits],
        "diff": prompt.diff(),
    }


def _consistency(c: Consistency) -> dict[str, Any]:
    return {
        "mean": c.mean,
        "std": c.std,
        "agree": c.agree,
        "total": c.total,
        "pairs": [
            {
                "a": a,
                "b": b,
                "agree": p.agree,
                "total": p.total,
                "excluded": p.excluded,
                "rate": p.rate,
            }
            for (a, b), p in sorted(c.pairs.items())
        ],
    }


def _breakdown(b: Breakdown | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {
        "consistent_correct": b.consistent_correct,
        "consistent_wrong": b.consistent_wrong,
        "inconsistent": b.inconsistent,
        "counts": dict(b.counts),
    }


def _condition(c: Condition) -> dict[str, Any]:
    correct = c.correct
    accuracy = c.accuracy
    return {
        "name": c.name,
        "consistency": _consistency(c.consistency),
        "interval": _interval(c.interval),
        "breakdown": _breakdown(c.breakdown),
        "sample_agreement": list(c.sample_agreement),
        "models": {
            model: {
                "outputs": list(c.outputs[model]),
                "answers": jsonable(c.answers[model]),
                "correct": None if correct is None else list(correct[model]),
                "accuracy": accuracy.get(model),
                "unparseable": c.unparseable[model],
            }
            for model in c.outputs
        },
    }


def transfer_to_dict(r: TransferResult) -> dict[str, Any]:
    e = r.explanation
    return {
        "kind": "transfer",
        "prompt": str(r.prompt),
        "perturbation": _perturbation(r.prompt),
        "generator": r.options.generator,
        "evaluators": list(r.options.evaluators),
        "options": jsonable(vars(r.options)),
        "answer_spec": r.spec.describe(),
        "expected": jsonable(r.expected),
        "explanation": {
            "source": e.source,
            "output": e.output,
            "text": e.text,
            "removed": list(e.stripped.removed),
            "method": e.stripped.method,
            "answer": jsonable(e.answer),
        },
        "conditions": {"baseline": _condition(r.baseline), "transfer": _condition(r.transfer)},
        "lift": r.lift,
        "lift_interval": _interval(r.lift_interval),
        "samples_used": r.samples_used,
        "interval_level": r.interval_level,
        "diverged": r.diverged(),
        "verdict": r.verdict,
        "reasons": list(r.reasons),
        "notes": list(r.notes),
    }


def invariant_to_dict(r: InvariantResult) -> dict[str, Any]:
    from pytest_xgen.core.perturb import PerturbedPrompt

    prompt = r.perturbed
    if getattr(prompt, "edits", None) is None:
        prompt = PerturbedPrompt(str(r.perturbed), str(r.base), ())
    return {
        "kind": "invariant",
        "prompt": str(r.base),
        "perturbed": str(r.perturbed),
        "perturbation": _perturbation(prompt),
        "evaluators": list(r.options.evaluators),
        "options": jsonable(vars(r.options)),
        "answer_spec": r.spec.describe(),
        "expected": jsonable(r.expected),
        "models": {
            m: {
                "base": jsonable(r.base_answers[m]),
                "perturbed": jsonable(r.perturbed_answers[m]),
                "agree": r.agreement[m].agree,
                "total": r.agreement[m].total,
            }
            for m in r.agreement
        },
        "flipped": r.flipped,
        "level": r.level,
        "search_size": r.search_size,
        "tests": {m: t.to_dict() for m, t in r.tests.items()},
        "verdict": r.verdict,
        "reasons": list(r.reasons),
    }


def review_to_dict(r: ReviewResult) -> dict[str, Any]:
    return {
        "kind": "review",
        "prompt": str(r.prompt),
        "evaluators": list(r.options.evaluators),
        "steps": list(r.steps),
        "reviews": {
            m: {
                "verdicts": list(v.verdicts),
                "first_disputed": v.first_disputed,
                "reasons": {str(k): text for k, text in v.reasons.items()},
            }
            for m, v in r.reviews.items()
        },
        "step_agreement": r.step_agreement,
        "verdict": r.verdict,
        "reasons": list(r.reasons),
    }


def ensemble_to_dict(e: EnsembleExplanation) -> dict[str, Any]:
    return {
        "generators": list(e.generators),
        "scorer": e.scorer,
        "selection": e.selection,
        "candidates": e.candidates,
        "stop_reason": e.stop_reason,
        "calls": e.calls,
        "sentences": e.sentences,
        "sources": e.sources,
        "steps": [
            {
                "sentence": step.sentence,
                "generator": step.generator,
                "score": jsonable(step.score),
                "candidates": [
                    {
                        "generator": c.generator,
                        "sample": c.sample,
                        "sentence": c.sentence,
                        "dropped": c.dropped,
                        "score": jsonable(c.score),
                        "agreement": jsonable(c.agreement),
                        "tokens": c.tokens,
                        "chosen": i == step.chosen,
                    }
                    for i, c in enumerate(step.candidates)
                ],
            }
            for step in e.steps
        ],
    }


def _ensembled(r: Any, data: dict[str, Any]) -> dict[str, Any]:
    ensemble = getattr(r, "ensemble", None)
    if ensemble is not None:
        data["ensemble"] = ensemble_to_dict(ensemble)
        data["singles"] = [
            {
                "generator": name,
                "consistency": single.consistency,
                "lift": single.lift,
                "answer": jsonable(single.answer),
            }
            for name, single in r.singles.items()
        ]
    return data


def weak_steps_to_dict(r: WeakSteps) -> dict[str, Any]:
    return {
        "kind": "weak_steps",
        "prompt": str(r.prompt),
        "evaluators": list(r.evaluators),
        "scorer": r.scorer,
        "samples": r.samples,
        "agreement": r.agreement,
        "weakest": r.weakest,
        "sentences": [
            {
                "sentence": s.sentence,
                "surprisal": jsonable(s.surprisal),
                "agreement_without": s.agreement_without,
                "delta": s.delta,
                "weak": s.weak,
            }
            for s in r.sentences
        ],
        "verdict": r.verdict,
        "reasons": list(r.reasons),
    }


def repair_to_dict(r: Repair) -> dict[str, Any]:
    return {
        **weak_steps_to_dict(r.diagnosis),
        "kind": "repair",
        "index": r.index,
        "original": r.original,
        "replacement": r.replacement,
        "agreement_before": r.agreement_before,
        "agreement_after": r.agreement_after,
        "kept": r.kept,
        "repaired": list(r.sentences),
        "verdict": r.verdict,
        "reasons": list(r.reasons),
    }


def check_to_dict(result: Any) -> dict[str, Any]:
    """Any check result (transfer, invariant, review, weak_steps, repair) as JSON data, by
    its ``kind``."""
    converters = {
        "transfer": lambda r: _ensembled(r, transfer_to_dict(r)),
        "invariant": invariant_to_dict,
        "review": review_to_dict,
        "weak_steps": weak_steps_to_dict,
        "repair": repair_to_dict,
    }
    return converters[result.kind](result)
