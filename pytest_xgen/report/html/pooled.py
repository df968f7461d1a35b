"""The numbers the HTML report pools over every transfer check of a run: evaluator-pair
agreement and the transfer matrix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

_T = TypeVar("_T")
TRANSFER = "transfer"  # the kind of check whose data these numbers read


def has_transfer(test: Mapping[str, Any]) -> bool:
    """Whether a test of the report has a transfer check."""
    return any(c["kind"] == TRANSFER for c in test["checks"])


def transfer_checks(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every transfer check of the run, in order."""
    return [
        check
        for test in report.get("tests", [])
        for check in test.get("checks", [])
        if check.get("kind") == TRANSFER
    ]


def ordered(names: Iterable[_T]) -> list[_T]:
    """``names`` without repeats, in order of first appearance."""
    return list(dict.fromkeys(names))


def same(a: Any, b: Any) -> bool:
    """JSON equality, not Python's: true is not 1, while 7 and 7.0 are the same number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def pooled_agreement(
    report: Mapping[str, Any], condition: str
) -> tuple[list[str], dict[tuple[str, str], tuple[int, int]]]:
    """Evaluator-pair agreement pooled over every transfer check of the run.

    ``condition`` is ``"baseline"`` or ``"transfer"``. Returns the evaluators in order of
    first appearance and, for each ordered pair ``(a, b)`` and its mirror ``(b, a)``, the
    summed ``(agree, total)`` of ``conditions[condition].consistency.pairs``."""
    checks = transfer_checks(report)
    evaluators = ordered(m for c in checks for m in c.get("evaluators", []))
    sums: dict[tuple[str, str], tuple[int, int]] = {}
    for check in checks:
        for pair in check["conditions"][condition]["consistency"]["pairs"]:
            a, b = str(pair["a"]), str(pair["b"])
            evaluators = ordered([*evaluators, a, b])
            agree, total = sums.get((a, b), (0, 0))
            sums[(a, b)] = (agree + int(pair["agree"]), total + int(pair["total"]))
            sums[(b, a)] = sums[(a, b)]
    return evaluators, sums


def transfer_matrix(
    report: Mapping[str, Any],
) -> tuple[list[str], list[str], dict[tuple[str, str], tuple[int, int]]]:
    """How often each evaluator, given a generator's explanation, gave that generator's answer.

    Pooled over every transfer check of the run: for ``(generator, evaluator)`` the number
    of the evaluator's non-null transfer answers equal (as JSON values) to
    ``explanation.answer``, and the number compared. Checks whose explanation has no answer
    are skipped. Returns generators, evaluators and the counts."""
    checks = transfer_checks(report)
    generators = ordered(str(c.get("generator")) for c in checks)
    evaluators: list[str] = []
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    for check in checks:
        models = check["conditions"]["transfer"]["models"]
        evaluators = ordered([*evaluators, *check.get("evaluators", []), *models])
        reference = check["explanation"]["answer"]
        if reference is None:
            continue
        generator = str(check.get("generator"))
        for model, entry in models.items():
            given = [a for a in entry["answers"] if a is not None]
            agree, total = counts.get((generator, model), (0, 0))
            counts[(generator, model)] = (
                agree + sum(same(a, reference) for a in given),
                total + len(given),
            )
    return generators, evaluators, counts
