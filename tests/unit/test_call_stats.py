"""The call counts of a run: reasoning and prompt-cache tokens counted per test and in the
totals, live and replayed, kept only where not zero, and added up across workers."""

from __future__ import annotations

from pytest_xgen.recording.recorder import PER_TEST, CallStats, token_parts


def test_token_parts_keeps_the_counts_that_are_not_zero() -> None:
    usage = {"prompt_tokens": 5, "reasoning_tokens": 0, "cache_read_tokens": 7}
    assert token_parts(usage) == {"cache_read_tokens": 7}


def test_parts_are_counted_live_and_replayed_apart_per_test_and_in_total() -> None:
    stats = CallStats()
    stats.count("t", live=True, tokens=30, parts={"reasoning_tokens": 12})
    stats.count("t", live=False, tokens=130, parts={"cache_write_tokens": 100})
    stats.count("u", live=True, tokens=10)
    found = stats.to_dict()
    assert (found["reasoning_tokens"], found["replayed_cache_write_tokens"]) == (12, 100)
    assert "cache_write_tokens" not in found and "replayed_reasoning_tokens" not in found
    assert found["per_test"]["t"] == {
        **dict.fromkeys(PER_TEST, 0),
        "calls": 2,
        "live": 1,
        "tokens": 30,
        "replayed_tokens": 130,
        "reasoning_tokens": 12,
        "replayed_cache_write_tokens": 100,
    }
    assert set(found["per_test"]["u"]) == set(PER_TEST)  # none: nothing added


def test_workers_counts_add_up() -> None:
    one, two = CallStats(), CallStats()
    one.count("t", live=True, tokens=30, parts={"reasoning_tokens": 12})
    two.count("t", live=True, tokens=130, parts={"reasoning_tokens": 3, "cache_read_tokens": 100})
    two.count("u", live=False, tokens=5, parts={"cache_read_tokens": 4})
    merged = CallStats()
    merged.add(one.to_dict())
    merged.add(two.to_dict())
    found = merged.to_dict()
    assert (found["tokens"], found["reasoning_tokens"], found["cache_read_tokens"]) == (
        160,
        15,
        100,
    )
    assert found["replayed_cache_read_tokens"] == 4
    assert found["per_test"]["t"]["reasoning_tokens"] == 15
    assert found["per_test"]["t"]["cache_read_tokens"] == 100
    assert found["per_test"]["u"]["replayed_cache_read_tokens"] == 4
    assert "reasoning_tokens" not in found["per_test"]["u"]
