"""Prices, call costs and the cost budget of the recorder, on a real diskcache store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.errors import BudgetExhaustedError
from pytest_xgen.recording.cost import (
    DEFAULT_COMPLETION,
    NANO,
    call_cost,
    estimate,
    estimated_cost,
    money,
)
from pytest_xgen.recording.recorder import CallSite, Recorder
from pytest_xgen.recording.store import Store, build_request, canonical_json

SITE = CallSite(test="t.py::test", module="t.py", model="m", prompt="q")
PRICE = (1000.0, 2000.0)  # per million: a prompt token costs 0.001, a completion 0.002


def request(n: int = 0, **params: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": f"question {n}"}]
    return build_request("chat", {"model": "m"}, {"max_tokens": 10, **params}, n, messages=messages)


class Live:
    def __init__(self, prompt: int = 7, completion: int = 5, fail: bool = False) -> None:
        self.calls = 0
        self.usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        self.fail = fail

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.fail:
            raise ConnectionError("endpoint down")
        return {"text": "4", "usage": dict(self.usage)}


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store(tmp_path / "cache")
    yield s
    s.close()


def test_call_cost_prices_prompt_and_completion_tokens() -> None:
    usage = {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
    assert call_cost(usage, PRICE) == pytest.approx(0.017)
    assert call_cost(usage, (1000.0, 0.0)) == pytest.approx(0.007)
    assert call_cost(usage, (0.0, 2000.0)) == pytest.approx(0.010)
    assert call_cost(usage, None) == 0.0
    assert call_cost({}, PRICE) == 0.0
    # Only a total (some servers): priced as output, the dearer side.
    assert call_cost({"total_tokens": 12}, PRICE) == pytest.approx(0.024)
    assert call_cost({"prompt_tokens": None, "completion_tokens": 3}, PRICE) == pytest.approx(0.006)


def test_estimates_take_prompt_characters_and_the_completion_limit() -> None:
    r = request()
    assert estimate(r) == (len(canonical_json(r["messages"])) // 4, 10)
    assert estimate(request(max_tokens=None)) == (estimate(r)[0], DEFAULT_COMPLETION)
    limited = build_request(
        "client.chat", {"model": "m"}, {"max_completion_tokens": 33}, 0, messages=[]
    )
    assert estimate(limited) == (len("[]") // 4, 33)
    prompt = build_request("completion", {"model": "m"}, {}, 0, prompt="p" * 40)
    assert estimate(prompt) == (len('"' + "p" * 40 + '"') // 4, DEFAULT_COMPLETION)
    assert estimate({"params": {}}) == (len('""') // 4, DEFAULT_COMPLETION)
    tokens = estimate(r)
    assert estimated_cost(r, PRICE) == pytest.approx((tokens[0] * 1000 + tokens[1] * 2000) / 1e6)
    assert estimated_cost(r, None) == 0.0


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0, "0"),
        (0.017, "0.017"),
        (0.0123456, "0.01235"),
        (0.5, "0.5"),
        (0.0000945, "0.0000945"),
        (0.999, "0.999"),
        (1, "1.00"),
        (12.345, "12.35"),
    ],
)
def test_money(amount: float, shown: str) -> None:
    assert money(amount) == shown


def test_the_recorder_counts_live_and_replayed_cost_by_price(store: Store, tmp_path: Path) -> None:
    prices = {"m": PRICE}
    rec = Recorder("new_episodes", store, None, price_of=prices.get)
    live = Live()
    rec.call(request(), live, SITE)
    rec.call(request(), live, SITE)  # replayed
    stats = rec.stats
    assert (stats.live, stats.replayed, live.calls) == (1, 1, 1)
    assert stats.cost == pytest.approx(0.017) and stats.replayed_cost == pytest.approx(0.017)
    assert (stats.tokens, stats.replayed_tokens) == (12, 12)
    assert stats.unpriced == set()
    other = CallSite(test="t.py::other", module="t.py", model="free", prompt="q")
    rec.call(request(1), live, other)
    assert stats.unpriced == {"free"} and stats.cost == pytest.approx(0.017)
    assert stats.per_test["t.py::other"]["cost"] == 0


def test_the_cost_budget_sets_aside_each_call_and_settles_what_it_cost(
    store: Store, tmp_path: Path
) -> None:
    reserve = estimated_cost(request(), PRICE)
    # Room for one reservation beside one settled call, not for a second reservation.
    budget = 0.017 + reserve + reserve / 2
    rec = Recorder(
        "new_episodes", store, None, price_of={"m": PRICE}.get, max_cost=budget, budget_key="b"
    )
    live = Live()
    rec.call(request(0), live, SITE)
    assert store.cache.get("b:cost") == round(0.017 * NANO)  # settled to the real cost
    rec.call(request(1), live, SITE)
    with pytest.raises(BudgetExhaustedError) as caught:
        rec.call(request(2), live, SITE)
    message = str(caught.value)
    assert f"the cost budget of {money(budget)} (--xgen-max-cost) is spent" in message
    assert "0.034 spent or set aside" in message
    assert f"this call may cost {money(reserve)}" in message and "test t.py::test" in message
    assert live.calls == 2
    # The refused call gave its reservation back; replays cost nothing from the budget.
    assert store.cache.get("b:cost") == round(0.034 * NANO)
    rec.call(request(0), live, SITE)
    assert live.calls == 2
    rec.release_budget()
    assert store.cache.get("b:cost") is None


def test_a_failed_call_returns_its_reservation(store: Store) -> None:
    rec = Recorder("new_episodes", store, None, price_of={"m": PRICE}.get, max_cost=1.0)
    with pytest.raises(ConnectionError):
        rec.call(request(), Live(fail=True), SITE)
    assert store.cache.get("xgen-budget:cost") == 0
    assert rec.stats.live == 0 and rec.stats.cost == 0


def test_a_cost_budget_refuses_a_model_without_price(store: Store) -> None:
    rec = Recorder("new_episodes", store, None, price_of=lambda model: None, max_cost=1.0)
    live = Live()
    with pytest.raises(BudgetExhaustedError, match="model 'm' has no price"):
        rec.call(request(), live, SITE)
    assert live.calls == 0
    # Without a budget an unpriced call is made and counted at 0.
    free = Recorder("new_episodes", store, None)
    free.call(request(), live, SITE)
    assert live.calls == 1 and free.stats.cost == 0 and free.stats.unpriced == {"m"}
    free.release_budget()  # no budget, nothing to release
