"""Replacing the protocol's prompts: every name known, every text usable, exact messages."""

from __future__ import annotations

import pytest

from pytest_xgen.core import prompts
from pytest_xgen.core.prompts import DEFAULT, NAMES, Prompts, check


def test_the_defaults_are_the_texts_recordings_were_made_with() -> None:
    assert NAMES == (
        "elicit_system",
        "baseline_system",
        "own_system",
        "transfer_system",
        "transfer_template",
    )
    assert DEFAULT.changed() == {}
    assert DEFAULT.elicit_system == prompts.ELICIT_SYSTEM
    assert DEFAULT.transfer_template == prompts.TRANSFER_USER


def test_updated_replaces_by_name_and_changed_lists_only_what_differs() -> None:
    mine = DEFAULT.updated({"elicit_system": "Explain.", "own_system": prompts.OWN_SYSTEM})
    assert mine.elicit_system == "Explain." and mine.own_system == prompts.OWN_SYSTEM
    assert mine.changed() == {"elicit_system": "Explain."}
    again = mine.updated({"transfer_template": "P: {problem} E: {explanation}"})
    assert again.changed() == {
        "elicit_system": "Explain.",
        "transfer_template": "P: {problem} E: {explanation}",
    }
    assert DEFAULT.updated({}) == DEFAULT and isinstance(again, Prompts)


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (
            {"elicit_sytem": "x"},
            "unknown prompt 'elicit_sytem' (did you mean 'elicit_system'?); the prompts are "
            "elicit_system, baseline_system, own_system, transfer_system, transfer_template",
        ),
        ({"zzz": "x"}, "unknown prompt 'zzz'; the prompts are elicit_system,"),
        ({"own_system": "  "}, "prompt own_system must be a non-empty text; got '  '"),
        ({"own_system": 3}, "prompt own_system must be a non-empty text; got 3"),
        (
            {"transfer_template": "{problem}"},
            "prompt transfer_template must contain {explanation}: it needs {problem} and "
            "{explanation}",
        ),
        (
            {"transfer_template": "just text"},
            "prompt transfer_template must contain {problem} and {explanation}: it needs",
        ),
        (
            {"transfer_template": "{problem} {explanation} {answer} {x}"},
            "prompt transfer_template has the placeholder(s) {answer}, {x}; it may use only "
            "{problem} and {explanation} (write a literal brace as {{ or }})",
        ),
        (
            {"transfer_template": "{problem} {explanation"},
            "prompt transfer_template is not a valid template (",
        ),
    ],
)
def test_bad_texts_say_what_is_wrong(texts: dict, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        check(texts)
    text = str(raised.value)
    assert message in text
    if "not a valid template" in message:
        assert text.endswith("write a literal brace as {{ or }}")


def test_good_texts_pass_through_and_braces_can_be_literal() -> None:
    texts = {
        "transfer_template": "{{note}} {problem} / {explanation}",
        "baseline_system": "Only the answer.",
    }
    assert check(texts) == texts
    messages = prompts.transfer("P", " E ", "user", DEFAULT.updated(texts))
    assert messages[1] == {"role": "user", "content": "{note} P / E"}
    assert check({"elicit_system": "{anything} goes"}) == {"elicit_system": "{anything} goes"}
