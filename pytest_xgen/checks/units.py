"""What each gated kind's check counts for the upgrade gate: its ``units`` function.

A units function takes a check's JSON data (its ``to_dict()``) and gives a
:class:`CheckUnits`: per count of :data:`pytest_xgen.core.gate_metrics.COUNTS` that the
check measured, ``(successes, total)``, and the text its evaluators read. The JSON report
pools the counts over a test's checks and keeps a digest of each text
(``report.build.test_metrics``): the gate pairs two runs of a test on those digests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckUnits:
    """One check's counts for the gate and the explanation they were measured on."""

    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    """``{count: (successes, total)}``; a count the check did not measure is left out."""
    read: str | None = None
    """The text the evaluators read (``None``: no text, so nothing to pair on)."""


def transfer_units(check: Mapping[str, Any]) -> CheckUnits:
    """A transfer check's counts: evaluator pairs that agree and samples whose evaluators
    all agree, in the transfer and the baseline condition; with an expected answer, the
    evaluators' right answers and (when it was read) whether the explanation's own answer
    was right. The text read is the explanation the evaluators were given."""
    counts: dict[str, tuple[int, int]] = {}
    for name, condition in (("consistency", "transfer"), ("baseline_consistency", "baseline")):
        data = check["conditions"][condition]
        pairs = data["consistency"]
        counts[f"{name}_pairs"] = (pairs["agree"], pairs["total"])
        # A sample with fewer than two readable answers has no agreement flag.
        flags = [flag for flag in data.get("sample_agreement", ()) if flag is not None]
        counts[name] = (sum(flags), len(flags))
    explanation = check.get("explanation") or {}
    if check["expected"] is not None:
        models = check["conditions"]["transfer"]["models"].values()
        answers = [right for model in models for right in model["correct"]]
        counts["accuracy"] = (sum(answers), len(answers))
        own = explanation.get("correct")
        if own is not None:
            counts["explanation"] = (int(bool(own)), 1)
    text = explanation.get("text")
    return CheckUnits(counts, text if isinstance(text, str) else None)


def added_mistake_units(check: Mapping[str, Any]) -> CheckUnits:
    """An added-mistake check's counts: each answer given an edited explanation is a unit,
    and it followed the mistake when it left the reference answer. The text read is the
    original explanation and the edited ones (the follow rate is measured on the edited
    ones: they are part of what the evaluators read)."""
    followed = total = 0
    for arm in check.get("arms", ()):
        reference = arm.get("reference")
        if reference is None:
            continue  # an arm with no answers counted against the reference adds no unit
        hits, count = reference["hits"], reference["total"]
        followed, total = followed + count - hits, total + count
    original = check.get("explanation")
    read = None
    if isinstance(original, str):
        edited = [str(arm.get("explanation") or "") for arm in check.get("arms", ())]
        read = "\n\x1e\n".join([original, *edited])
    return CheckUnits({"follow": (followed, total)}, read)
