"""Prices, call costs and the cost budget of the recorder, on a real diskcache store."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import pytest

from pytest_xgen.core.printable import money
from pytest_xgen.errors import BudgetExhaustedError
from pytest_xgen.recording.budget import CAP, SCALE, CostBudget
from pytest_xgen.recording.cost import (
    DEFAULT_COMPLETION,
    MOST_TOKENS,
    Price,
    call_cost,
    completion_estimate,
    estimate,
    estimated_cost,
    prompt_cost,
    received_estimate,
    spent_cost,
    spent_tokens,
)
from pytest_xgen.recording.recorder import CallSite, Recorder
from pytest_xgen.recording.store import Store, build_request, canonical_json

SITE = CallSite(test="t.py::test", module="t.py", model="m", prompt="q")
PRICE = (1000.0, 2000.0)  # per million: a prompt token costs 0.001, a completion 0.002


def request(i: int = 0, **params: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": f"question {i}"}]
    return build_request("chat", {"model": "m"}, {"max_tokens": 10, **params}, i, messages=messages)


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
        (0.99999, "1"),  # rounded up to a whole amount: no dangling point
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
    spent = CostBudget(store, "b:cost", budget)
    assert spent.spent() == pytest.approx(0.017)  # settled to the real cost
    rec.call(request(1), live, SITE)
    with pytest.raises(BudgetExhaustedError) as caught:
        rec.call(request(2), live, SITE)
    message = str(caught.value)
    assert f"the cost budget of {money(budget)} (--xgen-max-cost) is spent" in message
    assert "0.034 spent or set aside" in message
    assert f"this call may cost {money(reserve)}" in message and "test t.py::test" in message
    assert live.calls == 2
    # The refused call gave its reservation back; replays cost nothing from the budget.
    assert spent.spent() == pytest.approx(0.034)
    rec.call(request(0), live, SITE)
    assert live.calls == 2
    rec.release_budget()
    assert store.cache.get("b:cost") is None


def test_a_failed_call_returns_its_reservation_but_what_it_sent(store: Store) -> None:
    rec = Recorder("new_episodes", store, None, price_of={"m": PRICE}.get, max_cost=1.0)
    with pytest.raises(ConnectionError):
        rec.call(request(), Live(fail=True), SITE)
    # The prompt may have reached the endpoint (a time-out, a dropped stream): it stays spent.
    left = CostBudget(store, "xgen-budget:cost", 1.0).spent()
    assert left == pytest.approx(prompt_cost(request(), PRICE), rel=1e-9) and left > 0
    assert left < estimated_cost(request(), PRICE)
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


# -- the worst case of a call ----------------------------------------------------------------


def test_the_estimate_takes_every_choice_of_every_prompt() -> None:
    one = estimate(request(max_tokens=100))
    assert estimate(request(max_tokens=100, n=8)) == (one[0], 800)
    assert estimate(request(max_tokens=100, n=2, best_of=5)) == (one[0], 500)
    assert estimate(request(max_tokens=None, max_completion_tokens=50, n=3))[1] == 150
    assert estimate(request(max_tokens=None, n=2))[1] == 2 * DEFAULT_COMPLETION
    batch = build_request("completion", {"model": "m"}, {"max_tokens": 10, "n": 2}, 0, prompt="")
    batch["prompt"] = ["first", "second", "third"]
    assert estimate(batch)[1] == 60
    # Counts that are no numbers, or absurd ones, neither crash nor overflow a float.
    assert estimate(request(max_tokens="many", n=None))[1] == DEFAULT_COMPLETION
    assert estimate(request(max_tokens=10**40, n=10**40))[1] == MOST_TOKENS
    assert estimate(request(max_tokens=float("inf")))[1] == MOST_TOKENS
    assert estimate(request(max_tokens=-5, n=-3))[1] == 0
    assert estimated_cost(request(max_tokens=10**40, n=10**40), PRICE) < float("inf")


def test_the_estimate_counts_tool_and_response_format_schemas() -> None:
    tools = [
        {
            "type": "function",
            "function": {"name": "lookup", "description": "x" * 4000, "parameters": {}},
        }
    ]
    schema = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"d": "y" * 2000}}}
    plain = estimate(request())[0]
    with_tools = estimate(request(tools=tools))[0]
    assert with_tools - plain == len(canonical_json({"tools": tools})) // 4 or (
        with_tools - plain >= 1000
    )
    assert with_tools >= plain + 1000
    both = estimate(request(tools=tools, response_format=schema, tool_choice="auto"))[0]
    assert both >= with_tools + 500
    # Sampling knobs send no text.
    knobs = estimate(request(temperature=0.3, seed=4, top_p=0.9, n=2, stream=True))[0]
    assert knobs == plain


def test_an_answer_without_usage_is_priced_by_what_was_sent_and_received() -> None:
    r = request(max_tokens=100)
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "tok "}}]},
        *({"choices": [{"index": 0, "delta": {"content": "tok "}}]} for _ in range(39)),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    streamed = {"text": "tok " * 40, "usage": {}, "chunks": chunks}
    # One token a chunk that carries text (4 characters each: as many tokens as chunks).
    assert received_estimate(streamed) == 40
    prompt = estimate(r)[0]
    assert spent_tokens(r, streamed) == {
        "prompt_tokens": prompt,
        "completion_tokens": 40,
        "total_tokens": prompt + 40,
    }
    assert spent_cost(r, streamed, PRICE) == pytest.approx((prompt * 1000 + 40 * 2000) / 1e6)
    zeros = {**streamed, "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}
    assert spent_cost(r, zeros, PRICE) == spent_cost(r, streamed, PRICE) > 0
    # Every choice counts, tool-call arguments and reasoning included; ids and roles do not.
    raw = {
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": "a" * 400}} for i in range(3)
        ]
        + [
            {
                "index": 3,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_" + "9" * 50,
                            "type": "function",
                            "function": {"name": "f", "arguments": "b" * 399},
                        }
                    ],
                },
            }
        ]
    }
    assert received_estimate({"text": "", "usage": {}, "raw": raw}) == 400
    assert received_estimate({"text": "c" * 40, "reasoning": "d" * 40, "usage": {}}) == 20
    # An answer with usage is priced by it.
    priced = {"text": "x", "usage": {"prompt_tokens": 7, "completion_tokens": 5}}
    assert spent_cost(r, priced, PRICE) == pytest.approx(0.017)


class Streamed:
    """A live stream of ``xgen.client()``, without usage unless ``usage`` is given (a
    stream that was not asked for it)."""

    def __init__(self, usage: dict[str, Any] | None = None) -> None:
        self.calls = 0
        self.usage = usage

    def __call__(self) -> dict[str, Any]:
        from pytest_xgen.models.openai_chat import stream_record

        self.calls += 1
        chunks: list[dict[str, Any]] = [
            {"choices": [{"index": 0, "delta": {"content": "tok "}}]} for _ in range(100)
        ]
        if self.usage is not None:
            chunks.append({"choices": [], "usage": dict(self.usage)})
        return stream_record("chat", chunks)


def test_a_call_without_usage_is_never_counted_at_zero(store: Store) -> None:
    r = {**request(max_tokens=100), "kind": "client.chat"}  # a stream of xgen.client()
    rec = Recorder(
        "new_episodes", store, None, price_of={"m": PRICE}.get, max_cost=10.0, budget_key="b"
    )
    rec.call(r, Streamed(), SITE)
    expected = (estimate(r)[0] * 1000 + 100 * 2000) / 1e6
    assert rec.stats.cost == pytest.approx(expected) and rec.stats.tokens == estimate(r)[0] + 100
    assert CostBudget(store, "b:cost", 10.0).spent() == pytest.approx(expected)
    # Replayed, it is priced the same way.
    rec.call(r, Streamed(), SITE)
    assert rec.stats.replayed_cost == pytest.approx(expected)


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": 0, "completion_tokens": 1, "total_tokens": 1},
        {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    ],
    ids=["zero-prompt", "zeros"],
)
def test_a_set_aside_is_never_released_below_what_was_sent(
    store: Store, usage: dict[str, Any]
) -> None:
    r = {**request(max_tokens=100), "kind": "client.chat"}
    rec = Recorder(
        "new_episodes", store, None, price_of={"m": PRICE}.get, max_cost=10.0, budget_key="b"
    )
    rec.call(r, Streamed(usage), SITE)
    assert CostBudget(store, "b:cost", 10.0).spent() >= prompt_cost(r, PRICE) > 0


def test_a_budget_is_never_spent_past_itself_serially_or_from_threads(store: Store) -> None:
    """Against calls that bill their whole limit for every choice, a budget holds."""
    billed: list[float] = []
    lock = threading.Lock()

    def live_for(r: dict[str, Any]) -> Any:
        def live() -> dict[str, Any]:
            usage = {"prompt_tokens": estimate(r)[0], "completion_tokens": 2 * 50}
            with lock:
                billed.append(call_cost(usage, PRICE))
            return {"text": "", "usage": usage}

        return live

    def work(rec: Recorder, worker: int) -> None:
        for i in range(10):
            r = request(1000 * worker + i, max_tokens=50, n=2)  # about 0.21 a call
            with contextlib.suppress(BudgetExhaustedError):
                rec.call(r, live_for(r), SITE)

    for workers in (1, 4):
        billed.clear()
        rec = Recorder(
            "new_episodes",
            store,
            None,
            price_of={"m": PRICE}.get,
            max_cost=1.0,
            budget_key=f"b{workers}",
        )
        threads = [threading.Thread(target=work, args=(rec, w)) for w in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(billed) == 4 and sum(billed) <= 1.0


# -- budgets and prices of any size ----------------------------------------------------------


def test_the_budget_counts_shares_of_itself_and_cannot_overflow(store: Store) -> None:
    budget = CostBudget(store, "k", 2.0)
    assert budget.units(1.0) == SCALE // 2 and budget.units(0) == 0
    assert budget.units(-3.0) == 0 and budget.units(float("nan")) == 0
    assert budget.units(1e300) == CAP and budget.units(float("inf")) == CAP
    assert CostBudget(store, "k", 0.0).units(1e-9) == CAP  # nothing may be spent
    assert CostBudget(store, "k", 5e-324).units(1.0) == CAP
    assert budget.reserve(1.0) == SCALE // 2
    assert budget.reserve(1.5) is None  # refused, and given back
    assert budget.spent() == pytest.approx(1.0)
    assert budget.reserve(0.0) == 0  # a free call always has room
    budget.settle(SCALE // 2, 1e308)  # a call that cost far more than a budget
    assert budget.spent() == pytest.approx(1000 * 2.0)
    assert budget.reserve(1e-9) is None
    budget.release()
    assert budget.spent() == 0


@pytest.mark.parametrize(
    ("price", "max_cost"),
    [((1e15, 1e15), 1.0), ((1e300, 1e300), 5.0), ((1.0, 1.0), 1e300), ((1.0, 1.0), 1e-300)],
    ids=["price-1e15", "price-1e300", "budget-1e300", "budget-1e-300"],
)
def test_prices_and_budgets_of_any_size_settle_or_refuse_clearly(
    store: Store, price: Price, max_cost: float
) -> None:
    rec = Recorder("new_episodes", store, None, price_of=lambda m: price, max_cost=max_cost)
    live = Live()
    try:
        rec.call(request(), live, SITE)
    except BudgetExhaustedError as exc:
        assert "(--xgen-max-cost) is spent" in str(exc) and live.calls == 0
    else:
        assert live.calls == 1 and max_cost == 1e300
    rec.release_budget()


def test_a_completion_answer_without_usage_is_priced_from_its_text() -> None:
    completion = {"choices": [{"index": 0, "text": "t" * 40}, "not a choice", None]}
    assert received_estimate({"text": "", "usage": {}, "raw": completion}) == 10
    # A chunk whose choice is no object carries no text (and is no token).
    chunks = [{"choices": ["x", 7]}, {"choices": [{"index": 0, "text": "abcd"}]}]
    assert received_estimate({"text": "", "usage": {}, "chunks": chunks}) == 1


def test_a_free_call_has_room_in_a_budget_of_nothing(store: Store) -> None:
    nothing = CostBudget(store, "k0", 0.0)
    assert nothing.reserve(0.0) == 0 and nothing.spent() == 0


def test_a_call_settled_without_a_reservation_counts_what_it_cost(store: Store) -> None:
    budget = CostBudget(store, "k1", 2.0)
    budget.settle(0, 0.5)  # estimated free (nothing set aside), then priced by its usage
    assert store.cache.get("k1") == SCALE // 4
    assert budget.spent() == 0.5


def test_a_call_may_take_the_whole_budget_to_the_unit(store: Store) -> None:
    budget = CostBudget(store, "k2", 2.0)
    assert budget.reserve(0.5) == SCALE // 4 and store.cache.get("k2") == SCALE // 4
    assert budget.reserve(1.5) == 3 * SCALE // 4 and budget.spent() == 2.0
    assert budget.reserve(1e-9) is None and store.cache.get("k2") == SCALE


def test_a_streamed_answer_without_usage_counts_its_text_and_its_pieces() -> None:
    def piece(content: str) -> dict[str, Any]:
        return {"choices": [{"index": 0, "delta": {"content": content}}]}

    mixed = [piece("a" * 10), piece("b"), "junk", {"choices": None}, piece("c" * 10)]
    mixed.append({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})
    assert received_estimate({"text": "", "usage": {}, "chunks": mixed}) == 21 // 4
    # About one token a chunk: eight one-letter chunks are eight tokens, not two.
    letters = [piece("x") for _ in range(8)] + [piece("")]
    assert received_estimate({"text": "", "usage": {}, "chunks": letters}) == 8
    assert received_estimate({"text": "", "usage": {}, "raw": {"choices": None}}) == 0


def test_counts_of_a_request_are_read_as_whole_numbers() -> None:
    def completion(**params: Any) -> int:
        return completion_estimate({"params": params})

    assert completion(max_tokens=16.0) == 16 and completion(max_tokens=16.9) == 16
    assert completion(max_tokens=float("-inf")) == DEFAULT_COMPLETION
    assert completion(max_tokens=float("inf")) == MOST_TOKENS
    assert completion(max_tokens=10, n=0, best_of=0) == 10  # a call has at least one choice
    assert completion(max_tokens=10, n=3, best_of=2.0) == 30


def test_a_usage_with_any_count_is_a_usage() -> None:
    from pytest_xgen.recording.cost import has_usage

    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert has_usage({name: 3})
    assert not has_usage({}) and not has_usage({"prompt_tokens": 0, "total_tokens": None})


def test_a_prompt_without_parameters_is_its_characters_four_to_a_token() -> None:
    from pytest_xgen.recording.cost import prompt_estimate

    assert prompt_estimate({"prompt": "abcdefghi"}) == 11 // 4  # '"abcdefghi"' as sent
    assert prompt_estimate({"prompt": "abcdefghi", "params": {"temperature": 0}}) == 11 // 4
