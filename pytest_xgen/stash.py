"""What a test's run leaves on its item: the plugin's stash keys, in one low module.

The fixture writes them while a test runs and the plugin's report hooks read them; keeping
them here lets both import them without importing each other.
"""

from __future__ import annotations

from typing import Any

import pytest

# How many checks (xgen.check / invariant / review / ...) a test made, and their JSON data.
CHECKS = pytest.StashKey[int]()
RESULTS = pytest.StashKey[list[dict[str, Any]]]()


def is_given(item: pytest.Item) -> bool:
    """The test is a Hypothesis test (``@given``), without importing Hypothesis."""
    return bool(getattr(getattr(item, "obj", None), "is_hypothesis_test", False))
