"""The mirrored-question strategy refuses what it cannot mirror."""

from __future__ import annotations

import pytest

from pytest_xgen import strategies as xst


def test_a_mirror_needs_a_known_relation_and_a_template_both_ways() -> None:
    with pytest.raises(ValueError, match="needs both"):
        xst.mirrored("Is {a} big?", a=None, b=None)  # type: ignore[arg-type]
