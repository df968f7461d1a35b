"""The limits on what an intervention plans for a long explanation."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_xgen.checks.interventions import cut_points, evenly, mistake_steps, planned_calls
from pytest_xgen.settings.marker import KEYWORDS, TransferOptions


def options(**values: Any) -> TransferOptions:
    found = {name: kw.default for name, kw in KEYWORDS.items()}
    found.update(generator="g", evaluators=("a", "b"), samples=3, temperature=0.7)
    found.update(values)
    return TransferOptions(**found)


@pytest.mark.parametrize("count", [0, 1, 2, 5, 10, 11, 299, 1000])
@pytest.mark.parametrize("most", [1, 2, 3, 10])
def test_evenly_keeps_at_most_most_spread_from_the_first_to_the_last(count: int, most: int) -> None:
    values = list(range(100, 100 + count))
    chosen = evenly(values, most)
    assert len(chosen) == min(count, most)
    assert chosen == sorted(set(chosen)) and set(chosen) <= set(values)
    if count and most > 1:
        assert chosen[0] == values[0] and chosen[-1] == values[-1]
    if count > most > 1:
        gaps = [b - a for a, b in zip(chosen, chosen[1:], strict=False)]
        assert max(gaps) - min(gaps) <= 1  # evenly: gaps differ by rounding only


def test_the_cuts_and_mistakes_of_a_long_explanation_are_capped() -> None:
    capped = options(max_intervention_steps=4)
    assert cut_points(capped, 25) == [1, 9, 16, 24]
    assert cut_points(options(max_intervention_steps=4, min_steps_needed=6), 25) == [
        1,
        5,
        9,
        16,
        24,
    ]
    assert cut_points(capped, 4) == [1, 2, 3] and cut_points(capped, 1) == []
    assert mistake_steps(capped, list(range(0, 50, 2))) == [0, 16, 32, 48]
    # At the default of 10, a short explanation is cut after every step as before.
    assert cut_points(options(), 8) == list(range(1, 8))


def test_the_calls_planned_do_not_grow_with_the_explanation_beyond_the_cap() -> None:
    per = 2 * 3  # evaluators x samples
    # original, reference samples, baseline, cuts, mistakes, filler
    assert planned_calls(options(), 8, 6) == (3 + 7 + 6 + 1) * per
    assert planned_calls(options(), 300, 300) == (3 + 10 + 10 + 1) * per
    assert planned_calls(options(), 300_000, 300_000) == (3 + 10 + 10 + 1) * per
    with_paraphrase = options(paraphrase_with="p", max_intervention_steps=2)
    assert planned_calls(with_paraphrase, 300, 300) == (3 + 2 + 2 + 1 + 1) * per + 1


def test_the_cap_is_a_validated_keyword() -> None:
    from pytest_xgen.errors import XgenConfigError
    from pytest_xgen.settings.marker import validate

    with pytest.raises(XgenConfigError, match="max_intervention_steps=0"):
        validate({"max_intervention_steps": 0}, {}, "here")
