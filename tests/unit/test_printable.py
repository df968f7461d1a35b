"""Model text made safe to print: control and format characters escaped, and the two
number formats every message and report uses."""

from __future__ import annotations

import pytest

from pytest_xgen.core.printable import printable, rate, signed


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, é and 中文", "plain text, é and 中文"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("\x1b[5mblink", "\\x1b[5mblink"),
        ("a\u202eb", "a\\u202eb"),  # Cf: reorders what follows
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),  # Zl, Zp
        ("tab\there", "tab\\there"),
        ("a\ud800b", "a\\ud800b"),  # Cs
        ("a\ue000b", "a\\ue000b"),  # Co
        ("a\U000e0080b", "a\\U000e0080b"),  # Cn (unassigned)
        ("line one\nline two", "line one\\nline two"),
        ("a\u00a0b  c", "a\u00a0b  c"),  # a no-break space is printable, kept
    ],
)
def test_control_and_format_characters_are_escaped(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_newlines_and_spaces_are_kept_when_asked() -> None:
    assert printable("one\ntwo \x1b", newlines=True) == "one\ntwo \\x1b"
    assert printable("one\rtwo", newlines=True) == "one\\rtwo"
    assert printable("one\ntwo", newlines=False) == "one\\ntwo"


def test_rates_and_changes_have_two_decimals_or_a_placeholder() -> None:
    assert rate(0.8) == "0.80"
    assert rate(1 / 3) == "0.33"
    assert rate(None) == "n/a"
    assert rate(None, missing="-") == "-"
    assert signed(0.2) == "+0.20"
    assert signed(-0.05) == "-0.05"
    assert signed(0.0) == "+0.00"
    assert signed(None) == "n/a"
    assert signed(None, "—") == "—"
