"""The protocol's prompts, word for word: they are part of every recording key, so a
changed character would make every committed cassette miss. Regenerate the golden file
only on purpose (and re-record): ``XGEN_REGENERATE=1 pytest tests/unit/test_prompt_text.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.core import prompts

GOLDEN = Path(__file__).parent / "golden" / "prompts.json"
PROBLEM = "Tom has 3 apples and buys 4 more. How many apples does he have?"
STEPS = [" 1. Tom starts with 3 apples. ", "2. He buys 4 more, so 3 + 4 = 7.\n", "Answer: 7"]


def rendered() -> dict[str, Any]:
    return {
        "elicit": prompts.elicit(PROBLEM),
        "baseline_empty": prompts.baseline(PROBLEM, "empty"),
        "baseline_own": prompts.baseline(PROBLEM, "own"),
        "transfer_user": prompts.transfer(PROBLEM, "\n " + "\n".join(STEPS) + " \n", "user"),
        "transfer_prefill": prompts.transfer(PROBLEM, "\n".join(STEPS) + "  \n\n", "prefill"),
        "strip": prompts.strip(STEPS),
        "review_one": prompts.review(PROBLEM, STEPS[:1]),
        "review_three": prompts.review(PROBLEM, STEPS),
        "continuation_empty": prompts.continuation(f"  {PROBLEM}\n", []),
        "continuation": prompts.continuation(PROBLEM, STEPS),
    }


def test_every_prompt_is_unchanged() -> None:
    if os.environ.get("XGEN_REGENERATE"):
        GOLDEN.write_text(json.dumps(rendered(), indent=2, ensure_ascii=False) + "\n")
    assert rendered() == json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "template",
    [
        "{problem} {explanation:.0}",
        "{explanation:{problem}}",
        "{problem} {explanation:>99999999999999999999}",
        "{problem} {explanation!s}",
        "{problem} {explanation} {0}",
    ],
)
def test_a_template_fills_in_its_fields_as_they_are(template: str) -> None:
    """Only ``{problem}`` and ``{explanation}``, with no conversion or format spec: also when
    the prompts are built directly, so no request is ever formatted with one."""
    with pytest.raises(ValueError, match="prompt transfer_template has"):
        prompts.check({"transfer_template": template})
    with pytest.raises(ValueError, match="it may use only {problem} and {explanation}"):
        prompts.Prompts(transfer_template=template)


def test_literal_braces_are_sent_as_braces() -> None:
    p = prompts.Prompts(transfer_template="{{ {problem} }} {explanation}")
    [_, user] = prompts.transfer("P", " E ", "user", p)
    assert user["content"] == "{ P } E"
