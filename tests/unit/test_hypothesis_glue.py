"""Where the plugin reads and replaces a Hypothesis test's settings: Hypothesis has no public
way to do either for a test it already wraps, so hypothesis_glue names the attributes in one
place, and these tests fail if a Hypothesis upgrade moves them or stops running an example
under its test's settings."""

from __future__ import annotations

from hypothesis import given, seed, settings
from hypothesis import strategies as st

from pytest_xgen import hypothesis_glue


def test_the_settings_a_test_was_given_are_read_and_replaced_where_hypothesis_keeps_them() -> None:
    drawn: list[int] = []

    @settings(max_examples=7, database=None)
    @given(st.integers())
    def wrapped(n: int) -> None:
        drawn.append(n)

    assert hypothesis_glue.settings_of(wrapped).max_examples == 7
    hypothesis_glue.set_settings_of(wrapped, settings(max_examples=2, database=None))
    wrapped()
    assert len(drawn) == 2  # Hypothesis ran the replaced settings, not the decorated ones


def test_a_seed_the_user_chose_is_seen() -> None:
    @given(st.integers())
    def unseeded(n: int) -> None:
        pass

    @seed(3)
    @given(st.integers())
    def seeded(n: int) -> None:
        pass

    assert not hypothesis_glue.seeded(unseeded)
    assert hypothesis_glue.seeded(seeded)


def test_the_search_size_is_the_max_examples_its_test_runs_with() -> None:
    @settings(max_examples=4, database=None)
    @given(st.integers())
    def wrapped(n: int) -> None:
        pass

    class Item:
        obj = wrapped

    assert hypothesis_glue.search_size(Item()) == 4  # type: ignore[arg-type]
    hypothesis_glue.set_settings_of(wrapped, settings(max_examples=7))
    assert hypothesis_glue.search_size(Item()) == 7  # type: ignore[arg-type]
